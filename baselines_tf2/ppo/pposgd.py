"""``learn()``: PPO training, Baselines' ``pposgd_simple.learn`` with PPO2's extras.

Keyword -> paper symbol (Schulman et al. 2017):

======================================  =======================================================
``timesteps_per_actorbatch``            T, the horizon (steps per env copy per iteration)
``clip_param``                          epsilon in clip(r_t, 1 - epsilon, 1 + epsilon)
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
on the batch (``pi_old``, so the first ratio is exactly 1), run K epochs of minibatch Adam with
the gradient averaged over ranks, then log and checkpoint on rank 0.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

import gymnasium as gym
import numpy as np
import tensorflow as tf

from baselines_tf2.common import mpi_util
from baselines_tf2.common.actors import make_actor
from baselines_tf2.common.checkpoint import Checkpointer, TrainState, check_save_path, restore
from baselines_tf2.common.envs import check_vec_env, env_seeds, make_vec_env, single_env_as_vec
from baselines_tf2.common.logger import Logger
from baselines_tf2.common.mpi_adam import MpiAdam
from baselines_tf2.common.policies import Policy
from baselines_tf2.common.reward_scaler import RewardScaler
from baselines_tf2.common.schedules import Schedule, lr_multiplier, value_at
from baselines_tf2.common.tf_util import configure_threads
from baselines_tf2.errors import ConfigError, TrainingDivergedError
from baselines_tf2.ppo.advantages import gae
from baselines_tf2.ppo.rollout import RolloutCollector, Segment
from baselines_tf2.ppo.update import PPOUpdater

__all__ = ["IterationInfo", "learn"]

PolicyFn = Callable[[gym.Space, gym.Space], Policy]


@dataclass
class IterationInfo:
    """What a ``callback`` sees after each iteration; return ``False`` from it to stop training."""

    iteration: int
    timesteps: int
    policy: Policy
    metrics: dict[str, float]


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
    callback: Callable[[IterationInfo], bool | None] | None = None,
    adam_epsilon: float = 1e-5,
    schedule: str = "constant",
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
    progress: bool = True,
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
        schedule: ``"constant"`` or ``"linear"``: multiplier alpha of step size and clip range.
        vf_clip: clip the value loss around the old predictions (PPO2).
        max_grad_norm: clip the averaged gradient's global norm (0 = off).
        normalize_rewards: divide rewards by the running std of discounted returns (VecNormalize).
        num_env: env copies per rank when ``env`` is an id.
        seed: rank r's env copy i is seeded ``seed + 10000 r + i``; policy init and sampling too.
        log_path: folder for ``progress.csv``, TensorBoard and monitor files (rank 0 logs).
        save_path: folder for checkpoints (rank 0 saves every ``save_interval`` iterations and at
            the end).
        load_path: checkpoint folder or prefix to resume from (counters continue).
        progress: show a tqdm progress bar on a terminal.
        comm: MPI communicator (default: all ranks).
    """
    _validate(
        timesteps_per_actorbatch=timesteps_per_actorbatch, optim_epochs=optim_epochs, optim_batchsize=optim_batchsize,
        gamma=gamma, lam=lam, clip_param=clip_param, optim_stepsize=optim_stepsize, num_env=num_env, schedule=schedule,
        limits=(max_timesteps, max_episodes, max_iters, max_seconds), save_interval=save_interval,
        entcoeff=entcoeff, vf_coef=vf_coef, adam_epsilon=adam_epsilon, max_grad_norm=max_grad_norm,
    )  # fmt: skip
    check_save_path(save_path, load_path)
    rank, size = mpi_util.rank(comm), mpi_util.size(comm)
    if size > 1:
        configure_threads(1, 1)  # ranks fill the cores already (no effect if TF is already running)
    vec_env = _as_vec_env(env, num_env, rank, log_path)
    n_env = vec_env.num_envs
    batch_size = timesteps_per_actorbatch * n_env
    if optim_batchsize > batch_size:
        raise ConfigError(f"optim_batchsize {optim_batchsize} is larger than the batch ({timesteps_per_actorbatch} x {n_env} envs)")

    tf.random.set_seed(seed + 10000 * rank)
    rng = np.random.default_rng(seed + 10000 * rank)
    policy = policy_fn(vec_env.single_observation_space, vec_env.single_action_space)
    optimizer = MpiAdam(policy.trainable_variables, epsilon=adam_epsilon, max_grad_norm=max_grad_norm or None, comm=comm)
    state = TrainState()
    scaler = RewardScaler(n_env, gamma, comm=comm) if normalize_rewards else None
    saved = dict(policy=policy, optimizer=optimizer, state=state, **({"reward_scaler": scaler} if scaler else {}))
    if load_path:
        restore(load_path, **saved)
        rng = _restored_rng(state, rank, size, rng)
        if scaler is not None:
            scaler.sync_cache()
    optimizer.sync()
    checkpointer = Checkpointer(save_path, enabled=rank == 0, **saved)
    logger = Logger(log_path, enabled=rank == 0)

    updater = PPOUpdater(policy, optimizer, entcoeff=entcoeff, vf_coef=vf_coef, vf_clip=vf_clip, comm=comm)
    collector = RolloutCollector(
        vec_env, timesteps_per_actorbatch, gamma, policy.ob_dtype.as_numpy_dtype,
        seeds=env_seeds(seed, rank, n_env), reward_scaler=scaler,
    )  # fmt: skip
    actor = make_actor(policy, rng)
    lrmult = lr_multiplier(schedule)
    episodes: deque[tuple[float, int]] = deque(maxlen=100)
    n_minibatches = batch_size // optim_batchsize
    tstart = time.time()
    last_saved = int(state.iters)  # a resumed run's checkpoint is already on disk
    bar = _progress_bar(progress and rank == 0, max_timesteps, int(state.timesteps))

    while True:
        done_frac = _done_fraction(state, tstart, max_timesteps, max_episodes, max_iters, max_seconds)
        if done_frac >= 1.0:
            break
        frac = 1.0 - done_frac
        alpha = lrmult(frac)
        stepsize, clip = value_at(optim_stepsize, frac) * alpha, value_at(clip_param, frac) * alpha
        iter_start = time.time()

        seg = collector.collect(actor)
        batch = _prepare_batch(seg, policy, scaler, gamma, lam)
        _check_finite({"rewards or advantages": bool(np.isfinite(batch["atarg"]).all() and np.isfinite(batch["vtarg"]).all())},
                      int(state.iters) + 1, comm)  # fmt: skip
        updater.load_batch(batch)
        for _ in range(optim_epochs):
            perm = rng.permutation(batch_size)[: n_minibatches * optim_batchsize].reshape(n_minibatches, optim_batchsize)
            updater.run_epoch(perm, stepsize, clip)
        metrics = _checked_metrics(updater.evaluate(clip), optimizer, int(state.iters) + 1, comm)
        actor.refresh()

        new_episodes = [ep for eps in mpi_util.allgather_object(seg.episodes, comm) for ep in eps]
        episodes.extend(new_episodes)
        steps_now = batch_size * size
        state.timesteps.assign_add(steps_now)
        state.episodes.assign_add(len(new_episodes))
        state.iters.assign_add(1)
        iteration = int(state.iters)
        row = _log_row(state, metrics, episodes, new_episodes, seg, batch, steps_now / max(time.time() - iter_start, 1e-9),
                       time.time() - tstart, stepsize, clip, comm)  # fmt: skip
        logger.log(int(state.timesteps), row)
        if bar is not None:
            bar.update(steps_now)
            bar.set_postfix(eprewmean=row["eprewmean"])
        if save_interval and iteration % save_interval == 0:
            _save(checkpointer, state, rng, iteration, comm)
            last_saved = iteration
        if callback is not None and callback(IterationInfo(iteration, int(state.timesteps), policy, row)) is False:
            break

    if bar is not None:
        bar.close()
    if size > 1:
        optimizer.check_synced()
    if int(state.iters) > last_saved:
        _save(checkpointer, state, rng, int(state.iters), comm)
    logger.close()
    return policy


