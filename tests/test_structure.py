"""The package's shape: subpackages on floors along the data flow (a package imports only from
the floors below it), no import circles, small modules, and video/ and dataset/ importable
without PyTorch."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "wilddeblur"
MAX_LINES = 400
MAX_TOP_LEVEL_MODULES = 12


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = ("wilddeblur", *path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(root: Path = PACKAGE) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted(root.rglob("*.py"))}


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the package modules it imports, at any depth of the file (lazy imports inside
    functions and ``TYPE_CHECKING`` blocks count: a circle hidden in a function is one too)."""
    mods = modules(root)
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        is_pkg = path.name == "__init__.py"
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative import
                    anchor = name.split(".")
                    anchor = anchor if is_pkg else anchor[:-1]
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base
                           for a in node.names]
            for t in targets:
                while t and t not in mods:  # `import a.b.c` of a name inside a module
                    t = t.rpartition(".")[0]
                if t and t != name:
                    edges.add(t)
        graph[name] = edges
    return graph


# The floors, bottom up: each package and the packages it may import (besides itself). "base" is
# the package's top-level modules (errors, fileio, config, ...), which import no subpackage;
# ``python -m wilddeblur`` (__main__) is the command line's.
FLOORS: dict[str, set[str]] = {
    "base": set(),
    "engine": {"base"},
    "video": {"base"},
    "models": {"base", "engine"},
    "deploy": {"base", "engine", "models"},
    "flow": {"base", "engine", "video", "models"},
    "dataset": {"base", "video", "flow"},
    "evaluation": {"base", "engine", "video", "models", "deploy", "flow", "dataset"},
    "training": {"base", "engine", "video", "models", "deploy", "flow", "dataset",
                 "evaluation"},
    "report": {"base", "engine", "video", "models", "deploy", "flow", "dataset", "evaluation",
               "training"},
    "cli": {"base", "engine", "video", "models", "deploy", "flow", "dataset", "evaluation",
            "training", "report"},
}


def floor_of(module: str) -> str:
    """The floor of a package module: its subpackage, or "base" for a top-level module."""
    if module == "wilddeblur.__main__":
        return "cli"
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in FLOORS) else "base"


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every import of a module from a floor its own floor may not import."""
    return sorted(f"{a} -> {b}" for a, targets in graph.items() for b in targets
                  if floor_of(b) != floor_of(a) and floor_of(b) not in FLOORS[floor_of(a)])


def test_every_package_has_a_floor():
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert packages == set(FLOORS) - {"base"}


def test_no_import_from_a_higher_floor():
    bad = upward_imports(import_graph())
    assert not bad, "imports from a higher floor: " + "; ".join(bad)


def test_the_floor_check_finds_an_upward_import(tmp_path):
    """The check above can fail: a model importing from training (lazily) is found."""
    pkg = tmp_path / "wilddeblur"
    for sub in ("models", "training"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "training" / "loop.py").write_text("from wilddeblur.models.net import Net\n")
    (pkg / "models" / "net.py").write_text("def f():\n    from wilddeblur.training import loop\n")
    assert upward_imports(import_graph(pkg)) == [
        "wilddeblur.models.net -> wilddeblur.training.loop"]


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_circles():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_circle(tmp_path):
    """The check above can fail: two modules that import each other (one lazily) are found."""
    pkg = tmp_path / "wilddeblur"
    (pkg / "video").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "video" / "__init__.py").write_text("")
    (pkg / "video" / "probe.py").write_text("from wilddeblur.video.io import decode\n")
    (pkg / "video" / "io.py").write_text("def decode():\n    from . import probe\n")
    cycle = find_cycle(import_graph(pkg))
    assert cycle is not None and set(cycle) == {"wilddeblur.video.probe", "wilddeblur.video.io"}


def test_modules_are_small():
    long = {name: n for name, p in modules().items()
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_few_modules_at_the_top_level():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top
    for sub in ("engine", "video", "dataset", "flow", "models", "training", "evaluation", "report"):
        assert (PACKAGE / sub / "__init__.py").is_file(), sub


TORCH_FREE = ("video", "dataset")
BLOCK_TORCH = """
import importlib, pkgutil, sys

class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError(f"{name} is blocked: this code must import without torch")

sys.meta_path.insert(0, NoTorch())
import wilddeblur.{sub} as pkg
for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
    importlib.import_module(m.name)
assert not any(k == "torch" or k.startswith("torch.") for k in sys.modules)
"""


@pytest.mark.parametrize("sub", TORCH_FREE)
def test_imports_without_torch(sub):
    res = subprocess.run([sys.executable, "-c", BLOCK_TORCH.replace("{sub}", sub)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]


def test_the_torch_blocker_blocks_torch():
    res = subprocess.run([sys.executable, "-c", BLOCK_TORCH.replace("{sub}", "training")],
                         capture_output=True, text=True)
    assert res.returncode != 0 and "torch is blocked" in res.stderr
