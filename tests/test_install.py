"""Installed like a library: a wheel built from this checkout, installed into a fresh venv, trains, plays and exports.

The venv reuses the dependencies of the running interpreter's environment (a ``.pth`` line naming its
site-packages, added after the wheel is installed), so nothing is downloaded: TensorFlow is not
installed twice. Every command runs outside the checkout, without ``PYTHONPATH``, and the test checks
that ``baselines_tf2`` is imported from the venv, not from the checkout (whose editable install, a
finder in the parent site-packages started by a ``.pth`` file, is not started by a plain path line).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from site import getsitepackages

import pytest
from conftest import REPO, mpi_env, mpirun_executable

from baselines_tf2 import __version__

TINY = ["--alg", "ppo", "--env", "CartPole-v1", "--timesteps_per_actorbatch", "128", "--optim_epochs", "1"]
# What the wheel is built from: setup.py's inputs, copied so the build's own folders stay out of the checkout.
SOURCES = ("setup.py", "pyproject.toml", "README.md", "baselines_tf2")


def _run(cmd: list[str], env: dict[str, str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{cmd}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``python -m build --wheel --no-isolation`` of a copy of the checkout (its installed build tools)."""
    src, out = tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("dist")
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(REPO / name, src / name)
    cmd = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", out, src]
    _run(cmd, dict(os.environ), cwd=src)
    (built,) = out.glob("baselines_tf2-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding the wheel, with the running environment's packages behind it."""
    root = tmp_path_factory.mktemp("venv") / "env"
    _run([sys.executable, "-m", "venv", "--without-pip", root], dict(os.environ), cwd=root.parent)
    python = root / "bin" / "python"
    # pip runs under the venv's interpreter (scripts get its path); the venv sees nothing else yet, so no
    # installed baselines_tf2 is in the way (none is uninstalled), and --no-index keeps pip off the network.
    install = ["--python", python, "install", "--no-deps", "--no-index", "--disable-pip-version-check", wheel]
    _run([sys.executable, "-m", "pip", *install], _clean_env(root), cwd=root.parent)
    site = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], _clean_env(root), root)
    # Plain path lines: the .pth files in those folders (the checkout's editable finder) are not run.
    parent = [p for p in getsitepackages() if p in sys.path]
    (Path(site.stdout.strip()) / "_dependencies.pth").write_text("".join(f"{p}\n" for p in parent))
    return root


def _clean_env(venv: Path) -> dict[str, str]:
    """The venv's bin first on PATH, no PYTHONPATH (the checkout's), OpenMPI allowed to run as root."""
    env = mpi_env()
    for key in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP"):
        env.pop(key, None)
    env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", "")])
    env["VIRTUAL_ENV"] = str(venv)
    return env


@pytest.mark.parametrize("entry", [["run.py"], ["-m", "baselines_tf2"], ["-m", "baselines_tf2.cli"]])
def test_every_entry_point_of_a_checkout_answers_version_without_tensorflow(entry):
    cmd = [sys.executable, "-X", "importtime", *entry, "--version"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout == f"baselines_tf2 {__version__}\n"
    assert "tensorflow" not in proc.stderr and "gymnasium" not in proc.stderr  # -X importtime lists every import


def test_wheel_holds_every_module_the_package_data_and_the_console_script(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    package = REPO / "baselines_tf2"
    for pattern in ("**/*.py", "reproduce/reference/*.csv"):
        wanted = {f"baselines_tf2/{p.relative_to(package).as_posix()}" for p in package.glob(pattern)}
        assert wanted and wanted <= names, sorted(wanted - names)
    assert wheel.name.startswith(f"baselines_tf2-{__version__}-")
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "baselines-tf2 = baselines_tf2.cli.entry:script" in text


def test_the_venv_imports_its_own_copy_not_the_checkout(venv, tmp_path):
    env = _clean_env(venv)
    code = "import baselines_tf2, sys; from baselines_tf2.reproduce.references import REFERENCE; "
    code += "print(baselines_tf2.__file__, baselines_tf2.__version__, sorted(p.name for p in REFERENCE.glob('*.csv')))"
    out = _run([venv / "bin" / "python", "-c", code], env, tmp_path).stdout.split(maxsplit=2)
    assert Path(out[0]).resolve().is_relative_to(venv.resolve()), out[0]
    assert not Path(out[0]).resolve().is_relative_to(REPO.resolve())
    csvs = sorted(p.name for p in (REPO / "baselines_tf2" / "reproduce" / "reference").glob("*.csv"))
    assert out[1] == __version__ and out[2].strip() == str(csvs)
    script = venv / "bin" / "baselines-tf2"
    assert script.read_text().splitlines()[0] == f"#!{venv / 'bin' / 'python'}"
    for cmd in ([script], [venv / "bin" / "python", "-m", "baselines_tf2"]):
        assert _run([*cmd, "--version"], env, tmp_path).stdout.strip() == f"baselines_tf2 {__version__}"
        assert "--clip_param" in _run([*cmd, "--help"], env, tmp_path).stdout


def test_installed_package_trains_then_plays_and_exports_its_checkpoint(venv, tmp_path):
    env, ckpt, exported = _clean_env(venv), tmp_path / "ckpt", tmp_path / "exported"
    train = [venv / "bin" / "python", "-m", "baselines_tf2", *TINY, "--num_timesteps", "256", "--save_path", ckpt]
    out = _run([*train, "--progress", "false"], env, tmp_path).stdout
    assert "--alg ppo on CartPole-v1" in out and (ckpt / "checkpoint").exists()
    use = ["baselines-tf2", "--env", "CartPole-v1", "--num_timesteps", "0", "--load_path", ckpt]
    out = _run([*use, "--play", "--play_episodes", "1", "--export", exported], env, tmp_path).stdout
    assert "mean return over 1 episodes" in out
    assert (exported / "saved_model.pb").exists() and (exported / "export.json").exists()


@pytest.mark.mpi
def test_installed_console_script_under_mpirun(venv, tmp_path):
    log = tmp_path / "log"
    cmd = [mpirun_executable(), "-n", "2", "baselines-tf2", *TINY, "--num_timesteps", "256", "--log_path", log]
    out = _run([*cmd, "--progress", "false"], _clean_env(venv), tmp_path).stdout
    assert out.count("2 rank(s) x 1 env(s)") == 1  # rank 0 alone prints
    assert sorted(p.name for p in (log / "monitor").iterdir()) == ["0.0.monitor.csv", "1.0.monitor.csv"]
