"""Podcast rendering and the audio mix: real ffmpeg, real small WAVs."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from media.audio import render_podcast
from media.errors import MediaInputError
from media.presets import load_preset
from media.probe import measure_loudness, probe
from tests.media.conftest_render import decode_mono, speechlike, tone, write_wav

SR = 22050


def test_podcast_is_mp3_at_minus_16_lufs(tmp_path: Path) -> None:
    preset = load_preset("podcast")
    voice = write_wav(tmp_path / "voice.wav", speechlike(4.0, level=0.1))
    seen: list[float] = []
    out = render_podcast(voice, tmp_path / "episode.mp3", preset=preset, progress=seen.append)
    info = probe(out)
    assert info.acodec == "mp3" and info.vcodec is None
    assert info.sample_rate == 44100 and info.channels == 2
    assert info.bit_rate is not None and info.bit_rate > 250_000
    assert info.duration_s == pytest.approx(4.0, abs=0.1)
    loud = measure_loudness(out)
    assert loud.integrated_lufs == pytest.approx(-16.0, abs=1.0)
    assert loud.true_peak_dbtp <= -1.0
    assert seen[0] == 0.0 and seen[-1] == pytest.approx(1.0)


def test_intro_outro_and_a_ducked_music_bed(tmp_path: Path) -> None:
    """Music (200 Hz) plays under a voice (1 kHz) with a 1 s gap: it is louder in the gap."""
    voice = np.concatenate([tone(1.5, 1000, SR), np.zeros(SR), tone(1.5, 1000, SR)])
    voice_wav = write_wav(tmp_path / "voice.wav", voice)
    music_wav = write_wav(tmp_path / "music.wav", tone(1.0, 200, SR, level=0.5))  # looped
    intro = write_wav(tmp_path / "intro.wav", tone(0.5, 600, SR))
    outro = write_wav(tmp_path / "outro.wav", tone(0.5, 600, SR))
    out = render_podcast(voice_wav, tmp_path / "ep.mp3", preset=load_preset("podcast"),
                         music=music_wav, intro=intro, outro=outro)
    assert probe(out).duration_s == pytest.approx(5.0, abs=0.1)
    samples = decode_mono(out)

    def music_level(start: float, end: float) -> float:
        seg = samples[int(start * 44100): int(end * 44100)]
        spectrum = np.abs(np.fft.rfft(seg * np.hanning(seg.size)))
        freqs = np.fft.rfftfreq(seg.size, 1 / 44100)
        return float(spectrum[(freqs > 180) & (freqs < 220)].max())

    # intro 0-0.5 s, voice 0.5-2.0 s, gap 2.0-3.0 s, voice 3.0-4.5 s, outro
    under_voice = music_level(1.0, 1.8)
    in_gap = music_level(2.3, 2.9)
    assert in_gap > 0
    assert in_gap > 2.0 * under_voice, "the music bed should be ducked under the voice"


def test_zero_length_wav_is_named(tmp_path: Path) -> None:
    empty = tmp_path / "nothing.wav"
    with wave.open(str(empty), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
    with pytest.raises(MediaInputError) as err:
        render_podcast(empty, tmp_path / "x.mp3", preset=load_preset("podcast"))
    assert "nothing.wav" in err.value.user_message
    assert not (tmp_path / "x.mp3").exists()


def test_missing_music_is_named(tmp_path: Path) -> None:
    voice = write_wav(tmp_path / "voice.wav", speechlike(1.0))
    with pytest.raises(MediaInputError) as err:
        render_podcast(voice, tmp_path / "x.mp3", preset=load_preset("podcast"),
                       music=tmp_path / "bed.mp3")
    assert "bed.mp3" in err.value.user_message
