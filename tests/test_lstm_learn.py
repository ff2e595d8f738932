"""PPO with recurrent policies: ratio 1 at the first step, every weight trains, exact resume, errors, run.py."""

import csv
import json
import os
from functools import partial

import numpy as np
import pytest
import toy_envs  # noqa: F401  (registers ToyCue-v0)
from conftest import run_mpi
from toy_envs import NoiseImageEnv

from baselines_tf2.cli import main
from baselines_tf2.common.policies import CnnLstmPolicy, LstmPolicy
from baselines_tf2.errors import ConfigError
from baselines_tf2.pg import vpg
from baselines_tf2.ppo import learn, pposgd

SMALL_LSTM = partial(LstmPolicy, nlstm=8, hid_size=16, num_hid_layers=1)


class UncompiledLstm(LstmPolicy):
    """For tests of the plumbing: the same policy with epochs not XLA-compiled (which costs seconds per run)."""

    jit_compile = False


SMALL_UNCOMPILED = partial(UncompiledLstm, nlstm=8, hid_size=16, num_hid_layers=1)
# Episodes of 6 steps, 12-step segments: every segment ends on episode boundaries; minibatches of 2 copies.
CUE = dict(num_env=4, timesteps_per_actorbatch=12, optim_batchsize=24, optim_epochs=2, progress=False)


def spy_on_first_steps(monkeypatch):
    """The loss metrics of every iteration's batch before its first gradient step."""
    seen = []
    original = pposgd.run_epochs

    def spy(updater, rng, batch_size, minibatch_size, epochs, stepsize, clip_param, target_kl, comm=None):
        seen.append(updater.evaluate(clip_param))
        return original(updater, rng, batch_size, minibatch_size, epochs, stepsize, clip_param, target_kl, comm)

    monkeypatch.setattr(pposgd, "run_epochs", spy)
    return seen


@pytest.mark.parametrize("kind", ["lstm", "cnn_lstm"])
def test_pi_old_replayed_from_the_acting_states_gives_ratio_one(monkeypatch, kind):
    """Before the first gradient step of every iteration (the normaliser has just moved, for lstm): KL 0, nothing clipped.

    The segments (5 steps) cut episodes (6 or 7 steps): sequences start mid-episode from stored states.
    """
    seen = spy_on_first_steps(monkeypatch)
    settings = dict(num_env=2, timesteps_per_actorbatch=5, optim_batchsize=5, optim_epochs=2, progress=False)
    if kind == "lstm":
        pi = learn("ToyCue-v0", SMALL_LSTM, max_iters=3, **settings)
    else:
        pi = learn(NoiseImageEnv(), partial(CnnLstmPolicy, nlstm=8, kind="small"), max_iters=3, **settings)
    assert len(seen) == 3
    for metrics in seen:
        assert metrics["approxkl"] == 0.0 and metrics["meankl"] == pytest.approx(0.0, abs=1e-7)
        assert metrics["clipfrac"] == 0.0
    assert pi.recurrent


def test_every_weight_of_the_recurrent_policy_trains():
    initial = []

    def policy_fn(ob_space, ac_space):
        pi = SMALL_UNCOMPILED(ob_space, ac_space)
        initial.extend(v.numpy() for v in pi.trainable_variables)
        return pi

    trained = learn("ToyCue-v0", policy_fn, max_iters=1, **CUE)
    names = [v.name for v in trained.trainable_variables]
    assert {"wx:0", "wh:0"} <= set(names) and len(names) == 9  # fc1 w, b; lstm wx, wh, b; heads w, b
    for before, after in zip(initial, trained.trainable_variables, strict=True):
        assert not np.allclose(before, after.numpy()), after.name


def _rows_without_clock(log):
    with open(os.path.join(log, "progress.csv"), newline="") as f:
        return [{k: v for k, v in row.items() if k not in ("fps", "time_elapsed")} for row in csv.DictReader(f)]


