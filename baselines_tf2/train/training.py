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
import signal
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import gymnasium as gym
import numpy as np
import tensorflow as tf

from baselines_tf2.common.actors import make_actor
from baselines_tf2.common.mpi_adam import MpiAdam
from baselines_tf2.common.policies import Policy
from baselines_tf2.common.reward_scaler import RewardScaler
from baselines_tf2.common.tf_util import configure_threads
from baselines_tf2.config import RunConfig
from baselines_tf2.envs.make import as_vec_env, env_seeds, rank_seed
from baselines_tf2.errors import TrainingInterrupted
from baselines_tf2.mpi import mpi_util
from baselines_tf2.train.checkpoint import (
    Checkpointer,
    TrainState,
    check_save_path,
    interrupt_folder,
    restore,
    restore_state,
    restored_env_states,
    restored_episodes,
    restored_rng,
)
from baselines_tf2.train.evaluation import Evaluation
from baselines_tf2.train.limits import fraction_left
from baselines_tf2.train.logger import Logger, progress_bar
from baselines_tf2.train.recurrent_rollout import RecurrentCollector
from baselines_tf2.train.rollout import RolloutCollector
from baselines_tf2.train.signals import StopOnSignal

__all__ = ["IterationInfo", "LearnerSettings", "TrainingRun", "fraction_left"]

PolicyFn = Callable[[gym.Space, gym.Space], Policy]


@dataclass
class IterationInfo:
    """What a ``callback`` sees after each iteration; return ``False`` from it to stop training."""

    iteration: int
    timesteps: int
    policy: Policy
    metrics: dict[str, float]


class LearnerSettings(Protocol):
    """What the plumbing reads of a learner's config (both :class:`~baselines_tf2.config.PPOConfig` and ``PGConfig``)."""

    adam_epsilon: float
    max_grad_norm: float
    normalize_rewards: bool
    gamma: float


