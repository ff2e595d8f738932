"""Per-step weights w_t of the policy-gradient estimator ``grad = E[grad log pi(a_t|s_t) w_t]``.

Inputs are one column of *complete* episodes (``rewards``, ``dones`` of shape ``[n]``, an episode
ending where ``dones`` is true), as :meth:`RolloutCollector.collect_episodes` returns them.

* ``return``: ``w_t = R(tau) = sum of the episode's rewards`` (the simplest estimator, seed 001).
* ``reward_to_go``: ``w_t = sum_{t' >= t} gamma^(t'-t) r_t'`` within the episode (undiscounted
  with ``gamma = 1``): actions are only credited with rewards that came after them.
* ``gae``: GAE(lambda) advantages against a learned value baseline (see ``common/advantages.py``).
"""

from __future__ import annotations

import numpy as np

from baselines_tf2.config import PG_WEIGHTS

__all__ = ["PG_WEIGHTS", "episode_returns", "rewards_to_go"]


def _check_complete(dones: np.ndarray) -> None:
    if len(dones) and not dones[-1]:
        raise ValueError("the last step must end an episode (weights need complete episodes)")


def rewards_to_go(rewards: np.ndarray, dones: np.ndarray, gamma: float = 1.0) -> np.ndarray:
    """``sum_{t' >= t} gamma^(t'-t) r_t'`` up to the end of each step's episode, float32 ``[n]``."""
    _check_complete(dones)
    out = np.zeros(len(rewards), np.float64)
    running = 0.0
    for t in reversed(range(len(rewards))):
        running = rewards[t] + (0.0 if dones[t] else gamma * running)
        out[t] = running
    return out.astype(np.float32)


def episode_returns(rewards: np.ndarray, dones: np.ndarray) -> np.ndarray:
    """Each step's whole-episode (undiscounted) return R(tau), float32 ``[n]``."""
    _check_complete(dones)
    ends = np.flatnonzero(dones)
    starts = np.concatenate([[0], ends[:-1] + 1])
    totals = np.add.reduceat(np.asarray(rewards, np.float64), starts) if len(ends) else np.zeros(0)
    return np.repeat(totals, ends - starts + 1).astype(np.float32)
