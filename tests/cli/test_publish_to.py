"""`assistant make --to`: an unknown platform is one line naming the ones there are, before a
job exists."""

from __future__ import annotations

from pathlib import Path

from tests.cli.helpers import assistant, query


def test_an_unknown_platform_is_refused_before_a_job_exists(tmp_path: Path) -> None:
    data = tmp_path / "data"
    done = assistant(data, "make", "how tides work", "--to", "wordpress,myspace", "--yes")
    assert done.returncode != 0
    said = (done.stdout + done.stderr).strip().splitlines()
    assert any("unknown platform myspace in --to; choose from outbox, wordpress" in line
               for line in said), said
    assert "Traceback" not in done.stderr
    assert query(data, "select id from jobs") == []
