"""The web chat end to end: the real server in a subprocess, driven by headless Chromium.

Only the chat model is scripted (tests/channels/chainlit_launcher.py); research, media
(piper, ffmpeg), storage and the Chainlit server are real. Screenshots of every stage are
saved under test-artifacts/chainlit/.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sync_api = pytest.importorskip("playwright.sync_api")

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "chainlit"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
USER, PASSWORD = "alice", "tide-pool-42"
START_TIMEOUT_S = 180
STEP_MS = 240_000  # a pipeline stage under load (media rendering is the slow one)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium"),
    # not imported here: importing chainlit fixes its app root to the current directory
    pytest.mark.skipif(importlib.util.find_spec("chainlit") is None, reason="needs chainlit"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    data_dir: Path
    port: int
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
        env.update({"ASSISTANT_DATA_DIR": str(self.data_dir), "ASSISTANT_SEED_SAMPLE_KB": "0",
                    "ASSISTANT_CHAT_AUTH": "password", "E2E_PASSWORD": PASSWORD,
                    "PYTHONUNBUFFERED": "1"})
        return env

    def add_user(self) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "assistant", "user", "add", USER,
             "--password-env", "E2E_PASSWORD"],
            cwd=REPO, env=self.env(), capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert f"created {USER}" in done.stdout

    def start(self) -> None:
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.channels.chainlit_launcher", str(self.port)],
            cwd=REPO, env=self.env(), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the server exited: {self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/auth/config", timeout=2) as r:
                    if json.load(r).get("passwordAuth"):
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"the server did not start: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """As a crash would: SIGKILL, no clean shutdown."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.proc = None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(tmp_path / "data", free_port(), tmp_path / "server.log")
    srv.add_user()
    srv.start()
    yield srv
    srv.stop()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # for a failure's post-mortem
    (ARTIFACTS / f"server-{srv.data_dir.parent.name}.log").write_bytes(srv.log.read_bytes())


@pytest.fixture
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def log_in(browser: Any, server: Server, screenshot: str | None = None) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    elsewhere: list[str] = []  # the page must load nothing from outside our server
    context.on("request", lambda r: None if r.url.startswith((server.url, "data:", "blob:"))
               else elsewhere.append(r.url))
    page.elsewhere = elsewhere
    page.progress = []  # (step, output) of every live step update the server pushes
    page.on("websocket", lambda ws: ws.on(
        "framereceived", lambda frame: record_progress(page.progress, frame)))
    page.set_default_timeout(60_000)
    page.goto(server.url)
    page.locator("#email").fill(USER)
    page.locator("#password").fill(PASSWORD)
    if screenshot:
        shot(page, screenshot)
    page.locator("button[type=submit]").click()
    sync_api.expect(page.get_by_text("Ask me for a short")).to_be_visible()
    assert page.elsewhere == []
    return page


def record_progress(seen: list[tuple[str, str]], frame: Any) -> None:
    """Socket.IO frames '42["update_message", {step}]': keep a tool step's progress."""
    text = frame if isinstance(frame, str) else ""
    if not text.startswith("42["):
        return
    try:
        name, body = json.loads(text[2:])[:2]
    except (ValueError, TypeError):
        return
    if name in ("new_message", "update_message") and isinstance(body, dict) \
            and body.get("type") == "tool":
        seen.append((str(body.get("name")), str(body.get("output"))))


def partial(seen: list[tuple[str, str]], steps: tuple[str, ...]) -> list[tuple[str, str]]:
    """Updates of ``steps`` that show a percentage strictly between 0 and 100."""
    return [(n, o) for n, o in seen if n in steps and re.search(r"(?<!\d)([1-9]\d?)%", o)]


def send(page: Any, text: str) -> None:
    box = page.locator("#chat-input")
    box.click()
    box.fill(text)
    box.press("Enter")


