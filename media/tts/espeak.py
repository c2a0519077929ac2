"""eSpeak NG through its CLI: a robotic but tiny fallback (Debian package ``espeak-ng``)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from media.errors import BackendUnavailable, MediaError
from media.tts.base import check_request
from media.wav import AudioClip, read_wav

DEFAULT_WPM = 175  # espeak-ng's own default speed, words per minute


class EspeakTTS:
    """eSpeak NG text to speech. Options: ``voice`` (e.g. ``en-us``), ``executable``."""

    name = "espeak"

    def __init__(self, *, voice: str = "en-us", executable: str = "espeak-ng") -> None:
        found = shutil.which(executable)
        if found is None:
            raise BackendUnavailable(
                "espeak",
                f"The espeak TTS engine needs the {executable} program: apt-get install espeak-ng",
            )
        self._exe = found
        self.default_voice = voice

    def voices(self) -> list[str]:
        result = subprocess.run(
            [self._exe, "--voices"], capture_output=True, text=True, timeout=30, check=False
        )
        names = [line.split()[1] for line in result.stdout.splitlines()[1:] if line.split()]
        return sorted(set(names))

    def synthesize(
        self, text: str, out_path: Path, *, voice: str | None = None, rate: float = 1.0
    ) -> AudioClip:
        text = check_request(text, out_path, rate)
        command = [
            self._exe,
            "-w",
            str(out_path),
            "-s",
            str(round(DEFAULT_WPM * rate)),
            "-v",
            voice or self.default_voice,
            "--stdin",
        ]
        result = subprocess.run(
            command, input=text, capture_output=True, text=True, timeout=300, check=False
        )
        if result.returncode != 0 or not Path(out_path).is_file():
            raise MediaError(
                f"espeak-ng failed to speak into {Path(out_path).name}",
                detail=result.stderr.strip(),
            )
        return read_wav(out_path)
