"""Per-platform text limits, as data (platforms.yaml), applied by format and publisher.

A platform that cuts a title at 100 characters or refuses a caption over 2,200 publishes
something nobody reviewed, so going over a documented limit is an error; going over a
platform's own advice (X's two hashtags) is a warning.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from assistant.content import Format, Script

LIMITS_FILE = Path(__file__).with_name("platforms.yaml")


class PlatformLimits(BaseModel):
    fields: dict[str, int] = Field(default_factory=dict)
    max_hashtags: int | None = None
    advised_hashtags: int | None = None


class LimitsFile(BaseModel):
    platforms: dict[str, PlatformLimits]
    formats: dict[str, list[str]]


@cache
def load_limits(path: Path = LIMITS_FILE) -> LimitsFile:
    return LimitsFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def platforms_for(format: Format, publisher: str = "", path: Path = LIMITS_FILE) -> list[str]:
    """The platforms a piece of ``format`` is checked for: the format's own, and the
    configured publisher when it is one of them."""
    limits = load_limits(path)
    chosen = list(limits.formats.get(format, []))
    if publisher in limits.platforms and publisher not in chosen:
        chosen.append(publisher)
    return chosen


def _hashtag_line(script: Script) -> str:
    return " ".join(script.hashtags)


def _join(*parts: str) -> str:
    return "\n\n".join(p.strip() for p in parts if p.strip())


def posts(script: Script) -> list[str]:
    """A social piece's posts as the social template renders them (render/social_post)."""
    numbers = {source.id: i + 1 for i, source in enumerate(script.citations)}
    out = []
    last = len(script.sections) - 1
    for i, section in enumerate(script.sections):
        marks = "".join(f"[{n}]" for n in sorted({numbers[c] for c in section.citations
                                                   if c in numbers}))
        text = " ".join(p for p in (script.hook if i == 0 else "", section.text, marks,
                                    script.call_to_action if i == last else "") if p)
        out.append(_join(text, _hashtag_line(script)))
    return out


def field_texts(script: Script, name: str) -> list[tuple[str, str]]:
    """(where, text) for one platform field of ``script``."""
    tags = _hashtag_line(script)
    if name == "title":
        return [("title", script.title)]
    if name == "description":
        return [("description", _join(script.description, tags))]
    if name == "caption":
        text = script.body_text() if script.format == "social" else script.description
        return [("caption", _join(text, tags))]
    if name == "post":
        if script.format != "social":
            return [("post", _join(script.title, tags))]
        return [(f"post {i}", text) for i, text in enumerate(posts(script), 1)]
    raise ValueError(f"platforms.yaml names an unknown field {name!r}")


def limit_problems(script: Script, platforms: list[str], path: Path = LIMITS_FILE
                   ) -> tuple[list[str], list[str]]:
    """(errors, warnings) for ``script`` on ``platforms``."""
    limits = load_limits(path)
    errors: list[str] = []
    warnings: list[str] = []
    count = len(script.hashtags)
    for platform in platforms:
        rules = limits.platforms[platform]
        for name, limit in rules.fields.items():
            for where, text in field_texts(script, name):
                if len(text) > limit:
                    errors.append(f"{platform} {where}: {len(text):,} characters "
                                  f"(limit {limit:,})")
        if rules.max_hashtags is not None and count > rules.max_hashtags:
            errors.append(f"{platform}: {count} hashtags (limit {rules.max_hashtags})")
        elif rules.advised_hashtags is not None and count > rules.advised_hashtags:
            warnings.append(f"{platform}: {count} hashtags ({platform} advises at most "
                            f"{rules.advised_hashtags})")
    return errors, warnings
