"""Running whole episodes with a trained policy (``run.py --play``, and evaluation during training)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from baselines_tf2.common.actors import make_actor
from baselines_tf2.common.policies import Policy
from baselines_tf2.envs.action_masks import env_masks
from baselines_tf2.envs.dict_obs import pack_dict_env

__all__ = ["episode_stats", "run_episodes"]


def episode_stats(
    policy: Policy,
    env: gym.Env,
    episodes: int,
    *,
    deterministic: bool = True,
    seed: int = 0,
    reseed: bool = False,
    action_masking: str = "auto",
) -> list[tuple[float, int]]:
    """``(return, length)`` of ``episodes`` complete episodes of ``env`` (the Monitor's when present).

    ``deterministic`` acts with the distribution's mode, as Baselines' ``--play`` does; sampling
    draws from a generator of its own seeded with ``seed``, never from the training one. The first
    reset is seeded with ``seed``; with ``reseed`` episode ``i`` is reset with ``seed + i``, so each
    episode's start is fixed whatever was played before it (evaluation shares episodes among MPI
    ranks). The env is reset once per episode (not after the last one, so a video recorder records
    no extra episode). Acting only reads the policy: its observation normaliser is not updated. A
    recurrent policy carries its state from step to step and starts each episode from a zero state.
    ``action_masking`` (``auto``, ``on``, ``off``): act with the env's action masks as training does
    (:mod:`baselines_tf2.envs.action_masks`), the mode and samples alike over the valid actions.
    """
    actor = make_actor(policy, np.random.default_rng(seed))
    env = pack_dict_env(env)  # a Dict env's observations as the policy takes them (make_env's envs are packed already)
    stats: list[tuple[float, int]] = []
    obs, info = env.reset(seed=seed)
    masks = env_masks(env, action_masking, info)
    total, steps = 0.0, 0
    while len(stats) < episodes:
        mask = None if masks is None else masks.current()
        action, _ = actor.step(np.asarray(obs)[None], stochastic=not deterministic, mask=mask)
        obs, reward, terminated, truncated, info = env.step(action[0])
        total, steps = total + float(reward), steps + 1
        actor.end_episodes(np.array([terminated or truncated]))  # a recurrent policy's state restarts with the episode
        if terminated or truncated:
            episode = info.get("episode")
            stats.append((float(episode["r"]), int(episode["l"])) if episode else (total, steps))
            total, steps = 0.0, 0
            if len(stats) < episodes:
                obs, info = env.reset(seed=seed + len(stats)) if reseed else env.reset()
        if masks is not None and len(stats) < episodes:
            masks.update_copy(0, info)  # the info of the state acted on next
    return stats


def run_episodes(
    policy: Policy,
    env: gym.Env,
    episodes: int,
    *,
    deterministic: bool = True,
    seed: int = 0,
    action_masking: str = "auto",
) -> list[float]:
    """Returns of ``episodes`` complete episodes of ``env``; see :func:`episode_stats`."""
    stats = episode_stats(policy, env, episodes, deterministic=deterministic, seed=seed, action_masking=action_masking)
    return [ret for ret, _ in stats]
