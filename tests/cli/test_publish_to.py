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


def test_show_lists_each_platform_with_its_state(tmp_path: Path) -> None:
    import json
    from datetime import UTC, datetime

    from assistant.app.studio import Services
    from assistant.config import Settings

    data = tmp_path / "data"
    svc = Services.create(Settings(_env_file=None, data_dir=data))
    svc.repo.create_job("job-0000c11e", title="tides", content_type="blog")
    svc.repo.save_publication("job-0000c11e", "wordpress", status="published",
                              location="https://blog.example.com/tides/", post_id="17")
    at = datetime(2030, 5, 1, 18, 30, tzinfo=UTC)
    svc.repo.save_publication("job-0000c11e", "discord", status="scheduled", publish_at=at)
    svc.repo.save_publication("job-0000c11e", "telegram", status="failed",
                              error="telegram: sendMessage refused: Bad Request: chat not found")
    svc.close()
    shown = assistant(data, "show", "job-0000c11e")
    assert shown.returncode == 0, shown.stderr
    assert "published to wordpress: https://blog.example.com/tides/ (id 17)" in shown.stdout
    assert "scheduled on discord at 2030-05-01 18:30 UTC" in shown.stdout
    assert "not published to telegram: telegram: sendMessage refused" in shown.stdout
    listed = json.loads(assistant(data, "show", "job-0000c11e", "--json").stdout)
    by_platform = {p["platform"]: p for p in listed["publications"]}
    assert by_platform["wordpress"]["url"] == "https://blog.example.com/tides/"
    assert by_platform["wordpress"]["id"] == "17"
    assert by_platform["discord"]["publish_at"].startswith("2030-05-01 18:30")
    assert by_platform["telegram"]["status"] == "failed"