def approval(page: Any, title: str) -> Any:
    """The Approve button of the newest message asking for ``title``."""
    heading = page.get_by_role("heading", name=re.compile(re.escape(title))).last
    sync_api.expect(heading).to_be_visible(timeout=STEP_MS)
    button = page.get_by_role("button", name="Approve").last
    sync_api.expect(button).to_be_visible()
    return button


def press(page: Any, button: Any, expected: str, timeout_ms: int = 60_000) -> None:
    """Click ``button`` and wait for ``expected`` to appear, as a person would: on a loaded
    machine a click can land while the message is still being laid out (the button moves
    under the pointer) and do nothing; a person then clicks again. A second click of a
    decided review is harmless (it is refused as already decided), so pressing twice
    cannot make the test pass wrongly; a review that never answers still fails it."""
    settled(page, button.scroll_into_view_if_needed)
    page.wait_for_timeout(500)  # let the message finish laying out
    button.click()
    answer = page.get_by_text(expected).first
    try:
        sync_api.expect(answer).to_be_visible(timeout=15_000)
    except AssertionError:
        if button.is_visible():
            button.click()
        sync_api.expect(answer).to_be_visible(timeout=timeout_ms)


def settled(page: Any, action: Any, tries: int = 5) -> None:
    """Run a locator ``action`` that can meet a stale element: the server re-renders a
    live step's message on every progress update, so an element found a moment ago may
    be replaced ("not attached to the DOM") before the action lands. Each try finds the
    element again; the last failure is raised."""
    for attempt in range(tries):
        try:
            action()
            return
        except sync_api.Error as exc:
            if "not attached" not in str(exc) or attempt == tries - 1:
                raise
            page.wait_for_timeout(300)


def job_id_on(page: Any) -> str:
    text = page.get_by_text("Started job-").first.inner_text()
    return next(w.strip(":.") for w in text.split() if w.startswith("job-"))


def test_short_is_made_reviewed_and_published_in_the_browser(server: Server,
                                                            browser: Any) -> None:
    page = log_in(browser, server, "01-login")
    send(page, "a short about how tides work")
    sync_api.expect(page.get_by_text("Started job-")).to_be_visible()
    shot(page, "02-request")
    job_id = job_id_on(page)

    approve = approval(page, "Review the script")
    sync_api.expect(page.get_by_text("How Tides Work").first).to_be_visible()
    shot(page, "03-script-approval")
    press(page, approve, f"Approved {job_id} (review_script)")

    # the media steps run live: the server pushes each step's progress bar as it moves
    media_steps = ("Visuals", "Voice", "Assemble", "Qa")
    deadline = time.monotonic() + STEP_MS / 1000
    while not partial(page.progress, media_steps) and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    moving = partial(page.progress, media_steps)
    assert moving, page.progress
    step = page.get_by_role("button", name=re.compile(rf"Us(ing|ed) {moving[0][0]}")).last
    sync_api.expect(step).to_be_visible()
    settled(page, step.scroll_into_view_if_needed)
    if not page.get_by_text(re.compile(r"\d+%")).last.is_visible():
        settled(page, step.click)  # open it to show its bar
    page.wait_for_timeout(500)
    settled(page, page.get_by_text(re.compile(r"\d+%")).last.scroll_into_view_if_needed)
    shot(page, "04-progress")

    approve = approval(page, "Review the final cut")
    video = page.locator("video").last
    sync_api.expect(video).to_be_attached()
    settled(page, video.scroll_into_view_if_needed)
    played = video.evaluate("""async (v) => {
        v.muted = true;
        try { await v.play(); } catch (e) { return {error: String(e)}; }
        await new Promise(r => setTimeout(r, 1500));
        return {time: v.currentTime, ready: v.readyState, src: v.currentSrc};
    }""")
    assert "error" not in played, played
    assert played["time"] > 0 or played["ready"] >= 2, played
    video.evaluate("v => v.pause()")
    shot(page, "05-final-approval")

    response = page.request.get(played["src"])
    assert response.ok, response.status
    assert response.headers["content-type"].startswith("video/")
    clip = server.data_dir.parent / "downloaded.mp4"
    clip.write_bytes(response.body())
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type:format=duration",
         "-of", "json", str(clip)], capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0, probe.stderr
    info = json.loads(probe.stdout)
    assert {"video", "audio"} <= {s["codec_type"] for s in info["streams"]}
    assert float(info["format"]["duration"]) > 1.0

    # a forged media URL is refused
    forged = page.request.get(played["src"].replace("/media/", "/media/0000000000000000"))
    assert forged.status == 404

    press(page, approve, f"{job_id} is published.", timeout_ms=STEP_MS)
    published = page.get_by_text(f"{job_id} is published.")
    settled(page, published.scroll_into_view_if_needed)
    page.wait_for_timeout(1000)  # let the collapsing steps settle
    shot(page, "06-published")
    assert page.elsewhere == []


