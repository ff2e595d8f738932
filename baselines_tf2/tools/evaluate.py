"""Running whole episodes with a trained policy (``run.py --play``)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from baselines_tf2.common.actors import make_actor
from baselines_tf2.common.policies import Policy

__all__ = ["run_episodes"]


def run_episodes(
    policy: Policy, env: gym.Env, episodes: int, *, deterministic: bool = True, seed: int = 0
) -> list[float]:
    """Returns of ``episodes`` complete episodes of ``env`` (the Monitor's score when present).

    ``deterministic`` acts with the distribution's mode, as Baselines' ``--play`` does. The env
    is reset once per episode (not after the last one, so a video recorder records no extra episode).
    """
    actor = make_actor(policy, np.random.default_rng(seed))
    returns: list[float] = []
    obs, _ = env.reset(seed=seed)
    total = 0.0
    while len(returns) < episodes:
        action, _ = actor.step(np.asarray(obs)[None], stochastic=not deterministic)
        obs, reward, terminated, truncated, info = env.step(action[0])
        total += float(reward)
        if terminated or truncated:
            returns.append(float(info["episode"]["r"]) if "episode" in info else total)
            total = 0.0
            if len(returns) < episodes:
                obs, _ = env.reset()
    return returns
