"""The package's structure, read from its source: imports point down, MPI in one place, small files.

Every import is read with ``ast`` (function-level ones too, for the packages; module-level ones for
the module graph), so a change that breaks a rule of the README's Layout section fails here.
"""

from __future__ import annotations

import ast
import graphlib
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "baselines_tf2"
FILES = sorted(PACKAGE.rglob("*.py"))


def _unit(path: Path) -> str:
    """The top-level sub-package or module a file belongs to (``common``, ``errors``...)."""
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, top_level_only: bool = False) -> set[str]:
    """The absolute module names a file imports (``from m import n`` gives ``m`` and ``m.n``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else ast.walk(tree)
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _package_graph() -> dict[str, set[str]]:
    units = {_unit(f) for f in FILES}
    graph: dict[str, set[str]] = defaultdict(set)
    for f in FILES:
        for name in _imports(f):
            parts = name.split(".")
            if parts[0] == "baselines_tf2" and len(parts) > 1 and parts[1] in units and parts[1] != _unit(f):
                graph[_unit(f)].add(parts[1])
    return graph


def test_the_sub_packages_import_each_other_without_a_cycle():
    graph = _package_graph()
    order = list(graphlib.TopologicalSorter(graph).static_order())  # CycleError names the loop
    assert order.index("mpi") < order.index("common") < order.index("train") < order.index("ppo")


def test_modules_import_each_other_without_a_cycle_at_import_time():
    modules = {_module(f): f for f in FILES}
    graph = {
        name: {m for m in _imports(path, top_level_only=True) if m in modules and m != name}
        for name, path in modules.items()
    }
    graphlib.TopologicalSorter(graph).prepare()


@pytest.mark.parametrize(
    ("unit", "allowed"),
    [
        ("common", {"config", "errors", "mpi", "schedules"}),  # maths and models: no plumbing, no algorithm
        ("mpi", {"errors"}),  # the ground floor beside config/
        ("config", {"errors", "schedules"}),
        ("envs", {"common", "config", "errors"}),
        ("train", {"common", "config", "envs", "errors", "mpi", "tools"}),  # algorithm-free
    ],
)
def test_each_layer_imports_only_the_layers_below_it(unit, allowed):
    assert _package_graph()[unit] <= allowed


def test_mpi4py_is_imported_by_mpi_util_alone():
    importers = [
        f.relative_to(PACKAGE).as_posix() for f in FILES if any(n.split(".")[0] == "mpi4py" for n in _imports(f))
    ]
    assert importers == ["mpi/mpi_util.py"]


def test_the_settings_modules_import_neither_tensorflow_nor_gymnasium():
    light = [f for f in FILES if _unit(f) in ("config", "schedules", "errors")] + [PACKAGE / "cli" / "flags.py"]
    for f in light:
        heavy = {n.split(".")[0] for n in _imports(f)} & {"tensorflow", "tensorflow_probability", "gymnasium"}
        assert not heavy, f"{f.relative_to(PACKAGE)} imports {heavy}"


def test_no_file_outside_reproduce_is_over_300_lines():
    long = {
        f.relative_to(PACKAGE).as_posix(): n
        for f in FILES
        if _unit(f) != "reproduce" and (n := len(f.read_text(encoding="utf-8").splitlines())) > 300
    }
    assert not long


@pytest.mark.parametrize("path", ["ppo/pposgd.py", "pg/vpg.py"])
def test_learn_reads_in_under_40_lines(path):
    """Baselines' face stays short: set-up and the iteration loop, the rest in named helpers."""
    learn = next(n for n in ast.parse((PACKAGE / path).read_text()).body if getattr(n, "name", "") == "learn")
    body = learn.body[1:] if isinstance(learn.body[0].value, ast.Constant) else learn.body  # type: ignore[attr-defined]
    assert learn.end_lineno - body[0].lineno + 1 < 40