def test_pending_approval_survives_a_server_restart(server: Server, browser: Any) -> None:
    page = log_in(browser, server)
    send(page, "a blog about how tides work")
    sync_api.expect(page.get_by_text("Started job-")).to_be_visible()
    job_id = job_id_on(page)
    approval(page, "Review the script")
    page.context.close()

    server.kill()
    server.start()

    page = log_in(browser, server)
    sync_api.expect(page.get_by_text("Your jobs in progress")).to_be_visible()
    approve = approval(page, "Review the script")
    sync_api.expect(page.get_by_text(job_id).first).to_be_visible()
    shot(page, "07-restart-pending-approval")
    press(page, approve, f"Approved {job_id} (review_script)")

    press(page, approval(page, "Review the final cut"), f"{job_id} is published.",
          timeout_ms=STEP_MS)
    shot(page, "08-restart-published")

    # the conversation before the restart is in the history and opens again
    page.goto(server.url)
    thread = page.get_by_text("a blog about how tides work").first
    sync_api.expect(thread).to_be_visible()
    thread.click()
    sync_api.expect(page.get_by_text(f"Started {job_id}")).to_be_visible()
    shot(page, "09-history-after-restart")


def seed_published_pieces(data_dir: Path, user: str) -> None:
    """Three of ``user``'s pieces, published, with a week of pulled metrics each."""
    from datetime import UTC, datetime, timedelta

    from assistant.app.studio import Services
    from assistant.config import Settings
    from storage.analytics import AnalyticsRepository

    svc = Services.create(Settings(_env_file=None, data_dir=data_dir))
    try:
        start = datetime.now(UTC) - timedelta(days=7)
        for i, (fmt, platform, views) in enumerate(
                [("short", "youtube", 3000.0), ("blog", "wordpress", 900.0),
                 ("short", "tiktok", 5200.0)]):
            job = f"job-e2e0000{i}"
            svc.repo.create_job(job, title=f"Tides, part {i + 1}", content_type=fmt, user=user)
            row = svc.repo.save_publication(job, platform, status="published",
                                            location=f"http://127.0.0.1/{job}", post_id=job)
            for day in range(7):
                grown = views * (day + 1) / 7
                AnalyticsRepository(svc.db).record(
                    row.id, {"views": grown, "likes": grown / 12, "comments": grown / 90},
                    start + timedelta(days=day, hours=i))
    finally:
        svc.close()


def test_report_shows_the_chart_image(server: Server, browser: Any) -> None:
    seed_published_pieces(server.data_dir, USER)
    page = log_in(browser, server)
    send(page, "/report")
    sync_api.expect(page.get_by_text("3 pieces with metrics: 9,100 views").first).to_be_visible()
    chart = page.locator("img[alt^='report-']").last
    sync_api.expect(chart).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=chart.element_handle())
    width = chart.evaluate("img => img.naturalWidth")
    assert width == 1100  # the PNG the server drew, loaded in full
    shot(page, "10-report-chart")
    assert page.elsewhere == []
