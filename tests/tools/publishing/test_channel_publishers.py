"""Telegram channel and Discord webhook publishers against their stand-ins
(channel_standins.py): the media upload under the limit, the signed link over it (and a clear
refusal before any call when there is no public address to link from), the text-only post,
and the refusals each service documents, each one line without the token."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).parent))
from channel_standins import CHANNEL_ID, DiscordStandIn, TelegramStandIn  # noqa: E402

from assistant.config import Settings  # noqa: E402
from assistant.content import Brief, Script, Section  # noqa: E402
from assistant.infra.media_links import read_media_link  # noqa: E402
from assistant.tools.publishing.base import PublishError, PublishRequest, Role  # noqa: E402
from assistant.tools.publishing.discord import DiscordWebhookPublisher  # noqa: E402
from assistant.tools.publishing.telegram import TelegramChannelPublisher  # noqa: E402

PUBLIC = "https://studio.example.com"


@pytest.fixture
def telegram_api() -> Iterator[TelegramStandIn]:
    with TelegramStandIn() as stand_in:
        yield stand_in


@pytest.fixture
def discord_api() -> Iterator[DiscordStandIn]:
    with DiscordStandIn() as stand_in:
        yield stand_in


def _file(path: Path, size: int, head: bytes = b"\x00\x00\x00\x18ftypmp42") -> Path:
    """A file of ``size`` bytes (sparse: a 51 MB one costs nothing on disk)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.write(head)
        handle.truncate(size)
    return path


def _request(settings: Settings, files: dict[Role, Path], credentials: dict[str, str],
             fmt: str = "short") -> PublishRequest:
    script = Script(format=fmt, title="Why the tide turns", hook="Twice a day?",
                    description="The Moon pulls the sea.", hashtags=["#tides", "#moon"],
                    sections=[Section(heading="Moon", text="The Moon pulls the sea.")])
    return PublishRequest("job-0000beef", Brief.create("tides", fmt), script,  # type: ignore[arg-type]
                          files=files, credentials=credentials, duration_s=31.6,
                          frame=(1080, 1920))


def _job_dir(settings: Settings) -> Path:
    return settings.resolved_data_dir / "artifacts" / "job-0000beef"


def test_telegram_uploads_a_video_with_its_caption(settings: Settings,
                                                   telegram_api: TelegramStandIn) -> None:
    settings = settings.model_copy(update={"telegram_api_url": telegram_api.url})
    video = _file(_job_dir(settings) / "final.mp4", 2_000_000)
    creds = {"token": telegram_api.TOKEN, "chat_id": "@studio_channel"}
    publisher = TelegramChannelPublisher(settings)
    request = _request(settings, {"video": video}, creds)
    assert publisher.check(request) == []
    published = publisher.publish(request)
    [post] = telegram_api.posts
    [call] = telegram_api.received
    assert call.path.endswith("/sendVideo")
    assert [(f.field, f.size) for f in post.files] == [("video", 2_000_000)]
    assert post.fields["caption"].startswith("<b>Why the tide turns</b>")
    assert "#tides #moon" in post.fields["caption"]
    assert (post.fields["width"], post.fields["height"], post.fields["duration"]) == (
        "1080", "1920", "32")
    assert published.url == f"https://t.me/studio_channel/{post.id}"
    assert published.post_id == f"{CHANNEL_ID}:{post.id}"
    assert request.resume["message_id"] == post.id


def test_telegram_links_a_video_over_50_mb(settings: Settings,
                                            telegram_api: TelegramStandIn) -> None:
    creds = {"token": telegram_api.TOKEN, "chat_id": "@studio_channel"}
    no_link = settings.model_copy(update={"telegram_api_url": telegram_api.url})
    video = _file(_job_dir(no_link) / "final.mp4", 51 * 1024 * 1024)
    request = _request(no_link, {"video": video}, creds)
    problems = TelegramChannelPublisher(no_link).check(request)
    assert problems == ["telegram: the video is 53.5 MB, over the 50 MB a bot may upload, and "
                        "ASSISTANT_PUBLIC_BASE_URL is not set to link it"]
    assert telegram_api.received == []

    linked = no_link.model_copy(update={"public_base_url": PUBLIC})
    publisher = TelegramChannelPublisher(linked)
    assert publisher.check(request) == []
    publisher.publish(request)
    [call] = telegram_api.received
    assert call.path.endswith("/sendMessage") and call.files == []
    text = call.fields["text"]
    href = text.split('href="')[1].split('"')[0]
    assert href.startswith(PUBLIC + "/media/")
    tag, job, viewer, token, name = href.removeprefix(PUBLIC + "/media/").split("/")
    link = read_media_link(linked, tag, job, viewer, token, name)
    assert link is not None and link.path == video.resolve() and link.job_id == "job-0000beef"


