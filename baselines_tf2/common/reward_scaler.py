"""Return-based reward scaling (Baselines' VecNormalize ``ret_rms``), shared by all MPI ranks.

Each env copy keeps a running discounted return ``R <- gamma * R + r`` (reset to 0 at episode
ends); rewards are divided by the standard deviation of those returns and clipped to
``+-clip``. Unlike VecNormalize, the statistics are a :class:`RunningMeanStd` all-reduced over
ranks once per iteration (so every rank scales identically) and stored as TF variables (so a
checkpoint resumes them). Its variance floor (1e-2) bounds the scaling factor by 10.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from baselines_tf2.common.running_mean_std import RunningMeanStd

__all__ = ["RewardScaler"]


class RewardScaler(tf.Module):
    """Scale rewards by the running std of discounted returns.

    Args:
        num_env: env copies on this rank.
        gamma: discount of the returns whose spread is measured.
        clip: scaled rewards are clipped to ``[-clip, clip]``.
        comm: MPI communicator for the statistics.
    """

    def __init__(self, num_env: int, gamma: float, clip: float = 10.0, comm: Any = None) -> None:
        super().__init__(name="reward_scaler")
        self.ret_rms = RunningMeanStd(shape=(), comm=comm, name="ret_rms")
        self.gamma, self.clip = gamma, clip
        self.returns = np.zeros(num_env)
        self._pending: list[np.ndarray] = []
        self._std = float(self.ret_rms.std)

    def scale(self, rewards: np.ndarray, dones: np.ndarray) -> np.ndarray:
        """Scaled rewards for one vector step; ``dones`` marks copies whose episode just ended."""
        self.returns = self.returns * self.gamma + rewards
        self._pending.append(self.returns.copy())
        scaled = np.clip(rewards / self._std, -self.clip, self.clip)
        self.returns[dones] = 0.0
        return scaled

    def reset_returns(self) -> None:
        """Forget the running returns (the env copies were reset mid-episode)."""
        self.returns[:] = 0.0

    def update(self) -> None:
        """Fold the returns seen since the last call into the statistics (collective under MPI)."""
        seen = np.concatenate(self._pending) if self._pending else np.zeros(0)
        self.ret_rms.update(seen)
        self._pending = []
        self.sync_cache()

    def sync_cache(self) -> None:
        """Re-read the std used for scaling (after an update or a checkpoint restore)."""
        self._std = float(self.ret_rms.std)
