"""Signed media links: one URL shape for every channel, bound to a job and to who it is for.

``/media/<time>.<signature>/<job id>/<viewer, base64>/<path, base64>/<name>``, the path taken
relative to the data dir (a link never shows where the server keeps its files): the signature
(itsdangerous, timed: :func:`assistant.infra.signing.timed_signer`) covers the job, the viewer
and the file, so a link cannot be turned to another job's file or another person, and it
expires after ``settings.media_link_ttl``. The web app serves it (``web.app.serve_media``)
only while the viewer may still see the job (its owner, or a reviewer of its workspace), so
a link forwarded after someone lost access stops working. Chat bots put the same links under
``public_base_url`` for files too big to attach; the viewer is then the job's owner (""),
the only person a bot knows the file is for.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from assistant.config import Settings
from assistant.infra import signing

MEDIA_PREFIX = "/media"
SALT = "media-link"
ROUTE = MEDIA_PREFIX + "/{tag}/{job_id}/{viewer}/{token}/{filename}"
_JOB = re.compile(r"job-[0-9a-f]{8}")


@dataclass(frozen=True)
class MediaLink:
    job_id: str
    viewer: str  # the username it was made for; "" for the job's owner
    path: Path


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("utf-8")).rstrip(b"=").decode("ascii") or "-"


def _unb64(token: str) -> str:
    if token == "-":
        return ""
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("utf-8")


def media_link(settings: Settings, job_id: str, path: Path | str, viewer: str = "") -> str:
    """The signed path (no host) of one of ``job_id``'s files, for ``viewer``; ValueError
    for a file outside the data dir (nothing else is ever served)."""
    resolved = Path(path).resolve()
    if not resolved.is_relative_to(settings.resolved_data_dir):
        raise ValueError(f"only files under the data dir have media links: {resolved.name}")
    file = resolved.relative_to(settings.resolved_data_dir).as_posix()
    value = f"{job_id}|{viewer}|{file}"
    signed = signing.timed_signer(settings, SALT).sign(value).decode("utf-8")
    tag = signed[len(value) + 1:]  # the time it was signed, and the signature
    return f"{MEDIA_PREFIX}/{tag}/{job_id}/{_b64(viewer)}/{_b64(file)}/{quote(Path(file).name)}"


def public_media_url(settings: Settings, job_id: str, path: Path | str,
                     viewer: str = "") -> str | None:
    """The link under ``public_base_url``; None when there is none, or the file is not
    under the data dir (nothing else is ever served)."""
    base = settings.public_base_url
    if not base or not Path(path).resolve().is_relative_to(settings.resolved_data_dir):
        return None
    return base.rstrip("/") + media_link(settings, job_id, path, viewer)


def read_media_link(settings: Settings, tag: str, job_id: str, viewer: str, token: str,
                    filename: str) -> MediaLink | None:
    """What a link stands for; None when it is forged, damaged or expired, or its file is
    gone or outside the data dir."""
    try:
        who, file = _unb64(viewer), _unb64(token)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not _JOB.fullmatch(job_id):
        return None
    try:
        signing.timed_signer(settings, SALT).unsign(
            f"{job_id}|{who}|{file}.{tag}", max_age=int(settings.media_link_ttl.total_seconds()))
    except signing.BadSignature:  # forged, damaged or expired (SignatureExpired)
        return None
    root = settings.resolved_data_dir
    path = root / file
    if (path.name != filename or not path.is_file()
            or root not in path.resolve().parents):
        return None
    return MediaLink(job_id, who, path)