def test_resume_at_episode_boundaries_equals_the_uninterrupted_run(tmp_path):
    """A resumed run starts every copy in a new episode from a zero state, as the straight run does after a boundary."""
    kw = dict(CUE, seed=5, max_timesteps=4 * 48)
    straight = learn("ToyCue-v0", SMALL_UNCOMPILED, log_path=str(tmp_path / "straight"), **kw)
    ckpt, first = str(tmp_path / "ckpt"), dict(kw, max_timesteps=2 * 48)
    learn("ToyCue-v0", SMALL_UNCOMPILED, **first, save_path=ckpt, log_path=str(tmp_path / "a"))
    resumed = learn("ToyCue-v0", SMALL_UNCOMPILED, load_path=ckpt, log_path=str(tmp_path / "b"), **kw)
    assert _rows_without_clock(tmp_path / "b") == _rows_without_clock(tmp_path / "straight")[2:]
    for a, b in zip(straight.trainable_variables, resumed.trainable_variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_minibatches_that_split_env_sequences_are_refused():
    with pytest.raises(ConfigError, match=r"^a recurrent policy trains on whole env sequences: optim_batchsize 24 "):
        learn("ToyCue-v0", SMALL_LSTM, max_iters=1, **dict(CUE, num_env=3))


def test_the_vanilla_policy_gradient_refuses_recurrent_policies():
    with pytest.raises(ConfigError, match="recurrent ones .* train with PPO"):
        vpg.learn("ToyCue-v0", SMALL_LSTM, max_iters=1, batch_size=12, progress=False)


FLAGS = ["--env", "ToyCue-v0", "--network", "lstm", "--nlstm", "8", "--hid_size", "16", "--num_env", "2"]
FLAGS += ["--timesteps_per_actorbatch", "12", "--optim_batchsize", "12", "--optim_epochs", "1", "--progress", "false"]


def test_run_py_trains_evaluates_plays_and_exports_an_lstm(tmp_path, capsys):
    ckpt, out = str(tmp_path / "ckpt"), str(tmp_path / "export")
    argv = [*FLAGS, "--num_timesteps", "48", "--save_path", ckpt, "--play", "--play_episodes", "3", "--export", out]
    assert main([*argv, "--export_onnx", "--eval_every", "1", "--eval_episodes", "2"]) == 0
    stdout = capsys.readouterr().out
    assert "network lstm 2x16 + LSTM 8" in stdout and "mean return over 3 episodes" in stdout
    assert stdout.count("eval/return_mean") == 2  # evaluated after each of the 2 iterations
    info = json.loads((tmp_path / "export" / "export.json").read_text())
    assert info["signatures"]["serving_default"] == {
        "inputs": ["observations", "state", "episode_start"],
        "outputs": ["action", "next_state", "value"],
    }
    assert info["signatures"]["sample"]["inputs"] == ["observations", "state", "episode_start", "seed"]
    assert info["state_size"] == 16
    assert main([*FLAGS, "--num_timesteps", "0", "--load_path", ckpt, "--play", "--play_episodes", "2"]) == 0
    assert "mean return over 2 episodes" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["--env", "CartPole-v1", "--network", "lstm", "--num_timesteps", "100"],
            "a recurrent policy trains on whole env sequences: optim_batchsize 64 must be timesteps_per_actorbatch "
            "2048 x a number of env copies that divides num_env 1 (e.g. optim_batchsize 2048)",
        ),
        (["--network", "lstm", "--nlstm", "0"], "nlstm must be a positive integer, got 0"),
        (
            ["--network", "cnn_lstm", "--precision", "bfloat16"],
            "precision bfloat16 is for the cnn and cnn_small networks; cnn_lstm is float32",
        ),
        (
            ["--alg", "pg", "--network", "lstm", "--num_timesteps", "100"],
            "the vanilla policy gradient trains feed-forward policies; recurrent ones (lstm, cnn_lstm) train with PPO",
        ),
    ],
)
def test_run_py_errors(capsys, argv, message):
    assert main(argv) == 2
    assert capsys.readouterr().err == f"run.py: error: {message}\n"


@pytest.mark.mpi
def test_both_mpi_update_paths_train_recurrent_policies_alike():
    proc = run_mpi(["tests/lstm_mpi_worker.py"], timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "rank 0: OK" in proc.stdout and "rank 1: OK" in proc.stdout
