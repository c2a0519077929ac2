"""/report in the chat bots: Discord attaches the chart PNG to the command's answer, beside
the summary (the bot driven through discord.py's own dispatch, tests/channels/
discord_harness.py); the web chat's rendering is tests/channels/test_chainlit_e2e.py."""

from __future__ import annotations

from test_analytics import seed_shorts_beat_blogs

from assistant.app.conversation import Conversation
from assistant.app.events import ChannelUser
from tests.app.conftest import conv  # noqa: F401
from tests.channels.discord_harness import DiscordHarness, Person

DISCORD_USER = ChannelUser("discord", "4242", "Ada")


def test_discord_report_attaches_the_chart(conv: Conversation) -> None:  # noqa: F811
    svc = conv.svc
    seed_shorts_beat_blogs(svc, user="discord:4242")
    with DiscordHarness(conv) as dc:
        reply = dc.slash("report", Person.of(DISCORD_USER))
    assert reply.type == 4 and reply.ephemeral  # answered to the asker only
    assert "6 pieces with metrics: 12,000 views" in reply.content
    assert "shorts had 3.0x the views of blogs" in reply.content
    [name] = reply.callback.files
    assert name.startswith("report-") and name.endswith(".png")
    assert reply.callback.sizes[0] > 20_000  # a real chart, not an empty image


def test_discord_delivers_a_weekly_report_by_dm(conv: Conversation) -> None:  # noqa: F811
    from datetime import UTC, datetime

    from assistant.app.scheduler import Scheduler
    from tests.channels.discord_harness import dm_channel

    svc = conv.svc
    seed_shorts_beat_blogs(svc, user="discord:4242")
    with DiscordHarness(conv) as dc:
        scheduler = Scheduler(svc, lambda row: None,  # type: ignore[arg-type,return-value]
                              clock=lambda: datetime(2026, 11, 30, 10, 0, tzinfo=UTC),  # UTC here
                              deliver=conv._subs.publish, read_metrics=lambda row: None)
        assert scheduler.run_once().reports_sent == ["profile:discord:4242"]
        dm = dm_channel(4242)
        posts = dc.run(_posts_soon(dc, dm))
    [chart] = [p for p in posts if p.files]
    assert chart.files[0].startswith("report-") and chart.content == chart.files[0]
    assert any("Weekly report to Mon 30 Nov" in p.content for p in posts)


async def _posts_soon(dc: DiscordHarness, channel: int) -> list:  # type: ignore[type-arg]
    import asyncio

    for _ in range(200):
        posts = dc.recorder.posts(channel)
        if len(posts) >= 2:
            return posts
        await asyncio.sleep(0.05)
    return dc.recorder.posts(channel)


def test_telegram_shows_the_report_as_a_photo(conv: Conversation) -> None:  # noqa: F811
    import asyncio

    from telegram.ext import ApplicationBuilder

    from assistant.channels.telegram.render import Renderer
    from tests.channels.tg_harness import TOKEN, FakeTelegram

    svc = conv.svc
    seed_shorts_beat_blogs(svc, user="telegram:42")
    events = conv.handle(ChannelUser("telegram", "42"), "/report")
    api = FakeTelegram()

    async def scenario() -> None:
        app = ApplicationBuilder().token(TOKEN).request(api).get_updates_request(
            FakeTelegram()).build()
        await app.initialize()
        renderer = Renderer(app.bot, svc.settings)
        for event in events:
            await renderer.show(42, event)
        await app.shutdown()

    asyncio.run(scenario())
    [photo] = api.find("sendPhoto", chat_id=42)
    [(filename, data, mime)] = photo.files.values()
    assert filename.startswith("report-") and data.startswith(b"\x89PNG") and mime == "image/png"
    assert photo.params["caption"] == filename  # a report belongs to no job
    [summary] = [c for c in api.find("sendMessage", chat_id=42)
                 if "pieces with metrics" in str(c.params.get("text"))]
    assert "shorts had 3.0x the views of blogs" in summary.params["text"]
