"""Generalised advantage estimation, GAE(lambda) (Schulman et al. 2016), in NumPy.

With ``delta_t = r_t + gamma * V(s_{t+1}) * (1 - done_t) - V(s_t)``::

    A_t = delta_t + gamma * lambda * (1 - done_t) * A_{t+1}
    R_t = A_t + V(s_t)                      (the value target, "tdlamret")

``done_t`` marks an episode that ended at step t (terminated *or* truncated). A truncated episode
is not a death: the rollout has already added ``gamma * V(final observation)`` to its last reward,
so cutting the recursion there bootstraps correctly.
"""

from __future__ import annotations

import numpy as np

__all__ = ["gae", "normalize_advantages"]

_COLUMN_LOOP_MAX_ENVS = 16  # up to this many env copies the recursion runs on Python floats


def gae(
    rewards: np.ndarray,
    vpreds: np.ndarray,
    dones: np.ndarray,
    last_vpreds: np.ndarray,
    gamma: float,
    lam: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Advantages and value targets.

    Args:
        rewards, vpreds, dones: ``[T, N]`` (time-major, one column per env copy).
        last_vpreds: ``[N]``, V of the observation after the last step.
        gamma, lam: discount and GAE lambda.

    Returns:
        ``(adv, tdlamret)``, both float32 ``[T, N]``.
    """
    horizon, num_env = rewards.shape
    nonterminal = 1.0 - dones.astype(np.float64)
    next_values = np.concatenate([vpreds[1:], last_vpreds[None]], axis=0)
    deltas = rewards + gamma * next_values * nonterminal - vpreds
    decay = gamma * lam * nonterminal
    if num_env <= _COLUMN_LOOP_MAX_ENVS:
        # Python floats, one column at a time: ~0.1 us a step where a NumPy row op costs ~1 us.
        adv = np.empty((num_env, horizon), np.float64)
        for i, (delta, keep) in enumerate(zip(deltas.T.tolist(), decay.T.tolist())):
            acc, column = 0.0, adv[i]
            for t in range(horizon - 1, -1, -1):
                acc = delta[t] + keep[t] * acc
                column[t] = acc
        adv = adv.T
    else:
        adv = np.empty(rewards.shape, np.float64)
        acc_rows = np.zeros(num_env, np.float64)
        for t in range(horizon - 1, -1, -1):
            acc_rows = deltas[t] + decay[t] * acc_rows
            adv[t] = acc_rows
    return adv.astype(np.float32), (adv + vpreds).astype(np.float32)


def normalize_advantages(adv: np.ndarray) -> np.ndarray:
    """``(adv - mean) / (std + 1e-8)`` over the whole batch, as float32 (PPO1's and PPO2's standardisation)."""
    return ((adv - adv.mean()) / (adv.std() + 1e-8)).astype(np.float32)
