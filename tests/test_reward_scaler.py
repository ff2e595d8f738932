"""Return-based reward scaling (VecNormalize's ret_rms) and the constant --reward_scale."""

import numpy as np
import pytest
import tensorflow as tf

from baselines_tf2.common.reward_scaler import RewardScaler
from baselines_tf2.common.running_mean_std import VAR_FLOOR
from baselines_tf2.envs.make import make_env


def test_scaling_follows_vecnormalize_with_per_iteration_statistics():
    rng = np.random.default_rng(0)
    scaler = RewardScaler(num_env=2, gamma=0.9, clip=10.0)
    returns, seen = np.zeros(2), []
    for _ in range(50):  # first iteration: the prior std (1.0) is used
        r, done = rng.normal(3.0, 2.0, size=2), rng.random(2) < 0.1
        np.testing.assert_allclose(scaler.scale(r, done), np.clip(r / 1.0, -10, 10))
        returns = returns * 0.9 + r
        seen.append(returns.copy())
        returns[done] = 0.0
    scaler.update()
    seen = np.concatenate(seen)
    count = len(seen) + 1e-2
    mean = seen.sum() / count
    std = np.sqrt(max((np.square(seen).sum() + 1e-2) / count - mean**2, VAR_FLOOR))
    r = np.array([5.0, -400.0])
    np.testing.assert_allclose(scaler.scale(r, np.zeros(2, bool)), np.clip(r / std, -10, 10), rtol=1e-5)
    assert std > 3.0  # returns of rewards ~3 with gamma 0.9 spread far more than one reward


def test_statistics_checkpoint_and_reset(tmp_path):
    scaler = RewardScaler(num_env=1, gamma=0.99)
    for _ in range(20):
        scaler.scale(np.array([2.0]), np.array([False]))
    scaler.update()
    path = tf.train.Checkpoint(s=scaler).save(str(tmp_path / "s"))
    other = RewardScaler(num_env=1, gamma=0.99)
    tf.train.Checkpoint(s=other).restore(path).assert_consumed()
    other.sync_cache()
    assert other.scale(np.array([1.0]), np.array([False]))[0] == pytest.approx(1.0 / float(scaler.ret_rms.std))
    scaler.reset_returns()
    np.testing.assert_array_equal(scaler.returns, [0.0])


def test_constant_reward_scale_leaves_the_monitor_score_true():
    env = make_env("CartPole-v1", reward_scale=2.0)
    env.reset(seed=0)
    total = 0.0
    while True:
        _, reward, terminated, truncated, info = env.step(0)
        total += reward
        if terminated or truncated:
            break
    assert reward == 2.0 and total == 2.0 * info["episode"]["l"]
    assert info["episode"]["r"] == info["episode"]["l"]  # the monitor sits below the scaling
