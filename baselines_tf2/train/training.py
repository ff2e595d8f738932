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
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import tensorflow as tf

from baselines_tf2.common.actors import make_actor
from baselines_tf2.common.policies import Policy
from baselines_tf2.common.reward_scaler import RewardScaler
from baselines_tf2.common.tf_util import configure_threads
from baselines_tf2.config import RunConfig
from baselines_tf2.envs.make import check_vec_env, env_seeds, make_vec_env, rank_seed, single_env_as_vec
from baselines_tf2.errors import ConfigError, TrainingDivergedError, TrainingInterrupted
from baselines_tf2.mpi import mpi_util
from baselines_tf2.mpi.mpi_adam import MpiAdam
from baselines_tf2.train.checkpoint import Checkpointer, TrainState, check_save_path, restore
from baselines_tf2.train.logger import Logger
from baselines_tf2.train.rollout import RolloutCollector, Segment

__all__ = ["IterationInfo", "TrainingRun", "check_finite", "check_segment", "explained_variance"]

PolicyFn = Callable[[gym.Space, gym.Space], Policy]


@dataclass
class IterationInfo:
    """What a ``callback`` sees after each iteration; return ``False`` from it to stop training."""

    iteration: int
    timesteps: int
    policy: Policy
    metrics: dict[str, float]


