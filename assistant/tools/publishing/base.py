"""The publisher protocol: where approved content goes, and the one shape every platform
answers in.

A publisher is one platform (``outbox``, ``wordpress``, ``telegram``, ``discord``, ``youtube``,
``tiktok``). It is given a :class:`PublishRequest` and answers a
:class:`~assistant.content.Publication` with the remote id and URL. It never records anything
itself: :func:`assistant.tools.publishing.ledger.publish_once` does, once per (job, platform),
in the ``publications`` table. A publisher's part of idempotency is its upload session: what it
passes to ``request.save_progress`` (an upload URI, a created post's id) is stored before the
next network call, and comes back as ``request.resume`` when the same (job, platform) runs
again after a retry or a kill -9, so it continues that session instead of starting a second.

The contract, checked by tests/tools/publishing/test_publisher_conformance.py for every publisher:

- ``check(request)`` lists every problem (limits, missing files, not connected) before any
  network call; ``publish`` is only called when it is empty;
- ``publish`` with the ``resume`` a first (interrupted) call saved creates nothing twice;
- the Publication carries ``post_id`` and ``url`` when the platform gives them;
- failures raise :class:`PublishError` with one line a person can act on, never a secret.

Analytics: a publisher that can read its metrics also implements :class:`SupportsMetrics`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from assistant.content import Brief, Publication, Script
from assistant.errors import AssistantError
from assistant.tools.quality.platforms import limit_problems

# What each file of a finished job is for; a publisher takes the roles it can use.
Role = Literal["video", "audio", "thumbnail", "captions", "markdown", "qa"]
ROLES: tuple[Role, ...] = ("video", "audio", "thumbnail", "captions", "markdown", "qa")


class PublishError(AssistantError):
    """A platform refused or could not be reached; ``user_message`` is one line."""

    def __init__(self, platform: str, user_message: str, *, detail: str | None = None) -> None:
        super().__init__(f"{platform}: {user_message}", detail=detail)
        self.platform = platform


def private_address_refusal(platform: str, err: BaseException) -> PublishError | None:
    """The one line for a connection the public-only transport refused (the host now answers
    a private address); None for any other error."""
    from assistant.infra.netguard import is_refusal

    refused = is_refusal(err)
    if refused is None:
        return None
    return PublishError(platform, f"{refused}: only public addresses are published to "
                                  "(ASSISTANT_PUBLISH_ALLOW_PRIVATE=true allows others)")


AUDIO_SUFFIXES = frozenset({".mp3", ".m4a", ".ogg", ".opus", ".wav", ".flac"})


def media_files(media: Any) -> dict[Role, Path]:
    """The rendered files of a job's ``MediaAssets`` by role (the publish step's and the
    scheduler's view of the same job): its output as video or audio, thumbnail, captions."""
    files: dict[Role, Path] = {}
    if media is None or not media.output:
        return files
    output = Path(media.output)
    files["audio" if output.suffix.lower() in AUDIO_SUFFIXES else "video"] = output
    if media.thumbnail:
        files["thumbnail"] = Path(media.thumbnail)
    if media.captions_srt:
        files["captions"] = Path(media.captions_srt)
    return files


def _discard(progress: dict[str, Any]) -> None:
    """save_progress when nobody keeps it (a dry run, a unit test)."""


@dataclass
class PublishRequest:
    """One job going to one platform."""

    job_id: str
    brief: Brief
    script: Script
    files: dict[Role, Path] = field(default_factory=dict)
    # the connected account's decrypted credentials for this platform (never logged)
    credentials: Mapping[str, Any] = field(default_factory=dict)
    publish_at: datetime | None = None  # UTC; None: now
    duration_s: float | None = None  # of the video or audio, when there is one
    frame: tuple[int, int] | None = None  # the video's width, height
    # what an earlier, interrupted attempt saved (upload session, created ids); {} the first time
    resume: dict[str, Any] = field(default_factory=dict)
    save_progress: Callable[[dict[str, Any]], None] = _discard

    def file(self, role: Role) -> Path | None:
        path = self.files.get(role)
        return path if path is not None and path.is_file() else None

    def markdown(self) -> str:
        """The rendered piece (final.md), or '' when the job has none."""
        path = self.file("markdown")
        return path.read_text(encoding="utf-8") if path else ""

    def progress(self, **values: Any) -> None:
        """Remember ``values`` (merged into ``resume``) before the next network call."""
        self.resume.update(values)
        self.save_progress(dict(self.resume))


