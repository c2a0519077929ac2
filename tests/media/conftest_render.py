"""Helpers for the render tests: real small inputs written on the fly (no fixtures here;
``conftest.py`` belongs to the TTS/ASR suites)."""

from __future__ import annotations

import dataclasses
import subprocess
import wave
from pathlib import Path

import numpy as np
import pysubs2
from PIL import Image

from media.presets import Preset, load_preset


def small_preset(name: str = "youtube_shorts", width: int = 270, height: int = 480,
                 fps: int = 15) -> Preset:
    """A bundled preset scaled down so a render takes about a second."""
    base = load_preset(name)
    assert base.video is not None
    return dataclasses.replace(
        base, width=width, height=height, fps=fps,
        video=dataclasses.replace(base.video, bitrate_kbps=800),
    )


def write_wav(path: Path, samples: np.ndarray, sr: int = 22050) -> Path:
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())
    return path


def speechlike(seconds: float, sr: int = 22050, seed: int = 0, level: float = 0.3) -> np.ndarray:
    """Voiced harmonics with a wandering pitch, syllable envelope and pauses."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    f0 = 140 + 25 * np.sin(2 * np.pi * 0.7 * t) + 10 * np.sin(2 * np.pi * 3.1 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    voiced = sum(np.sin(k * phase) / k for k in range(1, 10))
    envelope = 0.5 * (1 - np.cos(2 * np.pi * 4.0 * t))
    envelope *= (np.sin(2 * np.pi * 0.45 * t + rng.uniform(0, 6)) > -0.6).astype(float)
    x = (voiced / 3 + rng.normal(0, 0.05, t.size)) * np.convolve(
        envelope, np.ones(200) / 200, mode="same"
    )
    return level * x / np.max(np.abs(x))


def tone(seconds: float, freq: float, sr: int = 22050, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return level * np.sin(2 * np.pi * freq * t)


def write_card(path: Path, size: tuple[int, int], colour: tuple[int, int, int]) -> Path:
    """A small two-tone still (a flat image would hide the pan)."""
    w, h = size
    img = Image.new("RGB", size, colour)
    img.paste((255 - colour[0], 255 - colour[1], 255 - colour[2]), (w // 3, h // 3, w // 2, h // 2))
    img.save(path)
    return path


def write_ass(path: Path, size: tuple[int, int], lines: list[tuple[float, float, str]]) -> Path:
    """An ASS file in the bundled font, big white text with a black outline, mid-low frame."""
    subs = pysubs2.SSAFile()
    subs.info["PlayResX"], subs.info["PlayResY"] = str(size[0]), str(size[1])
    style = pysubs2.SSAStyle(
        fontname="DejaVu Sans", fontsize=size[1] * 0.06, bold=True, outline=2, shadow=0,
        alignment=pysubs2.Alignment.BOTTOM_CENTER, marginv=int(size[1] * 0.25),
    )
    style.primarycolor = pysubs2.Color(255, 255, 255)
    style.outlinecolor = pysubs2.Color(0, 0, 0)
    subs.styles["Default"] = style
    for start, end, text in lines:
        subs.append(pysubs2.SSAEvent(start=int(start * 1000), end=int(end * 1000), text=text))
    subs.save(str(path))
    return path


def frame_at(path: Path, t: float, size: tuple[int, int]) -> np.ndarray:
    """One decoded RGB frame of a video at ``t`` seconds."""
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-ss", f"{t:.3f}", "-i", str(path), "-frames:v", "1",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(size[1], size[0], 3).astype(np.int16)


def decode_mono(path: Path, sr: int = 44100) -> np.ndarray:
    """A file's audio as float32 mono samples."""
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-ac", "1", "-ar", str(sr), "-f", "f32le",
         "-"],
        capture_output=True, check=True,
    ).stdout
    return np.frombuffer(raw, np.float32)
