"""Atari on ale_py's C++ vector environment (``--env_backend ale_vector``), an optional backend.

``ale_py.AtariVectorEnv`` (ale_py's port of EnvPool's Atari) steps all copies in C++ threads
and does the DeepMind preprocessing itself: no-op reset (30), frame skip 4 with max-pooling over
the last two frames, 84x84 grey, a 4-frame stack, FIRE on reset. :class:`AleVectorEnv` wraps it
so the rollout sees what :func:`~baselines_tf2.envs.make.make_vec_env`'s gymnasium Atari gives:

* observations channels-last ``[N, 84, 84, 4]`` uint8;
* training rewards ``sign(r)`` (times ``reward_scale``), a lost life ends the training episode
  (``terminated``) without resetting the game, ``AutoresetMode.SAME_STEP`` with
  ``info["final_obs"]``;
* the true game score and length of whole games in ``info["final_info"]["episode"]`` and in
  Baselines monitor files (:class:`~baselines_tf2.envs.monitor.MonitorLog`), as the ``Monitor``
  wrapper does for gymnasium copies.

The sticky-action probability, action set and frame limit come from the id's registration
(``ALE/...-v5``: 0.25, minimal actions, 108,000 frames), as ``gymnasium.make`` would use them.

Differences from the gymnasium stack remain, all ALE's own behaviour: a game's first stack is
padded with blank frames (gymnasium repeats the first screen), after a lost life the stack
continues (the gymnasium path's ``EpisodicLife`` + ``FrameStackObservation`` restart it), and
FIRE is pressed only at game starts, not after each lost life (the agent presses it). Playing
and evaluation always use the gymnasium env.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from baselines_tf2.envs.atari_wrappers import FRAME_SKIP, FRAME_STACK, NOOP_MAX, SCREEN_SIZE
from baselines_tf2.envs.monitor import MonitorLog
from baselines_tf2.errors import ConfigError

__all__ = ["AleVectorEnv"]


class AleVectorEnv(gym.vector.VectorEnv):
    """``num_envs`` copies of an Atari id in one ``ale_py.AtariVectorEnv``, preprocessed for training.

    Args:
        env_id: a registered ALE id (``ALE/Pong-v5``, ``PongNoFrameskip-v4``, ...).
        num_envs: copies.
        num_threads: C++ threads stepping the copies (0: one per copy, up to the cores).
        monitor_files: one monitor path per copy (``None`` entries or no list: in memory only).
        reward_scale: constant multiplier of the signed training reward.
        max_frames: emulator frames after which a game is truncated (default: the id's, 108,000).
    """

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(
        self,
        env_id: str,
        num_envs: int,
        *,
        num_threads: int = 0,
        monitor_files: list[str | None] | None = None,
        reward_scale: float = 1.0,
        max_frames: int | None = None,
        repeat_action_probability: float | None = None,
    ) -> None:
        import ale_py  # noqa: PLC0415 (ale_py is only needed for Atari)

        gym.register_envs(ale_py)
        spec = gym.spec(env_id)
        kwargs = spec.kwargs
        if "game" not in kwargs:
            raise ConfigError(f"--env_backend ale_vector needs an ALE id, got {env_id!r}")
        frame_limit = int(kwargs.get("max_num_frames_per_episode", 108_000)) if max_frames is None else max_frames
        self.ale = _ale_vector_class()(
            kwargs["game"],
            num_envs,
            num_threads=num_threads,
            autoreset_mode=AutoresetMode.SAME_STEP,
            repeat_action_probability=float(
                kwargs.get("repeat_action_probability", 0.25)
                if repeat_action_probability is None
                else repeat_action_probability
            ),
            full_action_space=bool(kwargs.get("full_action_space", False)),
            max_num_frames_per_episode=frame_limit,
            img_height=SCREEN_SIZE,
            img_width=SCREEN_SIZE,
            grayscale=True,
            stack_num=FRAME_STACK,
            frameskip=FRAME_SKIP,
            maxpool=True,
            noop_max=NOOP_MAX,
            episodic_life=False,
            life_loss_info=True,
            reward_clipping=False,
            use_fire_reset=True,
        )
        self.spec = spec
        self.num_envs = num_envs
        self.single_observation_space = gym.spaces.Box(0, 255, (SCREEN_SIZE, SCREEN_SIZE, FRAME_STACK), np.uint8)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.single_action_space = self.ale.single_action_space
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.reward_scale = float(reward_scale)
        files = monitor_files or [None] * num_envs
        self.logs = [MonitorLog(path, env_id) for path in files]
        self._returns = np.zeros(num_envs)
        self._lengths = np.zeros(num_envs, np.int64)
        self._frames = np.zeros(num_envs, np.int64)
        self._lives = np.zeros(num_envs, np.int64)

    def reset(
        self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start new games (``seed``: one int, or one per copy; ``options["reset_mask"]``: only those copies)."""
        seeds: Any = None
        if seed is not None:
            seeds = int(seed) if isinstance(seed, (int, np.integer)) else np.asarray(seed, np.int64)
        obs, info = self.ale.reset(seed=seeds, options=options)
        mask = np.ones(self.num_envs, bool) if not options or "reset_mask" not in options else options["reset_mask"]
        self._returns[mask] = 0.0
        self._lengths[mask] = 0
        self._frames[mask] = np.asarray(info["episode_frame_number"])[mask]
        self._lives[mask] = np.asarray(info["lives"])[mask]
        return _channels_last(obs), info

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.ale.step(np.asarray(actions))
        reward = np.asarray(reward, np.float64)
        self._returns += reward
        self._lengths += 1
        frames = np.asarray(info["episode_frame_number"], np.int64)
        lives = np.asarray(info["lives"], np.int64)
        # A new game started in this step (SAME_STEP autoreset) iff the episode's frame count did not
        # simply advance by one agent step, or the lives went back up; a lost life ends only the
        # training episode.
        done = terminated | truncated
        game_over = done & ((frames != self._frames + FRAME_SKIP) | (lives > self._lives))
        self._frames, self._lives = frames, lives
        info = dict(info)
        if done.any():
            # the rollout reads the last observation of every ended episode (life losses: the current one)
            info["final_obs"] = _channels_last(info.get("final_obs", obs))
        if game_over.any():
            stats = {"r": np.zeros(self.num_envs), "l": np.zeros(self.num_envs, np.int64), "t": np.zeros(self.num_envs)}
            for i in np.flatnonzero(game_over):
                episode = self.logs[i].episode(self._returns[i], int(self._lengths[i]))
                stats["r"][i], stats["l"][i], stats["t"][i] = episode["r"], episode["l"], episode["t"]
                self._returns[i], self._lengths[i] = 0.0, 0
            info["final_info"] = {"episode": stats, "_episode": game_over}
        return _channels_last(obs), np.sign(reward) * self.reward_scale, terminated, truncated, info

    def close_extras(self, **kwargs: Any) -> None:
        for log in self.logs:
            log.close()
        self.ale.close()


@cache
def _ale_vector_class() -> type:
    """``ale_py.AtariVectorEnv`` with metadata of its own.

    Its constructor writes ``self.metadata["autoreset_mode"]``; without this subclass that write
    lands in gymnasium's class-level ``VectorEnv.metadata`` and makes every vector env without its
    own metadata claim SAME_STEP autoreset.
    """
    from ale_py import AtariVectorEnv  # noqa: PLC0415 (ale_py is only needed for Atari)

    return type("_AleVector", (AtariVectorEnv,), {"metadata": dict(AtariVectorEnv.metadata)})


def _channels_last(obs: np.ndarray) -> np.ndarray:
    """``[N, stack, H, W]`` -> ``[N, H, W, stack]`` (the CNN's layout; a view, copied by the rollout)."""
    return np.moveaxis(obs, 1, -1)
