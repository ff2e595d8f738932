"""Seeded learning runs (marker ``slow``; ``make test-slow``). Thresholds from the issue tracker."""

import dataclasses
from functools import partial

import gymnasium as gym
import numpy as np
import pytest

from baselines_tf2.common.policies import MlpPolicy
from baselines_tf2.ppo import learn
from baselines_tf2.ppo.defaults import presets

pytestmark = pytest.mark.slow


def paper_settings(env_type: str) -> dict:
    return dataclasses.asdict(presets("ppo", env_type).algo)


def test_cartpole_reaches_475_within_150k_steps():
    best = []

    def callback(info):
        best.append(info.metrics["eprewmean"])
        return info.metrics["eprewmean"] < 475

    learn(
        "CartPole-v1",
        MlpPolicy,
        max_timesteps=150_000,
        seed=0,
        callback=callback,
        progress=False,
        **paper_settings("classic_control"),
    )
    assert max(best) >= 475, f"best eprewmean {max(best):.1f} after {len(best)} iterations"


def test_time_limit_truncation_is_bootstrapped_not_death():
    """Constant observation, reward 1, truncated at 50 steps, never terminated: V must be 1/(1-gamma) = 100.

    Treating the truncation as death would fit V to the mean discounted reward-to-go, about 22.
    """
    import toy_envs  # noqa: F401,PLC0415 (registers ToyTruncatedConstant-v0)

    pi = learn(
        gym.make("ToyTruncatedConstant-v0"),
        MlpPolicy,
        max_timesteps=200_000,
        seed=0,
        progress=False,
        **paper_settings("classic_control"),
    )
    value = float(pi.value(np.ones((1, 1), np.float32))[0])
    assert value == pytest.approx(100.0, abs=5.0)


def test_vanilla_pg_reward_to_go_solves_cartpole_195_within_50_batches():
    from baselines_tf2.pg import learn as learn_pg  # noqa: PLC0415

    chosen = presets("pg", "classic_control")
    settings = dataclasses.asdict(chosen.algo)
    policy_fn = partial(MlpPolicy, hid_size=chosen.policy.hid_size, num_hid_layers=chosen.policy.num_hid_layers)
    returns = []
    learn_pg(
        "CartPole-v1",
        policy_fn,
        max_iters=50,
        seed=0,
        progress=False,
        callback=lambda info: returns.append(info.metrics["eprewmean"]),
        **settings,
    )
    assert settings["pg_weight"] == "reward_to_go" and settings["batch_size"] == 5000
    assert max(returns) >= 195, f"best eprewmean {max(returns):.1f} in 50 batches"
