"""Personal data in the request itself: kept out of the job's title, the brief as shown,
the progress and the logs; the person is told in one line."""

from __future__ import annotations

import logging
from collections import Counter

import pytest

from assistant.app.conversation import Conversation
from assistant.app.events import ChannelUser
from assistant.app.privacy import CONFIG_KEY, request_notice, scrub_brief
from assistant.content import Brief
from assistant.tools.quality.pii import Detector

TG = ChannelUser("telegram", "42", "Ada")
EMAIL, PHONE = "ada.lovelace@example.org", "+44 20 7946 0958"


def test_the_notice_names_the_kinds_only() -> None:
    assert request_notice(Counter(email=1)) == (
        "your request contains an email address; it is kept out of titles and logs")
    assert request_notice({"email": 1, "phone": 2}) == (
        "your request contains an email address and a phone number; they are kept out of "
        "titles and logs")
    assert request_notice({}) is None


def test_the_brief_is_scrubbed_in_place() -> None:
    brief = Brief.create(f"hedgehog rescue, write to {EMAIL}", "blog")
    brief.notes = f"or call {PHONE}"
    counts = scrub_brief(brief, Detector("GB"))
    assert counts == {"email": 1, "phone": 1}
    assert (brief.topic, brief.notes) == ("hedgehog rescue, write to [email]", "or call [phone]")
    assert scrub_brief(brief, Detector("GB")) == {}  # placeholders are not personal data


def test_a_request_with_an_email_address_is_told_and_kept_out(
        conv: Conversation, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    started = conv.handle(TG, f"write a blog post about how tides work, reply to {EMAIL}")
    assert len(started) == 1 and started[0].job_id, started
    job_id = started[0].job_id
    assert EMAIL not in started[0].text and "[email]" in started[0].text
    assert conv.wait(job_id, 120)
    job = conv.svc.repo.get_job(job_id)
    assert job is not None and EMAIL not in job.title and "[email]" in job.title
    assert job.configuration[CONFIG_KEY] == {"email": 1}
    assert EMAIL not in str(job.input_data)
    assert EMAIL not in conv.runner.state(job_id)["brief"].model_dump_json()
    told = [e.text for e in conv.history(job_id) if "your request contains" in e.text]
    assert told == ["your request contains an email address; it is kept out of titles and logs"]
    assert not any(EMAIL in e.text for e in conv.history(job_id))
    assert EMAIL not in caplog.text
