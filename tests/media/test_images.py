"""Visuals: one suite every ImageGenerator passes, then the designer's layout and errors.

The diffusers provider runs the same suite on a tiny randomly initialised Stable Diffusion
pipeline that the fixture builds from configs and saves to disk; the provider loads it back
offline through its real loading code (``local_files_only``), 64x64 in 2 steps.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from media.errors import BackendUnavailable, MediaInputError, UnknownBackend
from media.images import (
    Brand,
    DiffusersGenerator,
    ImageGenerator,
    contrast_ratio,
    fit_text,
    get_image_generator,
    image_generator_names,
    layout_scene_card,
    render_scene_card,
    render_thumbnail,
)
from media.images.base import DEFAULT_FONT
from media.presets import load_preset

# ---------------------------------------------------------------- tiny diffusion pipeline


def build_tiny_pipeline(out_dir: Path) -> Path:
    """A ~1.7 M-parameter StableDiffusionPipeline with random weights, saved to ``out_dir``."""
    torch = pytest.importorskip("torch")
    diffusers = pytest.importorskip("diffusers")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    unet = diffusers.UNet2DConditionModel(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=32, in_channels=4,
        out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32,
    )
    vae = diffusers.AutoencoderKL(
        block_out_channels=[32, 64], in_channels=3, out_channels=3, latent_channels=4,
        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
    )
    text_encoder = transformers.CLIPTextModel(transformers.CLIPTextConfig(
        bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=32, intermediate_size=37,
        num_attention_heads=4, num_hidden_layers=2, vocab_size=64, max_position_embeddings=77,
    ))
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    vocab.update({c: 2 + i for i, c in enumerate(letters)})
    vocab.update({c + "</w>": 28 + i for i, c in enumerate(letters)})
    vocab.update({"re": 54, "fo": 55})
    tokenizer = transformers.CLIPTokenizer(vocab=vocab, merges=[("r", "e"), ("f", "o")],
                                           model_max_length=77)
    scheduler = diffusers.EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1
    )
    pipe = diffusers.StableDiffusionPipeline(
        unet=unet, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, scheduler=scheduler,
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )
    pipe.save_pretrained(out_dir)
    return out_dir


@pytest.fixture(scope="module")
def tiny_sd_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_pipeline(tmp_path_factory.mktemp("tiny-sd") / "pipeline")


@pytest.fixture(scope="module", params=image_generator_names())
def generator(request: pytest.FixtureRequest) -> Iterator[ImageGenerator]:
    """Every registered provider; diffusers on the tiny pipeline, forced offline."""
    if request.param != "diffusers":
        yield get_image_generator(request.param)
        return
    pytest.importorskip("diffusers")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        model_dir = request.getfixturevalue("tiny_sd_dir")
        gen = get_image_generator("diffusers", model=model_dir, device="auto", steps=2)
        assert isinstance(gen, DiffusersGenerator)
        gen.load()  # load while offline: local_files_only must be enough
        yield gen


# ---------------------------------------------------------------- the shared suite


def test_generates_exact_size_png(generator: ImageGenerator, tmp_path: Path) -> None:
    out = generator.generate("a red fox", tmp_path / "a.png", width=64, height=64, seed=1)
    with Image.open(out) as img:
        assert img.format == "PNG" and img.size == (64, 64) and img.mode == "RGB"
        assert np.asarray(img).std() > 1.0  # not a blank frame


def test_same_seed_same_pixels(generator: ImageGenerator, tmp_path: Path) -> None:
    a = generator.generate("a red fox", tmp_path / "a.png", width=64, height=64, seed=7)
    b = generator.generate("a red fox", tmp_path / "b.png", width=64, height=64, seed=7)
    c = generator.generate("a red fox", tmp_path / "c.png", width=64, height=64, seed=8)
    pa, pb, pc = (np.asarray(Image.open(p)) for p in (a, b, c))
    assert (pa == pb).all()
    assert not (pa == pc).all()


def test_non_square_sizes(generator: ImageGenerator, tmp_path: Path) -> None:
    out = generator.generate("tides", tmp_path / "w.png", width=96, height=64, seed=0)
    assert Image.open(out).size == (96, 64)


def test_is_an_image_generator(generator: ImageGenerator) -> None:
    assert isinstance(generator, ImageGenerator)
    assert generator.name in image_generator_names()


# ---------------------------------------------------------------- providers and errors


def test_unknown_provider_names_the_known_ones() -> None:
    with pytest.raises(UnknownBackend) as err:
        get_image_generator("dalle")
    assert "designer" in err.value.user_message and "diffusers" in err.value.user_message


def test_missing_diffusers_names_the_gpu_extra(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "diffusers", None)  # makes `import diffusers` fail
    gen = DiffusersGenerator(tmp_path)
    with pytest.raises(BackendUnavailable) as err:
        gen.generate("x", tmp_path / "x.png", width=64, height=64)
    assert "'gpu' extra" in err.value.user_message


def test_uncached_model_fails_offline_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("diffusers")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    gen = DiffusersGenerator("example-org/not-a-cached-model", device="cpu")
    with pytest.raises(BackendUnavailable, match="not on this machine"):
        gen.generate("x", tmp_path / "x.png", width=64, height=64)


def test_missing_model_dir_is_named(tmp_path: Path) -> None:
    pytest.importorskip("diffusers")
    with pytest.raises(MediaInputError, match="no-such-model"):
        DiffusersGenerator(tmp_path / "no-such-model").load()


# ---------------------------------------------------------------- designer specifics


def test_scene_card_text_fits_the_safe_area() -> None:
    zone = load_preset("youtube_shorts").safe_zone
    layout = layout_scene_card(
        "Why is the sky blue? Rayleigh scattering, explained in one minute",
        "Sunlight hits air molecules and the short blue wavelengths scatter the most.",
        size=(1080, 1920), brand=Brand(), safe_zone=zone,
    )
    left, top, right, bottom = layout.safe_box
    assert layout.body is not None
    for block in (layout.headline, layout.body):
        assert left <= block.box[0] and block.box[2] <= right
        assert top <= block.box[1] and block.box[3] <= bottom
    assert layout.headline.font_size > 1.5 * layout.body.font_size
    assert layout.headline.box[3] <= layout.body.box[1]
    roomy = layout_scene_card("Tides", "twice a day", size=(1080, 1920), brand=Brand(),
                              safe_zone=zone, caption_space=0.2)
    assert roomy.body is not None and roomy.body.box[3] <= bottom - 0.2 * 1920


def test_font_shrinks_for_long_text_and_breaks_long_words() -> None:
    _, short_size, _ = fit_text("Tides", DEFAULT_FONT, 600, 600, max_size=200)
    _, long_size, _ = fit_text("The moon pulls the sea twice a day, " * 3, DEFAULT_FONT, 600,
                               600, max_size=200)
    assert long_size < short_size
    lines, size, _ = fit_text("Pneumonoultramicroscopicsilicovolcanoconiosis", DEFAULT_FONT,
                              200, 400, max_size=80, min_size=20)
    assert len(lines) > 1 and lines[0].endswith("-")


def test_scene_card_with_logo_and_brand(tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    Image.new("RGBA", (40, 40), (0, 255, 0, 255)).save(logo)
    brand = Brand(primary="#102030", secondary="#203040", logo=logo)
    out = render_scene_card("Tides", None, tmp_path / "card.png", size=(360, 640),
                            brand=brand, seed=3)
    px = np.asarray(Image.open(out))
    # the default safe area starts at 8% of each side; the logo's first pixel is pure green
    assert tuple(px[round(640 * 0.08) + 2, round(360 * 0.08) + 2]) == (0, 255, 0)


def test_scene_card_background_is_seeded(tmp_path: Path) -> None:
    a = render_scene_card("Same", "words", tmp_path / "a.png", size=(180, 320), seed=1)
    b = render_scene_card("Same", "words", tmp_path / "b.png", size=(180, 320), seed=2)
    assert not (np.asarray(Image.open(a)) == np.asarray(Image.open(b))).all()


@pytest.mark.parametrize("size", [(1280, 720), (1080, 1920)])
def test_thumbnail_has_big_high_contrast_title(tmp_path: Path, size: tuple[int, int]) -> None:
    out = render_thumbnail("Why the sky is blue", tmp_path / "t.png", size=size,
                           brand=Brand(primary="#808080", secondary="#909090"))
    img = np.asarray(Image.open(out).convert("L"), dtype=np.float64) / 255.0
    assert Image.open(out).size == size
    h, w = img.shape
    centre = img[int(h * 0.15): int(h * 0.85), int(w * 0.1): int(w * 0.9)]
    bright = (centre > 0.95).mean()  # white title pixels
    assert bright > 0.03, "the title should cover a good part of the frame"
    assert contrast_ratio(float(np.percentile(centre, 99)) ** 2.2,
                          float(np.percentile(centre, 1)) ** 2.2) > 7.0


def test_missing_font_is_named(tmp_path: Path) -> None:
    brand = Brand(font=tmp_path / "Nope-Bold.ttf")
    with pytest.raises(MediaInputError, match="Nope-Bold.ttf"):
        render_scene_card("Tides", None, tmp_path / "c.png", size=(180, 320), brand=brand)
    with pytest.raises(MediaInputError, match="Nope-Bold.ttf"):
        render_thumbnail("Tides", tmp_path / "t.png", brand=brand)


def test_bad_logo_and_colour_are_named(tmp_path: Path) -> None:
    bad_logo = tmp_path / "logo.png"
    bad_logo.write_bytes(b"garbage")
    with pytest.raises(MediaInputError, match="logo.png"):
        render_scene_card("Tides", None, tmp_path / "c.png", size=(180, 320),
                          brand=Brand(logo=bad_logo))
    with pytest.raises(MediaInputError, match="primary"):
        render_scene_card("Tides", None, tmp_path / "c.png", size=(180, 320),
                          brand=Brand(primary="not-a-colour"))
