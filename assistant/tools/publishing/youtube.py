"""YouTube through the Data API v3 (google-api-python-client, google-auth).

The video goes up in a resumable upload session (``MediaFileUpload(resumable=True)`` and the
``next_chunk()`` loop). The session is the publisher's part of exactly-once: its URI is saved
(``request.progress``) the moment YouTube hands it out, before a byte of video is sent, and
after each chunk the bytes YouTube confirmed. Publishing again after a kill -9 asks the
session where it stands (an empty ``PUT`` with ``Content-Range: bytes */TOTAL``: 308 and a
``Range`` header, or 200 and the finished video) and continues it, so a second video is never
created. Only a session YouTube no longer knows (404/410: expired, nothing was made) starts a
new one.

The video resource: title (<= 100 characters), description (<= 5,000), tags, category,
``privacyStatus`` (default private: YouTube keeps every upload from an unaudited API project
private whatever is asked), ``selfDeclaredMadeForKids`` (always sent: uploads that leave it
unset wait in YouTube Studio for an answer), ``containsSyntheticMedia: true`` (the altered or
synthetic content disclosure, added to the API on 2024-10-30: these videos are made by AI) and
``#Shorts`` for a vertical video under 60 seconds. Then the thumbnail (``thumbnails.set``).

Credentials come from the connected account (assistant/tools/publishing/oauth.py stores
them): an OAuth access token with its refresh token; google-auth refreshes an expired one.
"""

from __future__ import annotations

import json
import logging
import urllib.parse
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.content import Publication
from assistant.tools.publishing.base import Limits, PublishError, PublishRequest, check_limits

log = logging.getLogger(__name__)

NAME = "youtube"
TITLE_MAX, DESCRIPTION_MAX, TAGS_MAX_CHARS = 100, 5000, 500
SHORTS_MAX_S = 60.0
THUMBNAIL_MAX_BYTES = 2 * 1024 * 1024  # YouTube's custom thumbnail limit
PRIVATE_NOTICE = ("uploaded as private: YouTube keeps uploads from API projects that have not "
                  "passed its audit private, whatever is asked; make it public in YouTube "
                  "Studio or have the project audited")
QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded"}
RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}


