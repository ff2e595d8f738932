"""Running whole episodes with a trained policy (``run.py --play``)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from baselines_tf2.common.actors import make_actor
from baselines_tf2.common.policies import Policy
from baselines_tf2.envs.action_masks import env_masks

__all__ = ["run_episodes"]


def run_episodes(
    policy: Policy,
    env: gym.Env,
    episodes: int,
    *,
    deterministic: bool = True,
    seed: int = 0,
    action_masking: str = "auto",
) -> list[float]:
    """Returns of ``episodes`` complete episodes of ``env`` (the Monitor's score when present).

    ``deterministic`` acts with the distribution's mode, as Baselines' ``--play`` does. The env
    is reset once per episode (not after the last one, so a video recorder records no extra episode).
    ``action_masking`` (``auto``, ``on``, ``off``): act with the env's action masks as training does
    (:mod:`baselines_tf2.envs.action_masks`), the mode and samples alike over the valid actions.
    """
    actor = make_actor(policy, np.random.default_rng(seed))
    returns: list[float] = []
    obs, info = env.reset(seed=seed)
    masks = env_masks(env, action_masking, info)
    total = 0.0
    while len(returns) < episodes:
        mask = None if masks is None else masks.current()
        action, _ = actor.step(np.asarray(obs)[None], stochastic=not deterministic, mask=mask)
        obs, reward, terminated, truncated, info = env.step(action[0])
        total += float(reward)
        if terminated or truncated:
            returns.append(float(info["episode"]["r"]) if "episode" in info else total)
            total = 0.0
            if len(returns) < episodes:
                obs, info = env.reset()
        if masks is not None and len(returns) < episodes:
            masks.update_copy(0, info)
    return returns
