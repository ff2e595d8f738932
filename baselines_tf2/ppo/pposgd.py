"""``learn()``: PPO training, Baselines' ``pposgd_simple.learn`` with PPO2's extras.

Keyword -> paper symbol (Schulman et al. 2017):

======================================  =======================================================
``timesteps_per_actorbatch``            T, the horizon (steps per env copy per iteration)
``clip_param``                          epsilon in clip(r_t, 1 - epsilon, 1 + epsilon)
``loss``                                the surrogate: L^CLIP, none (L^CPI), L^KLPEN (fixed or adaptive beta)
``kl_beta``, ``kl_target``              beta (initial beta when adaptive), d_targ
``entcoeff``                            c2, entropy bonus
``vf_coef``                             c1, value-loss coefficient
``optim_epochs``                        K, epochs per iteration
``optim_stepsize``                      Adam step size
``optim_batchsize``                     M, minibatch size
``gamma``, ``lam``                      gamma (discount), lambda (GAE)
``schedule``                            alpha, multiplier of step size and clip range (PPO1)
``num_env``                             N, actors per MPI rank (N x ranks actors in all)
======================================  =======================================================

One iteration: collect T steps from each env copy (an MLP acts through a NumPy mirror of itself),
compute GAE, update the observation normaliser from all ranks, record the policy's distribution
on the batch (``pi_old``, so the first ratio is exactly 1), run up to K epochs of minibatch Adam
with the gradient averaged over ranks (stopping early past ``target_kl``), adapt beta if asked,
then log and checkpoint on rank 0.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from baselines_tf2.common.advantages import gae, normalize_advantages
from baselines_tf2.common.policies import Policy
from baselines_tf2.common.reward_scaler import RewardScaler
from baselines_tf2.config import PPOConfig, RunConfig, split_settings
from baselines_tf2.errors import ConfigError
from baselines_tf2.mpi import mpi_util
from baselines_tf2.ppo.losses import adapt_kl_beta
from baselines_tf2.ppo.recurrent_update import RecurrentPPOUpdater, recurrent_pi_old
from baselines_tf2.ppo.state import PPOState
from baselines_tf2.ppo.update import PPOBatch, PPOUpdater
from baselines_tf2.schedules import value_at
from baselines_tf2.train.checks import check_segment, checked_metrics, explained_variance
from baselines_tf2.train.rollout import Segment
from baselines_tf2.train.training import IterationInfo, TrainingRun

__all__ = ["IterationInfo", "learn", "run_epochs"]

PolicyFn = Callable[[gym.Space, gym.Space], Policy]


def learn(
    env: gym.Env | gym.vector.VectorEnv | str,
    policy_fn: PolicyFn,
    *,
    config: PPOConfig | None = None,
    run_config: RunConfig | None = None,
    callback: Callable[[IterationInfo], bool | None] | None = None,
    comm: Any = None,
    eval_env: gym.Env | Callable[[], gym.Env] | None = None,
    **settings: Any,
) -> Policy:
    """Train a policy with PPO and return it (Baselines' ``learn(env, policy_fn, **kwargs)``).

    Args:
        env: a gymnasium env, a vector env (``AutoresetMode.SAME_STEP``, sub-envs wrapped in
            :class:`~baselines_tf2.envs.monitor.Monitor`), or an env id (built with ``num_env``
            copies per rank).
        policy_fn: ``policy_fn(ob_space, ac_space) -> Policy``, e.g. ``MlpPolicy``.
        config, run_config: a :class:`~baselines_tf2.config.PPOConfig` and a
            :class:`~baselines_tf2.config.RunConfig` to start from (default: their defaults).
        callback: called with an :class:`IterationInfo` after each iteration; ``False`` stops.
        comm: MPI communicator (default: all ranks).
        eval_env: with ``eval_every``, the env of the evaluations, or a function making one (needed when
            ``env`` is not an id; see :mod:`baselines_tf2.train.evaluation`).
        settings: any field of either config by name (``max_timesteps=1_000_000``, ``clip_param=0.1``,
            ...), overriding ``config`` / ``run_config``; each is documented in
            :mod:`baselines_tf2.config`. At least one stop limit is required.
    """
    cfg, run_cfg = split_settings(settings, (PPOConfig, config), (RunConfig, run_config))
    cfg.validate()
    state = PPOState(cfg.kl_beta)
    run = TrainingRun(env, policy_fn, run_cfg, cfg, callback=callback, comm=comm, algo_state=state, eval_env=eval_env)
    batch_size = cfg.timesteps_per_actorbatch * run.n_env
    if cfg.optim_batchsize > batch_size:
        shape = f"{cfg.timesteps_per_actorbatch} x {run.n_env} envs"
        raise ConfigError(f"optim_batchsize {cfg.optim_batchsize} is larger than the batch ({shape})")
    collector = run.make_collector(cfg.timesteps_per_actorbatch)
    updater = _make_updater(run, cfg, state, collector.masked, comm)
    step_size, clip_range = cfg.step_size_and_clip()
    try:
        while (frac := run.fraction_left()) is not None:
            stepsize, clip = value_at(step_size, frac), value_at(clip_range, frac)
            seg = collector.collect(run.actor)
            check_segment(seg, run.iteration + 1, comm)
            batch = _prepare_batch(seg, run.policy, run.scaler, cfg.gamma, cfg.lam)
            updater.load_batch(batch)
            if isinstance(updater, RecurrentPPOUpdater):
                updater.load_sequences(seg)
            epochs = run_epochs(
                updater, run.rng, batch_size, cfg.optim_batchsize, cfg.optim_epochs, stepsize, clip, cfg.target_kl, comm
            )
            metrics = checked_metrics(updater.evaluate(clip), run.optimizer, run.iteration + 1, comm)
            beta = float(state.kl_beta)
            if cfg.loss == "adaptive_kl":
                state.kl_beta.assign(adapt_kl_beta(beta, metrics["meankl"], cfg.kl_target))
            ev = explained_variance(seg.vpreds.reshape(-1), batch.vtarg, comm)
            metrics.update(explained_variance=ev, stepsize=stepsize, clip_param=clip, kl_beta=beta, epochs_run=epochs)
            if not run.end_iteration(seg.num_steps, seg.episodes, metrics):
                break
    finally:
        run.release()  # SIGINT/SIGTERM handlers back, however training ended
    return run.close()


def _make_updater(run: TrainingRun, cfg: PPOConfig, state: PPOState, masked: bool, comm: Any) -> PPOUpdater:
    """The update of this run: minibatches of whole env sequences for a recurrent policy
    (``ppo/recurrent_update.py``), shuffled steps otherwise."""
    loss = dict(loss=cfg.loss, entcoeff=cfg.entcoeff, vf_coef=cfg.vf_coef, vf_clip=cfg.vf_clip, kl_beta=state.kl_beta)
    shared = dict(comm=comm, mpi_update=cfg.mpi_update, masked=masked, **loss)
    if run.policy.recurrent:
        layout = dict(horizon=cfg.timesteps_per_actorbatch, num_env=run.n_env, minibatch_size=cfg.optim_batchsize)
        return RecurrentPPOUpdater(run.policy, run.optimizer, **layout, **shared)
    return PPOUpdater(run.policy, run.optimizer, **shared)


def run_epochs(
    updater: PPOUpdater,
    rng: np.random.Generator,
    batch_size: int,
    minibatch_size: int,
    epochs: int,
    stepsize: float,
    clip_param: float,
    target_kl: float,
    comm: Any = None,
) -> int:
    """Up to ``epochs`` passes over freshly shuffled minibatches; returns how many ran.

    With ``target_kl > 0``, stops after the first epoch whose mean approximate KL, averaged over
    ranks (so every rank takes the same decision), exceeds ``1.5 * target_kl``. An updater with a
    ``minibatches(rng)`` method draws each epoch's minibatch rows itself (recurrent policies: whole
    env sequences, :class:`RecurrentPPOUpdater`); otherwise they are a shuffle of the batch's rows.
    """
    n_minibatches = batch_size // minibatch_size
    minibatches = getattr(updater, "minibatches", None)
    for epoch in range(1, epochs + 1):
        if minibatches is not None:
            perm = minibatches(rng)
        else:
            perm = rng.permutation(batch_size)[: n_minibatches * minibatch_size].reshape(n_minibatches, minibatch_size)
        metrics = updater.run_epoch(perm, stepsize, clip_param)
        if target_kl > 0 and float(mpi_util.allreduce_mean(np.array([metrics["approxkl"]]), comm)[0]) > 1.5 * target_kl:
            return epoch
    return epochs


def _prepare_batch(seg: Segment, policy: Policy, scaler: RewardScaler | None, gamma: float, lam: float) -> PPOBatch:
    """GAE, normaliser updates and ``pi_old`` for a segment, flattened to ``[T*N, ...]``.

    ``pi_old`` is recorded as the network's flat parameters; with action masking the batch carries
    each step's mask, which the loss applies to pi_old and pi alike (so the first ratio is 1 too).
    """
    adv, tdlamret = gae(seg.rewards + seg.bootstrap, seg.vpreds, seg.dones, seg.last_vpreds, gamma, lam)
    if scaler is not None:
        scaler.update()
    obs = seg.obs.reshape(-1, *seg.obs.shape[2:])
    if policy.ob_rms is not None:
        policy.ob_rms.update(obs)
    if policy.recurrent:
        # Whole env sequences from the states the rollout acted with, after the normaliser update: ratio exactly 1.
        oldpdparam, oldvpred = recurrent_pi_old(policy, seg)
    elif policy.ob_rms is not None:
        # pi_old is recorded after the normaliser update (PPO1's order), so the first ratio is exactly 1.
        oldpdparam, oldvpred = policy.forward_numpy(obs)
    else:
        # Nothing moved since acting: pi_old is what the rollout computed (a CNN forward pass of the batch saved).
        oldpdparam, oldvpred = seg.pdparams.reshape(len(obs), -1), seg.vpreds.reshape(-1)
    return PPOBatch(
        ob=obs,
        ac=seg.actions.reshape(-1, *seg.actions.shape[2:]),
        atarg=normalize_advantages(adv.reshape(-1)),
        vtarg=tdlamret.reshape(-1),
        oldpdparam=oldpdparam.astype(np.float32),
        oldvpred=oldvpred.astype(np.float32),
        mask=None if seg.masks is None else seg.masks.reshape(len(obs), -1),
    )
