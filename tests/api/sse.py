"""A Server-Sent Events reader for tests: reads a stream on a thread and keeps every frame."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Frame:
    id: int | None = None
    event: str = ""
    data: dict[str, Any] = field(default_factory=dict)


class SseReader:
    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.url, self.headers = url, headers
        self.frames: list[Frame] = []
        self.comments: list[str] = []
        self.status: int | None = None
        self.content_type = ""
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, daemon=True, name="sse-reader")

    def __enter__(self) -> SseReader:
        self._thread.start()
        deadline = time.monotonic() + 20
        while self.status is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.status is not None, "the event stream did not answer"
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _read(self) -> None:
        with httpx.Client(timeout=httpx.Timeout(10.0, read=30.0)) as client, \
                client.stream("GET", self.url, headers=self.headers) as response:
            self.status = response.status_code
            self.content_type = response.headers.get("content-type", "")
            frame = Frame()
            for line in response.iter_lines():
                if self._stop.is_set():
                    return
                if not line:
                    if frame.event:
                        with self._lock:
                            self.frames.append(frame)
                    frame = Frame()
                elif line.startswith(":"):
                    with self._lock:
                        self.comments.append(line[1:].strip())
                elif line.startswith("id: "):
                    frame.id = int(line[4:])
                elif line.startswith("event: "):
                    frame.event = line[7:]
                elif line.startswith("data: "):
                    frame.data = json.loads(line[6:])

    def got(self) -> list[Frame]:
        with self._lock:
            return list(self.frames)

    def wait_for(self, event: str, timeout: float = 20, **match: Any) -> Frame:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for frame in self.got():
                if frame.event == event and all(_get(frame.data, k) == v
                                                for k, v in match.items()):
                    return frame
            time.sleep(0.05)
        raise AssertionError(f"no {event} {match} in {[f.event for f in self.got()]}")


def _get(data: dict[str, Any], dotted: str) -> Any:
    value: Any = data
    for part in dotted.split("__"):
        value = value.get(part) if isinstance(value, dict) else None
    return value
