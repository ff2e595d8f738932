"""MPI behaviour: real ``mpirun -n 2`` runs of tests/mpi_worker.py, and the size-1 fallback."""

import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO, mpi_env, mpirun_executable, run_mpi

from baselines_tf2.mpi import mpi_util


@pytest.mark.mpi
@pytest.mark.parametrize("check", ["rms", "adam", "sync", "split", "local", "allgather"])
def test_under_mpirun_two_ranks(check):
    proc = run_mpi(["tests/mpi_worker.py", check])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"rank 0: {check} OK" in proc.stdout and f"rank 1: {check} OK" in proc.stdout


@pytest.mark.mpi
def test_learn_keeps_ranks_identical():
    proc = run_mpi(["tests/mpi_worker.py", "learn"])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "rank 0: learn OK" in proc.stdout and "rank 1: learn OK" in proc.stdout
    assert proc.stdout.count("| total_timesteps") == 4  # rank 0 alone logs: 4 iterations of 2 x 256 steps


@pytest.mark.mpi
def test_ranks_stop_together_on_a_one_rank_callback_or_a_time_limit():
    proc = run_mpi(["tests/mpi_worker.py", "stop"], timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "rank 0: stop OK" in proc.stdout and "rank 1: stop OK" in proc.stdout


@pytest.mark.mpi
def test_every_objective_and_pg_run_under_mpirun():
    proc = run_mpi(["tests/mpi_worker.py", "variants"], timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for name in ("--loss clip", "--loss none", "--loss fixed_kl", "--loss adaptive_kl", "--target_kl", "--alg pg"):
        assert f"rank 0: {name}" in proc.stdout and f"rank 1: {name}" in proc.stdout, name
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| epochs_run")]
    assert rows and any(int(line.split("|")[2]) < 3 for line in rows)  # target_kl stopped before the 3rd epoch


@pytest.mark.mpi
def test_a_fault_on_one_rank_ends_the_job_with_its_message():
    proc = run_mpi(["tests/mpi_worker.py", "fault"], timeout=180)
    assert proc.returncode != 0
    assert "run.py: error (rank 1): RuntimeError: injected fault on rank 1" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.mpi
def test_run_py_under_mpirun_writes_logs_and_checkpoints_on_rank_0(tmp_path):
    log, ckpt = tmp_path / "log", tmp_path / "ckpt"
    train = ["run.py", "--env", "Pendulum-v1", "--num_timesteps", "1024", "--timesteps_per_actorbatch", "256"]
    proc = run_mpi([*train, "--log_path", str(log), "--save_path", str(ckpt), "--progress", "false"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("2 rank(s) x 1 env(s)") == 1
    assert sorted(p.name for p in (log / "monitor").iterdir()) == ["0.0.monitor.csv", "1.0.monitor.csv"]
    rows = (log / "progress.csv").read_text().strip().splitlines()
    assert len(rows) == 3  # header + 2 iterations of 2 ranks x 256 steps
    assert (ckpt / "checkpoint").exists()


_HOSTFILE_WORKER = (
    "import os; from baselines_tf2.envs.make import env_seeds; from baselines_tf2.mpi import mpi_util; "
    "r = mpi_util.rank(); print(r, mpi_util.size(), mpi_util.local_size(), os.environ['EXPORTED'], env_seeds(7, r, 2))"
)


@pytest.mark.mpi
def test_a_hostfile_naming_this_machine_runs_both_ranks(tmp_path):
    """The README's multi-node launch on one node: the hostfile's slots (not oversubscription) place both ranks,
    ``-x`` exports a variable to them, and each rank seeds its env copies seed + 10000 rank + i."""
    hostfile = tmp_path / "hostfile"
    hostfile.write_text("# host slots\nlocalhost slots=2\n")
    env = {**mpi_env(), "EXPORTED": "yes"}
    env.pop("PRTE_MCA_rmaps_default_mapping_policy")  # the slots must suffice

    def launch(n: int) -> subprocess.CompletedProcess:
        hosts = ["--hostfile", str(hostfile), "-n", str(n), "-x", "PYTHONPATH", "-x", "EXPORTED"]
        cmd = [mpirun_executable(), *hosts, sys.executable, "-c", _HOSTFILE_WORKER]
        return subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=120)

    proc = launch(2)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert sorted(proc.stdout.strip().splitlines()) == ["0 2 2 yes [7, 8]", "1 2 2 yes [10007, 10008]"]
    too_many = launch(3)  # more ranks than the hostfile's slots: refused at once
    assert too_many.returncode != 0 and "not enough slots" in too_many.stdout + too_many.stderr


@pytest.mark.mpi
def test_ale_vector_backend_under_mpirun(tmp_path):
    """Each rank steps its own ALE vector env on its share of the cores, with its own monitor files."""
    log = tmp_path / "log"
    train = ["run.py", "--env", "ALE/Pong-v5", "--env_backend", "ale_vector", "--num_env", "2"]
    proc = run_mpi(
        [*train, "--num_timesteps", "512", "--optim_epochs", "1", "--log_path", str(log), "--progress", "false"]
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("2 rank(s) x 2 env(s) (ale_vector)") == 1
    names = sorted(p.name for p in (log / "monitor").iterdir())
    assert names == ["0.0.monitor.csv", "0.1.monitor.csv", "1.0.monitor.csv", "1.1.monitor.csv"]


def test_single_process_is_a_size_one_world():
    assert mpi_util.size() == 1 and mpi_util.rank() == 0
    x = np.arange(4.0)
    np.testing.assert_array_equal(mpi_util.allreduce_sum(x), x)
    np.testing.assert_array_equal(mpi_util.allreduce_mean(x), x)
    np.testing.assert_array_equal(mpi_util.broadcast(x), x)
    assert mpi_util.allgather_object("a") == ["a"] and mpi_util.bcast_object(3) == 3


def test_serial_comm_behaves_like_one_rank():
    comm = mpi_util.SerialComm()
    x, out = np.array([1.0, 2.0]), np.zeros(2)
    mpi_util.get_comm(comm).Allreduce(x, out)
    np.testing.assert_array_equal(out, x)
    assert mpi_util.size(comm) == 1 and mpi_util.allgather_object(5, comm) == [5]


BROKEN_MPI = "import sys; sys.modules['mpi4py'] = None\nfrom baselines_tf2.mpi import mpi_util\nprint(mpi_util.size(), mpi_util.MPI_AVAILABLE)"


def test_without_mpirun_mpi4py_is_not_even_imported():
    """No launcher: a one-rank job that never pays MPI_Init (~1 s), and works with mpi4py broken."""
    check = "import sys\nfrom baselines_tf2.mpi import mpi_util\nprint(mpi_util.size(), 'mpi4py' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", check], cwd=REPO, capture_output=True, text=True, env={"PATH": ""})
    assert proc.returncode == 0 and proc.stdout.split() == ["1", "False"], proc.stderr
    proc = subprocess.run(
        [sys.executable, "-c", BROKEN_MPI], cwd=REPO, capture_output=True, text=True, env={"PATH": ""}
    )
    assert proc.returncode == 0 and proc.stdout.split() == ["1", "False"] and proc.stderr == "", proc.stderr


def test_broken_mpi_under_a_launcher_is_an_error():
    env = {"PATH": "", "OMPI_COMM_WORLD_SIZE": "2"}
    proc = subprocess.run([sys.executable, "-c", BROKEN_MPI], cwd=REPO, capture_output=True, text=True, env=env)
    assert proc.returncode != 0
    assert "started by mpirun but mpi4py/MPI failed to load" in proc.stderr
