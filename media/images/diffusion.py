"""The diffusers provider: SDXL base / SDXL-Turbo (or any text-to-image pipeline) offline.

Weights come from a local directory or the Hugging Face cache only (``local_files_only``);
nothing is downloaded at run time. torch and diffusers are imported when the first image is
made, so the rest of the library works without the ``gpu`` extra.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from media.errors import BackendUnavailable, MediaError, MediaInputError
from media.images.base import check_size

SDXL_BASE = "stabilityai/stable-diffusion-xl-base-1.0"
SDXL_TURBO = "stabilityai/sdxl-turbo"
GPU_EXTRA_HINT = "install the 'gpu' extra: pip install 'agenticai-lab[gpu]'"


def _dtype_keyword() -> str:
    """``dtype`` on diffusers versions that renamed it, ``torch_dtype`` on older ones."""
    try:
        from diffusers.utils.deprecation_utils import _resolve_dtype  # noqa: F401
    except ImportError:
        return "torch_dtype"
    return "dtype"


def _import_backend() -> tuple[Any, Any]:
    try:
        import diffusers
        import torch
    except ImportError as exc:
        raise BackendUnavailable(
            "diffusers",
            f"image engine 'diffusers' needs torch and diffusers ({exc.name} is missing): "
            f"{GPU_EXTRA_HINT}",
        ) from exc
    return torch, diffusers


class DiffusersGenerator:
    """``ImageGenerator`` on a diffusers text-to-image pipeline.

    ``model`` is a Hub id already in the local cache (``SDXL_BASE``, ``SDXL_TURBO``) or a
    directory written by ``save_pretrained``. ``device="auto"`` picks CUDA when present;
    on CUDA the weights load in fp16 (the ``fp16`` variant when the model has one).
    """

    name = "diffusers"

    def __init__(
        self,
        model: str | Path = SDXL_TURBO,
        *,
        device: str = "auto",
        steps: int | None = None,
        guidance_scale: float | None = None,
        negative_prompt: str | None = None,
    ) -> None:
        self.model = str(model)
        self.device = device
        self.turbo = "turbo" in self.model.lower()
        self.steps = steps if steps is not None else (2 if self.turbo else 30)
        default_guidance = 0.0 if self.turbo else 6.0
        self.guidance_scale = guidance_scale if guidance_scale is not None else default_guidance
        self.negative_prompt = negative_prompt
        self._pipe: Any = None
        self._lock = threading.Lock()

    # -- loading ---------------------------------------------------------------

    def _resolve_device(self, torch: Any) -> str:
        if self.device != "auto":
            return self.device
        return "cuda" if torch.cuda.is_available() else "cpu"

    def load(self) -> Any:
        """Load the pipeline once (thread-safe) and return it."""
        with self._lock:
            if self._pipe is None:
                self._pipe = self._load()
            return self._pipe

    def _load(self) -> Any:
        torch, diffusers = _import_backend()
        device = self._resolve_device(torch)
        local = Path(self.model).expanduser()
        if (local.is_absolute() or self.model.startswith(".")) and not local.is_dir():
            raise MediaInputError("diffusion model directory not found", path=local)
        source = str(local) if local.is_dir() else self.model
        dtype = torch.float16 if device.startswith("cuda") else torch.float32
        kwargs: dict[str, Any] = {_dtype_keyword(): dtype, "local_files_only": True}
        auto = diffusers.AutoPipelineForText2Image
        try:
            if dtype == torch.float16:
                try:
                    pipe = auto.from_pretrained(source, variant="fp16", **kwargs)
                except (OSError, ValueError):  # no fp16 files: load fp32 weights as fp16
                    pipe = auto.from_pretrained(source, **kwargs)
            else:
                pipe = auto.from_pretrained(source, **kwargs)
        except (OSError, ValueError) as exc:
            raise BackendUnavailable(
                "diffusers",
                f"diffusion model {self.model!r} is not on this machine (offline): download it "
                "once with `huggingface-cli download` or point the image model setting at a "
                "directory made by save_pretrained",
                detail=str(exc),
            ) from exc
        try:
            pipe = pipe.to(device)
        except (RuntimeError, AssertionError) as exc:
            raise BackendUnavailable(
                "diffusers", f"cannot move the diffusion model to {device!r}: {exc}"
            ) from exc
        pipe.set_progress_bar_config(disable=True)
        return pipe

    # -- generating --------------------------------------------------------------

    def _native_size(self, pipe: Any, width: int, height: int) -> tuple[int, int]:
        """The size to sample at: the model's native area, the requested aspect, /8 (or /64)."""
        scale_factor = int(getattr(pipe, "vae_scale_factor", 8))
        denoiser = getattr(pipe, "unet", None) or getattr(pipe, "transformer", None)
        sample = getattr(getattr(denoiser, "config", None), "sample_size", None)
        native = int(sample) * scale_factor if isinstance(sample, int) else 1024
        area = native * native
        step = 64 if native >= 512 else scale_factor * 4
        ratio = width / height
        if width * height <= area:
            w, h = width, height
        else:
            h = (area / ratio) ** 0.5
            w = h * ratio
        return max(step, round(w / step) * step), max(step, round(h / step) * step)

    def generate(
        self, prompt: str, out_path: str | Path, *, width: int, height: int, seed: int = 0
    ) -> Path:
        if not prompt.strip():
            raise MediaInputError("the image prompt is empty")
        check_size(width, height)
        pipe = self.load()
        torch, _ = _import_backend()
        gen_w, gen_h = self._native_size(pipe, width, height)
        generator = torch.Generator(device="cpu").manual_seed(int(seed))
        call: dict[str, Any] = {
            "prompt": prompt,
            "width": gen_w,
            "height": gen_h,
            "num_inference_steps": self.steps,
            "guidance_scale": self.guidance_scale,
            "generator": generator,
        }
        if self.negative_prompt and self.guidance_scale > 1.0:
            call["negative_prompt"] = self.negative_prompt
        try:
            with torch.inference_mode():
                image: Image.Image = pipe(**call).images[0]
        except RuntimeError as exc:
            raise MediaError(f"image generation failed: {str(exc).splitlines()[0]}") from exc
        if image.size != (width, height):
            image = ImageOps.fit(image, (width, height), Image.Resampling.LANCZOS)
        out = Path(out_path)
        out.parent.mkdir(parents=True, exist_ok=True)
        image.convert("RGB").save(out, format="PNG")
        return out
