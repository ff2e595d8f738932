"""Rollout collection from a vector env into a :class:`Segment`, handling episode ends once.

The vector env auto-resets in the same step (``AutoresetMode.SAME_STEP``), so every stored step is
a real transition. Episode ends:

* ``terminated`` (death, goal): the value after it is 0.
* ``truncated`` only (time limit): **not** a death. The step's ``bootstrap`` is
  ``gamma * V(final observation)``, the value the episode would have continued with, to be added to
  its reward by learners that bootstrap; the step is then an episode end like any other.
  (Baselines' PPO1/PPO2 and CleanRL treat truncation as death, which teaches V that time limits are
  cliffs.)

Two ways to collect: :meth:`RolloutCollector.collect` takes a fixed ``horizon`` of steps from every
copy (PPO; episodes continue into the next segment), :meth:`RolloutCollector.collect_episodes`
takes whole episodes until there are at least ``min_steps`` steps (the vanilla policy gradient,
whose weights need complete episodes). Returns/lengths of finished episodes come from each copy's
:class:`~baselines_tf2.envs.monitor.Monitor` (true game scores for Atari).

Exact resume: for a ``SyncVectorEnv`` the collector resets finished copies itself and remembers,
per copy, its generator's state (``env.np_random``) just before the reset that began its current
episode (:meth:`RolloutCollector.env_states`). A resumed run restores those states and resets each
copy again, so a copy that was at an episode boundary starts exactly the episode the uninterrupted
run started, and a copy stopped mid-episode restarts that episode. A copy still in its first
(seeded) episode, other vector envs and state outside ``np_random`` (ALE's own generator of sticky
actions) start anew.

Action masks: when the env provides them (:mod:`baselines_tf2.envs.action_masks`), the collector
reads each copy's mask of its current state after every reset and step, acts with it, and records
it in the segment (``masks``), so the learners apply the same masks to pi and pi_old.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np

from baselines_tf2.common.actors import Actor
from baselines_tf2.common.reward_scaler import RewardScaler
from baselines_tf2.envs.action_masks import vector_env_masks

__all__ = ["RolloutCollector", "Segment"]


@dataclass
class Segment:
    """Collected steps, time-major ``[T, N, ...]`` (N env copies on this rank)."""

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray  # float32 [T, N]: the env's rewards (scaled if scaling is on)
    bootstrap: np.ndarray  # float32 [T, N]: gamma * V(final obs) on time-limit truncations, else 0
    dones: np.ndarray  # bool [T, N]: an episode ended at this step
    vpreds: np.ndarray  # float32 [T, N]: V(obs) at acting time
    pdparams: np.ndarray  # float32 [T, N, param]: the acting policy's flat distribution parameters
    last_vpreds: np.ndarray  # float32 [N]: V(observation after the last step); 0 after complete episodes
    episodes: list[tuple[float, int]] = field(default_factory=list)  # (return, length) from Monitor
    masks: np.ndarray | None = None  # bool [T, N, param]: the valid actions at each step; None without masking

    @property
    def num_steps(self) -> int:
        return int(self.rewards.size)


class _Step(NamedTuple):
    obs: np.ndarray
    actions: np.ndarray
    vpreds: np.ndarray
    pdparams: np.ndarray
    rewards: np.ndarray
    bootstrap: np.ndarray
    dones: np.ndarray
    episodes: list[tuple[float, int]]
    masks: np.ndarray | None


class RolloutCollector:
    """Steps a vector env with an :class:`Actor`, keeping the current observations between calls.

    Args:
        env: a gymnasium vector env with ``AutoresetMode.SAME_STEP``.
        horizon: steps per env copy per :meth:`collect` (the paper's T).
        gamma: discount, for the truncation bootstrap.
        ob_dtype: dtype observations are stored in (the policy's input dtype).
        seeds: per-copy seeds for the first reset.
        reward_scaler: optional return-based reward scaling.
        env_states: :meth:`env_states` of the run being resumed (its copies' generators; see the module docstring).
        action_masking: ``auto``, ``on`` or ``off`` (see :mod:`baselines_tf2.envs.action_masks`).
    """

    def __init__(
        self,
        env: gym.vector.VectorEnv,
        horizon: int,
        gamma: float,
        ob_dtype: np.dtype,
        seeds: list[int] | None = None,
        reward_scaler: RewardScaler | None = None,
        env_states: list[dict | None] | None = None,
        action_masking: str = "auto",
    ) -> None:
        self.env = env
        self.horizon = horizon
        self.gamma = gamma
        self.ob_dtype = np.dtype(ob_dtype)
        self.reward_scaler = reward_scaler
        self.num_env = env.num_envs
        # SyncVectorEnv copies are stepped directly (see _env_step); SAME_STEP is checked by the learner.
        self._envs = list(env.envs) if isinstance(env, gym.vector.SyncVectorEnv) else None
        obs, infos = env.reset(seed=seeds)  # type: ignore[arg-type]  # vector envs take one seed per copy
        self.obs = np.array(obs, dtype=self.ob_dtype)
        self.action_masks = vector_env_masks(env, action_masking, infos)  # None: no masks to apply
        # Per copy: its generator's state before the reset that began its current episode (None: the seeded one).
        self._episode_rng: list[Any] = [None] * self.num_env
        if self._envs is not None and env_states is not None and len(env_states) == self.num_env:
            for i, state in enumerate(env_states):
                if state is not None:
                    self.obs[i] = self._reset_copy(i, state)
        self.masks = None if self.action_masks is None else self.action_masks.current()  # [N, param] bool

    @property
    def masked(self) -> bool:
        """Whether the segments carry action masks."""
        return self.action_masks is not None

    def env_states(self) -> list[Any]:
        """What a checkpoint keeps so that a resumed run restarts each copy's current episode exactly."""
        return list(self._episode_rng)

    def _reset_copy(self, i: int, rng_state: dict | None = None) -> np.ndarray:
        """Reset copy ``i`` (after setting its generator to ``rng_state``), remembering the generator's state before."""
        assert self._envs is not None  # only SyncVectorEnv copies are reset one by one
        env = self._envs[i]
        if rng_state is not None:
            generator = np.random.Generator(getattr(np.random, rng_state["bit_generator"])())
            generator.bit_generator.state = rng_state
            env.unwrapped.np_random = generator
        self._episode_rng[i] = env.unwrapped.np_random.bit_generator.state
        ob, info = env.reset()
        if self.action_masks is not None:
            self.action_masks.update_copy(i, info)
        return np.asarray(ob, self.ob_dtype)

    def _step(self, actor: Actor) -> _Step:
        """One vector step from the current observations."""
        obs, masks = self.obs, self.masks
        actions, vpreds, pdparams = actor.step_with_params(obs, mask=masks)
        next_obs, reward, terminated, truncated, final_obs, episodes = self._env_step(actions)
        if self.action_masks is not None:
            self.masks = self.action_masks.current()
        dones = terminated | truncated
        if self.reward_scaler is not None:
            reward = self.reward_scaler.scale(reward, dones)
        bootstrap = np.zeros(self.num_env)
        cut = [i for i in final_obs if truncated[i] and not terminated[i]]
        if cut:
            bootstrap[cut] = self.gamma * actor.final_value(np.stack([final_obs[i] for i in cut]), cut)
        self.obs = next_obs
        return _Step(obs, actions, vpreds, pdparams, reward, bootstrap, dones, episodes, masks)

    def _env_step(self, actions: np.ndarray):
        """Step every copy; returns next observations (the next episode's first after an end),
        rewards, terminated, truncated, ``{copy: final observation}`` and finished episodes.

        A ``SyncVectorEnv``'s copies are stepped here directly, with its ``SAME_STEP`` autoreset
        semantics: its own ``step`` turns every info key of every copy into arrays at every step,
        which on MuJoCo costs about a third of the simulator's time. Other vector envs are stepped
        through their ``step``.
        """
        n = self.num_env
        if self._envs is None:
            next_obs, reward, terminated, truncated, infos = self.env.step(actions)
            if self.action_masks is not None:
                self.action_masks.update_batched(infos)
            final_obs: dict[int, np.ndarray] = {}
            if (terminated | truncated).any():
                final_obs = {
                    int(i): np.asarray(infos["final_obs"][i], self.ob_dtype)
                    for i in np.flatnonzero(terminated | truncated)
                }
            # copies: with copy=False the env reuses its buffers
            return (
                np.array(next_obs, self.ob_dtype),
                np.array(reward, np.float64),
                np.array(terminated, bool),
                np.array(truncated, bool),
                final_obs,
                _finished_episodes(infos),
            )
        next_obs = np.empty_like(self.obs)
        reward, terminated, truncated = np.empty(n), np.empty(n, bool), np.empty(n, bool)
        final_obs = {}
        episodes: list[tuple[float, int]] = []
        info_masks = self.action_masks if self.action_masks is not None and self.action_masks.reads_infos else None
        for i, env in enumerate(self._envs):
            ob, reward[i], terminated[i], truncated[i], info = env.step(actions[i])
            if info_masks is not None and not (terminated[i] or truncated[i]):
                info_masks.update_copy(i, info)  # after an episode end, the reset's info (_reset_copy)
            if terminated[i] or truncated[i]:
                final_obs[i] = np.asarray(ob, self.ob_dtype)
                if "episode" in info:
                    episodes.append((float(info["episode"]["r"]), int(info["episode"]["l"])))
                ob = self._reset_copy(i)
            next_obs[i] = ob
        return next_obs, reward, terminated, truncated, final_obs, episodes

    def collect(self, actor: Actor) -> Segment:
        """``horizon`` vector steps; episodes in progress continue in the next call."""
        T, N = self.horizon, self.num_env
        obs_buf = np.empty((T, N, *self.obs.shape[1:]), self.ob_dtype)
        actions_buf: np.ndarray | None = None
        pdparams: np.ndarray | None = None
        rewards, bootstrap, vpreds = (np.empty((T, N), np.float32) for _ in range(3))
        dones = np.empty((T, N), bool)
        masks = None if self.masks is None else np.empty((T, *self.masks.shape), bool)
        episodes: list[tuple[float, int]] = []
        for t in range(T):
            step = self._step(actor)
            if actions_buf is None:
                actions_buf = np.empty((T, *step.actions.shape), step.actions.dtype)
                pdparams = np.empty((T, *step.pdparams.shape), np.float32)
            assert pdparams is not None
            obs_buf[t], actions_buf[t], vpreds[t], pdparams[t] = step.obs, step.actions, step.vpreds, step.pdparams
            rewards[t], bootstrap[t], dones[t] = step.rewards, step.bootstrap, step.dones
            if masks is not None:
                masks[t] = step.masks
            episodes.extend(step.episodes)
        last_vpreds = actor.value(self.obs).astype(np.float32)
        assert actions_buf is not None and pdparams is not None  # the horizon is at least one step
        buffers = (obs_buf, actions_buf, rewards, bootstrap, dones, vpreds, pdparams)
        return Segment(*buffers, last_vpreds, episodes, masks)

    def collect_episodes(self, actor: Actor, min_steps: int) -> Segment:
        """Whole episodes, at least ``min_steps`` steps in all, concatenated as one column ``[n, 1, ...]``.

        Steps all copies until the finished episodes hold ``min_steps`` steps, then drops the
        copies' unfinished episodes and resets the env, so the next call starts fresh episodes.
        """
        current: list[list[_Step]] = [[] for _ in range(self.num_env)]
        finished: list[tuple[int, list[_Step]]] = []  # (copy, steps of a whole episode)
        episodes: list[tuple[float, int]] = []
        total = 0
        while total < min_steps:
            step = self._step(actor)
            episodes.extend(step.episodes)
            for i in range(self.num_env):
                current[i].append(step)
                if step.dones[i]:
                    finished.append((i, current[i]))
                    total += len(current[i])
                    current[i] = []
        if self._envs is None:
            obs, infos = self.env.reset()
            self.obs = np.asarray(obs, dtype=self.ob_dtype)
            if self.action_masks is not None:
                self.action_masks.update_batched(infos)
        else:
            self.obs = np.stack([self._reset_copy(i) for i in range(self.num_env)])
        if self.action_masks is not None:
            self.masks = self.action_masks.current()
        if self.reward_scaler is not None:
            self.reward_scaler.reset_returns()
        rows = [(step, i) for i, steps in finished for step in steps]

        def column(name: str, dtype: Any = None) -> np.ndarray:
            values = np.stack([getattr(step, name)[i] for step, i in rows])
            return (values if dtype is None else values.astype(dtype))[:, None]

        return Segment(
            column("obs"),
            column("actions"),
            column("rewards", np.float32),
            column("bootstrap", np.float32),
            column("dones", bool),
            column("vpreds", np.float32),
            column("pdparams", np.float32),
            np.zeros(1, np.float32),
            episodes,
            None if self.masks is None else column("masks", bool),
        )


def _finished_episodes(infos: dict) -> list[tuple[float, int]]:
    """``(return, length)`` of each copy whose Monitor reported an episode end in this step."""
    final = infos.get("final_info", {})
    if "episode" not in final:
        return []
    stats, mask = final["episode"], final["_episode"]
    return [(float(stats["r"][i]), int(stats["l"][i])) for i in np.flatnonzero(mask)]
