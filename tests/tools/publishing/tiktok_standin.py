"""A local stand-in for TikTok's Content Posting API v2 and its OAuth endpoints.

Shaped as developers.tiktok.com documents them:

- every API answer is ``{"data": {...}, "error": {"code", "message", "log_id"}}``, errors with
  the documented codes (``invalid_param``, ``access_token_invalid``, ``scope_not_authorized``,
  ``privacy_level_option_mismatch``, ``unaudited_client_can_only_post_to_private_accounts``);
- ``POST /v2/post/publish/creator_info/query/`` (video.publish), ``.../inbox/video/init/``
  (video.upload) and ``.../video/init/`` (video.publish, with ``post_info``): ``source_info``
  is checked against the media transfer guide's chunk rules, and the answer carries
  ``publish_id`` and ``upload_url``;
- ``PUT upload_url``: chunks in order, each exactly the range the declared plan gives it,
  ``Content-Type: video/mp4``, ``Content-Range: bytes a-b/total``; 206 until the last, 201;
- ``POST /v2/post/publish/status/fetch/``: PROCESSING_UPLOAD (with ``uploaded_bytes``), then
  SEND_TO_USER_INBOX (inbox) or PUBLISH_COMPLETE (direct; public posts get
  ``publicaly_available_post_id``, TikTok's spelling);
- ``POST /v2/video/query/`` (video.list) for counters, ``GET /v2/user/info/`` (the profile);
- OAuth: ``GET /v2/auth/authorize/`` approves at once and redirects with ``code``, ``scopes``
  and ``state`` (PKCE: TikTok's code_challenge is the hex SHA-256 of the verifier);
  ``POST /v2/oauth/token/`` (authorization_code, refresh_token: refresh tokens rotate).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from youtube_standin import _form, _parse_range, _send

MIB = 1024 * 1024
# the guide's 5 MB / 64 MB / 128 MB read strictly (valid under both MB = 10^6 and 2^20)
MIN_CHUNK, MAX_CHUNK, MAX_FINAL, MAX_COUNT = 5 * MIB, 64_000_000, 128_000_000, 1000


def plan_problem(size: int, chunk: int, count: int) -> str:
    """Why (video_size, chunk_size, total_chunk_count) breaks the guide's rules; '' if not."""
    if size <= 0 or chunk <= 0 or count <= 0:
        return "video_size, chunk_size and total_chunk_count must be positive"
    if size < MIN_CHUNK and (chunk != size or count != 1):
        return "a video under 5 MB is uploaded whole: chunk_size = video_size, 1 chunk"
    if count != size // chunk:
        return "total_chunk_count must be video_size / chunk_size rounded down"
    if not 1 <= count <= MAX_COUNT:
        return "1 to 1000 chunks"
    if size >= MIN_CHUNK and not MIN_CHUNK <= chunk <= MAX_CHUNK:
        return "chunks are 5 MB to 64 MB"
    if count == 1 and size >= MIN_CHUNK and size > MAX_CHUNK:
        return "a video over 64 MB is uploaded in several chunks"
    if size - (count - 1) * chunk > MAX_FINAL:
        return "the final chunk is at most 128 MB"
    return ""


@dataclass
class Upload:
    publish_id: str
    mode: str
    size: int
    chunk: int
    count: int
    privacy: str = "SELF_ONLY"
    post_info: dict[str, Any] = field(default_factory=dict)
    data: bytearray = field(default_factory=bytearray)
    chunks: int = 0
    polls_after_upload: int = 0
    video_id: str = ""


