"""Measuring media files: ffprobe for streams, ffmpeg's ebur128 for loudness.

Also home of the small process helpers every ffmpeg caller here shares: finding the tools
(``ToolMissing`` when absent) and turning a failed run into a one-line ``MediaError``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from media.errors import MediaError, MediaInputError, ToolMissing

__all__ = [
    "Loudness",
    "MediaInfo",
    "faststart",
    "ffmpeg_bin",
    "ffprobe_bin",
    "last_error_line",
    "measure_loudness",
    "probe",
    "run_tool",
    "run_with_progress",
]

_NOISE = re.compile(
    r"^(\s*$|ffmpeg version|\s+built with|\s+configuration:|\s+lib\w+\s+\d|Input #|Output #|"
    r"\s+Metadata:|\s+Duration:|\s+Stream #|Stream mapping:|Press \[q\]|\s+\w+\s*:\s)"
)


def ffmpeg_bin() -> str:
    found = shutil.which("ffmpeg")
    if found is None:
        raise ToolMissing("ffmpeg")
    return found


def ffprobe_bin() -> str:
    found = shutil.which("ffprobe")
    if found is None:
        raise ToolMissing("ffprobe", install_hint="it comes with ffmpeg (apt-get install ffmpeg)")
    return found


_GENERIC = re.compile(
    r"^(Conversion failed!|Error reinitializing filters!|Failed to inject frame.*|"
    r"Error while (processing|filtering|decoding).*|Error applying options to the filter\.?|"
    r"Exiting normally.*)$"
)


def last_error_line(stderr: str) -> str:
    """The last line of ffmpeg's stderr that names the cause (not banner, stats or boilerplate)."""
    lines = [re.sub(r"^\[[^]]+ @ 0x[0-9a-f]+\]\s*", "", ln.strip()) for ln in stderr.splitlines()]
    meaningful = [
        ln for ln in lines
        if ln and not _NOISE.match(ln) and not _GENERIC.match(ln) and not ln.startswith("frame=")
    ]
    for line in reversed(meaningful):
        if re.search(r"error|invalid|no such|not found|failed|unable|cannot|could not", line, re.I):
            return line
    return meaningful[-1] if meaningful else "no error message"


