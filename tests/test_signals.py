"""SIGINT/SIGTERM end training at an iteration boundary with a checkpoint; periodic saves by wall time."""

import csv
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import tensorflow as tf
from conftest import REPO, mpi_env, mpirun_executable

from baselines_tf2.common.policies import MlpPolicy
from baselines_tf2.ppo import learn

# Long enough iterations that a signal lands mid-iteration; many of them so training cannot finish first.
_LONG_ITERATIONS = ["--timesteps_per_actorbatch", "4096", "--optim_epochs", "1", "--progress", "false"]
SLOW = ["--env", "CartPole-v1", "--num_timesteps", "10000000", *_LONG_ITERATIONS]


def _start(args, env=None, mpi=False):
    cmd = [sys.executable, "run.py", *args]
    if mpi:
        cmd = [mpirun_executable(), "-n", "2", *cmd]
    return subprocess.Popen(
        cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env or dict(os.environ)
    )


def _wait_for_rows(progress: Path, rows: int, proc, timeout=180):
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if progress.exists() and len(progress.read_text().splitlines()) > rows:
            return
        time.sleep(0.1)
    out, err = proc.communicate(timeout=30) if proc.poll() is not None else ("", "")
    pytest.fail(f"no progress rows: {out}\n{err}")


def _read_until(stream, text: str, timeout: float) -> str:
    """What ``stream`` (a pipe) says until it has said ``text``; unbuffered, so nothing is left unread."""
    seen, deadline = "", time.time() + timeout
    while text not in seen and time.time() < deadline:
        if select.select([stream], [], [], 0.5)[0]:
            chunk = os.read(stream.fileno(), 4096).decode(errors="replace")
            if not chunk:
                break
            seen += chunk
    if text not in seen:
        pytest.fail(f"{text!r} not seen in {seen!r}")
    return seen


def _iterations(progress: Path):
    with open(progress, newline="") as f:
        return [int(r["iterations"]) for r in csv.DictReader(f)]


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_saves_the_last_iteration_and_resume_continues(tmp_path, signum, code):
    log, ckpt = tmp_path / "log", tmp_path / "ckpt"
    proc = _start([*SLOW, "--log_path", str(log), "--save_path", str(ckpt)])
    _wait_for_rows(log / "progress.csv", 1, proc)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    saved = _iterations(log / "progress.csv")[-1]
    name = signal.Signals(signum).name
    assert f"run.py: interrupted by {name}: saved iteration {saved} in {ckpt}; resume with --load_path {ckpt}" in err
    assert "Traceback" not in err and tf.train.latest_checkpoint(str(ckpt)).endswith(f"ckpt-{saved}")
    if signum == signal.SIGINT:
        return  # resuming is the same for both signals: checked once
    one_more = ["--env", "CartPole-v1", "--num_timesteps", str(4096 * (saved + 1)), *_LONG_ITERATIONS]
    paths = ["--log_path", str(log), "--load_path", str(ckpt), "--save_path", str(ckpt)]
    resumed = subprocess.run(
        [sys.executable, "run.py", *one_more, *paths], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr
    assert _iterations(log / "progress.csv") == list(range(1, saved + 2))  # continued, not restarted


def test_without_save_path_the_checkpoint_goes_under_the_log_folder(tmp_path):
    log = tmp_path / "log"
    proc = _start([*SLOW, "--log_path", str(log)])
    _wait_for_rows(log / "progress.csv", 1, proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert f"in {log / 'checkpoints'}; resume with --load_path {log / 'checkpoints'}" in err
    assert tf.train.latest_checkpoint(str(log / "checkpoints")) is not None
    assert (log / "checkpoints" / "run.json").exists()  # so --load_path can check env and network


def test_a_second_ctrl_c_quits_at_once(tmp_path):
    log = tmp_path / "log"
    proc = _start([*SLOW[:-2], "--timesteps_per_actorbatch", "2000000", "--progress", "false", "--log_path", str(log)])
    deadline = time.time() + 120
    while not (log / "tb").exists() and time.time() < deadline:  # the learner is set up: handlers soon installed
        time.sleep(0.1)
    time.sleep(10.0)  # past the set-up (the loop installs the handlers), well inside the first rollout (~100 s)
    proc.send_signal(signal.SIGINT)
    # Two signals that arrive during one long C call (e.g. the first XLA compile) reach Python as one:
    # send the second only once the first has been handled.
    first = _read_until(proc.stderr, "stopping after this iteration", timeout=60)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    err = first + err
    assert proc.returncode == 130, err
    assert "stopping after this iteration" in err and "run.py: error: interrupted" in err
    assert not (log / "progress.csv").exists()  # the first iteration never finished


def _rank_pid(marker: str, rank: int, timeout=120) -> int:
    """The pid of the python process of ``rank`` whose command line contains ``marker``."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
                environ = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace").split("\0")
            except OSError:
                continue
            if marker in cmdline and "run.py" in cmdline and f"OMPI_COMM_WORLD_RANK={rank}" in environ:
                return int(pid)
        time.sleep(0.2)
    pytest.fail(f"rank {rank} not found")


@pytest.mark.mpi
def test_sigterm_to_one_rank_under_mpirun_stops_both_after_a_save(tmp_path):
    log, ckpt = tmp_path / "log", tmp_path / "ckpt"
    proc = _start([*SLOW, "--log_path", str(log), "--save_path", str(ckpt)], env=mpi_env(), mpi=True)
    _wait_for_rows(log / "progress.csv", 1, proc)
    os.kill(_rank_pid(str(log), 1), signal.SIGTERM)  # rank 1 only: rank 0 must learn it from the all-reduce
    _, err = proc.communicate(timeout=180)
    assert proc.returncode != 0
    saved = _iterations(log / "progress.csv")[-1]
    assert f"run.py: interrupted by SIGTERM: saved iteration {saved} in {ckpt}" in err
    assert tf.train.latest_checkpoint(str(ckpt)).endswith(f"ckpt-{saved}")


def test_periodic_saves_by_wall_time_keep_the_newest_five(tmp_path):
    ckpt = str(tmp_path / "ckpt")
    learn(
        "CartPole-v1",
        MlpPolicy,
        max_timesteps=256 * 8,
        timesteps_per_actorbatch=256,
        optim_epochs=1,
        progress=False,
        save_path=ckpt,
        save_every_seconds=1e-6,
    )
    state = tf.train.get_checkpoint_state(ckpt)
    assert [Path(p).name for p in state.all_model_checkpoint_paths] == [f"ckpt-{i}" for i in range(4, 9)]
    learn(
        "CartPole-v1",
        MlpPolicy,
        max_timesteps=256 * 4,
        timesteps_per_actorbatch=256,
        optim_epochs=1,
        progress=False,
        save_path=str(tmp_path / "other"),
        save_every_seconds=0,
    )  # off: only the final save
    assert [
        Path(p).name for p in tf.train.get_checkpoint_state(str(tmp_path / "other")).all_model_checkpoint_paths
    ] == ["ckpt-4"]