def test_telegram_posts_a_text_piece_whole_and_names_its_refusals(
        settings: Settings, telegram_api: TelegramStandIn) -> None:
    settings = settings.model_copy(update={"telegram_api_url": telegram_api.url})
    post = _file(_job_dir(settings) / "final.md", 0, b"")
    post.write_text("# Why the tide turns\n\nThe Moon pulls the sea.\n", encoding="utf-8")
    creds = {"token": telegram_api.TOKEN, "chat_id": "@studio_channel"}
    publisher = TelegramChannelPublisher(settings)
    publisher.publish(_request(settings, {"markdown": post}, creds, fmt="blog"))
    assert telegram_api.posts[0].fields["text"].startswith("# Why the tide turns")

    for wrong, said in (({**creds, "chat_id": "@elsewhere"}, "chat not found (is the bot an "
                         "admin of the channel?)"),
                        ({**creds, "token": "7000001:AAwrong-token-of-the-same-shape_xx"},
                         "Unauthorized")):
        with pytest.raises(PublishError) as refused:
            publisher.publish(_request(settings, {"markdown": post}, wrong, fmt="blog"))
        assert refused.value.user_message.endswith(said)
        assert "AAwrong" not in refused.value.user_message and telegram_api.TOKEN not in \
            refused.value.user_message
    telegram_api.bot_is_admin = False
    with pytest.raises(PublishError, match="bot is not a member"):
        publisher.publish(_request(settings, {"markdown": post}, creds, fmt="blog"))
    assert len(telegram_api.posts) == 1


def test_discord_attaches_a_file_under_the_limit_and_links_one_over_it(
        settings: Settings, discord_api: DiscordStandIn) -> None:
    creds = {"webhook_url": discord_api.webhook_url}
    small = _file(_job_dir(settings) / "final.mp4", 3_000_000)
    publisher = DiscordWebhookPublisher(settings)
    published = publisher.publish(_request(settings, {"video": small}, creds))
    [post] = discord_api.posts
    assert [(f.field, f.filename, f.size) for f in post.files] == [
        ("files[0]", "final.mp4", 3_000_000)]
    assert post.fields["content"].startswith("**Why the tide turns**")
    assert [c.method for c in discord_api.received] == ["GET", "POST"]
    assert "wait=true" in discord_api.received[-1].path
    assert published.url == (f"https://discord.com/channels/{discord_api.GUILD_ID}/"
                             f"{discord_api.CHANNEL_ID}/{post.id}")

    big = _file(_job_dir(settings) / "big.mp4", 11 * 1024 * 1024)
    request = _request(settings, {"video": big}, creds)
    assert "over the 10 MB upload limit" in " ".join(publisher.check(request))
    linked = settings.model_copy(update={"public_base_url": PUBLIC})
    DiscordWebhookPublisher(linked).publish(request)
    last = discord_api.posts[-1]
    assert last.files == [] and f"{PUBLIC}/media/" in last.fields["content"]


def test_discord_says_when_the_webhook_is_gone_and_never_shows_its_token(
        settings: Settings, discord_api: DiscordStandIn) -> None:
    post = _file(_job_dir(settings) / "final.md", 0, b"")
    post.write_text("# Why the tide turns\n\nThe Moon pulls the sea.\n", encoding="utf-8")
    gone = {"webhook_url": f"{discord_api.url}/api/webhooks/{discord_api.WEBHOOK_ID}/revoked"}
    with pytest.raises(PublishError) as refused:
        DiscordWebhookPublisher(settings).publish(_request(settings, {"markdown": post}, gone))
    assert "no longer exists" in refused.value.user_message
    assert "revoked" not in refused.value.user_message
    assert discord_api.posts == []
    not_a_hook = _request(settings, {"markdown": post}, {"webhook_url": "https://example.com/x"})
    assert DiscordWebhookPublisher(settings).check(not_a_hook) == [
        "discord: that is not a webhook URL (https://discord.com/api/webhooks/ID/TOKEN)"]


def test_the_settings_webhook_is_a_secret(settings: Settings) -> None:
    configured = settings.model_copy(update={
        "discord_webhook_url": SecretStr("https://discord.com/api/webhooks/1/tok")})
    assert "tok" not in repr(configured.discord_webhook_url)


def test_a_webhook_whose_name_turns_private_at_publish_time_is_refused(
        settings: Settings, discord_api: DiscordStandIn) -> None:
    """Checked when connected, the address is checked again at every connection: a webhook
    host that now answers 127.0.0.1 is refused in one line, and nothing is sent."""
    strict = settings.model_copy(update={"publish_allow_private": False})
    post = _file(_job_dir(strict) / "final.md", 0, b"")
    post.write_text("# Why the tide turns\n\nThe Moon pulls the sea.\n", encoding="utf-8")
    hook = {"webhook_url": f"{discord_api.url}/api/webhooks/{discord_api.WEBHOOK_ID}/secret-tok"}
    with pytest.raises(PublishError) as caught:
        DiscordWebhookPublisher(strict).publish(_request(strict, {"markdown": post}, hook))
    assert "private or local address" in caught.value.user_message
    assert "secret-tok" not in caught.value.user_message
    assert discord_api.posts == []