class TikTokStandIn:
    def __init__(self, client_key: str = "tt-key", client_secret: str = "tt-secret") -> None:
        self.client_key, self.client_secret = client_key, client_secret
        self.tokens: dict[str, tuple[set[str], float]] = {}  # access token -> scopes, expiry
        self.refresh_tokens: dict[str, set[str]] = {}
        self.codes: dict[str, dict[str, str]] = {}
        self.uploads: dict[str, Upload] = {}
        self.by_upload_id: dict[str, str] = {}
        self.audited = False
        self.private_account = False
        self.processing_polls = 1  # status fetches that answer PROCESSING_UPLOAD after upload
        self.requests: list[tuple[str, str]] = []
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> str:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                standin._handle(self, "GET")

            def do_POST(self) -> None:
                standin._handle(self, "POST")

            def do_PUT(self) -> None:
                standin._handle(self, "PUT")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.url

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def issue_tokens(self, scopes: str = "user.info.basic,video.upload,video.publish,video.list"
                     ) -> dict[str, Any]:
        return self._grant(set(scopes.split(",")))

    # --- dispatch ----------------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parsed = urllib.parse.urlsplit(h.path)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        self.requests.append((method, parsed.path))
        if (method, parsed.path) == ("GET", "/v2/auth/authorize/"):
            return self._authorize(h, query)
        if (method, parsed.path) == ("POST", "/v2/oauth/token/"):
            return self._token(h, _form(body))
        if (method, parsed.path) == ("PUT", "/upload/"):
            return self._put(h, query, body)
        if (method, parsed.path) == ("GET", "/v2/user/info/"):
            return self._user_info(h, query)
        routes = {"/v2/post/publish/creator_info/query/": ("video.publish", self._creator),
                  "/v2/post/publish/inbox/video/init/": ("video.upload", self._init_inbox),
                  "/v2/post/publish/video/init/": ("video.publish", self._init_direct),
                  "/v2/post/publish/status/fetch/": ("", self._status),
                  "/v2/video/query/": ("video.list", self._query)}
        if method != "POST" or parsed.path not in routes:
            return _api(h, 404, "invalid_params", f"no route {method} {parsed.path}")
        scope, run = routes[parsed.path]
        token = h.headers.get("Authorization", "").removeprefix("Bearer ")
        held = self.tokens.get(token)
        if held is None or held[1] < time.time():
            return _api(h, 401, "access_token_invalid",
                        "The access token is invalid or not found in the request.")
        if scope and scope not in held[0]:
            return _api(h, 401, "scope_not_authorized",
                        "The user did not authorize the scope required for completing this "
                        "request.")
        if not h.headers.get("Content-Type", "").startswith("application/json"):
            return _api(h, 400, "invalid_params", "Content-Type must be application/json")
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return _api(h, 400, "invalid_params", "the body is not JSON")
        run(h, request, query)

    # --- the Content Posting API ---------------------------------------------------------------
    def _options(self) -> list[str]:
        if self.private_account:
            return ["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
        return ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"]

    def _creator(self, h: BaseHTTPRequestHandler, body: dict[str, Any], _q: Any) -> None:
        _ok(h, {"creator_avatar_url": "https://p16.tiktokcdn.com/avatar.jpeg",
                "creator_username": "tides.explained", "creator_nickname": "Tides Explained",
                "privacy_level_options": self._options(), "comment_disabled": False,
                "duet_disabled": False, "stitch_disabled": True,
                "max_video_post_duration_sec": 300})

    def _init_inbox(self, h: BaseHTTPRequestHandler, body: dict[str, Any], _q: Any) -> None:
        self._init(h, body, "inbox")

    def _init_direct(self, h: BaseHTTPRequestHandler, body: dict[str, Any], _q: Any) -> None:
        info = body.get("post_info") or {}
        privacy = info.get("privacy_level")
        if privacy not in self._options():
            return _api(h, 400, "privacy_level_option_mismatch",
                        "privacy_level must be one of creator_info's privacy_level_options")
        if not self.audited and privacy != "SELF_ONLY":
            return _api(h, 403, "unaudited_client_can_only_post_to_private_accounts",
                        "Unaudited clients can only post to a private account.")
        if len(info.get("title", "")) > 2200:
            return _api(h, 400, "invalid_params", "title is longer than 2200 runes")
        self._init(h, body, "direct", privacy=privacy, post_info=info)

    def _init(self, h: BaseHTTPRequestHandler, body: dict[str, Any], mode: str, *,
              privacy: str = "SELF_ONLY", post_info: dict[str, Any] | None = None) -> None:
        source = body.get("source_info") or {}
        if source.get("source") != "FILE_UPLOAD":
            return _api(h, 400, "invalid_params", "source_info.source: FILE_UPLOAD here")
        try:
            size, chunk, count = (int(source[k]) for k in
                                  ("video_size", "chunk_size", "total_chunk_count"))
        except (KeyError, TypeError, ValueError):
            return _api(h, 400, "invalid_params", "video_size, chunk_size, total_chunk_count")
        problem = plan_problem(size, chunk, count)
        if problem:
            return _api(h, 400, "invalid_params", problem)
        kind = "v_inbox_file" if mode == "inbox" else "v_pub_file"
        publish_id = f"{kind}~v2-1.{secrets.randbelow(10**18)}"
        upload_id = secrets.token_hex(8)
        self.uploads[publish_id] = Upload(publish_id, mode, size, chunk, count, privacy,
                                          post_info or {})
        self.by_upload_id[upload_id] = publish_id
        _ok(h, {"publish_id": publish_id,
                "upload_url": f"{self.url}/upload/?upload_id={upload_id}&upload_token="
                              f"{secrets.token_urlsafe(12)}"})

    def _put(self, h: BaseHTTPRequestHandler, query: dict[str, str], body: bytes) -> None:
        upload = self.uploads.get(self.by_upload_id.get(query.get("upload_id", ""), ""))
        if upload is None or not query.get("upload_token"):
            return _send(h, 404, b"")
        if h.headers.get("Content-Type") not in ("video/mp4", "video/quicktime", "video/webm"):
            return _send(h, 400, b"")
        first, last, total = _parse_range(h.headers.get("Content-Range", ""))
        index = upload.chunks
        want_first = index * upload.chunk
        want_last = upload.size - 1 if index == upload.count - 1 else want_first + upload.chunk - 1
        if index >= upload.count or (first, last, total) != (want_first, want_last, upload.size) \
                or len(body) != last - first + 1:
            return _send(h, 400, b"")  # out of order, or not the declared chunk
        upload.data.extend(body)
        upload.chunks += 1
        _send(h, 201 if upload.chunks == upload.count else 206, b"")

    def _status(self, h: BaseHTTPRequestHandler, body: dict[str, Any], _q: Any) -> None:
        upload = self.uploads.get(str(body.get("publish_id", "")))
        if upload is None:
            return _api(h, 400, "invalid_publish_id", "publish_id does not exist")
        data: dict[str, Any] = {"status": "PROCESSING_UPLOAD", "fail_reason": "",
                                "uploaded_bytes": len(upload.data),
                                "publicaly_available_post_id": []}
        if upload.chunks == upload.count:
            upload.polls_after_upload += 1
            if upload.polls_after_upload > self.processing_polls:
                data["status"] = ("SEND_TO_USER_INBOX" if upload.mode == "inbox"
                                  else "PUBLISH_COMPLETE")
                if upload.mode == "direct" and upload.privacy == "PUBLIC_TO_EVERYONE":
                    upload.video_id = upload.video_id or str(7_300_000_000_000_000_000
                                                             + secrets.randbelow(10**15))
                    data["publicaly_available_post_id"] = [int(upload.video_id)]
        _ok(h, data)

    def _query(self, h: BaseHTTPRequestHandler, body: dict[str, Any],
               query: dict[str, str]) -> None:
        ids = (body.get("filters") or {}).get("video_ids") or []
        fields = query.get("fields", "").split(",")
        videos = [{k: v for k, v in {"id": u.video_id, "view_count": 120, "like_count": 9,
                                     "comment_count": 2, "share_count": 1}.items() if k in fields}
                  for u in self.uploads.values() if u.video_id and u.video_id in ids]
        _ok(h, {"videos": videos, "cursor": 0, "has_more": False})

    def _user_info(self, h: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        token = h.headers.get("Authorization", "").removeprefix("Bearer ")
        held = self.tokens.get(token)
        if held is None or "user.info.basic" not in held[0]:
            return _api(h, 401, "access_token_invalid", "The access token is invalid.")
        user = {"open_id": "-000OpenId", "display_name": "Tides Explained",
                "avatar_url": "https://p16.tiktokcdn.com/avatar.jpeg"}
        _ok(h, {"user": {k: v for k, v in user.items() if k in query.get("fields", "")}})

    # --- OAuth ---------------------------------------------------------------------------------
    def _authorize(self, h: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        if query.get("client_key") != self.client_key or query.get("response_type") != "code":
            return _send(h, 400, b"param_error")
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return _send(h, 400, b"param_error: code_challenge")
        code = secrets.token_urlsafe(20)
        self.codes[code] = {"challenge": query["code_challenge"], "scope": query.get("scope", ""),
                            "redirect_uri": query.get("redirect_uri", "")}
        target = query.get("redirect_uri", "") + "?" + urllib.parse.urlencode(
            {"code": code, "scopes": query.get("scope", ""), "state": query.get("state", "")})
        _send(h, 302, b"", {"Location": target})

    def _token(self, h: BaseHTTPRequestHandler, form: dict[str, str]) -> None:
        if form.get("client_key") != self.client_key or \
                form.get("client_secret") != self.client_secret:
            return _oauth(h, "invalid_client", "Client key or secret is incorrect.")
        if form.get("grant_type") == "authorization_code":
            spec = self.codes.pop(form.get("code", ""), None)
            if spec is None or spec["redirect_uri"] != form.get("redirect_uri"):
                return _oauth(h, "invalid_grant", "Authorization code is expired.")
            verifier = form.get("code_verifier", "")
            if hashlib.sha256(verifier.encode()).hexdigest() != spec["challenge"]:
                return _oauth(h, "invalid_request", "Code verifier or code challenge is invalid.")
            return _send(h, 200, json.dumps(self._grant(set(spec["scope"].split(",")))).encode())
        if form.get("grant_type") == "refresh_token":
            scopes = self.refresh_tokens.pop(form.get("refresh_token", ""), None)
            if scopes is None:
                return _oauth(h, "invalid_grant", "Refresh token is invalid or expired.")
            return _send(h, 200, json.dumps(self._grant(scopes)).encode())
        _oauth(h, "unsupported_grant_type", "grant_type")

    def _grant(self, scopes: set[str]) -> dict[str, Any]:
        access, refresh = "act." + secrets.token_urlsafe(24), "rft." + secrets.token_urlsafe(24)
        self.tokens[access] = (scopes, time.time() + 86400)
        self.refresh_tokens[refresh] = scopes
        return {"access_token": access, "expires_in": 86400, "open_id": "-000OpenId",
                "refresh_expires_in": 31536000, "refresh_token": refresh,
                "scope": ",".join(sorted(scopes)), "token_type": "Bearer"}


def _ok(h: BaseHTTPRequestHandler, data: dict[str, Any]) -> None:
    _send(h, 200, json.dumps({"data": data, "error": {
        "code": "ok", "message": "", "log_id": secrets.token_hex(10).upper()}}).encode())


def _api(h: BaseHTTPRequestHandler, status: int, code: str, message: str) -> None:
    _send(h, status, json.dumps({"data": {}, "error": {
        "code": code, "message": message, "log_id": secrets.token_hex(10).upper()}}).encode())


def _oauth(h: BaseHTTPRequestHandler, error: str, description: str) -> None:
    _send(h, 400, json.dumps({"error": error, "error_description": description,
                              "log_id": secrets.token_hex(10).upper()}).encode())
