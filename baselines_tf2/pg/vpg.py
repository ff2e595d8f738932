"""``learn()`` for the vanilla policy gradient (``--alg pg``; seed 001, Spinning Up's simplest PG).

Each iteration collects whole episodes until the batch has at least ``batch_size`` steps, weights
every step (``pg_weight``: the episode's return R(tau), the reward-to-go, or GAE advantages with a
learned value baseline), and takes **one** Adam step on ``-mean(log pi(a|s) * w)`` with the gradient
averaged over MPI ranks. With ``desired_kl > 0`` the step size adapts to the KL each step caused
(:func:`~baselines_tf2.pg.losses.adapt_stepsize`; the factor is kept in checkpoints). The run's
plumbing (envs, rollouts, logging, checkpoints: ``train/``), the policies and MpiAdam (``common/``)
are PPO's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from baselines_tf2.common.advantages import gae, normalize_advantages
from baselines_tf2.common.policies import Policy
from baselines_tf2.config import PGConfig, RunConfig, split_settings
from baselines_tf2.errors import ConfigError
from baselines_tf2.pg.losses import adapt_stepsize
from baselines_tf2.pg.state import PGState
from baselines_tf2.pg.update import PGUpdater
from baselines_tf2.pg.weights import episode_returns, rewards_to_go
from baselines_tf2.schedules import value_at
from baselines_tf2.train.checks import check_segment, checked_metrics, explained_variance
from baselines_tf2.train.rollout import Segment
from baselines_tf2.train.training import IterationInfo, TrainingRun

__all__ = ["learn"]


def learn(
    env: gym.Env | gym.vector.VectorEnv | str,
    policy_fn: Callable[[gym.Space, gym.Space], Policy],
    *,
    config: PGConfig | None = None,
    run_config: RunConfig | None = None,
    callback: Callable[[IterationInfo], bool | None] | None = None,
    comm: Any = None,
    eval_env: gym.Env | Callable[[], gym.Env] | None = None,
    **settings: Any,
) -> Policy:
    """Train a policy with the vanilla policy gradient and return it.

    Args:
        config, run_config: a :class:`~baselines_tf2.config.PGConfig` and a
            :class:`~baselines_tf2.config.RunConfig` to start from.
        settings: any field of either config by name, overriding them (see :mod:`baselines_tf2.config`).
        Other arguments: as :func:`baselines_tf2.ppo.learn`.
    """
    cfg, run_cfg = split_settings(settings, (PGConfig, config), (RunConfig, run_config))
    cfg.validate()
    state = PGState()
    run = TrainingRun(env, policy_fn, run_cfg, cfg, callback=callback, comm=comm, algo_state=state, eval_env=eval_env)
    if run.policy.recurrent:
        raise ConfigError(
            "the vanilla policy gradient trains feed-forward policies; recurrent ones (lstm, cnn_lstm) train with PPO"
        )
    fit_value = cfg.pg_weight == "gae"
    collector = run.make_collector(1)
    updater = PGUpdater(run.policy, run.optimizer, vf_coef=cfg.vf_coef if fit_value else 0.0, masked=collector.masked)
    try:
        while (frac := run.fraction_left()) is not None:
            seg = collector.collect_episodes(run.actor, cfg.batch_size)
            check_segment(seg, run.iteration + 1, comm)
            batch = _prepare_batch(seg, run, cfg)
            stepsize = value_at(cfg.optim_stepsize, frac) * float(state.stepsize_mult)
            metrics = checked_metrics(updater.step(batch, stepsize), run.optimizer, run.iteration + 1, comm)
            if cfg.desired_kl > 0:  # the ranks' mean KL: every rank takes the same next step size
                mult = float(state.stepsize_mult)
                state.stepsize_mult.assign(adapt_stepsize(mult, metrics["meankl"], cfg.desired_kl))
            if fit_value:
                metrics["explained_variance"] = explained_variance(seg.vpreds[:, 0], batch["vtarg"], comm)
            metrics.update(stepsize=stepsize, batch_steps=seg.num_steps)
            if not run.end_iteration(seg.num_steps, seg.episodes, metrics):
                break
    finally:
        run.release()  # SIGINT/SIGTERM handlers back, however training ended
    return run.close()


def _prepare_batch(seg: Segment, run: TrainingRun, cfg: PGConfig) -> dict[str, np.ndarray]:
    """The reward scaler's and the normaliser's statistics updated from the episodes, then the batch of one step."""
    if run.scaler is not None:
        run.scaler.update()
    obs = seg.obs[:, 0]
    if run.policy.ob_rms is not None:
        run.policy.ob_rms.update(obs)
    weights, vtarg = _weights(seg, cfg.pg_weight, cfg.gamma, cfg.lam)
    batch = {"ob": obs, "ac": seg.actions[:, 0], "weights": weights, "vtarg": vtarg}
    if seg.masks is not None:
        batch["mask"] = seg.masks[:, 0]
    return batch


def _weights(seg: Segment, pg_weight: str, gamma: float, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """``(w_t, value targets)`` for one column of complete episodes."""
    rewards, dones = seg.rewards[:, 0], seg.dones[:, 0]
    if pg_weight == "return":
        return episode_returns(rewards, dones), np.zeros_like(rewards)
    if pg_weight == "reward_to_go":
        return rewards_to_go(rewards, dones, gamma), np.zeros_like(rewards)
    adv, vtarg = gae(seg.rewards + seg.bootstrap, seg.vpreds, seg.dones, seg.last_vpreds, gamma, lam)
    return normalize_advantages(adv[:, 0]), vtarg[:, 0]
