"""A local stand-in for the YouTube Data API v3 and Google's OAuth 2.0 endpoints.

It answers as Google documents, so a client that passes here speaks the real protocol:

- resumable upload (developers.google.com/youtube/v3/guides/using_resumable_upload_protocol):
  ``POST /upload/youtube/v3/videos?uploadType=resumable&part=...`` with the video resource as
  JSON and ``X-Upload-Content-Length`` / ``-Type`` -> 200 and the session URI in ``Location``;
  ``PUT`` chunks with ``Content-Range: bytes a-b/total`` -> ``308 Resume Incomplete`` with
  ``Range: bytes=0-N`` (no Range before the first byte) until the last -> 200 and the video
  resource; an empty ``PUT`` with ``Content-Range: bytes */total`` asks how far it got. Chunks
  other than the last must be multiples of 256 KiB, and must start where the server is;
- ``GET /youtube/v3/videos?part=statistics&id=...`` (a videoListResponse),
  ``GET /youtube/v3/channels?part=snippet&mine=true`` (the signed-in channel),
  ``POST /upload/youtube/v3/thumbnails/set?videoId=...`` (a thumbnailSetResponse);
- errors in Google's JSON shape ``{"error": {"code", "message", "errors": [{"reason"}]}}``,
  ``quotaExceeded`` (403) when ``quota_left`` runs out, 401 for an unknown or expired token;
- OAuth: ``GET /o/oauth2/v2/auth`` (approves at once and redirects with ``code`` and
  ``state``, checking the PKCE challenge is S256), ``POST /token`` (authorization_code with
  code_verifier, refresh_token, the device grant), ``POST /device/code``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHUNK_GRANULARITY = 256 * 1024  # Google: chunks must be multiples of 256 KiB
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@dataclass
class Session:
    metadata: dict[str, Any]
    total: int
    mimetype: str
    data: bytearray = field(default_factory=bytearray)
    video_id: str | None = None


@dataclass
class Device:
    user_code: str
    scope: str
    approved: bool = False
    denied: bool = False


def google_error(code: int, reason: str, message: str, domain: str = "youtube") -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "errors": [
        {"message": message, "domain": domain, "reason": reason}]}}).encode()


class YouTubeStandIn:
    def __init__(self, client_id: str = "yt-client", client_secret: str = "yt-secret") -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.sessions: dict[str, Session] = {}
        self.videos: dict[str, dict[str, Any]] = {}
        self.video_bytes: dict[str, bytes] = {}
        self.thumbnails: dict[str, bytes] = {}
        self.access_tokens: dict[str, float] = {}  # token -> expiry (epoch seconds)
        self.refresh_tokens: set[str] = set()
        self.codes: dict[str, dict[str, str]] = {}
        self.devices: dict[str, Device] = {}
        self.device_interval = 1
        self.channel_title = "Tides Explained"
        self.quota_left = 10_000
        self.rate_limited = False
        self.token_lifetime_s = 3599
        self.requests: list[tuple[str, str]] = []
        # after this many accepted chunks the server keeps the next answer until released
        # (the bytes are in, the client never hears): where a test kills the client
        self.hold_after_chunks: int | None = None
        self.holding = threading.Event()
        self.release = threading.Event()
        self.chunks_accepted = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- running ---------------------------------------------------------------------------
    def start(self) -> str:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet in tests
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
        self.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # --- helpers for tests -------------------------------------------------------------------
    def issue_tokens(self, *, expired: bool = False) -> dict[str, Any]:
        """A token pair as if a person had connected (expired: its access token is stale)."""
        access, refresh = "ya29." + secrets.token_urlsafe(16), "1//" + secrets.token_urlsafe(16)
        self.access_tokens[access] = time.time() + (-60 if expired else self.token_lifetime_s)
        self.refresh_tokens.add(refresh)
        return {"access_token": access, "refresh_token": refresh,
                "expires_in": -60 if expired else self.token_lifetime_s}

    def approve_device(self, user_code: str, *, deny: bool = False) -> None:
        for device in self.devices.values():
            if device.user_code == user_code:
                device.approved, device.denied = not deny, deny
                return
        raise KeyError(user_code)

    # --- dispatch ----------------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parsed = urllib.parse.urlsplit(h.path)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        self.requests.append((method, parsed.path))
        route = (method, parsed.path)
        try:
            if route == ("POST", "/token"):
                return self._token(h, _form(body))
            if route == ("POST", "/device/code"):
                return self._device_code(h, _form(body))
            if route == ("GET", "/o/oauth2/v2/auth"):
                return self._authorize(h, query)
            if not self._authorized(h):
                return _send(h, 401, google_error(
                    401, "authError", "Request had invalid authentication credentials. "
                    "Expected OAuth 2 access token.", domain="global"))
            if route == ("POST", "/upload/youtube/v3/videos"):
                return self._start_session(h, query, body)
            if method == "PUT" and parsed.path == "/upload/youtube/v3/videos":
                return self._put(h, query.get("upload_id", ""), body)
            if route == ("GET", "/youtube/v3/videos"):
                return self._list(h, query)
            if route == ("GET", "/youtube/v3/channels") and query.get("mine") == "true":
                return _send(h, 200, json.dumps({
                    "kind": "youtube#channelListResponse", "etag": "e",
                    "pageInfo": {"totalResults": 1, "resultsPerPage": 5},
                    "items": [{"kind": "youtube#channel", "etag": "e", "id": "UCstandin",
                               "snippet": {"title": self.channel_title,
                                           "description": "", "customUrl": "@tides"}}]}
                    ).encode())
            if route == ("POST", "/upload/youtube/v3/thumbnails/set"):
                return self._thumbnail(h, query, body)
            _send(h, 404, google_error(404, "notFound", f"no route {method} {parsed.path}"))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client was killed while we answered

    def _authorized(self, h: BaseHTTPRequestHandler) -> bool:
        header = h.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ")
        expiry = self.access_tokens.get(token)
        return header.startswith("Bearer ") and expiry is not None and expiry > time.time()

    # --- videos.insert, resumable ---------------------------------------------------------
    def _start_session(self, h: BaseHTTPRequestHandler, query: dict[str, str],
                       body: bytes) -> None:
        if query.get("uploadType") != "resumable":
            return _send(h, 400, google_error(400, "badRequest", "uploadType must be resumable"))
        if set(query.get("part", "").split(",")) != {"snippet", "status"}:
            return _send(h, 400, google_error(400, "unexpectedPart", "part: snippet,status"))
        metadata = json.loads(body or b"{}")
        snippet, status = metadata.get("snippet", {}), metadata.get("status", {})
        problem = _metadata_problem(snippet, status)
        if problem:
            return _send(h, 400, google_error(400, problem[0], problem[1]))
        if self.rate_limited:
            return _send(h, 429, google_error(429, "rateLimitExceeded", "Too many requests.",
                                              domain="usageLimits"))
        if self.quota_left < 100:  # an upload costs ~100 units
            return _send(h, 403, google_error(
                403, "quotaExceeded", "The request cannot be completed because you have "
                "exceeded your <a href=\"/youtube/v3/getting-started#quota\">quota</a>.",
                domain="youtube.quota"))
        total = int(h.headers.get("X-Upload-Content-Length") or -1)
        if total <= 0:
            return _send(h, 400, google_error(400, "badRequest", "X-Upload-Content-Length"))
        self.quota_left -= 100
        upload_id = secrets.token_urlsafe(24)
        with self._lock:
            self.sessions[upload_id] = Session(metadata, total,
                                               h.headers.get("X-Upload-Content-Type", ""))
        location = (f"{self.url}/upload/youtube/v3/videos?uploadType=resumable"
                    f"&part=snippet,status&upload_id={upload_id}")
        _send(h, 200, b"", {"Location": location, "X-GUploader-UploadID": upload_id})

    def _put(self, h: BaseHTTPRequestHandler, upload_id: str, body: bytes) -> None:
        session = self.sessions.get(upload_id)
        if session is None:
            return _send(h, 404, google_error(404, "notFound", "upload session not found"))
        content_range = h.headers.get("Content-Range", "")
        if content_range == f"bytes */{session.total}":  # where is the upload?
            return self._session_state(h, session)
        first, last, total = _parse_range(content_range)
        if total != session.total or last - first + 1 != len(body):
            return _send(h, 400, google_error(400, "badContentRange", content_range))
        if first != len(session.data):
            return _send(h, 400, google_error(
                400, "badContentRange", f"chunk starts at {first}, server has {len(session.data)}"))
        if last + 1 < total and len(body) % CHUNK_GRANULARITY:
            return _send(h, 400, google_error(400, "badChunkSize", "chunks are 256 KiB multiples"))
        with self._lock:
            session.data.extend(body)
            self.chunks_accepted += 1
            if len(session.data) == session.total and session.video_id is None:
                session.video_id = self._create_video(session)
            hold = self.hold_after_chunks is not None \
                and self.chunks_accepted > self.hold_after_chunks
            if hold:
                self.hold_after_chunks = None  # once: the resumed client is answered
        if hold:
            self.holding.set()
            self.release.wait(30)
        self._session_state(h, session)

    def _session_state(self, h: BaseHTTPRequestHandler, session: Session) -> None:
        if session.video_id is not None:
            return _send(h, 200, json.dumps(self.videos[session.video_id]).encode(),
                         {"Content-Type": "application/json; charset=UTF-8"})
        headers = {"Range": f"bytes=0-{len(session.data) - 1}"} if session.data else {}
        _send(h, 308, b"", headers)

    def _create_video(self, session: Session) -> str:
        video_id = secrets.token_urlsafe(8)[:11]
        status = dict(session.metadata["status"], uploadStatus="uploaded")
        self.videos[video_id] = {
            "kind": "youtube#video", "etag": secrets.token_hex(8), "id": video_id,
            "snippet": dict(session.metadata["snippet"], channelId="UCstandin",
                            publishedAt="2026-12-01T12:00:00Z"),
            "status": status,
        }
        self.video_bytes[video_id] = bytes(session.data)
        return video_id

    # --- videos.list, thumbnails.set ------------------------------------------------------
    def _list(self, h: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        ids = [i for i in query.get("id", "").split(",") if i]
        items = [{"kind": "youtube#video", "etag": "e", "id": i,
                  "statistics": {"viewCount": str(17 * len(self.video_bytes[i]) % 1000),
                                 "likeCount": "3", "favoriteCount": "0", "commentCount": "1"}}
                 for i in ids if i in self.videos and "statistics" in query.get("part", "")]
        _send(h, 200, json.dumps({"kind": "youtube#videoListResponse", "etag": "e",
                                  "items": items, "pageInfo": {"totalResults": len(items),
                                                               "resultsPerPage": len(items)}}
                                 ).encode(), {"Content-Type": "application/json"})

    def _thumbnail(self, h: BaseHTTPRequestHandler, query: dict[str, str], body: bytes) -> None:
        video_id = query.get("videoId", "")
        if video_id not in self.videos:
            return _send(h, 404, google_error(404, "videoNotFound", "video not found"))
        if not body.startswith((b"\x89PNG", b"\xff\xd8")):
            return _send(h, 400, google_error(400, "invalidImage", "not a PNG or JPEG"))
        self.thumbnails[video_id] = body
        url = f"https://i.ytimg.com/vi/{video_id}/default.jpg"
        _send(h, 200, json.dumps({"kind": "youtube#thumbnailSetResponse", "etag": "e", "items": [
            {"default": {"url": url, "width": 120, "height": 90}}]}).encode(),
            {"Content-Type": "application/json"})

    # --- OAuth 2.0 -------------------------------------------------------------------------
    def _authorize(self, h: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        if query.get("client_id") != self.client_id or query.get("response_type") != "code":
            return _send(h, 400, b"Error 400: invalid_request")
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return _send(h, 400, b"Error 400: invalid_request (PKCE S256 required here)")
        code = "4/" + secrets.token_urlsafe(16)
        self.codes[code] = {"challenge": query["code_challenge"],
                            "redirect_uri": query.get("redirect_uri", ""),
                            "scope": query.get("scope", "")}
        target = query.get("redirect_uri", "") + "?" + urllib.parse.urlencode(
            {"state": query.get("state", ""), "code": code, "scope": query.get("scope", "")})
        _send(h, 302, b"", {"Location": target})

    def _token(self, h: BaseHTTPRequestHandler, form: dict[str, str]) -> None:
        if form.get("client_id") != self.client_id or \
                form.get("client_secret") != self.client_secret:
            return _oauth_error(h, 401, "invalid_client", "Unauthorized")
        grant = form.get("grant_type")
        if grant == "authorization_code":
            spec = self.codes.pop(form.get("code", ""), None)
            if spec is None or spec["redirect_uri"] != form.get("redirect_uri"):
                return _oauth_error(h, 400, "invalid_grant", "Bad Request")
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            if digest.rstrip(b"=").decode() != spec["challenge"]:
                return _oauth_error(h, 400, "invalid_grant", "Invalid code verifier.")
            return self._grant(h, spec["scope"], with_refresh=True)
        if grant == "refresh_token":
            if form.get("refresh_token") not in self.refresh_tokens:
                return _oauth_error(h, 400, "invalid_grant", "Token has been expired or revoked.")
            return self._grant(h, "https://www.googleapis.com/auth/youtube", with_refresh=False)
        if grant == DEVICE_GRANT:
            device = self.devices.get(form.get("device_code", ""))
            if device is None:
                return _oauth_error(h, 400, "invalid_grant", "Malformed auth code.")
            if device.denied:
                return _oauth_error(h, 403, "access_denied", "Forbidden")
            if not device.approved:
                return _oauth_error(h, 428, "authorization_pending", "Precondition Required")
            del self.devices[form["device_code"]]
            return self._grant(h, device.scope, with_refresh=True)
        _oauth_error(h, 400, "unsupported_grant_type", "Invalid grant_type")

    def _grant(self, h: BaseHTTPRequestHandler, scope: str, *, with_refresh: bool) -> None:
        access = "ya29." + secrets.token_urlsafe(16)
        self.access_tokens[access] = time.time() + self.token_lifetime_s
        answer: dict[str, Any] = {"access_token": access, "expires_in": self.token_lifetime_s,
                                  "scope": scope, "token_type": "Bearer"}
        if with_refresh:
            answer["refresh_token"] = "1//" + secrets.token_urlsafe(16)
            self.refresh_tokens.add(answer["refresh_token"])
        _send(h, 200, json.dumps(answer).encode(), {"Content-Type": "application/json"})

    def _device_code(self, h: BaseHTTPRequestHandler, form: dict[str, str]) -> None:
        if form.get("client_id") != self.client_id:
            return _oauth_error(h, 401, "invalid_client", "The OAuth client was not found.")
        scopes = form.get("scope", "").split()
        allowed = {"https://www.googleapis.com/auth/youtube",
                   "https://www.googleapis.com/auth/youtube.readonly", "email", "openid",
                   "profile"}
        if not scopes or not set(scopes) <= allowed:  # the device flow's limited scope list
            return _oauth_error(h, 400, "invalid_scope", "Invalid device flow scope")
        device_code = "AH-1Ng" + secrets.token_urlsafe(24)
        user_code = "-".join(secrets.token_hex(2).upper() for _ in range(3))
        self.devices[device_code] = Device(user_code, " ".join(scopes))
        _send(h, 200, json.dumps({"device_code": device_code, "user_code": user_code,
                                  "expires_in": 1800, "interval": self.device_interval,
                                  "verification_url": "https://www.google.com/device"}
                                 ).encode(), {"Content-Type": "application/json"})


def _metadata_problem(snippet: dict[str, Any], status: dict[str, Any]) -> tuple[str, str] | None:
    title = snippet.get("title", "")
    if not title.strip():
        return "invalidTitle", "The request metadata specifies an invalid or empty video title."
    if len(title) > 100 or "<" in title or ">" in title:
        return "invalidTitle", "The request metadata specifies an invalid video title."
    if len(snippet.get("description", "")) > 5000:
        return "invalidDescription", "The request metadata specifies an invalid description."
    if status.get("privacyStatus") not in ("private", "unlisted", "public"):
        return "invalidPrivacyStatus", "invalid privacy status"
    if not isinstance(status.get("selfDeclaredMadeForKids"), bool):
        return "invalidVideoMetadata", "selfDeclaredMadeForKids must be set"
    return None


def _parse_range(value: str) -> tuple[int, int, int]:
    try:
        unit, _, rest = value.partition(" ")
        span, _, total = rest.partition("/")
        first, _, last = span.partition("-")
        if unit != "bytes":
            raise ValueError(value)
        return int(first), int(last), int(total)
    except ValueError:
        return -1, -2, -1


def _form(body: bytes) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(body.decode()))


def _oauth_error(h: BaseHTTPRequestHandler, status: int, error: str, description: str) -> None:
    _send(h, status, json.dumps({"error": error, "error_description": description}).encode(),
          {"Content-Type": "application/json"})


def _send(h: BaseHTTPRequestHandler, status: int, body: bytes,
          headers: dict[str, str] | None = None) -> None:
    h.send_response(status)
    headers = dict(headers or {})
    headers.setdefault("Content-Type", "application/json; charset=UTF-8")
    for name, value in headers.items():
        h.send_header(name, value)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)
