"""Packing Dict observations where they leave the environment (see :mod:`baselines_tf2.common.dict_space`).

:class:`PackDictObservation` wraps one env copy: its observations become packed float32 vectors
and its ``observation_space`` a :class:`~baselines_tf2.common.dict_space.PackedDictSpace`, a
``Box`` that keeps the Dict. The rollouts, batches and compiled updates then see one ordinary
``Box`` observation; :class:`~baselines_tf2.common.dict_policy.DictPolicy` takes the packed space
(or the Dict) and unpacks inside its forward pass. ``make_env`` (so also ``make_vec_env`` and
``--play``) and ``as_vec_env`` (a user's env or ``SyncVectorEnv``) apply it to Dict envs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from baselines_tf2.common.dict_space import PackedDictSpace, pack
from baselines_tf2.errors import ConfigError

__all__ = ["PackDictObservation", "pack_dict_env", "pack_dict_vec_env"]


class PackDictObservation(gym.ObservationWrapper):
    """Dict observations as packed float32 vectors (gymnasium's ``flatten`` layout, float32)."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        if not isinstance(env.observation_space, spaces.Dict):
            raise ConfigError(f"PackDictObservation needs a Dict observation space, got {env.observation_space!r}")
        self.dict_space = env.observation_space
        self.observation_space = PackedDictSpace(env.observation_space)

    def observation(self, observation: Any) -> np.ndarray:
        return pack(self.dict_space, observation)


def pack_dict_env(env: gym.Env) -> gym.Env:
    """``env`` with :class:`PackDictObservation` if its observations are Dicts, else ``env`` itself."""
    return PackDictObservation(env) if isinstance(env.observation_space, spaces.Dict) else env


def pack_dict_vec_env(env: gym.vector.VectorEnv) -> gym.vector.VectorEnv:
    """A vector env of Dict observations rebuilt over its copies wrapped in :class:`PackDictObservation`.

    Only a ``SyncVectorEnv`` can be rebuilt (same copies, same autoreset mode); other vector envs
    of Dict observations are refused with one line (wrap their copies yourself). Envs without Dict
    observations are returned as they are.
    """
    if not isinstance(env.single_observation_space, spaces.Dict):
        return env
    if not isinstance(env, SyncVectorEnv):
        raise ConfigError(
            f"{type(env).__name__} of Dict observations: wrap each copy in "
            "baselines_tf2.envs.dict_obs.PackDictObservation, or use a SyncVectorEnv"
        )
    mode = env.metadata.get("autoreset_mode")
    kwargs: dict[str, Any] = {"autoreset_mode": mode} if isinstance(mode, AutoresetMode) else {}
    copies = [PackDictObservation(copy) for copy in env.envs]
    return SyncVectorEnv([_returning(c) for c in copies], copy=False, **kwargs)


def _returning(env: gym.Env) -> Callable[[], gym.Env]:
    return lambda: env
