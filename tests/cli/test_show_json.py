"""`assistant show JOB --json` names artifacts (name, type, size, sha256) and gives a signed
link where the web app serves files; it never prints a server path under the data dir."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from urllib.parse import urlparse

from assistant.app.studio import Services
from assistant.config import Settings
from assistant.infra.media_links import read_media_link
from tests.cli.helpers import artifact_files, assistant

JOB = "job-5a0e0001"
SCRIPT = "# Tides\n\nThe Moon pulls the sea.\n"


def made(data: Path) -> None:
    svc = Services.create(Settings(_env_file=None, data_dir=data, seed_sample_kb=False))
    try:
        svc.repo.create_job(JOB, title="how tides work", content_type="blog", user="local")
        svc.objects.put(JOB, "script.md", SCRIPT, step="write", type="script",
                        mime="text/markdown")
    finally:
        svc.close()


def test_show_names_artifacts_without_server_paths(tmp_path: Path) -> None:
    data = tmp_path / "data"
    made(data)
    result = assistant(data, "show", JOB, "--json")
    assert result.returncode == 0, result.stderr
    assert str(data) not in result.stdout and str(tmp_path) not in result.stdout
    [artifact] = json.loads(result.stdout)["artifacts"]
    assert artifact == {"name": "script.md", "version": 1, "type": "script", "step": "write",
                        "size": len(SCRIPT), "mime": "text/markdown", "link": None,
                        "sha256": hashlib.sha256(SCRIPT.encode()).hexdigest()}
    # a program that needs the bytes asks the object store
    assert artifact_files(data, JOB)["script.md"].read_text() == SCRIPT

    table = assistant(data, "show", JOB)
    assert table.returncode == 0 and "script.md" in table.stdout
    assert str(data) not in table.stdout.replace("\n", "")


def test_show_gives_a_signed_link_where_the_web_app_serves_files(tmp_path: Path) -> None:
    data = tmp_path / "data"
    made(data)
    base = "https://studio.example.org"
    result = assistant(data, "show", JOB, "--json", ASSISTANT_PUBLIC_BASE_URL=base)
    assert result.returncode == 0, result.stderr
    [artifact] = json.loads(result.stdout)["artifacts"]
    link = artifact["link"]
    assert link.startswith(f"{base}/media/") and link.endswith("/script.md")
    settings = Settings(_env_file=None, data_dir=data, public_base_url=base)
    tag, job, viewer, token, name = urlparse(link).path.split("/")[2:]
    served = read_media_link(settings, tag, job, viewer, token, name)
    assert served is not None and served.job_id == JOB and served.path.read_text() == SCRIPT
