"""TikTok through the Content Posting API v2 (httpx).

1. ``POST /v2/post/publish/creator_info/query/``: who the account is, the privacy levels it
   may post with, the longest video it may post, and whether comments/duets/stitches are off.
2. ``POST /v2/post/publish/inbox/video/init/`` (``video.upload``: the video lands in the
   person's TikTok inbox and they finish the post in the app; the default) or
   ``/v2/post/publish/video/init/`` (``video.publish``: posted directly, with ``post_info``),
   with ``source_info.source = FILE_UPLOAD`` and the chunk arithmetic of TikTok's media
   transfer guide (:func:`chunk_plan`).
3. ``PUT`` each chunk to the ``upload_url``, in order, with ``Content-Range: bytes a-b/total``
   and ``Content-Type: video/mp4`` (206 until the last, then 201).
4. ``POST /v2/post/publish/status/fetch/`` until ``SEND_TO_USER_INBOX`` / ``PUBLISH_COMPLETE``
   (or ``FAILED`` with its reason).

Every answer is ``{"data": {...}, "error": {"code": "ok", "message": "", "log_id": ...}}``;
a code other than ``ok`` becomes one line. Unaudited apps may only post ``SELF_ONLY``
(private) and their users' accounts must be private: said when TikTok refuses, and in the
result of a direct post.

Exactly once: the ``publish_id`` is saved (``request.progress``) before the first chunk, and
``upload_done`` after the last. A retry after the upload finished only polls the status; one
that broke off mid-upload asks the status first (``uploaded_bytes``) and starts a fresh upload
only when TikTok never received the whole file, which leaves no post behind.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from assistant.config import Settings
from assistant.content import Publication
from assistant.tools.publishing.base import Limits, PublishError, PublishRequest, check_limits

log = logging.getLogger(__name__)

NAME = "tiktok"
MIB = 1024 * 1024
# The guide says 5 MB, 64 MB and 128 MB without saying which megabyte: the bounds are taken
# on the safe side of both readings (a chunk >= 5 MiB, <= 64,000,000 bytes; the last < 2x).
MIN_CHUNK = 5 * MIB
MAX_CHUNK = 64_000_000
MAX_FINAL_CHUNK = 128_000_000
MAX_CHUNKS = 1000
DONE = {"inbox": "SEND_TO_USER_INBOX", "direct": "PUBLISH_COMPLETE"}
UNAUDITED = ("TikTok lets apps that have not passed its audit post privately (SELF_ONLY) to "
             "private accounts only")


@dataclass(frozen=True)
class ChunkPlan:
    video_size: int
    chunk_size: int
    total_chunk_count: int

    def ranges(self) -> list[tuple[int, int]]:
        """(first byte, last byte) of each chunk, inclusive; the last takes the rest."""
        spans = []
        for index in range(self.total_chunk_count):
            first = index * self.chunk_size
            last = (self.video_size if index == self.total_chunk_count - 1
                    else first + self.chunk_size) - 1
            spans.append((first, last))
        return spans


def chunk_plan(video_size: int, preferred: int = 10 * MIB) -> ChunkPlan:
    """The media transfer guide's arithmetic: under 5 MB the file is one chunk of its own
    size; otherwise chunks of ``preferred`` (kept within 5-64 MB), ``total_chunk_count`` =
    video_size // chunk_size, the trailing bytes joining the last chunk (so it stays under
    2 x 64 MB), 1 to 1000 chunks, and a video over 64 MB in more than one."""
    if video_size <= 0:
        raise ValueError("an empty video cannot be uploaded")
    chunk = min(max(preferred, MIN_CHUNK), MAX_CHUNK)
    if video_size < MIN_CHUNK or video_size < chunk:
        return ChunkPlan(video_size, video_size, 1)  # one chunk: the whole file
    if video_size // chunk > MAX_CHUNKS:  # too many: bigger chunks, up to the limit
        chunk = min(-(-video_size // MAX_CHUNKS), MAX_CHUNK)
        if video_size // chunk > MAX_CHUNKS:
            raise ValueError(f"{video_size} bytes need more than {MAX_CHUNKS} chunks")
    if video_size > MAX_CHUNK and video_size // chunk < 2:  # over 64 MB: never one chunk
        chunk = video_size // 2
    return ChunkPlan(video_size, chunk, video_size // chunk)


class TikTokPublisher:
    name = NAME
    limits = Limits(text="tiktok", needs=("video",), max_bytes={"video": 4 * 1024**3},
                    max_duration_s=600.0, credentials=("access_token",),
                    connect_hint="/connect tiktok in the chat")

    def __init__(self, settings: Settings, *, poll_interval_s: float = 3.0,
                 poll_timeout_s: float = 300.0) -> None:
        self.settings = settings
        self.mode = settings.tiktok_mode
        self.poll_interval_s, self.poll_timeout_s = poll_interval_s, poll_timeout_s

    def check(self, request: PublishRequest) -> list[str]:
        problems = []
        if not self.settings.tiktok_client_key:
            problems.append("tiktok is not set up: set ASSISTANT_TIKTOK_CLIENT_KEY and "
                            "ASSISTANT_TIKTOK_CLIENT_SECRET (a TikTok for Developers app)")
        video = request.file("video")
        if video is not None and video.stat().st_size:
            try:
                chunk_plan(video.stat().st_size, self.settings.tiktok_chunk_mb * MIB)
            except ValueError as exc:
                problems.append(f"tiktok: {exc}")
        return problems + check_limits(self.name, self.limits, request)

    # --- publishing ------------------------------------------------------------------------
    def publish(self, request: PublishRequest) -> Publication:
        video = request.file("video")
        if video is None:
            raise PublishError(self.name, "the job has no video to upload")
        with self._client(request.credentials) as client:
            creator = self._creator_info(client)
            longest = float(creator.get("max_video_post_duration_sec") or 0)
            if request.duration_s and longest and request.duration_s > longest:
                raise PublishError(self.name, f"the video is {request.duration_s:.0f} s; this "
                                   f"account may post up to {longest:.0f} s")
            publish_id = self._uploaded(client, request, video, creator)
            status = self._wait(client, publish_id)
        post_ids = [str(i) for i in status.get("publicaly_available_post_id") or []]
        username = creator.get("creator_username", "")
        url = (f"https://www.tiktok.com/@{username}/video/{post_ids[0]}"
               if post_ids and username else "")
        notice = ("sent to the TikTok inbox: open the TikTok app (inbox notification) to "
                  "finish and post it" if self.mode == "inbox"
                  else f"posted as {self._privacy()}"
                  + (f" ({UNAUDITED})" if self._privacy() == "SELF_ONLY" else ""))
        return Publication(platform=self.name, location=url or f"tiktok:{publish_id}", url=url,
                           post_id=post_ids[0] if post_ids else publish_id, files=[str(video)],
                           status="published",
                           meta={"publish_id": publish_id, "mode": self.mode, "notice": notice,
                                 "creator": username})

    def metrics(self, publication: Publication, credentials: Mapping[str, Any]
                ) -> dict[str, float]:
        """views, likes, comments, shares from /v2/video/query/ (the video.list scope)."""
        if publication.post_id.startswith(("v_inbox", "v_pub")) or not publication.post_id:
            raise PublishError(self.name, "the post has no public video id yet (still in the "
                               "inbox or in moderation)")
        fields = "id,view_count,like_count,comment_count,share_count"
        with self._client(credentials) as client:
            data = self._call(client, f"/v2/video/query/?fields={fields}",
                              {"filters": {"video_ids": [publication.post_id]}})
        videos = data.get("videos") or []
        if not videos:
            raise PublishError(self.name, f"video {publication.post_id} is no longer on TikTok")
        names = {"view_count": "views", "like_count": "likes", "comment_count": "comments",
                 "share_count": "shares"}
        return {names[k]: float(v) for k, v in videos[0].items() if k in names}

    # --- the pieces ----------------------------------------------------------------------------
    def _client(self, credentials: Mapping[str, Any]) -> httpx.Client:
        return httpx.Client(
            base_url=self.settings.tiktok_api_url.rstrip("/"),
            timeout=self.settings.publish_timeout_s,
            headers={"Authorization": f"Bearer {credentials.get('access_token', '')}"})

    def _privacy(self) -> str:
        return self.settings.tiktok_privacy.upper()

    def _creator_info(self, client: httpx.Client) -> dict[str, Any]:
        try:
            return self._call(client, "/v2/post/publish/creator_info/query/", {})
        except PublishError as exc:
            # creator_info needs video.publish; an inbox upload needs only video.upload
            if self.mode == "inbox" and "scope_not_authorized" in exc.user_message:
                return {}
            raise

    def _uploaded(self, client: httpx.Client, request: PublishRequest, video: Path,
                  creator: Mapping[str, Any]) -> str:
        """The publish id of a finished upload of ``video``: the saved one, else a new one."""
        saved, size = request.resume, video.stat().st_size
        if saved.get("publish_id") and saved.get("size") == size:
            if saved.get("upload_done"):
                return str(saved["publish_id"])
            status = self._status(client, str(saved["publish_id"]))
            if status.get("status") != "FAILED" and int(status.get("uploaded_bytes") or 0) >= size:
                request.progress(upload_done=True)  # all of it arrived before the break
                return str(saved["publish_id"])
            log.info("tiktok: job %s's upload broke off; starting it again", request.job_id)
        plan = chunk_plan(size, self.settings.tiktok_chunk_mb * MIB)
        body: dict[str, Any] = {"source_info": {
            "source": "FILE_UPLOAD", "video_size": plan.video_size,
            "chunk_size": plan.chunk_size, "total_chunk_count": plan.total_chunk_count}}
        path = "/v2/post/publish/inbox/video/init/"
        if self.mode == "direct":
            path = "/v2/post/publish/video/init/"
            body["post_info"] = self._post_info(request, creator)
        data = self._call(client, path, body)
        publish_id, upload_url = str(data["publish_id"]), str(data["upload_url"])
        request.progress(publish_id=publish_id, size=size, upload_done=False, chunks_sent=0)
        # the upload URL carries its own upload token: no bearer token goes to it
        with video.open("rb") as source, httpx.Client(
                timeout=self.settings.publish_timeout_s) as uploader:
            for index, (first, last) in enumerate(plan.ranges()):
                source.seek(first)
                chunk = source.read(last - first + 1)
                try:
                    answer = uploader.put(upload_url, content=chunk, headers={
                        "Content-Type": "video/mp4", "Content-Length": str(len(chunk)),
                        "Content-Range": f"bytes {first}-{last}/{size}"})
                except httpx.HTTPError as exc:
                    raise PublishError(self.name, f"the upload to TikTok broke off at chunk "
                                       f"{index + 1} ({type(exc).__name__}): publish again"
                                       ) from None
                if answer.status_code not in (201, 206):
                    raise PublishError(self.name, f"TikTok refused chunk {index + 1} of "
                                       f"{plan.total_chunk_count} (HTTP {answer.status_code})")
                request.progress(chunks_sent=index + 1)
        request.progress(upload_done=True)
        return publish_id

    def _post_info(self, request: PublishRequest, creator: Mapping[str, Any]) -> dict[str, Any]:
        options = list(creator.get("privacy_level_options") or [])
        if options and self._privacy() not in options:
            raise PublishError(self.name, f"this account cannot post as {self._privacy()} "
                               f"(it may: {', '.join(options)}); set ASSISTANT_TIKTOK_PRIVACY")
        script = request.script
        hashtags = " ".join(h if h.startswith("#") else f"#{h}" for h in script.hashtags)
        caption = " ".join(p for p in (script.title, script.description, hashtags) if p)
        return {"title": caption[:2200], "privacy_level": self._privacy(),
                "disable_comment": bool(creator.get("comment_disabled")),
                "disable_duet": bool(creator.get("duet_disabled")),
                "disable_stitch": bool(creator.get("stitch_disabled")),
                "video_cover_timestamp_ms": 1000, "is_aigc": True}  # AI-generated label

    def _status(self, client: httpx.Client, publish_id: str) -> dict[str, Any]:
        return self._call(client, "/v2/post/publish/status/fetch/", {"publish_id": publish_id})

    def _wait(self, client: httpx.Client, publish_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.poll_timeout_s
        while True:
            status = self._status(client, publish_id)
            state = status.get("status", "")
            if state == DONE[self.mode] or (state == "PUBLISH_COMPLETE" and self.mode == "inbox"):
                return status
            if state == "FAILED":
                raise PublishError(self.name, f"TikTok could not post the video "
                                   f"({status.get('fail_reason') or 'no reason given'})")
            if time.monotonic() >= deadline:
                raise PublishError(self.name, f"TikTok is still processing the video ({state}): "
                                   "publish again later to check on it; nothing is re-uploaded")
            time.sleep(self.poll_interval_s)

    def _call(self, client: httpx.Client, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        try:
            answer = client.post(path, json=dict(body),
                                 headers={"Content-Type": "application/json; charset=UTF-8"})
        except httpx.HTTPError as exc:
            raise PublishError(self.name, f"cannot reach TikTok at {self.settings.tiktok_api_url} "
                               f"({type(exc).__name__}): publish again when it is reachable"
                               ) from None
        try:
            payload = answer.json()
            error = payload.get("error") or {}
        except (ValueError, AttributeError):
            raise PublishError(self.name, f"TikTok answered HTTP {answer.status_code} without "
                               "its JSON") from None
        code = str(error.get("code", "ok" if answer.is_success else answer.status_code))
        if code != "ok":
            raise PublishError(self.name, _explain(code, str(error.get("message", ""))),
                               detail=f"{path} {code} log_id={error.get('log_id', '')}")
        return dict(payload.get("data") or {})


def _explain(code: str, message: str) -> str:
    """One line for TikTok's error codes (Content Posting API reference, 'Error codes')."""
    known = {
        "access_token_invalid": "TikTok refused the connected account's token: reconnect "
                                "with /connect tiktok",
        "scope_not_authorized": "the TikTok account did not grant the posting permission "
                                "(scope_not_authorized): reconnect with /connect tiktok",
        "rate_limit_exceeded": "TikTok's rate limit is reached (rate_limit_exceeded): publish "
                               "again in a minute",
        "spam_risk_too_many_posts": "this TikTok account reached its daily post limit "
                                    "(spam_risk_too_many_posts): publish again tomorrow",
        "spam_risk_too_many_pending_share": "this TikTok account has too many unfinished "
                                            "inbox uploads: finish or delete them in the app",
        "unaudited_client_can_only_post_to_private_accounts":
            f"{UNAUDITED}: make the TikTok account private, or have the app audited",
        "privacy_level_option_mismatch": "the privacy level is not one this account offers: "
                                         "set ASSISTANT_TIKTOK_PRIVACY to one it does",
    }
    return known.get(code, f"TikTok refused the request ({code}): {message[:160]}".rstrip(": "))
