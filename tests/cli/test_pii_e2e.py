"""Issue 12's 'done when': a knowledge-base page with a coordinator's email address and phone
number, made into a short end to end on the embedded defaults (no fakes): neither value is
in the voiceover's transcript, the captions, qa.json, the script or any published byte."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.cli.helpers import assistant, query

pytestmark = pytest.mark.slow

PAGE = Path(__file__).parent / "data" / "injured-hedgehog.md"
EMAIL, PHONE = "jane.doe@hedgehog-rescue.org", "+44 20 7946 0958"
# Every way the values could be written down: as in the page, in parts, and as digits only
# (a transcript or a caption cue may group a number differently).
NEEDLES = [EMAIL, "jane.doe", "hedgehog-rescue.org", PHONE, "7946 0958", "7946-0958",
           "79460958", "2079460958"]


def leaks(data: bytes) -> list[str]:
    return [n for n in NEEDLES if n.encode() in data]


def test_a_page_with_a_contact_becomes_a_short_with_no_personal_data(tmp_path: Path) -> None:
    data = tmp_path / "data"
    added = assistant(data, "kb", "add", str(PAGE))
    assert added.returncode == 0, added.stdout + added.stderr
    result = assistant(data, "make", "how to report an injured hedgehog", "--format", "short",
                       "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert not leaks(result.stdout.encode() + result.stderr.encode())
    job_id = query(data, "select id from jobs")[0][0]
    assert query(data, "select status from jobs")[0][0] == "published", result.stdout

    artifacts = data / "artifacts" / job_id
    # The values reached the pipeline: research retrieved the page that holds them. Research
    # keeps the person's own sources as they are; it is never published.
    assert EMAIL in (artifacts / "research.json").read_text(encoding="utf-8")
    made = [p for p in artifacts.rglob("*") if p.is_file()
            and not p.relative_to(artifacts).parts[0].startswith("research")]
    names = {p.name for p in made}
    assert {"script.json", "script.md", "voiceover.wav", "transcript.txt", "captions.srt",
            "captions.ass", "video.mp4", "qa.json"} <= names, names
    published = [p for p in (data / "outbox").rglob("*") if p.is_file()]
    assert any(p.suffix == ".mp4" for p in published), published
    for path in made + published:  # every byte, the mp4's subtitles and metadata included
        assert not leaks(path.read_bytes()), path

    transcript = (artifacts / "transcript.txt").read_text(encoding="utf-8")
    assert "hedgehog" in transcript.lower()  # a real transcript of the voiceover
    assert "79460958" not in re.sub(r"\D", "", transcript)
    assert not re.search(r"\bat hedgehog|dot org", transcript, re.IGNORECASE)
    qa = json.loads((artifacts / "qa.json").read_text(encoding="utf-8"))
    checks = {c["name"]: c for c in qa["checks"]}
    for name in ("voiceover_pii", "captions_srt_pii", "captions_ass_pii", "pii"):
        assert checks[name]["passed"], checks[name]