class YouTubePublisher:
    name = NAME
    limits = Limits(
        text="youtube", needs=("video",),
        max_bytes={"video": 256 * 1024**3, "thumbnail": THUMBNAIL_MAX_BYTES},
        max_duration_s=12 * 3600.0, credentials=("refresh_token",),
        connect_hint="/connect youtube in the chat, or `assistant connect youtube`")

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    # --- before any network call -----------------------------------------------------------
    def check(self, request: PublishRequest) -> list[str]:
        problems = []
        if not (self.settings.youtube_client_id or request.credentials.get("client_id")):
            problems.append("youtube is not set up: set ASSISTANT_YOUTUBE_CLIENT_ID and "
                            "ASSISTANT_YOUTUBE_CLIENT_SECRET (a Google OAuth client)")
        return problems + check_limits(self.name, self.limits, request)

    # --- publishing ------------------------------------------------------------------------
    def publish(self, request: PublishRequest) -> Publication:
        video = request.file("video")
        if video is None:
            raise PublishError(self.name, "the job has no video to upload")
        service = self._service(request.credentials)
        body = video_resource(self.settings, request)
        try:
            uploaded = self._upload(service, request, body, video)
            video_id = str(uploaded["id"])
            notices = [] if body["status"]["privacyStatus"] != "private" else [PRIVATE_NOTICE]
            notices += self._thumbnail(service, request, video_id)
        except Exception as exc:
            raise _publish_error(exc, self.settings.youtube_api_url) from exc
        short = "#Shorts" in body["snippet"]["title"] + body["snippet"]["description"]
        url = (f"https://www.youtube.com/shorts/{video_id}" if short
               else f"https://www.youtube.com/watch?v={video_id}")
        return Publication(platform=self.name, location=url, url=url, post_id=video_id,
                           files=[str(video)], status="published",
                           meta={"privacy": body["status"]["privacyStatus"], "short": short,
                                 "notice": "; ".join(notices)})

    def metrics(self, publication: Publication, credentials: Mapping[str, Any]
                ) -> dict[str, float]:
        """views, likes, comments, favorites from videos.list part=statistics."""
        service = self._service(credentials)
        try:
            answer = service.videos().list(part="statistics", id=publication.post_id).execute()
        except Exception as exc:
            raise _publish_error(exc, self.settings.youtube_api_url) from exc
        items = answer.get("items", [])
        if not items:
            raise PublishError(self.name, f"video {publication.post_id} is no longer on YouTube")
        names = {"viewCount": "views", "likeCount": "likes", "commentCount": "comments",
                 "favoriteCount": "favorites"}
        stats = items[0].get("statistics", {})
        return {names[k]: float(v) for k, v in stats.items() if k in names}

    # --- the pieces ----------------------------------------------------------------------------
    def _service(self, credentials: Mapping[str, Any]) -> Any:
        import google_auth_httplib2
        import httplib2
        from googleapiclient.discovery import build

        http = httplib2.Http(timeout=int(self.settings.publish_timeout_s))
        # 308 is "Resume Incomplete" in the upload protocol, not a redirect to follow
        http.redirect_codes = http.redirect_codes - {308}
        authorized = google_auth_httplib2.AuthorizedHttp(self.credentials(credentials), http=http)
        return build("youtube", "v3", http=authorized, static_discovery=True,
                     cache_discovery=False,
                     client_options={"api_endpoint": self.settings.youtube_api_url})

    def credentials(self, stored: Mapping[str, Any]) -> Any:
        """google-auth user credentials from a connected account's stored tokens (the OAuth
        client they were issued to is stored with them: oauth.py; else the settings')."""
        from google.oauth2.credentials import Credentials

        secret = self.settings.youtube_client_secret
        return Credentials(
            token=stored.get("access_token") or None, refresh_token=stored.get("refresh_token"),
            token_uri=stored.get("token_uri") or self.settings.youtube_token_url,
            client_id=stored.get("client_id") or self.settings.youtube_client_id,
            client_secret=stored.get("client_secret") or (
                secret.get_secret_value() if secret else None),
            expiry=_naive_utc(stored.get("expiry")))

    def _upload(self, service: Any, request: PublishRequest, body: dict[str, Any],
                video: Path) -> dict[str, Any]:
        from googleapiclient.http import MediaFileUpload

        saved = request.resume
        if saved.get("video_id"):  # uploaded before the interruption: only what follows
            return {"id": saved["video_id"]}
        size = video.stat().st_size
        chunk = self.settings.youtube_chunk_kib * 1024
        media = MediaFileUpload(str(video), mimetype="video/mp4", chunksize=chunk,
                                resumable=True)
        insert = service.videos().insert(part="snippet,status", body=body, media_body=media,
                                         notifySubscribers=False)
        insert.uri = self._on_endpoint(insert.uri)
        if saved.get("session_uri") and saved.get("size") == size:
            where = session_state(insert.http, str(saved["session_uri"]), size)
            if isinstance(where, dict):  # it had finished: the answer never reached us
                request.progress(video_id=where["id"])
                return where
            if where is not None:
                insert.resumable_uri = saved["session_uri"]
                insert.resumable_progress = where
                log.info("youtube: resuming job %s's upload at byte %d of %d",
                         request.job_id, where, size)
        recorder = _SessionRecorder(insert.http, lambda uri: request.progress(
            session_uri=uri, size=size, bytes_confirmed=0))
        response = None
        while response is None:
            status, response = insert.next_chunk(http=recorder, num_retries=3)
            if status is not None:
                request.progress(bytes_confirmed=status.resumable_progress)
        request.progress(video_id=response["id"], bytes_confirmed=size)
        return dict(response)

    def _thumbnail(self, service: Any, request: PublishRequest, video_id: str) -> list[str]:
        from googleapiclient.errors import HttpError
        from googleapiclient.http import MediaFileUpload

        thumbnail = request.file("thumbnail")
        if thumbnail is None or request.resume.get("thumbnail_set"):
            return []
        mime = "image/jpeg" if thumbnail.suffix.lower() in (".jpg", ".jpeg") else "image/png"
        call = service.thumbnails().set(videoId=video_id,
                                        media_body=MediaFileUpload(str(thumbnail), mimetype=mime))
        call.uri = self._on_endpoint(call.uri)
        try:
            call.execute(num_retries=2)
        except HttpError as exc:
            if exc.resp.status != 403:
                raise
            # custom thumbnails need a verified channel; the video itself is up
            return [f"the thumbnail was not set ({_reason(exc)}): verify the channel at "
                    "youtube.com/verify, or set it in YouTube Studio"]
        request.progress(thumbnail_set=True)
        return []

    def _on_endpoint(self, uri: str) -> str:
        """googleapiclient moves media URIs to the api_endpoint's host but keeps the
        discovery document's https scheme; an http endpoint (a local stand-in) needs its own."""
        base = urllib.parse.urlsplit(self.settings.youtube_api_url)
        parts = urllib.parse.urlsplit(uri)
        if parts.netloc == base.netloc and parts.scheme != base.scheme:
            return urllib.parse.urlunsplit(parts._replace(scheme=base.scheme))
        return uri