# ---------------------------------------------------------------------------- steps of one iteration


def _prepare_batch(seg: Segment, policy: Policy, scaler: RewardScaler | None, gamma: float, lam: float) -> dict[str, np.ndarray]:
    """GAE, normaliser updates and ``pi_old`` for a segment, flattened to ``[T*N, ...]``."""
    adv, tdlamret = gae(seg.rewards, seg.vpreds, seg.dones, seg.last_vpreds, gamma, lam)
    if scaler is not None:
        scaler.update()
    obs = seg.obs.reshape(-1, *seg.obs.shape[2:])
    if policy.ob_rms is not None:
        policy.ob_rms.update(obs)
    # pi_old is recorded after the normaliser update (PPO1's order), so the first ratio is exactly 1.
    oldpdparam, oldvpred = policy.forward_numpy(obs)
    atarg = adv.reshape(-1)
    atarg = (atarg - atarg.mean()) / (atarg.std() + 1e-8)
    return {
        "ob": obs,
        "ac": seg.actions.reshape(-1, *seg.actions.shape[2:]),
        "atarg": atarg.astype(np.float32),
        "vtarg": tdlamret.reshape(-1),
        "oldpdparam": oldpdparam.astype(np.float32),
        "oldvpred": oldvpred.astype(np.float32),
        "vpred_rollout": seg.vpreds.reshape(-1),
    }


def _check_finite(checks: dict[str, bool], iteration: int, comm: Any) -> None:
    """Raise TrainingDivergedError on every rank if any rank failed one of ``checks`` (name -> finite)."""
    bad = mpi_util.allreduce_sum(np.array([0.0 if ok else 1.0 for ok in checks.values()]), comm)
    for name, count in zip(checks, bad):
        if count:
            raise TrainingDivergedError(f"NaN/Inf in the {name} at iteration {iteration}; stopped without saving this state")


def _checked_metrics(local: dict[str, float], optimizer: MpiAdam, iteration: int, comm: Any) -> dict[str, float]:
    """Rank-averaged metrics, after checking losses and parameters for NaN/Inf."""
    values = np.array(list(local.values()), np.float64)
    _check_finite({"loss": bool(np.isfinite(values).all()), "parameters": bool(np.isfinite(optimizer.getflat()).all())}, iteration, comm)
    return dict(zip(local, mpi_util.allreduce_mean(values, comm).tolist()))


