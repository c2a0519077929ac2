"""The layout the architecture promises (shared/ARCHITECTURE.md), checked over the source.

Every import counts: module level, inside functions, and type-only (``TYPE_CHECKING``), since
a type-only cycle is still two modules that cannot be read one without the other.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("assistant", "media", "storage", "evals")
MAX_LINES = 400

# Who may import whom, by layer: a module may import its own layer and those listed.
# content/config/errors/infra/llm are shared by all of assistant.
SHARED = {"assistant.content", "assistant.config", "assistant.errors", "assistant.infra",
          "assistant.llm"}
ALLOWED: dict[str, set[str]] = {
    "assistant.cli": {"assistant.app", "assistant.channels", "assistant.api", "assistant.tools",
                      "media", "storage"},
    "assistant.channels": {"assistant.app", "assistant.api", "assistant.tools", "media",
                           "storage"},
    # the REST API is a surface beside the chat channels (the web channel mounts it)
    "assistant.api": {"assistant.app", "assistant.tools", "media", "storage"},
    "assistant.app": {"assistant.graph", "assistant.tools", "media", "storage"},
    "assistant.graph": {"assistant.tools", "media", "storage"},
    "assistant.tools": {"media", "storage"},
    "assistant.llm": {"assistant.infra"},
    "assistant.infra": {"media", "storage"},
    "evals": {"assistant.app", "assistant.tools", "storage"},
    "media": set(),
    "storage": set(),
}
ROOT_SHARED = {"assistant.content", "assistant.config", "assistant.errors"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_files() -> Iterator[Path]:
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


MODULES = {module_name(p): p for p in source_files()}


def imports_of(path: Path) -> set[str]:
    """Every project module ``path`` imports, resolved to a module we have."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from pkg import sub` imports the module pkg.sub when there is one, else pkg
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES
                     else node.module for a in node.names]
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    found.discard(module_name(path))
    return found


GRAPH = {name: imports_of(path) for name, path in MODULES.items()}


def layer_of(module: str) -> str:
    for layer in sorted([*ALLOWED, *SHARED], key=len, reverse=True):
        if module == layer or module.startswith(layer + "."):
            return layer
    return module  # assistant itself, assistant.__main__


def test_assistant_root_holds_at_most_six_modules() -> None:
    root_modules = sorted(p.name for p in (ROOT / "assistant").glob("*.py"))
    assert len(root_modules) <= 6, root_modules


def test_no_module_is_over_400_lines() -> None:
    long = {module_name(p): n for p in source_files()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"split these modules: {long}"


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_dependencies_point_one_way(layer: str) -> None:
    may = ALLOWED[layer] | {layer}
    if layer not in ("media", "storage"):
        may |= ROOT_SHARED if layer in ("assistant.infra", "assistant.llm") else SHARED
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items() if layer_of(module) == layer
        for target in targets if layer_of(target) not in may
    )
    assert not wrong, "\n".join(wrong)


def test_media_and_storage_import_nothing_of_assistant() -> None:
    wrong = sorted(f"{m} imports {t}" for m, ts in GRAPH.items()
                   if m.split(".")[0] in ("media", "storage")
                   for t in ts if t.startswith("assistant"))
    assert not wrong, "\n".join(wrong)


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the components with more than one module are import cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_no_import_cycles() -> None:
    # A package's __init__ that re-exports its own submodules is not a cycle: drop the
    # edges from a package to its own children before looking.
    graph = {m: {t for t in ts if not t.startswith(m + ".")} for m, ts in GRAPH.items()}
    assert strongly_connected(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [
        ["a", "b", "c"]]
