"""The YouTube publisher against the local Data API stand-in (youtube_standin.py): the
resumable upload protocol, the video resource YouTube requires, the thumbnail, statistics,
token refresh, quota errors, and resuming the same session after kill -9."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from youtube_standin import CHUNK_GRANULARITY, YouTubeStandIn  # noqa: E402

from assistant.config import Settings  # noqa: E402
from assistant.content import Brief, Script, Section  # noqa: E402
from assistant.tools.publishing.base import PublishError, PublishRequest  # noqa: E402
from assistant.tools.publishing.youtube import YouTubePublisher, video_resource  # noqa: E402

CHILD = Path(__file__).parent / "youtube_upload_child.py"


@pytest.fixture
def standin() -> Iterator[YouTubeStandIn]:
    server = YouTubeStandIn()
    server.start()
    yield server
    server.stop()


def settings_for(url: str, tmp_path: Path, **extra: Any) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data",
                    youtube_client_id="yt-client", youtube_client_secret="yt-secret",
                    youtube_api_url=url + "/", youtube_token_url=url + "/token",
                    youtube_chunk_kib=256, **extra)


def a_video(tmp_path: Path, size: int) -> Path:
    path = tmp_path / "video.mp4"
    path.write_bytes(os.urandom(size))
    return path


def a_request(tmp_path: Path, tokens: dict[str, Any], *, size: int = 3 * CHUNK_GRANULARITY + 7,
              frame: tuple[int, int] = (1920, 1080), seconds: float = 95.0,
              title: str = "How tides work", saved: dict[str, Any] | None = None,
              ) -> PublishRequest:
    thumbnail = tmp_path / "thumbnail.png"
    thumbnail.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(64))
    store = saved if saved is not None else {}
    credentials = {"access_token": tokens["access_token"], "refresh_token": tokens["refresh_token"],
                   "expiry": (datetime.now(UTC) + timedelta(seconds=tokens["expires_in"])
                              ).isoformat()}
    return PublishRequest(
        job_id="job-1", brief=Brief.create("how tides work", "video"),
        script=Script(format="video", title=title, hook="The moon pulls the sea.",
                      sections=[Section(text="Twice a day the sea rises.")],
                      description="Why the sea rises and falls twice a day.",
                      hashtags=["tides", "#ocean"], seo_keywords=["tides", "moon"]),
        files={"video": a_video(tmp_path, size), "thumbnail": thumbnail},
        credentials=credentials, frame=frame, duration_s=seconds,
        save_progress=lambda values: store.update(values))


def test_upload_sends_the_resource_youtube_requires_and_one_video(
        standin: YouTubeStandIn, tmp_path: Path) -> None:
    request = a_request(tmp_path, standin.issue_tokens())
    publisher = YouTubePublisher(settings_for(standin.url, tmp_path))
    assert publisher.check(request) == []
    publication = publisher.publish(request)

    assert list(standin.videos) == [publication.post_id]
    video = standin.videos[publication.post_id]
    assert video["status"]["privacyStatus"] == "private"
    assert video["status"]["selfDeclaredMadeForKids"] is False
    assert video["status"]["containsSyntheticMedia"] is True
    assert video["snippet"]["title"] == "How tides work"  # 16:9 and 95 s: not a Short
    assert "#tides #ocean" in video["snippet"]["description"]
    assert video["snippet"]["tags"] == ["tides", "moon", "ocean"]
    video_file = request.files["video"]
    assert standin.video_bytes[publication.post_id] == video_file.read_bytes()
    assert standin.thumbnails[publication.post_id].startswith(b"\x89PNG")
    assert publication.url == f"https://www.youtube.com/watch?v={publication.post_id}"
    assert "private" in publication.meta["notice"] and "audit" in publication.meta["notice"]
    puts = [r for r in standin.requests if r[0] == "PUT"]
    assert len(puts) == 4  # three 256 KiB chunks and the 7-byte rest


def test_a_vertical_video_under_a_minute_is_a_short(standin: YouTubeStandIn,
                                                   tmp_path: Path) -> None:
    request = a_request(tmp_path, standin.issue_tokens(), frame=(1080, 1920), seconds=42.0)
    publication = YouTubePublisher(settings_for(standin.url, tmp_path)).publish(request)
    assert standin.videos[publication.post_id]["snippet"]["title"] == "How tides work #Shorts"
    assert publication.url == f"https://www.youtube.com/shorts/{publication.post_id}"


def test_resource_stays_within_youtube_limits(tmp_path: Path) -> None:
    settings = settings_for("http://127.0.0.1:9", tmp_path, youtube_made_for_kids=True)
    request = a_request(tmp_path, {"access_token": "a", "refresh_token": "r", "expires_in": 60},
                        title="T" * 99, frame=(1080, 1920), seconds=20.0)
    request.script.description = "d" * 6000
    body = video_resource(settings, request)
    assert body["snippet"]["title"] == "T" * 99  # no room for " #Shorts" in the title...
    assert len(body["snippet"]["description"]) == 5000  # ... and the description is cut
    assert body["status"]["selfDeclaredMadeForKids"] is True


def test_kill_9_mid_upload_resumes_the_same_session_and_leaves_one_video(
        standin: YouTubeStandIn, tmp_path: Path) -> None:
    size = 10 * CHUNK_GRANULARITY + 12345
    video = a_video(tmp_path, size)
    progress = tmp_path / "progress.json"
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"url": standin.url, "video": str(video), "progress": str(progress),
                                "data_dir": str(tmp_path / "data"),
                                "credentials": standin.issue_tokens()}))
    standin.hold_after_chunks = 4  # the 5th chunk is taken in, its answer never arrives
    first = subprocess.Popen([sys.executable, str(CHILD), str(spec)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    try:
        assert standin.holding.wait(60), first.stderr.read() if first.stderr else ""
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        standin.release.set()
    assert first.returncode == -signal.SIGKILL
    saved = json.loads(progress.read_text())
    assert saved["bytes_confirmed"] == 4 * CHUNK_GRANULARITY  # what the client heard
    [session] = standin.sessions.values()
    assert len(session.data) == 5 * CHUNK_GRANULARITY  # what the server holds

    second = subprocess.run([sys.executable, str(CHILD), str(spec)], capture_output=True,
                            text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    publication = json.loads(second.stdout)
    assert len(standin.sessions) == 1  # the same session, continued
    assert list(standin.videos) == [publication["post_id"]]
    uploaded = standin.video_bytes[publication["post_id"]]
    assert hashlib.sha256(uploaded).digest() == hashlib.sha256(video.read_bytes()).digest()
    opened = [r for r in standin.requests if r == ("POST", "/upload/youtube/v3/videos")]
    assert len(opened) == 1
    assert json.loads(progress.read_text())["video_id"] == publication["post_id"]


def test_publishing_again_after_the_upload_finished_creates_nothing(
        standin: YouTubeStandIn, tmp_path: Path) -> None:
    saved: dict[str, Any] = {}
    request = a_request(tmp_path, standin.issue_tokens(), saved=saved)
    publisher = YouTubePublisher(settings_for(standin.url, tmp_path))
    first = publisher.publish(request)
    before = len(standin.requests)
    again = a_request(tmp_path, standin.issue_tokens())
    again.resume = dict(saved)
    assert publisher.publish(again).post_id == first.post_id
    assert len(standin.videos) == 1
    assert [r for r in standin.requests[before:] if r[1].endswith("/videos")] == []


def test_a_session_whose_answer_was_lost_is_found_finished(standin: YouTubeStandIn,
                                                           tmp_path: Path) -> None:
    """Killed after the last chunk went in but before the video id was saved: the status
    query finds the finished video instead of uploading a second one."""
    saved: dict[str, Any] = {}
    request = a_request(tmp_path, standin.issue_tokens(), saved=saved)
    publisher = YouTubePublisher(settings_for(standin.url, tmp_path))
    first = publisher.publish(request)
    resume = {k: v for k, v in saved.items() if k in ("session_uri", "size")}
    again = a_request(tmp_path, standin.issue_tokens())
    again.files["video"].write_bytes(request.files["video"].read_bytes())
    again.resume = resume
    assert publisher.publish(again).post_id == first.post_id
    assert len(standin.videos) == 1 and len(standin.sessions) == 1


def test_a_session_opened_before_any_byte_arrived_is_continued(standin: YouTubeStandIn,
                                                               tmp_path: Path) -> None:
    """Killed right after YouTube handed out the session (saved before the first chunk):
    the status query answers 308 without a Range, and the upload starts at byte 0 of it."""
    saved: dict[str, Any] = {}
    request = a_request(tmp_path, standin.issue_tokens(), saved=saved)
    size = request.files["video"].stat().st_size
    opened = httpx.post(f"{standin.url}/upload/youtube/v3/videos",
                        params={"uploadType": "resumable", "part": "snippet,status"},
                        json={"snippet": {"title": "How tides work"},
                              "status": {"privacyStatus": "private",
                                         "selfDeclaredMadeForKids": False}},
                        headers={"Authorization": f"Bearer {request.credentials['access_token']}",
                                 "X-Upload-Content-Length": str(size),
                                 "X-Upload-Content-Type": "video/mp4"})
    assert opened.status_code == 200
    request.resume = {"session_uri": opened.headers["Location"], "size": size,
                      "bytes_confirmed": 0}
    publication = YouTubePublisher(settings_for(standin.url, tmp_path)).publish(request)
    assert len(standin.sessions) == 1 and list(standin.videos) == [publication.post_id]
    assert standin.video_bytes[publication.post_id] == request.files["video"].read_bytes()


def test_an_expired_token_is_refreshed(standin: YouTubeStandIn, tmp_path: Path) -> None:
    request = a_request(tmp_path, standin.issue_tokens(expired=True))
    publication = YouTubePublisher(settings_for(standin.url, tmp_path)).publish(request)
    assert ("POST", "/token") in standin.requests
    assert publication.post_id in standin.videos


def test_a_revoked_sign_in_is_one_line(standin: YouTubeStandIn, tmp_path: Path) -> None:
    tokens = standin.issue_tokens(expired=True)
    standin.refresh_tokens.clear()
    with pytest.raises(PublishError) as caught:
        YouTubePublisher(settings_for(standin.url, tmp_path)).publish(
            a_request(tmp_path, tokens))
    assert "reconnect with /connect youtube" in caught.value.user_message
    assert "\n" not in caught.value.user_message and tokens["refresh_token"] not in str(
        caught.value)


def test_quota_exceeded_is_one_clear_line(standin: YouTubeStandIn, tmp_path: Path) -> None:
    standin.quota_left = 0
    with pytest.raises(PublishError) as caught:
        YouTubePublisher(settings_for(standin.url, tmp_path)).publish(
            a_request(tmp_path, standin.issue_tokens()))
    message = caught.value.user_message
    assert message.startswith("youtube: the YouTube API quota is used up (quotaExceeded)")
    assert "\n" not in message and "<a" not in message
    assert standin.videos == {}


def test_rate_limited_after_retries_is_one_clear_line(standin: YouTubeStandIn, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import googleapiclient.http

    monkeypatch.setattr(googleapiclient.http.time, "sleep", lambda s: None)
    standin.rate_limited = True
    with pytest.raises(PublishError) as caught:
        YouTubePublisher(settings_for(standin.url, tmp_path)).publish(
            a_request(tmp_path, standin.issue_tokens()))
    assert "(rateLimitExceeded)" in caught.value.user_message
    opened = [r for r in standin.requests if r == ("POST", "/upload/youtube/v3/videos")]
    assert len(opened) == 4 and standin.videos == {}  # the first try and three retries


def test_metrics_read_the_statistics(standin: YouTubeStandIn, tmp_path: Path) -> None:
    request = a_request(tmp_path, standin.issue_tokens())
    publisher = YouTubePublisher(settings_for(standin.url, tmp_path))
    publication = publisher.publish(request)
    counts = publisher.metrics(publication, request.credentials)
    assert counts["likes"] == 3.0 and counts["comments"] == 1.0 and counts["views"] >= 0


def test_not_set_up_or_not_connected_is_said_before_any_call(tmp_path: Path) -> None:
    bare = Settings(_env_file=None, data_dir=tmp_path / "data")
    request = a_request(tmp_path, {"access_token": "", "refresh_token": "", "expires_in": 0})
    request.credentials = {}
    problems = YouTubePublisher(bare).check(request)
    assert any("ASSISTANT_YOUTUBE_CLIENT_ID" in p for p in problems)
    assert any("/connect youtube" in p for p in problems)


def test_an_unreachable_api_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import googleapiclient.http

    monkeypatch.setattr(googleapiclient.http.time, "sleep", lambda s: None)  # retries, at once
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = a_request(tmp_path, {"access_token": "a", "refresh_token": "r", "expires_in": 600})
    with pytest.raises(PublishError) as caught:
        YouTubePublisher(settings_for(f"http://127.0.0.1:{port}", tmp_path)).publish(request)
    assert "cannot reach YouTube" in caught.value.user_message