def _log_row(state, metrics, episodes, new_episodes, seg, batch, fps, elapsed, stepsize, clip, comm) -> dict[str, Any]:
    returns = [r for r, _ in episodes]
    lengths = [ln for _, ln in episodes]
    return {
        "iterations": int(state.iters),
        "total_timesteps": int(state.timesteps),
        "episodes": int(state.episodes),
        "eprewmean": float(np.mean(returns)) if returns else float("nan"),
        "eplenmean": float(np.mean(lengths)) if lengths else float("nan"),
        "episodes_this_iter": len(new_episodes),
        "fps": float(fps),
        "time_elapsed": float(elapsed),
        "explained_variance": _explained_variance(batch["vpred_rollout"], batch["vtarg"], comm),
        "stepsize": float(stepsize),
        "clip_param": float(clip),
        **metrics,
    }


def _explained_variance(vpred: np.ndarray, vtarg: np.ndarray, comm: Any) -> float:
    """1 - Var[vtarg - vpred] / Var[vtarg] over all ranks' samples."""
    sums = mpi_util.allreduce_sum(
        np.array([len(vtarg), vtarg.sum(), np.square(vtarg).sum(), (vtarg - vpred).sum(), np.square(vtarg - vpred).sum()], np.float64),
        comm,
    )
    n = sums[0]
    var_y = sums[2] / n - (sums[1] / n) ** 2
    var_res = sums[4] / n - (sums[3] / n) ** 2
    return float("nan") if var_y <= 0 else float(1.0 - var_res / var_y)


def _save(checkpointer: Checkpointer, state: TrainState, rng: np.random.Generator, step: int, comm: Any) -> None:
    """Gather every rank's RNG state into the checkpoint, then rank 0 writes it."""
    states = mpi_util.allgather_object(rng.bit_generator.state, comm)
    if checkpointer.manager is not None:
        state.rng_states.assign(json.dumps(states))
        checkpointer.save(step)


def _restored_rng(state: TrainState, rank: int, size: int, fallback: np.random.Generator) -> np.random.Generator:
    """This rank's generator from the checkpoint (a fresh seeded one if the rank count changed)."""
    text = state.rng_states.numpy().decode()
    states = json.loads(text) if text else []
    if len(states) != size:
        return fallback
    rng = np.random.default_rng()
    rng.bit_generator.state = states[rank]
    return rng


# ---------------------------------------------------------------------------- setup helpers


def _as_vec_env(env: Any, num_env: int, rank: int, log_path: str | None) -> gym.vector.VectorEnv:
    if isinstance(env, str):
        return make_vec_env(env, num_env, rank=rank, log_dir=os.path.join(log_path, "monitor") if log_path else None)
    if isinstance(env, gym.vector.VectorEnv):
        check_vec_env(env)
        return env
    if isinstance(env, gym.Env):
        vec = single_env_as_vec(env)
        check_vec_env(vec)
        return vec
    raise ConfigError(f"env must be a gymnasium Env, VectorEnv or env id, got {type(env).__name__}")


def _done_fraction(state: TrainState, tstart: float, max_timesteps: int, max_episodes: int, max_iters: int, max_seconds: float) -> float:
    """How far training is towards its first limit (>= 1 means stop)."""
    fracs = []
    if max_timesteps:
        fracs.append(int(state.timesteps) / max_timesteps)
    if max_episodes:
        fracs.append(int(state.episodes) / max_episodes)
    if max_iters:
        fracs.append(int(state.iters) / max_iters)
    if max_seconds:
        fracs.append((time.time() - tstart) / max_seconds)
    return max(fracs)


def _progress_bar(enabled: bool, total: int, initial: int):
    if not enabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm  # noqa: PLC0415

    return tqdm(total=total or None, initial=initial, unit="step", dynamic_ncols=True, leave=False)


def _validate(*, timesteps_per_actorbatch, optim_epochs, optim_batchsize, gamma, lam, clip_param, optim_stepsize, num_env,
              schedule, limits, save_interval, entcoeff, vf_coef, adam_epsilon, max_grad_norm) -> None:  # fmt: skip
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
    for name, value in (("entcoeff", entcoeff), ("vf_coef", vf_coef), ("max_grad_norm", max_grad_norm), ("save_interval", save_interval)):
        if not np.isfinite(value) or value < 0:
            raise ConfigError(f"{name} must be >= 0, got {value}")
    if not adam_epsilon > 0:
        raise ConfigError(f"adam_epsilon must be > 0, got {adam_epsilon}")
    if schedule not in ("constant", "linear"):
        raise ConfigError(f"schedule must be 'constant' or 'linear', got {schedule!r}")
    if any(limit < 0 for limit in limits):
        raise ConfigError("max_timesteps, max_episodes, max_iters and max_seconds must be >= 0")
    if not any(limits):
        raise ConfigError("set at least one of max_timesteps, max_episodes, max_iters, max_seconds")
