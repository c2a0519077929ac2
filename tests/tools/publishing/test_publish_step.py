"""The publish step over several platforms, on hand-built states: one failing does not lose
the others and running the step again retries only it; a brief with a future publish_at is
recorded as scheduled (WordPress holds it as a 'future' post, Discord waits in the table)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).parent))
from channel_standins import DiscordStandIn  # noqa: E402
from wp_server import WordPressSite  # noqa: E402

from assistant.app.studio import Services  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.content import Brief, Script, Section  # noqa: E402
from assistant.errors import StepError  # noqa: E402
from assistant.graph.nodes import publish  # noqa: E402


@pytest.fixture
def discord_api() -> Iterator[DiscordStandIn]:
    with DiscordStandIn() as stand_in:
        yield stand_in


def _state(job_id: str, **brief: Any) -> Any:
    return {"job_id": job_id,
            "brief": Brief.create("how tides work", "blog").model_copy(update=brief),
            "script": Script(format="blog", title=f"How tides work {job_id}", hook="Why?",
                             description="The Moon pulls the sea.",
                             sections=[Section(heading="The Moon",
                                               text="The Moon pulls the sea.")])}


def _services(settings: Settings, **update: Any) -> Services:
    return Services.create(settings.model_copy(update=update))


def test_one_platform_failing_keeps_the_others_and_is_retried_alone(
        settings: Settings, discord_api: DiscordStandIn,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(publish, "emit", lambda *a, **k: None)
    revoked = f"{discord_api.url}/api/webhooks/{discord_api.WEBHOOK_ID}/revoked"
    svc = _services(settings, publish_to="outbox,discord", discord_webhook_url=SecretStr(revoked))
    svc.repo.create_job("job-00000a11", title="tides", content_type="blog")
    with pytest.raises(StepError) as failed:
        publish.run(_state("job-00000a11"), svc)
    assert "discord: the webhook no longer exists" in failed.value.user_message
    assert "(outbox went out)" in failed.value.user_message
    outbox = svc.repo.publication("job-00000a11", "outbox")
    discord = svc.repo.publication("job-00000a11", "discord")
    assert outbox is not None and outbox.status == "published"
    assert discord is not None and discord.status == "failed" and discord.error
    svc.close()

    fixed = _services(settings, publish_to="outbox,discord",
                      discord_webhook_url=SecretStr(discord_api.webhook_url))
    update = publish.run(_state("job-00000a11"), fixed)
    assert [p.platform for p in update["publications"]] == ["outbox", "discord"]  # type: ignore[attr-defined]
    again = fixed.repo.publication("job-00000a11", "outbox")
    assert again is not None and again.published_at == outbox.published_at  # not redone
    assert len(discord_api.posts) == 1
    row = fixed.repo.publication("job-00000a11", "discord")
    assert row is not None and row.status == "published"
    assert row.platform_post_id == discord_api.posts[0].id
    fixed.close()


def test_a_future_publish_at_is_scheduled(settings: Settings, discord_api: DiscordStandIn,
                                          wordpress: WordPressSite,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(publish, "emit", lambda *a, **k: None)
    svc = _services(settings, discord_webhook_url=SecretStr(discord_api.webhook_url),
                    wordpress_url=wordpress.url, wordpress_user=wordpress.user,
                    wordpress_app_password=SecretStr(wordpress.app_password))
    svc.repo.create_job("job-00000a12", title="tides", content_type="blog")
    at = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    update = publish.run(_state("job-00000a12", platforms=["wordpress", "discord"],
                                publish_at=at), svc)
    statuses = {p.platform: p.status for p in update["publications"]}  # type: ignore[attr-defined]
    assert statuses == {"wordpress": "scheduled", "discord": "scheduled"}
    assert discord_api.received == []  # nothing sent before its time
    row = svc.repo.publication("job-00000a12", "discord")
    assert row is not None and row.publish_at == at and row.platform_post_id is None
    wp = svc.repo.publication("job-00000a12", "wordpress")
    assert wp is not None and wp.status == "scheduled" and wp.platform_post_id
    with wordpress.client() as client:
        post = client.get(f"/wp/v2/posts/{wp.platform_post_id}",
                          params={"context": "edit"}).json()
    assert post["status"] == "future"
    assert post["date_gmt"] == at.strftime("%Y-%m-%dT%H:%M:%S")
    svc.close()


def test_the_platforms_setting_and_its_old_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.tools.publishing import publishers_for

    monkeypatch.setenv("ASSISTANT_PUBLISHER", "WordPress, discord,wordpress")
    old = Settings(_env_file=None)
    assert old.publish_platforms == ["wordpress", "discord"] and old.publisher == "wordpress"
    monkeypatch.setenv("ASSISTANT_PUBLISH_TO", "telegram")
    assert Settings(_env_file=None).publish_platforms == ["telegram"]
    monkeypatch.delenv("ASSISTANT_PUBLISH_TO")
    monkeypatch.delenv("ASSISTANT_PUBLISHER")
    assert Settings(_env_file=None).publish_platforms == ["outbox"]
    from assistant.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown platform 'myspace'.*available: outbox"):
        publishers_for(Settings(_env_file=None), {}, ["myspace"])


def test_wordpress_reports_its_comment_count(settings: Settings, wordpress: WordPressSite,
                                             tmp_path: Path) -> None:
    from assistant.tools.publishing.base import PublishRequest, SupportsMetrics
    from assistant.tools.publishing.wordpress import WordPressPublisher

    svc = _services(settings)
    svc.repo.create_job("job-00000a13", title="tides", content_type="blog")
    markdown = tmp_path / "final.md"
    markdown.write_text("# Comments\n\nThe Moon pulls the sea.\n", encoding="utf-8")
    state = _state("job-00000a13")
    credentials = {"url": wordpress.url, "user": wordpress.user,
                   "app_password": wordpress.app_password}
    publisher = WordPressPublisher(svc.settings)
    assert isinstance(publisher, SupportsMetrics)
    published = publisher.publish(PublishRequest("job-00000a13", state["brief"], state["script"],
                                                 files={"markdown": markdown},
                                                 credentials=credentials))
    assert publisher.metrics(published, credentials) == {"comments": 0.0}
    with wordpress.client() as client:
        for text in ("Lovely tides.", "Twice a day!"):
            made = client.post("/wp/v2/comments", json={"post": int(published.post_id),
                                                         "content": text})
            assert made.status_code == 201, made.text
    assert publisher.metrics(published, credentials) == {"comments": 2.0}
    svc.close()


def test_wordpress_tags_and_categories_are_found_or_made(settings: Settings,
                                                         wordpress: WordPressSite,
                                                         tmp_path: Path) -> None:
    from assistant.tools.publishing import publishers_for
    from assistant.tools.publishing.base import PublishRequest

    configured = settings.model_copy(update={
        "wordpress_url": wordpress.url, "wordpress_user": wordpress.user,
        "wordpress_app_password": SecretStr(wordpress.app_password),
        "wordpress_categories": "Oceans, Science"})
    svc = _services(configured)
    tide, moon = f"tides{os.getpid()}", f"moon{os.getpid()}"  # the site is the session's
    with wordpress.client() as client:  # one tag is there already, in another case
        assert client.post("/wp/v2/tags", json={"name": moon.title()}).status_code == 201
    [target] = publishers_for(svc.settings, {}, ["wordpress"])
    markdown = tmp_path / "final.md"
    markdown.write_text("# Tags\n\nThe Moon pulls the sea.\n", encoding="utf-8")
    for job_id in ("job-00000a14", "job-00000a15"):
        svc.repo.create_job(job_id, title="tides", content_type="blog")
        state = _state(job_id)
        script = state["script"].model_copy(update={"hashtags": [f"#{tide}", f"#{moon}"]})
        published = target.publisher.publish(PublishRequest(
            job_id, state["brief"], script, files={"markdown": markdown},
            credentials=target.credentials))
        with wordpress.client() as client:
            post = client.get(f"/wp/v2/posts/{published.post_id}").json()
            tags = {t["name"] for t in client.get("/wp/v2/tags", params={
                "include": ",".join(map(str, post["tags"]))}).json()}
            categories = {c["name"] for c in client.get("/wp/v2/categories", params={
                "include": ",".join(map(str, post["categories"]))}).json()}
        assert tags == {tide, moon.title()} and categories == {"Oceans", "Science"}
    with wordpress.client() as client:  # the second post found them: none made twice
        named = [t["name"] for t in client.get("/wp/v2/tags", params={"per_page": 100}).json()]
    assert named.count(tide) == 1 and named.count(moon.title()) == 1
    svc.close()
