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

One iteration: collect T steps from each env copy (acting through a NumPy mirror of the policy),
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

from baselines_tf2.common import mpi_util
from baselines_tf2.common.advantages import gae, normalize_advantages
from baselines_tf2.common.policies import Policy
from baselines_tf2.common.reward_scaler import RewardScaler
from baselines_tf2.common.rollout import RolloutCollector, Segment
from baselines_tf2.common.schedules import Schedule, lr_multiplier, value_at
from baselines_tf2.common.training import (
    IterationInfo,
    Limits,
    TrainingRun,
    check_segment,
    checked_metrics,
    explained_variance,
)
from baselines_tf2.errors import ConfigError
from baselines_tf2.ppo.losses import POLICY_LOSSES, adapt_kl_beta
from baselines_tf2.ppo.update import MPI_UPDATES, PPOUpdater

__all__ = ["IterationInfo", "learn", "run_epochs"]

PolicyFn = Callable[[gym.Space, gym.Space], Policy]


def learn(
    env: gym.Env | gym.vector.VectorEnv | str,
    policy_fn: PolicyFn,
    *,
    timesteps_per_actorbatch: int = 2048,
    clip_param: Schedule = 0.2,
    entcoeff: float = 0.0,
    optim_epochs: int = 10,
    optim_stepsize: Schedule = 3e-4,
    optim_batchsize: int = 64,
    gamma: float = 0.99,
    lam: float = 0.95,
    max_timesteps: int = 0,
    max_episodes: int = 0,
    max_iters: int = 0,
    max_seconds: float = 0,
    schedule_timesteps: int = 0,
    callback: Callable[[IterationInfo], bool | None] | None = None,
    adam_epsilon: float = 1e-5,
    schedule: str = "constant",
    loss: str = "clip",
    kl_beta: float = 1.0,
    kl_target: float = 0.01,
    target_kl: float = 0.0,
    vf_coef: float = 1.0,
    vf_clip: bool = False,
    max_grad_norm: float = 0.0,
    normalize_rewards: bool = False,
    num_env: int = 1,
    seed: int = 0,
    log_path: str | None = None,
    save_path: str | None = None,
    load_path: str | None = None,
    save_interval: int = 0,
    save_every_seconds: float = 600.0,
    progress: bool = True,
    mpi_update: str = "auto",
    comm: Any = None,
) -> Policy:
    """Train a policy with PPO and return it.

    Args:
        env: a gymnasium env, a vector env (``AutoresetMode.SAME_STEP``, sub-envs wrapped in
            :class:`~baselines_tf2.common.monitor.Monitor`), or an env id (built with ``num_env``
            copies per rank).
        policy_fn: ``policy_fn(ob_space, ac_space) -> Policy``, e.g. ``MlpPolicy``.
        clip_param, optim_stepsize: constants or callables of the fraction of training left.
        max_timesteps, max_episodes, max_iters, max_seconds: stop at the first limit reached
            (0 = no limit; at least one is required). Timesteps and episodes count all ranks and,
            when resuming, what the checkpoint had done already.
        schedule_timesteps: the horizon of the schedules in timesteps (all ranks), when it is not
            the stop limit: alpha and callable schedules reach 0 there, so a run can follow a
            longer run's schedule and stop early (the paper's Atari alpha falls over 40M frames,
            ``schedule_timesteps=10_000_000`` agent steps). 0: the limits set the horizon. Kept
            in checkpoints: a resumed run follows the same horizon unless given another.
        schedule: ``"constant"`` or ``"linear"``: multiplier alpha of step size and clip range.
        loss: ``"clip"`` (L^CLIP), ``"none"`` (r_t A_t), ``"fixed_kl"`` (L^KLPEN with beta =
            ``kl_beta``) or ``"adaptive_kl"`` (beta starts at ``kl_beta`` and is halved or doubled
            after each update when the mean KL is below ``kl_target / 1.5`` or above
            ``1.5 kl_target``; checkpointed).
        target_kl: if > 0, stop an iteration's remaining epochs once an epoch's mean approximate
            KL (over all ranks) exceeds ``1.5 target_kl``.
        vf_clip: clip the value loss around the old predictions (PPO2).
        max_grad_norm: clip the averaged gradient's global norm (0 = off).
        normalize_rewards: divide rewards by the running std of discounted returns (VecNormalize).
        num_env: env copies per rank when ``env`` is an id.
        seed: rank r's env copy i is seeded ``seed + 10000 r + i``; policy init and sampling too.
        log_path: folder for ``progress.csv``, TensorBoard and monitor files (rank 0 logs).
        save_path: folder for checkpoints (rank 0 saves every ``save_interval`` iterations, every
            ``save_every_seconds`` of wall time, and at the end; the newest 5 are kept).
        save_every_seconds: wall-time interval of periodic saves when ``save_path`` is set (0 = off).
        load_path: checkpoint folder or prefix to resume from (counters continue).
        progress: show a tqdm progress bar on a terminal.
        mpi_update: how ranks share the update: ``"allgather"`` (exchange the batch once per
            iteration, then identical local steps on the union of the ranks' minibatches),
            ``"allreduce"`` (all-reduce each minibatch's gradient) or ``"auto"`` (allgather for MLPs,
            allreduce for CNNs). Both take MpiAdam's averaged-gradient steps; no effect on one rank.
        comm: MPI communicator (default: all ranks).
    """
    _validate(
        timesteps_per_actorbatch=timesteps_per_actorbatch, optim_epochs=optim_epochs, optim_batchsize=optim_batchsize,
        gamma=gamma, lam=lam, clip_param=clip_param, optim_stepsize=optim_stepsize, num_env=num_env, schedule=schedule,
        save_interval=save_interval, entcoeff=entcoeff, vf_coef=vf_coef, adam_epsilon=adam_epsilon,
        max_grad_norm=max_grad_norm, loss=loss, kl_beta=kl_beta, kl_target=kl_target, target_kl=target_kl,
        mpi_update=mpi_update,
    )  # fmt: skip
    run = TrainingRun(
        env, policy_fn, limits=Limits(max_timesteps, max_episodes, max_iters, max_seconds), adam_epsilon=adam_epsilon,
        max_grad_norm=max_grad_norm, normalize_rewards=normalize_rewards, gamma=gamma, num_env=num_env, seed=seed,
        log_path=log_path, save_path=save_path, load_path=load_path, save_interval=save_interval,
        save_every_seconds=save_every_seconds, progress=progress,
        callback=callback, comm=comm, schedule_timesteps=schedule_timesteps, kl_beta=kl_beta,
    )  # fmt: skip
    batch_size = timesteps_per_actorbatch * run.n_env
    if optim_batchsize > batch_size:
        raise ConfigError(
            f"optim_batchsize {optim_batchsize} is larger than the batch ({timesteps_per_actorbatch} x {run.n_env} envs)"
        )
    updater = PPOUpdater(run.policy, run.optimizer, entcoeff=entcoeff, vf_coef=vf_coef, vf_clip=vf_clip, comm=comm,
                         loss=loss, kl_beta=run.state.kl_beta, mpi_update=mpi_update)  # fmt: skip
    collector = RolloutCollector(run.vec_env, timesteps_per_actorbatch, gamma, run.policy.ob_dtype.as_numpy_dtype,
                                 seeds=run.seeds, reward_scaler=run.scaler)  # fmt: skip
    lrmult = lr_multiplier(schedule)

    try:
        while (frac := run.fraction_left()) is not None:
            alpha = lrmult(frac)
            stepsize, clip = value_at(optim_stepsize, frac) * alpha, value_at(clip_param, frac) * alpha
            seg = collector.collect(run.actor)
            check_segment(seg, run.iteration + 1, comm)
            batch = _prepare_batch(seg, run.policy, run.scaler, gamma, lam)
            updater.load_batch(batch)
            epochs = run_epochs(
                updater, run.rng, batch_size, optim_batchsize, optim_epochs, stepsize, clip, target_kl, comm
            )
            metrics = checked_metrics(updater.evaluate(clip), run.optimizer, run.iteration + 1, comm)
            beta = float(run.state.kl_beta)
            if loss == "adaptive_kl":
                run.state.kl_beta.assign(adapt_kl_beta(beta, metrics["meankl"], kl_target))
            metrics.update(explained_variance=explained_variance(batch["vpred_rollout"], batch["vtarg"], comm),
                           stepsize=stepsize, clip_param=clip, kl_beta=beta, epochs_run=epochs)  # fmt: skip
            if not run.end_iteration(seg.num_steps, seg.episodes, metrics):
                break
    finally:
        run.release()  # SIGINT/SIGTERM handlers back, however training ended
    return run.close()


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
    ranks (so every rank takes the same decision), exceeds ``1.5 * target_kl``.
    """
    n_minibatches = batch_size // minibatch_size
    for epoch in range(1, epochs + 1):
        perm = rng.permutation(batch_size)[: n_minibatches * minibatch_size].reshape(n_minibatches, minibatch_size)
        metrics = updater.run_epoch(perm, stepsize, clip_param)
        if target_kl > 0 and float(mpi_util.allreduce_mean(np.array([metrics["approxkl"]]), comm)[0]) > 1.5 * target_kl:
            return epoch
    return epochs


def _prepare_batch(
    seg: Segment, policy: Policy, scaler: RewardScaler | None, gamma: float, lam: float
) -> dict[str, np.ndarray]:
    """GAE, normaliser updates and ``pi_old`` for a segment, flattened to ``[T*N, ...]``."""
    adv, tdlamret = gae(seg.rewards + seg.bootstrap, seg.vpreds, seg.dones, seg.last_vpreds, gamma, lam)
    if scaler is not None:
        scaler.update()
    obs = seg.obs.reshape(-1, *seg.obs.shape[2:])
    if policy.ob_rms is not None:
        policy.ob_rms.update(obs)
        # pi_old is recorded after the normaliser update (PPO1's order), so the first ratio is exactly 1.
        oldpdparam, oldvpred = policy.forward_numpy(obs)
    else:
        # Nothing moved since acting: pi_old is what the rollout computed (a CNN forward pass of the batch saved).
        oldpdparam, oldvpred = seg.pdparams.reshape(len(obs), -1), seg.vpreds.reshape(-1)
    return {
        "ob": obs,
        "ac": seg.actions.reshape(-1, *seg.actions.shape[2:]),
        "atarg": normalize_advantages(adv.reshape(-1)),
        "vtarg": tdlamret.reshape(-1),
        "oldpdparam": oldpdparam.astype(np.float32),
        "oldvpred": oldvpred.astype(np.float32),
        "vpred_rollout": seg.vpreds.reshape(-1),
    }


def _validate(*, timesteps_per_actorbatch, optim_epochs, optim_batchsize, gamma, lam, clip_param, optim_stepsize, num_env,
              schedule, save_interval, entcoeff, vf_coef, adam_epsilon, max_grad_norm, loss, kl_beta, kl_target,
              target_kl, mpi_update) -> None:  # fmt: skip
    """Reject settings PPO cannot run with, naming the keyword."""
    for name, value in (("timesteps_per_actorbatch", timesteps_per_actorbatch), ("optim_epochs", optim_epochs),
                        ("optim_batchsize", optim_batchsize), ("num_env", num_env)):  # fmt: skip
        if not isinstance(value, (int, np.integer)) or value <= 0:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    for name, value in (("gamma", gamma), ("lam", lam)):
        if not 0.0 <= value <= 1.0:
            raise ConfigError(f"{name} must be in [0, 1], got {value}")
    for name, value in (("clip_param", clip_param), ("optim_stepsize", optim_stepsize)):
        start = value_at(value, 1.0)
        if not np.isfinite(start) or start <= 0:
            raise ConfigError(f"{name} must be > 0, got {start}")
    for name, value in (("entcoeff", entcoeff), ("vf_coef", vf_coef), ("max_grad_norm", max_grad_norm),
                        ("save_interval", save_interval), ("target_kl", target_kl), ("kl_beta", kl_beta)):  # fmt: skip
        if not np.isfinite(value) or value < 0:
            raise ConfigError(f"{name} must be >= 0, got {value}")
    if not adam_epsilon > 0:
        raise ConfigError(f"adam_epsilon must be > 0, got {adam_epsilon}")
    if schedule not in ("constant", "linear"):
        raise ConfigError(f"schedule must be 'constant' or 'linear', got {schedule!r}")
    if mpi_update not in MPI_UPDATES:
        raise ConfigError(f"mpi_update must be one of {', '.join(MPI_UPDATES)}, got {mpi_update!r}")
    if loss not in POLICY_LOSSES:
        raise ConfigError(f"loss must be one of {', '.join(POLICY_LOSSES)}, got {loss!r}")
    if loss == "adaptive_kl" and not (kl_target > 0 and kl_beta > 0):
        raise ConfigError(f"adaptive_kl needs kl_target > 0 and kl_beta > 0, got {kl_target} and {kl_beta}")
