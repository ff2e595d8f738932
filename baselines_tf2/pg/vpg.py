"""``learn()`` for the vanilla policy gradient (``--alg pg``; seed 001, Spinning Up's simplest PG).

Each iteration collects whole episodes until the batch has at least ``batch_size`` steps, weights
every step (``pg_weight``: the episode's return R(tau), the reward-to-go, or GAE advantages with a
learned value baseline), and takes **one** Adam step on ``-mean(log pi(a|s) * w)`` with the gradient
averaged over MPI ranks. Environments, policies, rollouts, MpiAdam, logging, checkpoints and the
CLI are PPO's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from baselines_tf2.common.advantages import gae, normalize_advantages
from baselines_tf2.common.policies import Policy
from baselines_tf2.common.rollout import RolloutCollector, Segment
from baselines_tf2.common.schedules import Schedule, value_at
from baselines_tf2.common.training import (
    IterationInfo,
    Limits,
    TrainingRun,
    check_segment,
    checked_metrics,
    explained_variance,
)
from baselines_tf2.errors import ConfigError
from baselines_tf2.pg.update import PGUpdater
from baselines_tf2.pg.weights import PG_WEIGHTS, episode_returns, rewards_to_go

__all__ = ["learn"]


def learn(
    env: gym.Env | gym.vector.VectorEnv | str,
    policy_fn: Callable[[gym.Space, gym.Space], Policy],
    *,
    batch_size: int = 5000,
    pg_weight: str = "reward_to_go",
    optim_stepsize: Schedule = 1e-2,
    gamma: float = 1.0,
    lam: float = 0.95,
    vf_coef: float = 1.0,
    adam_epsilon: float = 1e-8,
    max_grad_norm: float = 0.0,
    normalize_rewards: bool = False,
    max_timesteps: int = 0,
    max_episodes: int = 0,
    max_iters: int = 0,
    max_seconds: float = 0,
    schedule_timesteps: int = 0,
    callback: Callable[[IterationInfo], bool | None] | None = None,
    num_env: int = 1,
    seed: int = 0,
    log_path: str | None = None,
    save_path: str | None = None,
    load_path: str | None = None,
    save_interval: int = 0,
    save_every_seconds: float = 600.0,
    progress: bool = True,
    comm: Any = None,
) -> Policy:
    """Train a policy with the vanilla policy gradient and return it.

    Args:
        batch_size: minimum steps per gradient step (whole episodes; unfinished ones are dropped).
        pg_weight: ``"return"`` (R(tau), as seed 001), ``"reward_to_go"`` (discounted by
            ``gamma``; 1 = undiscounted) or ``"gae"`` (GAE(``gamma``, ``lam``) advantages, normalised,
            with the value network trained alongside, weighted by ``vf_coef``).
        optim_stepsize: Adam step size, constant or a callable of the fraction of training left.
        schedule_timesteps: the horizon of a callable step size (0: the limits); as in PPO's learn().
        Other arguments: as :func:`baselines_tf2.ppo.learn`.
    """
    _validate(batch_size=batch_size, pg_weight=pg_weight, optim_stepsize=optim_stepsize, gamma=gamma, lam=lam,
              vf_coef=vf_coef, adam_epsilon=adam_epsilon, num_env=num_env)  # fmt: skip
    run = TrainingRun(
        env, policy_fn, limits=Limits(max_timesteps, max_episodes, max_iters, max_seconds), adam_epsilon=adam_epsilon,
        max_grad_norm=max_grad_norm, normalize_rewards=normalize_rewards, gamma=gamma, num_env=num_env, seed=seed,
        log_path=log_path, save_path=save_path, load_path=load_path, save_interval=save_interval,
        save_every_seconds=save_every_seconds, progress=progress,
        callback=callback, comm=comm, schedule_timesteps=schedule_timesteps,
    )  # fmt: skip
    fit_value = pg_weight == "gae"
    updater = PGUpdater(run.policy, run.optimizer, vf_coef=vf_coef if fit_value else 0.0)
    collector = RolloutCollector(run.vec_env, 1, gamma, run.policy.ob_dtype.as_numpy_dtype, seeds=run.seeds,
                                 reward_scaler=run.scaler)  # fmt: skip

    try:
        while (frac := run.fraction_left()) is not None:
            seg = collector.collect_episodes(run.actor, batch_size)
            check_segment(seg, run.iteration + 1, comm)
            if run.scaler is not None:
                run.scaler.update()
            obs = seg.obs[:, 0]
            if run.policy.ob_rms is not None:
                run.policy.ob_rms.update(obs)
            weights, vtarg = _weights(seg, pg_weight, gamma, lam)
            stepsize = value_at(optim_stepsize, frac)
            batch = {"ob": obs, "ac": seg.actions[:, 0], "weights": weights, "vtarg": vtarg}
            metrics = checked_metrics(updater.step(batch, stepsize), run.optimizer, run.iteration + 1, comm)
            if fit_value:
                metrics["explained_variance"] = explained_variance(seg.vpreds[:, 0], vtarg, comm)
            metrics.update(stepsize=stepsize, batch_steps=seg.num_steps)
            if not run.end_iteration(seg.num_steps, seg.episodes, metrics):
                break
    finally:
        run.release()  # SIGINT/SIGTERM handlers back, however training ended
    return run.close()


def _weights(seg: Segment, pg_weight: str, gamma: float, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """``(w_t, value targets)`` for one column of complete episodes."""
    rewards, dones = seg.rewards[:, 0], seg.dones[:, 0]
    if pg_weight == "return":
        return episode_returns(rewards, dones), np.zeros_like(rewards)
    if pg_weight == "reward_to_go":
        return rewards_to_go(rewards, dones, gamma), np.zeros_like(rewards)
    adv, vtarg = gae(seg.rewards + seg.bootstrap, seg.vpreds, seg.dones, seg.last_vpreds, gamma, lam)
    return normalize_advantages(adv[:, 0]), vtarg[:, 0]


def _validate(*, batch_size, pg_weight, optim_stepsize, gamma, lam, vf_coef, adam_epsilon, num_env) -> None:
    for name, value in (("batch_size", batch_size), ("num_env", num_env)):
        if not isinstance(value, (int, np.integer)) or value <= 0:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    if pg_weight not in PG_WEIGHTS:
        raise ConfigError(f"pg_weight must be one of {', '.join(PG_WEIGHTS)}, got {pg_weight!r}")
    start = value_at(optim_stepsize, 1.0)
    if not np.isfinite(start) or start <= 0:
        raise ConfigError(f"optim_stepsize must be > 0, got {start}")
    for name, value in (("gamma", gamma), ("lam", lam)):
        if not 0.0 <= value <= 1.0:
            raise ConfigError(f"{name} must be in [0, 1], got {value}")
    if not np.isfinite(vf_coef) or vf_coef < 0:
        raise ConfigError(f"vf_coef must be >= 0, got {vf_coef}")
    if not adam_epsilon > 0:
        raise ConfigError(f"adam_epsilon must be > 0, got {adam_epsilon}")