def run_tool(args: Sequence[str], *, what: str, timeout: float | None = None) -> str:
    """Run ffmpeg/ffprobe to completion; return stderr+stdout text, raise MediaError on failure."""
    try:
        proc = subprocess.run(
            list(args), capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError as exc:
        raise ToolMissing(Path(args[0]).name) from exc
    except subprocess.TimeoutExpired as exc:
        raise MediaError(f"{what}: ffmpeg took longer than {timeout:.0f} s") from exc
    if proc.returncode != 0:
        raise MediaError(
            f"{what} failed: {last_error_line(proc.stderr)}", detail=proc.stderr[-4000:]
        )
    return proc.stdout + proc.stderr


@dataclass(frozen=True)
class MediaInfo:
    duration_s: float
    width: int | None
    height: int | None
    fps: float | None
    vcodec: str | None
    acodec: str | None
    pix_fmt: str | None
    sample_rate: int | None = None
    channels: int | None = None
    format_name: str = ""
    bit_rate: int | None = None


@dataclass(frozen=True)
class Loudness:
    integrated_lufs: float
    true_peak_dbtp: float
    lra: float


def _require_file(path: Path) -> None:
    if not path.is_file():
        raise MediaInputError("file not found", path=path)
    if path.stat().st_size == 0:
        raise MediaInputError("file is empty (0 bytes)", path=path)


def probe(path: str | Path) -> MediaInfo:
    """Streams and duration of a media file, read with ffprobe."""
    path = Path(path)
    _require_file(path)
    args = [ffprobe_bin(), "-v", "error", "-print_format", "json", "-show_format",
            "-show_streams", str(path)]
    try:
        out = subprocess.run(args, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise ToolMissing("ffprobe") from exc
    if out.returncode != 0:
        raise MediaInputError(
            f"not a readable media file ({last_error_line(out.stderr)})", path=path
        )
    data = json.loads(out.stdout or "{}")
    streams = data.get("streams", [])
    video = next((s for s in streams if s.get("codec_type") == "video"), None)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    fmt = data.get("format", {})
    duration = float(fmt.get("duration") or (video or audio or {}).get("duration") or 0.0)
    fps: float | None = None
    if video is not None and video.get("avg_frame_rate") not in (None, "0/0"):
        fps = float(Fraction(video["avg_frame_rate"]))
    return MediaInfo(
        duration_s=duration,
        width=int(video["width"]) if video else None,
        height=int(video["height"]) if video else None,
        fps=fps,
        vcodec=video.get("codec_name") if video else None,
        acodec=audio.get("codec_name") if audio else None,
        pix_fmt=video.get("pix_fmt") if video else None,
        sample_rate=int(audio["sample_rate"]) if audio and audio.get("sample_rate") else None,
        channels=int(audio["channels"]) if audio and audio.get("channels") else None,
        format_name=str(fmt.get("format_name", "")),
        bit_rate=int(fmt["bit_rate"]) if fmt.get("bit_rate") else None,
    )


_SUMMARY = re.compile(
    r"Integrated loudness:\s+I:\s+(?P<i>-?[\d.]+|-inf)\s+LUFS.*?"
    r"Loudness range:\s+LRA:\s+(?P<lra>-?[\d.]+)\s+LU.*?"
    r"True peak:\s+Peak:\s+(?P<tp>-?[\d.]+|-inf)\s+dBFS",
    re.S,
)


def measure_loudness(path: str | Path) -> Loudness:
    """EBU R128 integrated loudness, true peak and loudness range of a file's audio."""
    path = Path(path)
    _require_file(path)
    text = run_tool(
        [ffmpeg_bin(), "-hide_banner", "-nostats", "-i", str(path), "-map", "0:a:0",
         "-af", "ebur128=peak=true:framelog=verbose", "-f", "null", "-"],
        what=f"loudness measurement of {path.name}",
    )
    summary = text[text.rfind("Summary:"):]
    match = _SUMMARY.search(summary)
    if match is None:
        raise MediaError(f"could not read the loudness of {path.name}", detail=text[-2000:])

    def num(value: str) -> float:
        return float("-inf") if value == "-inf" else float(value)

    return Loudness(num(match["i"]), num(match["tp"]), num(match["lra"]))


def faststart(path: str | Path) -> bool:
    """True when an MP4's ``moov`` box comes before ``mdat`` (playback starts before download)."""
    with open(path, "rb") as fh:
        while True:
            header = fh.read(8)
            if len(header) < 8:
                return False
            size = int.from_bytes(header[:4], "big")
            kind = header[4:8]
            if kind == b"moov":
                return True
            if kind == b"mdat":
                return False
            if size == 1:
                size = int.from_bytes(fh.read(8), "big")
                fh.seek(size - 16, 1)
            elif size == 0:
                return False
            else:
                fh.seek(size - 8, 1)


def run_with_progress(
    args: Sequence[str],
    *,
    what: str,
    duration_s: float,
    progress: Callable[[float], None] | None = None,
    span: tuple[float, float] = (0.0, 1.0),
    cwd: str | Path | None = None,
) -> None:
    """Run ffmpeg with ``-progress pipe:1`` and report the fraction done within ``span``.

    ``args`` must already hold ``-progress pipe:1 -nostats``. stderr is drained on a thread
    so a chatty ffmpeg never blocks; a non-zero exit raises MediaError with its last cause.
    """
    start, end = span
    try:
        proc = subprocess.Popen(
            list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd
        )
    except FileNotFoundError as exc:
        raise ToolMissing(Path(args[0]).name) from exc
    err_lines: list[str] = []
    drain = threading.Thread(
        target=lambda: err_lines.extend(proc.stderr or []), daemon=True
    )
    drain.start()
    last = -1.0
    assert proc.stdout is not None
    for line in proc.stdout:
        key, _, value = line.strip().partition("=")
        if progress is None:
            continue
        if key in ("out_time_us", "out_time_ms") and value.lstrip("-").isdigit():
            frac = min(1.0, max(0.0, int(value) / 1e6 / max(duration_s, 1e-6)))
            if frac - last >= 0.005:
                last = frac
                progress(start + (end - start) * frac)
        elif key == "progress" and value == "end":
            progress(end)
    code = proc.wait()
    drain.join(timeout=5)
    if code != 0:
        stderr = "".join(err_lines)
        raise MediaError(f"{what} failed: {last_error_line(stderr)}", detail=stderr[-4000:])
