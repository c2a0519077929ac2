"""One publish of a video to YouTube in its own process, for the kill -9 test.

``python youtube_upload_child.py SPEC.json``: SPEC names the stand-in's URL, the video, the
tokens and a progress file. What the publisher saves (``save_progress``) is written to the
progress file atomically, as the publications table keeps it; a later run reads it back as
``request.resume``, as the ledger does after a restart. Prints the Publication as JSON.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.content import Brief, Script
from assistant.tools.publishing.base import PublishRequest
from assistant.tools.publishing.youtube import YouTubePublisher


def main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    progress = Path(spec["progress"])

    def save(values: dict[str, Any]) -> None:
        tmp = progress.with_suffix(".tmp")
        tmp.write_text(json.dumps(values))
        os.replace(tmp, progress)

    settings = Settings(_env_file=None, data_dir=Path(spec["data_dir"]),
                        youtube_client_id="yt-client", youtube_client_secret="yt-secret",
                        youtube_api_url=spec["url"] + "/", youtube_token_url=spec["url"] + "/token",
                        youtube_chunk_kib=256)
    request = PublishRequest(
        job_id="job-kill", brief=Brief.create("how tides work", "video"),
        script=Script(format="video", title="How tides work", hook="The moon pulls the sea.",
                      sections=[]),
        files={"video": Path(spec["video"])}, credentials=spec["credentials"],
        frame=(1920, 1080), duration_s=90.0,
        resume=json.loads(progress.read_text()) if progress.exists() else {},
        save_progress=save)
    publication = YouTubePublisher(settings).publish(request)
    print(publication.model_dump_json())


if __name__ == "__main__":
    main(sys.argv[1])