def video_resource(settings: Settings, request: PublishRequest) -> dict[str, Any]:
    """The video resource videos.insert sends: snippet and status, within YouTube's limits."""
    script = request.script
    hashtags = [h if h.startswith("#") else f"#{h}" for h in script.hashtags if h.strip("#")]
    title = " ".join(script.title.split())[:TITLE_MAX].strip() or request.brief.topic[:TITLE_MAX]
    parts = [script.description.strip() or script.hook.strip(), " ".join(hashtags)]
    if is_short(request):
        if len(title) + len(" #Shorts") <= TITLE_MAX:
            title += " #Shorts"
        elif "#Shorts" not in hashtags:
            parts.append("#Shorts")
    description = "\n\n".join(p for p in parts if p)[:DESCRIPTION_MAX]
    tags: list[str] = []
    for tag in [*script.seo_keywords, *(h.lstrip("#") for h in hashtags)]:
        tag = tag.replace("<", "").replace(">", "").strip()
        if tag and tag not in tags and sum(map(len, tags)) + len(tag) <= TAGS_MAX_CHARS:
            tags.append(tag)
    audience = request.brief.audience.lower()
    for_kids = settings.youtube_made_for_kids or any(
        word in audience for word in ("kids", "children", "child"))
    return {
        "snippet": {"title": title, "description": description, "tags": tags,
                    "categoryId": settings.youtube_category_id,
                    "defaultLanguage": request.brief.language},
        "status": {"privacyStatus": settings.youtube_privacy,
                   "selfDeclaredMadeForKids": for_kids,
                   "containsSyntheticMedia": True,  # AI disclosure (altered/synthetic media)
                   "embeddable": True},
    }


def is_short(request: PublishRequest) -> bool:
    """A vertical (9:16) video under 60 seconds: YouTube Shorts."""
    frame, duration = request.frame, request.duration_s
    if frame is None or duration is None:
        video = request.file("video")
        if video is None:
            return False
        try:
            from media.probe import probe

            info = probe(video)
        except Exception:  # not measurable here (no ffprobe): not claimed as a Short
            return False
        frame = (info.width or 0, info.height or 0) if frame is None else frame
        duration = info.duration_s if duration is None else duration
    width, height = frame
    return bool(height) and abs(width / height - 9 / 16) < 0.02 and 0 < duration < SHORTS_MAX_S


