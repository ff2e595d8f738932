"""Rollout collection: ``horizon`` steps of every env copy on this rank into one :class:`Segment`.

The vector env auto-resets in the same step (``AutoresetMode.SAME_STEP``), so every stored step is
a real transition. Episode ends are handled here, once:

* ``terminated`` (death, goal): the value after it is 0.
* ``truncated`` only (time limit): **not** a death. The reward of that step gets
  ``gamma * V(final observation)`` added, the value the episode would have continued with, and the
  step is then treated as an episode end. (Baselines' PPO1/PPO2 and CleanRL treat truncation as
  death, which teaches V that time limits are cliffs.)

Returns/lengths of finished episodes come from the :class:`~baselines_tf2.common.monitor.Monitor`
of each copy (true game scores for Atari).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np

from baselines_tf2.common.actors import Actor
from baselines_tf2.common.reward_scaler import RewardScaler

__all__ = ["RolloutCollector", "Segment"]


@dataclass
class Segment:
    """One rollout, time-major ``[T, N, ...]`` (N env copies on this rank)."""

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray  # float32 [T, N]: scaled if scaling is on, + gamma*V(final) on truncation
    dones: np.ndarray  # bool [T, N]: an episode ended at this step
    vpreds: np.ndarray  # float32 [T, N]: V(obs) at acting time
    last_vpreds: np.ndarray  # float32 [N]: V(observation after the last step)
    episodes: list[tuple[float, int]] = field(default_factory=list)  # (return, length) from Monitor

    @property
    def num_steps(self) -> int:
        return int(self.rewards.size)


class RolloutCollector:
    """Steps a vector env with an :class:`Actor`, keeping the current observations between calls.

    Args:
        env: a gymnasium vector env with ``AutoresetMode.SAME_STEP``.
        horizon: steps per env copy per segment (the paper's T).
        gamma: discount, for the truncation bootstrap.
        ob_dtype: dtype observations are stored in (the policy's input dtype).
        seeds: per-copy seeds for the first reset.
        reward_scaler: optional return-based reward scaling.
    """

    def __init__(
        self,
        env: gym.vector.VectorEnv,
        horizon: int,
        gamma: float,
        ob_dtype: np.dtype,
        seeds: list[int] | None = None,
        reward_scaler: RewardScaler | None = None,
    ) -> None:
        self.env = env
        self.horizon = horizon
        self.gamma = gamma
        self.ob_dtype = np.dtype(ob_dtype)
        self.reward_scaler = reward_scaler
        self.num_env = env.num_envs
        obs, _ = env.reset(seed=seeds)
        self.obs = np.array(obs, dtype=self.ob_dtype)

    def collect(self, actor: Actor) -> Segment:
        """Run ``horizon`` vector steps and return them."""
        T, N = self.horizon, self.num_env
        obs_buf = np.empty((T, N, *self.obs.shape[1:]), self.ob_dtype)
        actions_buf = None
        rewards = np.empty((T, N), np.float32)
        dones = np.empty((T, N), bool)
        vpreds = np.empty((T, N), np.float32)
        episodes: list[tuple[float, int]] = []
        for t in range(T):
            obs_buf[t] = self.obs
            actions, vpreds[t] = actor.step(self.obs)
            if actions_buf is None:
                actions_buf = np.empty((T, *actions.shape), actions.dtype)
            actions_buf[t] = actions
            next_obs, reward, terminated, truncated, infos = self.env.step(actions)
            done = terminated | truncated
            reward = np.asarray(reward, np.float64)
            if self.reward_scaler is not None:
                reward = self.reward_scaler.scale(reward, done)
            if done.any():
                reward = self._bootstrap_truncated(actor, reward, terminated, truncated, infos)
                episodes.extend(_finished_episodes(infos))
            rewards[t], dones[t] = reward, done
            self.obs = np.asarray(next_obs, dtype=self.ob_dtype)
        last_vpreds = actor.value(self.obs).astype(np.float32)
        return Segment(obs_buf, actions_buf, rewards, dones, vpreds, last_vpreds, episodes)

    def _bootstrap_truncated(
        self, actor: Actor, reward: np.ndarray, terminated: np.ndarray, truncated: np.ndarray, infos: dict
    ) -> np.ndarray:
        cut = np.flatnonzero(truncated & ~terminated)
        if len(cut):
            final_obs = np.stack([np.asarray(infos["final_obs"][i], dtype=self.ob_dtype) for i in cut])
            reward = reward.copy()
            reward[cut] += self.gamma * actor.value(final_obs)
        return reward


def _finished_episodes(infos: dict) -> list[tuple[float, int]]:
    """``(return, length)`` of each copy whose Monitor reported an episode end in this step."""
    final = infos.get("final_info", {})
    if "episode" not in final:
        return []
    stats, mask = final["episode"], final["_episode"]
    return [(float(stats["r"][i]), int(stats["l"][i])) for i in np.flatnonzero(mask)]
