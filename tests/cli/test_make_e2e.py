"""The main job, end to end, on the real embedded model (no fakes anywhere)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.helpers import artifact_files, assistant, query, show

pytestmark = pytest.mark.slow


def test_blog_from_an_empty_data_dir_is_published(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = assistant(data, "make", "how tides work", "--format", "blog", "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "loaded 6 bundled sample pages" in result.stdout
    assert "Published" in result.stdout
    job_id = query(data, "select id from jobs")[0][0]

    report = show(data, job_id)
    assert report["status"] == "published"
    steps = report["steps"]
    assert [s["name"] for s in steps] == [
        "brief", "research", "write", "redact", "review_script", "qa", "review_final",
        "publish"]
    assert all(s["status"] == "completed" and s["duration_s"] is not None for s in steps)
    assert all("path" not in a and str(data) not in json.dumps(a) for a in report["artifacts"])
    paths = artifact_files(data, job_id)
    assert set(paths) == {a["name"] for a in report["artifacts"]}
    assert all(p.is_file() for p in paths.values())
    location = report["publications"][0]["location"]
    assert location.startswith("outbox/") and str(data) not in location  # no server path
    post = (data / location).read_text(encoding="utf-8")
    # Grounded in the sample knowledge base, and it says so.
    assert "## Sources" in post and "How Tides Work" in post
    assert "Bay of Fundy" in post or "Moon" in post
    words = len(post.split())
    # The blog's 800 words, or an honest stop: the writer never pads, and says when the
    # passages research found cannot fill the length.
    script = json.loads(paths["script.json"].read_text(encoding="utf-8"))
    thin = [n for n in script["notes"] if n.startswith("sources too thin")]
    assert words <= 1200, words
    assert words >= 550 or (thin and words >= 250), (words, script["notes"])
    assert (data / "outbox" / "feed.xml").is_file()
