"""Vanilla policy gradient: weights against hand computation, one step per batch, CLI, validation."""

import csv
import os
from functools import partial

import numpy as np
import pytest

from baselines_tf2.cli import main, parse_args, resolve_settings
from baselines_tf2.common.policies import MlpPolicy
from baselines_tf2.errors import ConfigError
from baselines_tf2.mpi.mpi_adam import MpiAdam
from baselines_tf2.pg import learn
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
    learn("CartPole-v1", policy_fn, batch_size=500, pg_weight=pg_weight, max_iters=3, log_path=str(tmp_path),
          save_path=str(tmp_path / "ckpt"), progress=False, callback=lambda info: seen.append(info))  # fmt: skip
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
    code = main(["--alg", "pg", "--env", "CartPole-v1", "--num_timesteps", "1000", "--batch_size", "500",
                 "--pg_weight", "return", "--progress", "false", "--save_path", str(tmp_path / "ckpt")])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and "--alg pg on CartPole-v1" in out and "pg_weight                  'return'" in out
    assert os.path.exists(tmp_path / "ckpt" / "checkpoint")
    algo, _, _ = resolve_settings(parse_args(["--alg", "pg", "--batch_size", "100", "--pg_weight", "gae"]), "mujoco")
    assert (algo.batch_size, algo.pg_weight, algo.gamma) == (100, "gae", 1.0)


@pytest.mark.parametrize(
    "kwargs, message",
    [(dict(batch_size=0), "batch_size must be a positive integer"), (dict(pg_weight="advantage"), "pg_weight must be one of"),
     (dict(optim_stepsize=-1.0), "optim_stepsize must be > 0"), (dict(gamma=2.0), r"gamma must be in \[0, 1\]")],
)  # fmt: skip
def test_invalid_settings(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        learn("CartPole-v1", MlpPolicy, max_iters=1, progress=False, **kwargs)
