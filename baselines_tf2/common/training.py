"""What every on-policy learner here does around its update: the plumbing of one training run.

:class:`TrainingRun` builds the vector env, the policy, :class:`MpiAdam`, the counters and the
optional reward scaler; restores a checkpoint and syncs the ranks; then, once per iteration,
:meth:`TrainingRun.end_iteration` gathers finished episodes from all ranks, advances the
counters, logs, saves and asks the callback whether to go on. PPO (``ppo/pposgd.py``) and the
vanilla policy gradient (``pg/vpg.py``) differ only in what happens between collecting a
segment and ending the iteration.
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
from baselines_tf2.common.envs import check_vec_env, make_vec_env, single_env_as_vec
from baselines_tf2.common.logger import Logger
from baselines_tf2.common.mpi_adam import MpiAdam
from baselines_tf2.common.policies import Policy
from baselines_tf2.common.reward_scaler import RewardScaler
from baselines_tf2.common.tf_util import configure_threads
from baselines_tf2.errors import ConfigError, TrainingDivergedError

__all__ = ["IterationInfo", "Limits", "TrainingRun", "check_finite", "explained_variance"]

PolicyFn = Callable[[gym.Space, gym.Space], Policy]


@dataclass
class IterationInfo:
    """What a ``callback`` sees after each iteration; return ``False`` from it to stop training."""

    iteration: int
    timesteps: int
    policy: Policy
    metrics: dict[str, float]


@dataclass
class Limits:
    """Stop at the first limit reached (0 = no limit); timesteps and episodes count all ranks."""

    max_timesteps: int = 0
    max_episodes: int = 0
    max_iters: int = 0
    max_seconds: float = 0

    def validate(self) -> None:
        values = (self.max_timesteps, self.max_episodes, self.max_iters, self.max_seconds)
        if any(v < 0 for v in values):
            raise ConfigError("max_timesteps, max_episodes, max_iters and max_seconds must be >= 0")
        if not any(values):
            raise ConfigError("set at least one of max_timesteps, max_episodes, max_iters, max_seconds")


class TrainingRun:
    """Setup and per-iteration bookkeeping shared by the learners (see the module docstring)."""

    def __init__(
        self,
        env: gym.Env | gym.vector.VectorEnv | str,
        policy_fn: PolicyFn,
        *,
        limits: Limits,
        adam_epsilon: float,
        max_grad_norm: float,
        normalize_rewards: bool,
        gamma: float,
        num_env: int,
        seed: int,
        log_path: str | None,
        save_path: str | None,
        load_path: str | None,
        save_interval: int,
        progress: bool,
        callback: Callable[[IterationInfo], bool | None] | None,
        comm: Any,
        kl_beta: float = 1.0,
    ) -> None:
        limits.validate()
        check_save_path(save_path, load_path)
        self.limits, self.save_interval, self.callback, self.comm = limits, save_interval, callback, comm
        self.rank, self.size = mpi_util.rank(comm), mpi_util.size(comm)
        if self.size > 1:
            configure_threads(1, 1)  # ranks fill the cores already (no effect if TF is already running)
        self.vec_env = _as_vec_env(env, num_env, self.rank, log_path)
        self.n_env = self.vec_env.num_envs
        self.seeds = [seed + 10000 * self.rank + i for i in range(self.n_env)]

        tf.random.set_seed(seed + 10000 * self.rank)
        self.rng = np.random.default_rng(seed + 10000 * self.rank)
        self.policy = policy_fn(self.vec_env.single_observation_space, self.vec_env.single_action_space)
        if self.policy.ob_rms is not None:
            self.policy.ob_rms.comm = comm  # statistics over the same ranks as the gradients
        self.optimizer = MpiAdam(self.policy.trainable_variables, epsilon=adam_epsilon, max_grad_norm=max_grad_norm or None, comm=comm)
        self.state = TrainState(kl_beta=kl_beta)
        self.scaler = RewardScaler(self.n_env, gamma, comm=comm) if normalize_rewards else None
        saved = dict(policy=self.policy, optimizer=self.optimizer, state=self.state)
        if self.scaler is not None:
            saved["reward_scaler"] = self.scaler
        if load_path:
            restore(load_path, **saved)
            self.rng = _restored_rng(self.state, self.rank, self.size, self.rng)
            if self.scaler is not None:
                self.scaler.sync_cache()
        self.optimizer.sync()
        self.checkpointer = Checkpointer(save_path, enabled=self.rank == 0, **saved)
        self.policy.rng = self.rng  # pi.act draws from the rank's checkpointed generator too
        self.actor = make_actor(self.policy, self.rng)
        self.episodes: deque[tuple[float, int]] = deque(_restored_episodes(self.state), maxlen=100)
        self.tstart = time.time()
        self.iter_start = self.tstart
        self.last_saved = int(self.state.iters)  # a resumed run's checkpoint is already on disk
        self.bar = _progress_bar(progress and self.rank == 0, limits.max_timesteps, int(self.state.timesteps))
        self.logger = Logger(log_path, enabled=self.rank == 0, echo=None if self.bar is None else self.bar.write,
                             resume_at=int(self.state.timesteps) if load_path else None)  # fmt: skip

    @property
    def iteration(self) -> int:
        """Iterations completed (including those of a resumed checkpoint)."""
        return int(self.state.iters)

    def fraction_left(self) -> float | None:
        """Share of training still to do (1 at the start), or ``None`` when a limit is reached.

        Also marks the start of an iteration for the ``fps`` figure.
        """
        lim, state = self.limits, self.state
        done = []
        if lim.max_timesteps:
            done.append(int(state.timesteps) / lim.max_timesteps)
        if lim.max_episodes:
            done.append(int(state.episodes) / lim.max_episodes)
        if lim.max_iters:
            done.append(int(state.iters) / lim.max_iters)
        if lim.max_seconds:  # ranks' clocks differ: decide on their mean, so all stop together
            elapsed = mpi_util.allreduce_mean(np.array([time.time() - self.tstart]), self.comm)[0]
            done.append(elapsed / lim.max_seconds)
        self.iter_start = time.time()
        return None if max(done) >= 1.0 else 1.0 - max(done)

    def end_iteration(self, local_steps: int, episodes: list[tuple[float, int]], metrics: dict[str, float]) -> bool:
        """Count, log, save and call back after an iteration; ``False`` means stop.

        Args:
            local_steps: environment steps this rank took in the iteration.
            episodes: ``(return, length)`` of episodes this rank finished.
            metrics: rank-averaged values to log (losses, KL, ...).
        """
        self.actor.refresh()
        new_episodes = [ep for eps in mpi_util.allgather_object(episodes, self.comm) for ep in eps]
        steps = int(mpi_util.allreduce_sum(np.array([local_steps], np.float64), self.comm)[0])
        self.episodes.extend(new_episodes)
        self.state.timesteps.assign_add(steps)
        self.state.episodes.assign_add(len(new_episodes))
        self.state.iters.assign_add(1)
        now = time.time()
        returns, lengths = [r for r, _ in self.episodes], [n for _, n in self.episodes]
        row = {
            "iterations": self.iteration,
            "total_timesteps": int(self.state.timesteps),
            "episodes": int(self.state.episodes),
            "eprewmean": float(np.mean(returns)) if returns else float("nan"),
            "eplenmean": float(np.mean(lengths)) if lengths else float("nan"),
            "episodes_this_iter": len(new_episodes),
            "fps": steps / max(now - self.iter_start, 1e-9),
            "time_elapsed": now - self.tstart,
            **metrics,
        }
        self.logger.log(int(self.state.timesteps), row)
        if self.bar is not None:
            self.bar.update(steps)
            self.bar.set_postfix(eprewmean=row["eprewmean"])
        if self.save_interval and self.iteration % self.save_interval == 0:
            self.save()
        stop = self.callback is not None and self.callback(IterationInfo(self.iteration, int(self.state.timesteps), self.policy, row)) is False
        # A callback may stop one rank only; every rank must stop together or the others would hang.
        return not mpi_util.allreduce_sum(np.array([1.0 if stop else 0.0]), self.comm)[0]

    def save(self) -> None:
        """Gather every rank's RNG state into the checkpoint, then rank 0 writes it (collective)."""
        states = mpi_util.allgather_object(self.rng.bit_generator.state, self.comm)
        if self.checkpointer.manager is not None:
            self.state.rng_states.assign(json.dumps(states))
            self.state.recent_episodes.assign(json.dumps(list(self.episodes)))
            self.checkpointer.save(self.iteration)
        self.last_saved = self.iteration

    def close(self) -> Policy:
        """Final consistency check and save; returns the trained policy."""
        if self.bar is not None:
            self.bar.close()
        if self.size > 1:
            self.optimizer.check_synced()
        if self.iteration > self.last_saved:
            self.save()
        self.logger.close()
        return self.policy