def session_state(http: Any, session_uri: str, size: int) -> int | dict[str, Any] | None:
    """Where an upload session stands: bytes YouTube holds (308 and its Range), the video
    resource when it had finished (200/201), or None when YouTube no longer knows it."""
    from googleapiclient.errors import HttpError

    resp, content = http.request(session_uri, "PUT",
                                 headers={"Content-Range": f"bytes */{size}",
                                          "Content-Length": "0"})
    if resp.status in (200, 201):
        return dict(json.loads(content))
    if resp.status == 308:
        held = resp.get("range")  # "bytes=0-1048575"; absent: nothing arrived yet
        return int(held.rsplit("-", 1)[1]) + 1 if held else 0
    if resp.status in (404, 410):
        return None
    raise HttpError(resp, content, uri=session_uri)


class _SessionRecorder:
    """The http googleapiclient uploads through: saves the session URI from the answer to
    the opening POST, before the first chunk is sent."""

    def __init__(self, http: Any, on_session: Callable[[str], None]) -> None:
        self.http, self.on_session = http, on_session

    def request(self, uri: str, method: str = "GET", body: Any = None,
                headers: Any = None, **kwargs: Any) -> Any:
        resp, content = self.http.request(uri, method=method, body=body, headers=headers,
                                          **kwargs)
        if method == "POST" and resp.status == 200 and "location" in resp:
            self.on_session(resp["location"])
        return resp, content


def _reason(exc: Any) -> str:
    try:
        error = json.loads(exc.content)["error"]
        reasons = [e.get("reason", "") for e in error.get("errors", [])]
        return next((r for r in reasons if r), str(error.get("status", ""))) or str(exc.status_code)
    except (ValueError, KeyError, TypeError, AttributeError):
        return str(getattr(exc, "status_code", "error"))


def _message(exc: Any) -> str:
    try:
        return str(json.loads(exc.content)["error"]["message"]).split(" <a ")[0][:200]
    except (ValueError, KeyError, TypeError, AttributeError):
        return ""


def _publish_error(exc: Exception, api_url: str) -> PublishError:
    """One line for any failure of the API, the network or the token."""
    from google.auth.exceptions import RefreshError, TransportError
    from googleapiclient.errors import HttpError

    if isinstance(exc, PublishError):
        return exc
    if isinstance(exc, HttpError):
        reason, status = _reason(exc), exc.resp.status
        if reason in QUOTA_REASONS:
            return PublishError(NAME, f"the YouTube API quota is used up ({reason}): the daily "
                                "quota resets at midnight Pacific time; publish again then",
                                detail=f"HTTP {status} {reason}")
        if status == 429 or reason in RATE_REASONS:
            return PublishError(NAME, f"YouTube is limiting this project's request rate "
                                f"({reason}): publish again in a few minutes; the upload resumes",
                                detail=f"HTTP {status} {reason}")
        if reason == "uploadLimitExceeded":
            return PublishError(NAME, "the channel reached YouTube's upload limit for now "
                                "(uploadLimitExceeded): publish again tomorrow")
        if status == 401:
            return PublishError(NAME, "YouTube refused the connected account's token: "
                                "reconnect with /connect youtube")
        return PublishError(NAME, f"YouTube refused the upload ({reason}): "
                            f"{_message(exc) or 'HTTP ' + str(status)}")
    if isinstance(exc, RefreshError):
        return PublishError(NAME, "YouTube no longer accepts the saved sign-in (revoked or "
                            "expired): reconnect with /connect youtube")
    if isinstance(exc, TransportError | OSError) or type(exc).__module__.startswith("httplib2"):
        return PublishError(NAME, f"cannot reach YouTube at {api_url} ({type(exc).__name__}): "
                            "publish again when it is reachable; the upload resumes")
    return PublishError(NAME, f"the upload failed ({type(exc).__name__})", detail=str(exc))


def _naive_utc(value: Any) -> datetime | None:
    """google-auth compares expiry with a naive UTC clock."""
    if not value:
        return None
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when
