"""The publish step with ASSISTANT_PUBLISH_TO=youtube and a connected account: a short goes
up once as a YouTube Short with its thumbnail, the publications table records it, the step's
message says it is private and why, and resuming the step makes no second video."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from youtube_standin import YouTubeStandIn  # noqa: E402

from assistant.app.studio import Services  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.content import Brief, MediaAssets, Publication, Script, Section  # noqa: E402
from assistant.graph.nodes import publish  # noqa: E402
from assistant.tools.publishing.accounts import AccountStore, Owner  # noqa: E402


@pytest.fixture
def standin() -> Iterator[YouTubeStandIn]:
    server = YouTubeStandIn()
    server.start()
    yield server
    server.stop()


def test_a_short_is_published_once_on_youtube(standin: YouTubeStandIn, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", publish_to="youtube",
                        secret_key="node-test-secret-key", youtube_client_id="yt-client",
                        youtube_client_secret="yt-secret", youtube_api_url=standin.url + "/",
                        youtube_token_url=standin.url + "/token", youtube_chunk_kib=256)
    svc = Services.create(settings)
    try:
        svc.repo.create_job("job-yt", title="how tides work", content_type="short", user="ada")
        tokens = standin.issue_tokens()
        AccountStore.from_settings(settings, svc.db).store(
            Owner.profile(svc.repo.ensure_user("ada")), "youtube", "YouTube: Tides", {
                "access_token": tokens["access_token"],
                "refresh_token": tokens["refresh_token"]})
        video, thumbnail = tmp_path / "video.mp4", tmp_path / "thumbnail.png"
        video.write_bytes(os.urandom(700_000))
        Image.new("RGB", (1280, 720), (10, 60, 120)).save(thumbnail)
        state: Any = {
            "job_id": "job-yt", "brief": Brief.create("how tides work", "short", user="ada"),
            "script": Script(format="short", title="How tides work", hook="Why twice a day?",
                             sections=[Section(text="The Moon pulls the sea.")],
                             hashtags=["tides"]),
            "media": MediaAssets(output=str(video), thumbnail=str(thumbnail),
                                 preset="youtube_shorts", voiceover_seconds=31.0)}
        said: list[str] = []
        monkeypatch.setattr(publish, "emit", lambda step, message, *a, **k: said.append(message))

        update = publish.run(state, svc)
        again = publish.run(state, svc)  # the step resumed: the table says it is done

        [(video_id, resource)] = standin.videos.items()
        assert resource["snippet"]["title"] == "How tides work #Shorts"
        assert standin.video_bytes[video_id] == video.read_bytes()
        assert standin.thumbnails[video_id].startswith(b"\x89PNG")
        row = svc.repo.publication("job-yt", "youtube")
        assert row is not None and row.status == "published" and row.platform_post_id == video_id
        first, second = update["publication"], again["publication"]
        assert isinstance(first, Publication) and isinstance(second, Publication)
        assert first.url == f"https://www.youtube.com/shorts/{video_id}"
        assert second.post_id == video_id
        line = next(m for m in said if m.startswith("published on youtube"))
        assert "private" in line and "audit" in line
    finally:
        svc.close()
