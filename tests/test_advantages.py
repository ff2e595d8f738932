"""GAE against a naive per-episode reference (SB3 / TF-Agents style)."""

import numpy as np
import pytest

from baselines_tf2.common.advantages import gae, normalize_advantages


def naive_gae(rewards, vpreds, dones, last_v, gamma, lam):
    """Direct sums: A_t = sum_l (gamma*lam)^l delta_{t+l}, stopping after an episode end."""
    T, N = rewards.shape
    adv = np.zeros((T, N))
    for n in range(N):
        for t in range(T):
            total, discount = 0.0, 1.0
            for k in range(t, T):
                next_v = last_v[n] if k == T - 1 else vpreds[k + 1, n]
                delta = rewards[k, n] + gamma * next_v * (1 - dones[k, n]) - vpreds[k, n]
                total += discount * delta
                if dones[k, n]:
                    break
                discount *= gamma * lam
            adv[t, n] = total
    return adv


@pytest.mark.parametrize("num_env", [3, 20])  # the column loop (few copies) and the row loop (many)
@pytest.mark.parametrize("gamma, lam", [(0.99, 0.95), (0.9, 1.0), (0.5, 0.0), (1.0, 1.0)])
def test_matches_naive_reference(gamma, lam, num_env):
    rng = np.random.default_rng(0)
    T, N = 40, num_env
    rewards = rng.normal(size=(T, N))
    vpreds = rng.normal(size=(T, N))
    dones = rng.random((T, N)) < 0.1
    last_v = rng.normal(size=N)
    adv, ret = gae(rewards, vpreds, dones, last_v, gamma, lam)
    expected = naive_gae(rewards, vpreds, dones, last_v, gamma, lam)
    np.testing.assert_allclose(adv, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ret, expected + vpreds, rtol=1e-5, atol=1e-5)
    assert adv.dtype == np.float32 and ret.dtype == np.float32


def test_lambda_one_gives_discounted_returns_and_lambda_zero_td0():
    rewards = np.array([[1.0], [2.0], [3.0]])
    vpreds = np.array([[0.5], [0.25], [1.0]])
    dones = np.array([[False], [False], [True]])
    _, ret = gae(rewards, vpreds, dones, np.array([7.0]), 0.5, 1.0)
    np.testing.assert_allclose(ret[:, 0], [1 + 0.5 * 2 + 0.25 * 3, 2 + 0.5 * 3, 3])
    adv, _ = gae(rewards, vpreds, dones, np.array([7.0]), 0.5, 0.0)
    np.testing.assert_allclose(adv[:, 0], [1 + 0.5 * 0.25 - 0.5, 2 + 0.5 * 1.0 - 0.25, 3 - 1.0])


def test_bootstraps_from_last_value_when_no_episode_end():
    adv, ret = gae(np.zeros((2, 1)), np.zeros((2, 1)), np.zeros((2, 1), bool), np.array([10.0]), 0.9, 1.0)
    np.testing.assert_allclose(ret[:, 0], [0.9 * 0.9 * 10, 0.9 * 10], rtol=1e-6)


def test_normalize_advantages_standardises_the_batch():
    out = normalize_advantages(np.array([1.0, 2.0, 3.0, 6.0]))
    np.testing.assert_allclose(out, (np.array([1.0, 2.0, 3.0, 6.0]) - 3.0) / (np.sqrt(3.5) + 1e-8), rtol=1e-6)
    assert out.dtype == np.float32


def test_column_and_row_loops_agree_exactly():
    """Many copies at once (row loop) give the same bits as each copy alone (column loop)."""
    rng = np.random.default_rng(1)
    T, N = 300, 24
    rewards, vpreds = rng.normal(size=(T, N)), rng.normal(size=(T, N)).astype(np.float32)
    dones, last_v = rng.random((T, N)) < 0.02, rng.normal(size=N).astype(np.float32)
    adv, ret = gae(rewards, vpreds, dones, last_v, 0.99, 0.95)
    for i in range(N):
        one = gae(rewards[:, i : i + 1], vpreds[:, i : i + 1], dones[:, i : i + 1], last_v[i : i + 1], 0.99, 0.95)
        np.testing.assert_array_equal(one[0][:, 0], adv[:, i])
        np.testing.assert_array_equal(one[1][:, 0], ret[:, i])
