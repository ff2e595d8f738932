"""Vanilla policy gradient: weights against hand computation, one step per batch, CLI, validation."""

import csv
import os
from functools import partial

import numpy as np
import pytest

from baselines_tf2.cli import main, parse_args, resolve_settings
from baselines_tf2.common.mpi_adam import MpiAdam
from baselines_tf2.common.policies import MlpPolicy
from baselines_tf2.errors import ConfigError
from baselines_tf2.pg import learn
from baselines_tf2.pg.losses import adapt_stepsize
from baselines_tf2.pg.weights import episode_returns, rewards_to_go
from baselines_tf2.train.checkpoint import restore

REWARDS = np.array([1.0, 2.0, 3.0, 10.0, 20.0])
DONES = np.array([False, False, True, False, True])


def test_episode_returns_weight_every_step_by_its_whole_episode():
    np.testing.assert_array_equal(episode_returns(REWARDS, DONES), [6, 6, 6, 30, 30])


def test_rewards_to_go_stop_at_episode_ends():
    np.testing.assert_array_equal(rewards_to_go(REWARDS, DONES), [6, 5, 3, 30, 20])
    np.testing.assert_allclose(rewards_to_go(REWARDS, DONES, 0.5), [1 + 1 + 0.75, 2 + 1.5, 3, 10 + 10, 20])


def test_weights_need_complete_episodes():
    with pytest.raises(ValueError, match="complete episodes"):
        rewards_to_go(REWARDS, np.array([False, False, True, False, False]))


@pytest.mark.parametrize("pg_weight", ["return", "reward_to_go", "gae"])
def test_one_gradient_step_per_batch_of_whole_episodes(pg_weight, tmp_path):
    seen = []
    policy_fn = partial(MlpPolicy, hid_size=16, num_hid_layers=1)
    learn(
        "CartPole-v1",
        policy_fn,
        batch_size=500,
        pg_weight=pg_weight,
        max_iters=3,
        log_path=str(tmp_path),
        save_path=str(tmp_path / "ckpt"),
        progress=False,
        callback=lambda info: seen.append(info),
    )
    assert [info.iteration for info in seen] == [1, 2, 3]
    policy = seen[-1].policy
    with open(tmp_path / "progress.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert all(int(r["batch_steps"]) >= 500 for r in rows)
    assert int(rows[-1]["total_timesteps"]) == sum(int(r["batch_steps"]) for r in rows)
    assert float(rows[-1]["meankl"]) > 0 and ("explained_variance" in rows[0]) == (pg_weight == "gae")
    adam = MpiAdam(policy.trainable_variables)
    restore(str(tmp_path / "ckpt"), optimizer=adam)
    assert int(adam.t) == 3  # one Adam step per batch


def test_pg_runs_from_the_cli(capsys, tmp_path):
    train = ["--alg", "pg", "--env", "CartPole-v1", "--num_timesteps", "1000", "--batch_size", "500"]
    code = main([*train, "--pg_weight", "return", "--progress", "false", "--save_path", str(tmp_path / "ckpt")])
    out = capsys.readouterr().out
    assert code == 0 and "--alg pg on CartPole-v1" in out and "pg_weight                  'return'" in out
    assert os.path.exists(tmp_path / "ckpt" / "checkpoint")
    algo, _, _ = resolve_settings(parse_args(["--alg", "pg", "--batch_size", "100", "--pg_weight", "gae"]), "mujoco")
    assert (algo.batch_size, algo.pg_weight, algo.gamma) == (100, "gae", 1.0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(batch_size=0), "batch_size must be a positive integer"),
        (dict(pg_weight="advantage"), "pg_weight must be one of"),
        (dict(optim_stepsize=-1.0), "optim_stepsize must be > 0"),
        (dict(gamma=2.0), r"gamma must be in \[0, 1\]"),
        (dict(desired_kl=-1e-3), "desired_kl must be >= 0"),
    ],
)
def test_invalid_settings(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        learn("CartPole-v1", MlpPolicy, max_iters=1, progress=False, **kwargs)


def test_adapt_stepsize_is_hw4s_rule():
    assert adapt_stepsize(1e-3, 4.1e-3, 2e-3) == pytest.approx(1e-3 / 1.5)  # KL above 2 d: smaller steps
    assert adapt_stepsize(1e-3, 0.9e-3, 2e-3) == pytest.approx(1.5e-3)  # below d / 2: larger steps
    assert adapt_stepsize(1e-3, 4e-3, 2e-3) == 1e-3 == adapt_stepsize(1e-3, 1e-3, 2e-3)  # the band's edges stay


def _progress(path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_adaptive_stepsize_follows_each_steps_kl_and_resumes_exactly(tmp_path):
    policy_fn = partial(MlpPolicy, hid_size=16, num_hid_layers=1)
    common = dict(batch_size=300, pg_weight="gae", optim_stepsize=1e-3, desired_kl=2e-3, progress=False, seed=3)
    learn("CartPole-v1", policy_fn, max_iters=6, log_path=str(tmp_path / "whole"), **common)
    whole = _progress(tmp_path / "whole" / "progress.csv")
    steps = [float(r["stepsize"]) for r in whole]
    kls = [float(r["meankl"]) for r in whole]
    assert steps[0] == pytest.approx(1e-3)
    for i in range(5):
        assert steps[i + 1] == pytest.approx(adapt_stepsize(steps[i], kls[i], 2e-3), rel=1e-6), i
    assert len(set(np.round(steps, 12))) > 1  # the rule did act
    # Stopped after 3 batches and resumed: the same step sizes (the factor is in the checkpoint).
    ckpt = str(tmp_path / "ckpt")
    learn("CartPole-v1", policy_fn, max_iters=3, save_path=ckpt, **common)
    learn("CartPole-v1", policy_fn, max_iters=6, load_path=ckpt, log_path=str(tmp_path / "resumed"), **common)
    resumed = [float(r["stepsize"]) for r in _progress(tmp_path / "resumed" / "progress.csv")]
    assert resumed == pytest.approx(steps[3:], rel=1e-6)


def test_desired_kl_flag():
    algo, _, _ = resolve_settings(parse_args(["--alg", "pg", "--desired_kl", "2e-3"]), "mujoco")
    assert algo.desired_kl == 2e-3
    assert resolve_settings(parse_args(["--alg", "pg"]), "mujoco")[0].desired_kl == 0.0
