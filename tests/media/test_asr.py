"""ASR: one suite every available transcriber passes, bad input, model lookup, WER."""

from __future__ import annotations

from pathlib import Path

import pytest

from media.asr import (
    Transcriber,
    Transcript,
    bundled_model_dir,
    get_transcriber,
    normalize_words,
    word_error_rate,
)
from media.errors import BackendUnavailable, MediaInputError, UnknownBackend
from media.tts import AudioClip
from media.wav import write_silence

from .conftest import KNOWN_SENTENCE

# --- the suite every transcriber passes -------------------------------------------------


def test_transcribes_the_known_sentence(spoken_transcript: Transcript) -> None:
    wer = word_error_rate(KNOWN_SENTENCE, spoken_transcript.text)
    assert wer < 0.15, f"WER {wer:.2f}: {spoken_transcript.text!r}"
    assert spoken_transcript.language == "en"


def test_word_timestamps_are_monotonic_and_inside_the_audio(
    spoken_transcript: Transcript, spoken_clip: AudioClip
) -> None:
    words = spoken_transcript.words
    assert len(words) >= 0.8 * len(KNOWN_SENTENCE.split())
    assert spoken_transcript.duration_s == pytest.approx(spoken_clip.duration_s, abs=0.05)
    previous_start = 0.0
    for word in words:
        assert word.text and word.text == word.text.strip()
        assert 0.0 <= word.start <= word.end <= spoken_clip.duration_s + 1e-6
        assert word.start >= previous_start
        assert 0.0 <= word.probability <= 1.0
        previous_start = word.start
    assert words[-1].end > 0.7 * spoken_clip.duration_s


def test_segments_hold_the_words(spoken_transcript: Transcript) -> None:
    joined = " ".join(word.text for word in spoken_transcript.words)
    assert normalize_words(joined) == normalize_words(spoken_transcript.text)
    for segment in spoken_transcript.segments:
        assert segment.start <= segment.end
        if segment.words:
            assert segment.words[0].start >= segment.start - 0.5


def test_zero_byte_wav_names_the_file(transcriber: Transcriber, tmp_path: Path) -> None:
    path = tmp_path / "zero.wav"
    path.write_bytes(b"")
    with pytest.raises(MediaInputError, match="empty") as info:
        transcriber.transcribe(path)
    assert str(path) in info.value.user_message


def test_wav_without_samples_names_the_file(transcriber: Transcriber, tmp_path: Path) -> None:
    clip = write_silence(tmp_path / "no_samples.wav", 0.0)
    with pytest.raises(MediaInputError, match="no samples") as info:
        transcriber.transcribe(clip.path)
    assert str(clip.path) in info.value.user_message


def test_corrupt_file_names_the_file(transcriber: Transcriber, tmp_path: Path) -> None:
    path = tmp_path / "corrupt.wav"
    path.write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt " + bytes(range(256)) * 8)
    with pytest.raises(MediaInputError, match="cannot decode") as info:
        transcriber.transcribe(path)
    assert str(path) in info.value.user_message


def test_missing_file_names_the_file(transcriber: Transcriber, tmp_path: Path) -> None:
    with pytest.raises(MediaInputError, match="not found") as info:
        transcriber.transcribe(tmp_path / "nowhere.wav")
    assert "nowhere.wav" in info.value.user_message


# --- model resolution (nothing is ever downloaded) ----------------------------------------


def test_default_model_is_the_packaged_tiny_en() -> None:
    directory = bundled_model_dir()
    assert (directory / "model.bin").is_file()
    assert (directory / "tokenizer.json").is_file()


def test_production_name_needs_a_predownloaded_model(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailable, match="pre-downloaded"):
        get_transcriber("faster_whisper", model="large-v3", download_root=tmp_path / "cache")


def test_directory_without_a_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailable, match="model.bin"):
        get_transcriber("faster_whisper", model=tmp_path)


def test_unknown_model_name_is_refused() -> None:
    with pytest.raises(BackendUnavailable, match="neither a local directory"):
        get_transcriber("faster_whisper", model="gigantic-v9")


def test_unknown_engine_lists_the_names() -> None:
    with pytest.raises(UnknownBackend, match="faster_whisper"):
        get_transcriber("vosk")


# --- word error rate -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "hypothesis", "expected"),
    [
        ("The sky is blue.", "the sky is blue", 0.0),
        ("It's 42 degrees, 100% sure!", "its forty-two degrees one hundred percent sure", 0.0),
        ("Over 1,000 people came.", "over one thousand people came", 0.0),
        ("the sky is blue", "the sky was blue", 0.25),
        ("the sky is blue", "the sky blue", 0.25),
        ("the sky is blue", "the big sky is blue", 0.25),
        ("one two", "three four five six", 2.0),
        ("", "", 0.0),
        ("", "noise", 1.0),
        ("words here", "", 1.0),
    ],
)
def test_word_error_rate(reference: str, hypothesis: str, expected: float) -> None:
    assert word_error_rate(reference, hypothesis) == pytest.approx(expected)


def test_normalisation_is_light() -> None:
    assert normalize_words("Hello, World! It's 2.5 km - e.g. far") == [
        "hello",
        "world",
        "its",
        "two",
        "point",
        "five",
        "km",
        "e",
        "g",
        "far",
    ]