class TrainingRun:
    """Setup and per-iteration bookkeeping shared by the learners (see the module docstring).

    ``algo``: the learner's config (:class:`~baselines_tf2.config.PPOConfig`,
    :class:`~baselines_tf2.config.PGConfig`), for the optimizer, the reward scaler and gamma.
    ``algo_state``: the learner's own state to checkpoint beside the run's (PPO's adaptive beta, the
    policy gradient's step-size factor), a ``tf.Module`` of variables; a ``legacy`` attribute maps
    a variable to where older versions saved it. ``eval_env``: see :mod:`~baselines_tf2.train.evaluation`.
    """

    def __init__(
        self,
        env: gym.Env | gym.vector.VectorEnv | str,
        policy_fn: PolicyFn,
        cfg: RunConfig,
        algo: LearnerSettings,
        *,
        callback: Callable[[IterationInfo], bool | None] | None,
        comm: Any,
        algo_state: tf.Module | None = None,
        eval_env: Any = None,
    ) -> None:
        cfg.validate()
        check_save_path(cfg.save_path, cfg.load_path)
        self.cfg, self.callback, self.comm = cfg, callback, comm
        self.save_interval, self.save_every_seconds = cfg.save_interval, cfg.save_every_seconds
        self.save_path, self.log_path, self.load_path = cfg.save_path, cfg.log_path, cfg.load_path
        log_path, load_path, seed, schedule_timesteps = cfg.log_path, cfg.load_path, cfg.seed, cfg.schedule_timesteps
        self.rank, self.size = mpi_util.rank(comm), mpi_util.size(comm)
        if self.size > 1:
            configure_threads(1, 1)  # ranks fill the cores already (no effect if TF is already running)
        self.vec_env = as_vec_env(env, cfg.num_env, self.rank, log_path)
        self.n_env = self.vec_env.num_envs
        self.seeds = env_seeds(seed, self.rank, self.n_env)

        tf.random.set_seed(rank_seed(seed, self.rank))
        self.rng = np.random.default_rng(rank_seed(seed, self.rank))
        self.policy = policy_fn(self.vec_env.single_observation_space, self.vec_env.single_action_space)
        if self.policy.ob_rms is not None:
            self.policy.ob_rms.comm = comm  # statistics over the same ranks as the gradients
        self.optimizer = MpiAdam(
            self.policy.trainable_variables,
            epsilon=algo.adam_epsilon,
            max_grad_norm=algo.max_grad_norm or None,
            comm=comm,
        )
        self.state = TrainState()
        self.gamma = gamma = algo.gamma
        self.collector: RolloutCollector | None = None
        self._env_states: list | None = None  # this rank's copies' generator states from the checkpoint
        self.scaler = RewardScaler(self.n_env, gamma, comm=comm) if algo.normalize_rewards else None
        required: dict[str, Any] = dict(policy=self.policy, optimizer=self.optimizer)
        if self.scaler is not None:
            required["reward_scaler"] = self.scaler
        versioned: dict[str, tf.Module] = dict(state=self.state)  # variables may be added over versions
        if algo_state is not None:
            versioned["algo_state"] = algo_state
        self.state.schedule_timesteps.assign(schedule_timesteps)
        if load_path:
            restore(load_path, **required)
            for name, module in versioned.items():
                restore_state(load_path, name, module, getattr(module, "legacy", None))
            if schedule_timesteps and int(self.state.schedule_timesteps) != schedule_timesteps:
                self.state.schedule_timesteps.assign(schedule_timesteps)  # an explicit horizon wins over the saved one
            self.rng = restored_rng(self.state, self.rank, self.size, self.rng)
            self._env_states = restored_env_states(self.state, self.rank, self.size)
            if self.scaler is not None:
                self.scaler.sync_cache()
        self.optimizer.sync()
        saved = {**required, **versioned}
        self.saved_objects = saved
        self.checkpointer = Checkpointer(cfg.save_path, enabled=self.rank == 0, **saved)
        self.policy.rng = self.rng  # pi.act draws from the rank's checkpointed generator too
        self.actor = make_actor(self.policy, self.rng)
        self.episodes: deque[tuple[float, int]] = deque(restored_episodes(self.state), maxlen=100)
        self.tstart = time.time()
        self.iter_start = self.tstart
        self.last_saved = int(self.state.iters)  # a resumed run's checkpoint is already on disk
        self.last_save_time = self.tstart
        self.guard = StopOnSignal(announce=self.rank == 0)  # entered when the loop starts
        self._guard_entered = False
        self.bar = progress_bar(cfg.progress and self.rank == 0, cfg.max_timesteps, int(self.state.timesteps))
        echo = None if self.bar is None else self.bar.write
        resume_at = int(self.state.timesteps) if load_path else None
        self.logger = Logger(log_path, enabled=self.rank == 0, echo=echo, resume_at=resume_at)
        self.evaluation = Evaluation(cfg, env, eval_env, self.policy, self.state, required, self.logger, comm)

    def make_collector(self, horizon: int) -> RolloutCollector:
        """The run's rollout collector (``horizon`` steps per copy per call); resumed runs restart their episodes exactly."""
        ob_dtype = self.policy.ob_dtype.as_numpy_dtype
        collector = RecurrentCollector if self.policy.recurrent else RolloutCollector  # the former records states
        self.collector = collector(
            self.vec_env,
            horizon,
            self.gamma,
            ob_dtype,
            seeds=self.seeds,
            reward_scaler=self.scaler,
            env_states=self._env_states,
            action_masking=self.cfg.action_masking,
        )
        return self.collector

    @property
    def iteration(self) -> int:
        """Iterations completed (including those of a resumed checkpoint)."""
        return int(self.state.iters)

    def fraction_left(self) -> float | None:
        """Share of the schedules' horizon still ahead (1 at the start), or ``None`` when a limit is reached.

        See :func:`fraction_left` (collective when ``max_seconds`` is set: the ranks' mean clock
        decides, so all stop together). Also marks the start of an iteration for the ``fps`` figure,
        and on the first call routes SIGINT/SIGTERM to a stop at the end of the iteration (undone by
        :meth:`release`).
        """
        if not self._guard_entered:
            self.guard.__enter__()
            self._guard_entered = True
        elapsed = 0.0
        if self.cfg.max_seconds:
            elapsed = float(mpi_util.allreduce_mean(np.array([time.time() - self.tstart]), self.comm)[0])
        self.iter_start = time.time()
        st = self.state
        counters = (int(st.timesteps), int(st.episodes), int(st.iters))
        return fraction_left(self.cfg, *counters, elapsed, int(st.schedule_timesteps))

    def end_iteration(self, local_steps: int, episodes: list[tuple[float, int]], metrics: dict[str, float]) -> bool:
        """Count, log, save and call back after an iteration; ``False`` means stop.

        Args:
            local_steps: environment steps this rank took in the iteration.
            episodes: ``(return, length)`` of episodes this rank finished.
            metrics: rank-averaged values to log (losses, KL, ...).
        """
        self.actor.refresh()
        # One episode gather and one packed all-reduce per iteration. A signal may reach one rank
        # only: every rank decides on the sums, or the others would hang.
        new_episodes = [ep for eps in mpi_util.allgather_object(episodes, self.comm) for ep in eps]
        now = time.time()
        signum = self.guard.signal
        local = [local_steps, signum == signal.SIGINT, signum == signal.SIGTERM, now - self.last_save_time]
        summed = mpi_util.allreduce_sum(np.array(local, np.float64), self.comm)
        summed_steps, sigint, sigterm, since_save = summed
        steps = int(summed_steps)
        self.episodes.extend(new_episodes)
        self.state.timesteps.assign_add(steps)
        self.state.episodes.assign_add(len(new_episodes))
        self.state.iters.assign_add(1)
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
        if not (sigint or sigterm):  # evaluate every eval_every iterations (not when told to stop); not in fps
            row.update(self.evaluation.after_iteration())
        self.logger.log(int(self.state.timesteps), row)
        if self.bar is not None:
            self.bar.update(steps)
            self.bar.set_postfix(eprewmean=row["eprewmean"])
        stop_any = False
        if self.callback is not None:
            stop = self.callback(IterationInfo(self.iteration, int(self.state.timesteps), self.policy, row)) is False
            # The callback may answer differently on different ranks: stop if any rank's says so.
            stop_any = bool(mpi_util.allreduce_sum(np.array([float(stop)]), self.comm)[0])
        if sigint or sigterm:
            folder = self.save(interrupted=True)
            raise TrainingInterrupted(signal.SIGTERM if sigterm else signal.SIGINT, folder, self.iteration)
        timed_save = self.save_path and self.save_every_seconds and since_save / self.size >= self.save_every_seconds
        periodic = self.save_interval and self.iteration % self.save_interval == 0
        if (timed_save or periodic) and self.iteration > self.last_saved:
            self.save()
        return not stop_any

    def save(self, interrupted: bool = False) -> str | None:
        """Gather every rank's RNG state into the checkpoint, then rank 0 writes it (collective).

        With ``interrupted`` and no save folder, saves into a default one (see
        :func:`~baselines_tf2.train.checkpoint.interrupt_folder`). Returns the folder written (``None`` when nothing is saved).
        """
        if interrupted and self.checkpointer.directory is None:
            folder = mpi_util.bcast_object(
                interrupt_folder(self.log_path, self.load_path) if self.rank == 0 else None, comm=self.comm
            )
            self.checkpointer = Checkpointer(folder, enabled=self.rank == 0, **self.saved_objects)
        states = mpi_util.allgather_object(self.rng.bit_generator.state, self.comm)
        env_states = mpi_util.allgather_object(self.collector.env_states() if self.collector else None, self.comm)
        if self.checkpointer.manager is not None and self.iteration > self.last_saved:
            self.state.rng_states.assign(json.dumps(states))
            self.state.env_states.assign(json.dumps(env_states))
            self.state.recent_episodes.assign(json.dumps(list(self.episodes)))
            self.checkpointer.save(self.iteration)
        self.last_saved, self.last_save_time = self.iteration, time.time()
        return self.checkpointer.directory

    def release(self) -> None:
        """Give the SIGINT/SIGTERM handlers back (called when training ends, however it ends)."""
        self.guard.__exit__(None, None, None)

    def close(self) -> Policy:
        """Final consistency check and save; returns the trained policy."""
        self.release()
        if self.bar is not None:
            self.bar.close()
        if self.size > 1:
            self.optimizer.check_synced()
        if self.iteration > self.last_saved:
            self.save()
        self.logger.close()
        return self.policy
