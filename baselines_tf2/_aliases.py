"""Old module paths keep working: ``baselines_tf2.common.mpi_util`` is ``baselines_tf2.mpi.mpi_util``.

The modules moved to sub-packages (``mpi/``, ``envs/``, ``train/``, ``tools/``, ``config/``; MpiAdam back to
``common/``); a finder on
``sys.meta_path`` answers an import of an old name with the moved module itself (the same object,
so patches and ``isinstance`` checks agree), importing it only when asked.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from types import ModuleType

MOVED = {
    f"baselines_tf2.common.{old}": f"baselines_tf2.{new}"
    for old, new in {
        "mpi_util": "mpi.mpi_util",
        "envs": "envs.make",
        "atari_wrappers": "envs.atari_wrappers",
        "ale_vector": "envs.ale_vector",
        "monitor": "envs.monitor",
        "video": "envs.video",
        "rollout": "train.rollout",
        "training": "train.training",
        "checkpoint": "train.checkpoint",
        "logger": "train.logger",
        "evaluate": "tools.evaluate",
        "export": "tools.export",
        "curves": "tools.curves",
        "quiet": "tools.quiet",
    }.items()
} | {
    "baselines_tf2.mpi.mpi_adam": "baselines_tf2.common.mpi_adam",  # back in common/, as in Baselines
    "baselines_tf2.config_keywords": "baselines_tf2.config.keywords",
    "baselines_tf2.validation": "baselines_tf2.config.validation",
}


class _AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname: str, path: object = None, target: object = None):
        return importlib.util.spec_from_loader(fullname, self) if fullname in MOVED else None

    def create_module(self, spec) -> ModuleType:
        return importlib.import_module(MOVED[spec.name])

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the moved module was imported (and run) under its new name."""


def install() -> None:
    """Put the finder on ``sys.meta_path`` once."""
    if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder())