@dataclass(frozen=True)
class Limits:
    """What a platform accepts, checked before any upload (:func:`check_limits`).

    ``text`` names the platform in assistant/tools/quality/platforms.yaml whose title,
    description and hashtag limits apply (QA checks the same ones); None: no text limits.
    """

    text: str | None = None
    needs: tuple[Role, ...] = ()  # roles that must be there
    needs_any: tuple[Role, ...] = ()  # at least one of these
    max_bytes: Mapping[Role, int] = field(default_factory=dict)
    max_duration_s: float | None = None
    aspects: tuple[str, ...] = ()  # "9:16", "16:9", "1:1"; empty: any
    credentials: tuple[str, ...] = ()  # keys the connected account must have
    connect_hint: str = ""  # how to connect, shown when credentials are missing


@runtime_checkable
class Publisher(Protocol):
    name: str
    limits: Limits

    def check(self, request: PublishRequest) -> list[str]:
        """Every problem that would make ``publish`` fail, found without the network."""
        ...

    def publish(self, request: PublishRequest) -> Publication:
        """Put the piece on the platform (or continue ``request.resume``'s session)."""
        ...


@runtime_checkable
class SupportsMetrics(Protocol):
    def metrics(self, publication: Publication, credentials: Mapping[str, Any]
                ) -> dict[str, float]:
        """Counters the platform reports for a publication: views, likes, comments, ..."""
        ...


def check_limits(name: str, limits: Limits, request: PublishRequest) -> list[str]:
    """The problems ``limits`` find in ``request``, each one line naming the platform; the
    text limits are the ones QA checks (assistant/tools/quality/platforms.yaml)."""
    problems: list[str] = []
    if any(not request.credentials.get(key) for key in limits.credentials):
        problems.append(f"{name} is not connected: {limits.connect_hint or 'connect it first'}")
    problems += [f"{name} needs the job's {role}, which it has not got"
                 for role in limits.needs if request.file(role) is None]
    if limits.needs_any and all(request.file(r) is None for r in limits.needs_any):
        problems.append(f"{name} needs one of: {', '.join(limits.needs_any)}")
    for role, most in limits.max_bytes.items():
        path = request.file(role)
        if path is not None and path.stat().st_size > most:
            problems.append(f"{name}: the {role} is {_mb(path.stat().st_size)}, "
                            f"over its {_mb(most)} limit")
    if limits.max_duration_s is not None and request.duration_s is not None \
            and request.duration_s > limits.max_duration_s:
        problems.append(f"{name}: {request.duration_s:.0f} s is longer than its "
                        f"{limits.max_duration_s:.0f} s limit")
    if limits.aspects and request.frame is not None and request.file("video") is not None:
        aspect = aspect_of(*request.frame)
        if aspect not in limits.aspects:
            problems.append(f"{name}: the video is {aspect}; it takes {', '.join(limits.aspects)}")
    if limits.text is not None:
        errors, _warnings = limit_problems(request.script, [limits.text])
        problems += errors
    return problems


def aspect_of(width: int, height: int) -> str:
    """'9:16' for 1080x1920; the nearest common ratio, else the exact one reduced."""
    common = {"9:16": 9 / 16, "16:9": 16 / 9, "1:1": 1.0, "4:5": 4 / 5, "4:3": 4 / 3}
    ratio = width / height if height else 0.0
    for label, value in common.items():
        if abs(ratio - value) < 0.02:
            return label
    from math import gcd

    divisor = gcd(width, height) or 1
    return f"{width // divisor}:{height // divisor}"


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"
