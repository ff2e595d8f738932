"""The DeepMind Atari preprocessing used by the PPO paper, from gymnasium's wrappers where they exist.

gymnasium provides no-op reset, frame skip with max-pooling, 84x84 grey (``AtariPreprocessing``),
the frame stack (``FrameStackObservation``) and reward transforms. Two Baselines wrappers have no
gymnasium equivalent and live here:

* :class:`EpisodicLife` -- a lost life ends the *training* episode (value bootstrapping stops),
  but the game is only really reset when it is over. (``AtariPreprocessing(terminal_on_life_loss=True)``
  would reset the whole game at every life loss, which is not what Baselines or the paper did.)
* :class:`FireReset` -- presses FIRE after a reset for games that wait for it.

Stack order, as Baselines' ``make_atari`` + ``wrap_deepmind``: preprocessing -> Monitor (true game
score, whole games) -> EpisodicLife -> FireReset -> sign(reward) -> 4-frame stack (``[84, 84, 4]``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium.wrappers import AtariPreprocessing, FrameStackObservation, TransformObservation, TransformReward

__all__ = [
    "FRAME_SKIP",
    "FRAME_STACK",
    "NOOP_MAX",
    "SCREEN_SIZE",
    "EpisodicLife",
    "FireReset",
    "needs_fire",
    "wrap_atari",
]

# The paper's (DeepMind's) preprocessing, shared with the ALE vector backend (envs/ale_vector.py).
NOOP_MAX = 30
FRAME_SKIP = 4
SCREEN_SIZE = 84
FRAME_STACK = 4


class EpisodicLife(gym.Wrapper):
    """Signal ``terminated`` on every life loss; reset the game only when it is really over."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.lives = 0
        self.was_real_done = True

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.was_real_done = terminated or truncated
        lives = self.env.unwrapped.ale.lives()  # type: ignore[attr-defined]
        if 0 < lives < self.lives:
            terminated = True
        self.lives = lives
        return obs, reward, terminated, truncated, info

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        if self.was_real_done:
            obs, info = self.env.reset(**kwargs)
        else:
            obs, _, terminated, truncated, info = self.env.step(0)  # no-op to move past the lost life
            if terminated or truncated:
                obs, info = self.env.reset(**kwargs)
        self.lives = self.env.unwrapped.ale.lives()  # type: ignore[attr-defined]
        return obs, info


class FireReset(gym.Wrapper):
    """Press FIRE (then action 2) after reset, for games that do not start until FIRE is pressed."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        if not needs_fire(env):
            raise ValueError("FireReset needs action 1 to be FIRE")

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        self.env.reset(**kwargs)
        obs: Any = None
        info: dict[str, Any] = {}
        for action in (1, 2):
            obs, _, terminated, truncated, info = self.env.step(action)
            if terminated or truncated:
                obs, info = self.env.reset(**kwargs)
        return obs, info


def needs_fire(env: gym.Env) -> bool:
    """True for games whose action 1 is FIRE (Baselines' FireResetEnv condition)."""
    meanings = env.unwrapped.get_action_meanings()  # type: ignore[attr-defined]
    return len(meanings) >= 3 and meanings[1] == "FIRE"


def wrap_atari(
    env: gym.Env, *, train: bool, monitor: Callable[[gym.Env], gym.Env], frame_stack: int = FRAME_STACK
) -> gym.Env:
    """Apply the paper's preprocessing to a raw ALE env created with ``frameskip=1``.

    Args:
        env: ``gym.make(id, frameskip=1)`` of an ``ALE/...-v5`` or ``...NoFrameskip-v4`` game.
        train: add the training-only wrappers (life loss as episode end, sign of the reward).
        monitor: wraps the env at the point where the true score is visible (a ``Monitor``).
        frame_stack: how many frames make one observation.
    """
    env = AtariPreprocessing(
        env,
        noop_max=NOOP_MAX,
        frame_skip=FRAME_SKIP,
        screen_size=SCREEN_SIZE,
        terminal_on_life_loss=False,
        grayscale_obs=True,
    )
    env = monitor(env)
    if train:
        env = EpisodicLife(env)
    if needs_fire(env):
        env = FireReset(env)
    if train:
        env = TransformReward(env, lambda r: float(np.sign(float(r))))
    env = FrameStackObservation(env, frame_stack)
    stacked = env.observation_space
    assert isinstance(stacked, gym.spaces.Box)
    channels_last = gym.spaces.Box(
        low=np.moveaxis(stacked.low, 0, -1), high=np.moveaxis(stacked.high, 0, -1), dtype=stacked.dtype
    )
    return TransformObservation(env, lambda obs: np.moveaxis(obs, 0, -1), channels_last)