def check_finite(checks: dict[str, bool], iteration: int, comm: Any) -> None:
    """Raise TrainingDivergedError on every rank if any rank failed one of ``checks`` (name -> finite)."""
    bad = mpi_util.allreduce_sum(np.array([0.0 if ok else 1.0 for ok in checks.values()]), comm)
    for name, count in zip(checks, bad):
        if count:
            raise TrainingDivergedError(f"NaN/Inf in the {name} at iteration {iteration}; stopped without saving this state")


def checked_metrics(local: dict[str, float], optimizer: MpiAdam, iteration: int, comm: Any) -> dict[str, float]:
    """Rank-averaged metrics, after checking losses and parameters for NaN/Inf (collective)."""
    values = np.array(list(local.values()), np.float64)
    params_ok = bool(np.isfinite(optimizer.getflat()).all())
    check_finite({"loss": bool(np.isfinite(values).all()), "parameters": params_ok}, iteration, comm)
    return dict(zip(local, mpi_util.allreduce_mean(values, comm).tolist()))


def explained_variance(vpred: np.ndarray, vtarg: np.ndarray, comm: Any) -> float:
    """1 - Var[vtarg - vpred] / Var[vtarg] over all ranks' samples (NaN if vtarg is constant)."""
    sums = mpi_util.allreduce_sum(
        np.array([len(vtarg), vtarg.sum(), np.square(vtarg).sum(), (vtarg - vpred).sum(), np.square(vtarg - vpred).sum()], np.float64),
        comm,
    )
    n = sums[0]
    var_y = sums[2] / n - (sums[1] / n) ** 2
    var_res = sums[4] / n - (sums[3] / n) ** 2
    return float("nan") if var_y <= 1e-12 * max(1.0, sums[2] / n) else float(1.0 - var_res / var_y)


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


def _restored_rng(state: TrainState, rank: int, size: int, fallback: np.random.Generator) -> np.random.Generator:
    """This rank's generator from the checkpoint (a fresh seeded one if the rank count changed)."""
    text = state.rng_states.numpy().decode()
    states = json.loads(text) if text else []
    if len(states) != size:
        return fallback
    rng = np.random.default_rng()
    rng.bit_generator.state = states[rank]
    return rng


def _restored_episodes(state: TrainState) -> list[tuple[float, int]]:
    text = state.recent_episodes.numpy().decode()
    return [(float(r), int(n)) for r, n in json.loads(text)] if text else []


def _progress_bar(enabled: bool, total: int, initial: int):
    if not enabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm  # noqa: PLC0415

    return tqdm(total=total or None, initial=initial, unit="step", dynamic_ncols=True, leave=False)