class TrainingRun:
    """Setup and per-iteration bookkeeping shared by the learners (see the module docstring)."""

    def __init__(
        self,
        env: gym.Env | gym.vector.VectorEnv | str,
        policy_fn: PolicyFn,
        cfg: RunConfig,
        *,
        adam_epsilon: float,
        max_grad_norm: float,
        normalize_rewards: bool,
        gamma: float,
        callback: Callable[[IterationInfo], bool | None] | None,
        comm: Any,
        kl_beta: float = 1.0,
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
        self.vec_env = _as_vec_env(env, cfg.num_env, self.rank, log_path)
        self.n_env = self.vec_env.num_envs
        self.seeds = env_seeds(seed, self.rank, self.n_env)

        tf.random.set_seed(rank_seed(seed, self.rank))
        self.rng = np.random.default_rng(rank_seed(seed, self.rank))
        self.policy = policy_fn(self.vec_env.single_observation_space, self.vec_env.single_action_space)
        if self.policy.ob_rms is not None:
            self.policy.ob_rms.comm = comm  # statistics over the same ranks as the gradients
        self.optimizer = MpiAdam(
            self.policy.trainable_variables, epsilon=adam_epsilon, max_grad_norm=max_grad_norm or None, comm=comm
        )
        self.state = TrainState(kl_beta=kl_beta)
        self.gamma = gamma
        self.collector: RolloutCollector | None = None
        self._env_states: list | None = None  # this rank's copies' generator states from the checkpoint
        self.scaler = RewardScaler(self.n_env, gamma, comm=comm) if normalize_rewards else None
        saved: dict[str, Any] = dict(policy=self.policy, optimizer=self.optimizer, state=self.state)
        if self.scaler is not None:
            saved["reward_scaler"] = self.scaler
        self.state.schedule_timesteps.assign(schedule_timesteps)
        if load_path:
            restore(load_path, **saved)
            if schedule_timesteps and int(self.state.schedule_timesteps) != schedule_timesteps:
                self.state.schedule_timesteps.assign(schedule_timesteps)  # an explicit horizon wins over the saved one
            self.rng = _restored_rng(self.state, self.rank, self.size, self.rng)
            self._env_states = _restored_env_states(self.state, self.rank, self.size)
            if self.scaler is not None:
                self.scaler.sync_cache()
        self.optimizer.sync()
        self.saved_objects = saved
        self.checkpointer = Checkpointer(cfg.save_path, enabled=self.rank == 0, **saved)
        self.policy.rng = self.rng  # pi.act draws from the rank's checkpointed generator too
        self.actor = make_actor(self.policy, self.rng)
        self.episodes: deque[tuple[float, int]] = deque(_restored_episodes(self.state), maxlen=100)
        self.tstart = time.time()
        self.iter_start = self.tstart
        self.last_saved = int(self.state.iters)  # a resumed run's checkpoint is already on disk
        self.last_save_time = self.tstart
        self.signal: int | None = None
        self._previous_handlers: dict[int, Any] | None = None  # installed when the loop starts
        self.bar = _progress_bar(cfg.progress and self.rank == 0, cfg.max_timesteps, int(self.state.timesteps))
        self.logger = Logger(log_path, enabled=self.rank == 0, echo=None if self.bar is None else self.bar.write,
                             resume_at=int(self.state.timesteps) if load_path else None)  # fmt: skip

    def make_collector(self, horizon: int) -> RolloutCollector:
        """The run's rollout collector (``horizon`` steps per copy per call); resumed runs restart their episodes exactly."""
        self.collector = RolloutCollector(self.vec_env, horizon, self.gamma, self.policy.ob_dtype.as_numpy_dtype,
                                          seeds=self.seeds, reward_scaler=self.scaler, env_states=self._env_states)  # fmt: skip
        return self.collector

    @property
    def iteration(self) -> int:
        """Iterations completed (including those of a resumed checkpoint)."""
        return int(self.state.iters)

    def fraction_left(self) -> float | None:
        """Share of the schedules' horizon still ahead (1 at the start), or ``None`` when a limit is reached.

        The horizon is ``schedule_timesteps`` if set (kept in the checkpoint, so a resumed run
        follows the same schedule), else the limits: the largest share of any limit used so far.

        Also marks the start of an iteration for the ``fps`` figure, and on the first call routes
        SIGINT/SIGTERM to a stop at the end of the iteration (undone by :meth:`release`).
        """
        if self._previous_handlers is None:
            self._previous_handlers = _install_handlers(self._on_signal)
        lim, state = self.cfg, self.state
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
        if max(done) >= 1.0:
            return None
        horizon = int(state.schedule_timesteps)
        return max(1.0 - int(state.timesteps) / horizon, 0.0) if horizon else 1.0 - max(done)

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
        stop = (
            self.callback is not None
            and self.callback(IterationInfo(self.iteration, int(self.state.timesteps), self.policy, row)) is False
        )
        # A callback or a signal may reach one rank only; every rank decides on the sums, or the others would hang.
        flags = np.array(
            [stop, self.signal == signal.SIGINT, self.signal == signal.SIGTERM, now - self.last_save_time], np.float64
        )
        stop_any, sigint, sigterm, since_save = mpi_util.allreduce_sum(flags, self.comm)
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
        :meth:`_interrupt_folder`). Returns the folder written (``None`` when nothing is saved).
        """
        if interrupted and self.checkpointer.directory is None:
            folder = mpi_util.bcast_object(self._interrupt_folder() if self.rank == 0 else None, comm=self.comm)
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

    def _interrupt_folder(self) -> str:
        """Where an interrupted run without ``save_path`` saves: ``<log_path>/checkpoints`` (or a new sibling
        if that holds another run's checkpoints), else ``checkpoints/interrupted-<time>``."""
        if self.log_path is None:
            return os.path.join("checkpoints", time.strftime("interrupted-%Y%m%d-%H%M%S"))
        folder = os.path.join(self.log_path, "checkpoints")
        try:
            check_save_path(folder, self.load_path)
        except ConfigError:
            folder += time.strftime("-%Y%m%d-%H%M%S")
        return folder

    def _on_signal(self, signum: int, _frame: Any) -> None:
        if self.signal is not None:  # a second signal: stop at once
            raise KeyboardInterrupt
        self.signal = signum
        if self.rank == 0:
            sys.stderr.write(f"\n{signal.Signals(signum).name}: stopping after this iteration and saving a checkpoint "
                             "(Ctrl-C again to quit at once, without saving)\n")  # fmt: skip
            sys.stderr.flush()

    def release(self) -> None:
        """Give the SIGINT/SIGTERM handlers back (called when training ends, however it ends)."""
        _restore_handlers(self._previous_handlers or {})
        self._previous_handlers = {}

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


def check_finite(checks: dict[str, bool], iteration: int, comm: Any) -> None:
    """Raise TrainingDivergedError on every rank if any rank failed one of ``checks`` (name -> finite)."""
    bad = mpi_util.allreduce_sum(np.array([0.0 if ok else 1.0 for ok in checks.values()]), comm)
    for name, count in zip(checks, bad):
        if count:
            raise TrainingDivergedError(
                f"NaN/Inf in the {name} at iteration {iteration}; stopped without saving this state"
            )


def check_segment(seg: Segment, iteration: int, comm: Any) -> None:
    """Raise TrainingDivergedError on every rank if any rank collected a non-finite observation, reward or value.

    Called before the segment touches any state (normalisers, weights), so the last checkpoint
    stays good; the message names what was non-finite and where (env copy, step, rank).
    """
    problem = _first_non_finite(seg)
    problems = mpi_util.allgather_object(problem, comm)
    for rank, found in enumerate(problems):
        if found is not None:
            where = f" on rank {rank}" if len(problems) > 1 else ""
            raise TrainingDivergedError(f"{found} of iteration {iteration}{where}; stopped without saving this state")


def _first_non_finite(seg: Segment) -> str | None:
    """``"non-finite <what> (<value>) in env copy <i> at step <t>"`` for the first bad entry, else ``None``.

    Observations are checked first (a NaN observation makes the values NaN too), then rewards,
    then values (also those of final observations, used to bootstrap truncations).
    """
    obs = seg.obs.reshape(*seg.obs.shape[:2], -1)
    checks = [("observations", obs), ("rewards", seg.rewards), ("values", seg.vpreds), ("values", seg.bootstrap)]
    for what, values in checks:
        if not np.issubdtype(values.dtype, np.floating):
            continue
        bad = ~np.isfinite(values)
        if bad.any():
            t, i = np.argwhere(bad)[0][:2]
            value = values[t, i] if values.ndim == 2 else values[t, i][bad[t, i]][0]
            return f"non-finite {what} ({value}) in env copy {i} at step {t}"
    if not np.isfinite(seg.last_vpreds).all():
        return f"non-finite values ({seg.last_vpreds[~np.isfinite(seg.last_vpreds)][0]}) after the last step"
    return None


def checked_metrics(local: dict[str, float], optimizer: MpiAdam, iteration: int, comm: Any) -> dict[str, float]:
    """Rank-averaged metrics, after checking losses and parameters for NaN/Inf (collective)."""
    values = np.array(list(local.values()), np.float64)
    params_ok = bool(np.isfinite(optimizer.getflat()).all())
    check_finite({"loss": bool(np.isfinite(values).all()), "parameters": params_ok}, iteration, comm)
    return dict(zip(local, mpi_util.allreduce_mean(values, comm).tolist()))


def explained_variance(vpred: np.ndarray, vtarg: np.ndarray, comm: Any) -> float:
    """1 - Var[vtarg - vpred] / Var[vtarg] over all ranks' samples (NaN if vtarg is constant)."""
    sums = mpi_util.allreduce_sum(
        np.array(
            [len(vtarg), vtarg.sum(), np.square(vtarg).sum(), (vtarg - vpred).sum(), np.square(vtarg - vpred).sum()],
            np.float64,
        ),
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


def _restored_env_states(state: TrainState, rank: int, size: int) -> list | None:
    """This rank's env copies' generator states from the checkpoint (``None`` if absent or the rank count changed)."""
    text = state.env_states.numpy().decode()
    states = json.loads(text) if text else []
    return states[rank] if len(states) == size else None


def _install_handlers(handler: Callable[[int, Any], None]) -> dict[int, Any]:
    """Route SIGINT and SIGTERM to ``handler``; returns the previous handlers (none off the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}


def _restore_handlers(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)


def _restored_episodes(state: TrainState) -> list[tuple[float, int]]:
    text = state.recent_episodes.numpy().decode()
    return [(float(r), int(n)) for r, n in json.loads(text)] if text else []


def _progress_bar(enabled: bool, total: int, initial: int):
    if not enabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm  # noqa: PLC0415

    return tqdm(total=total or None, initial=initial, unit="step", dynamic_ncols=True, leave=False)
