"""Evaluation during training (``eval_every``, ``eval_episodes``) and the best policy's checkpoint.

Every ``eval_every`` iterations, and after the last iteration when a step, episode or iteration
limit ends the run, :class:`Evaluation` plays ``eval_episodes`` episodes with the distribution's
mode (``pi.act(stochastic=False, ...)``, through :func:`~baselines_tf2.tools.evaluate.episode_stats`,
the loop of ``--play``) and returns ``eval/return_mean``, ``eval/return_std`` (over episodes,
ddof 0) and ``eval/length_mean`` for the iteration's log row.

* **Its own env**, built like the training env but for evaluation (an env id: ``make_env(id,
  train=False)``; Atari: the same preprocessing without life loss as an episode end or reward
  clipping, so whole games are scored; the Monitor's true return), or the ``eval_env`` given
  to ``learn()`` (an env, or a function making one), built at each evaluation and closed after.
* **Seeds**: episode ``j`` of every evaluation is reset with ``seed + EVAL_SEED_OFFSET + j``
  (training copies use ``seed + 10000 rank + i``), so evaluations differ by the policy alone and the
  result does not depend on how many ranks share the episodes.
* **Frozen normaliser**: acting only reads ``ob_rms``; nothing here updates it or draws from the
  training generator, so a run with evaluation trains exactly as one without.
* **MPI**: rank r plays a contiguous r-th share of the episodes; the ``(return, length)`` pairs
  are gathered in episode order, so every rank computes the same statistics and agrees on "best".
* **Time**: the evaluation runs after the iteration's clock stopped, so it is not in ``fps``, and its
  steps are not counted in ``total_timesteps`` or the step limits; it is wall time (``time_elapsed``,
  ``max_seconds``). An iteration that ends on SIGINT/SIGTERM is not evaluated (the run saves and stops).
* **Best**: with a ``save_path``, a return mean above every earlier one writes the policy (weights and
  ``ob_rms``) and the reward scaler to ``<save_path>/best/ckpt-<iteration>`` (rank 0; the newest
  only), with ``eval.json`` (iteration, timesteps, score) and a copy of the folder's ``run.json``;
  ``--load_path <save_path>/best`` plays or exports it. A resumed run (``load_path``) continues from
  the score in ``eval.json``; a new run starts from none.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from baselines_tf2.common.policies import Policy
from baselines_tf2.config import RunConfig
from baselines_tf2.envs.make import make_env
from baselines_tf2.errors import ConfigError
from baselines_tf2.mpi import mpi_util
from baselines_tf2.tools.evaluate import episode_stats
from baselines_tf2.train.checkpoint import (
    BEST_SUMMARY,
    Checkpointer,
    TrainState,
    atomic_write_json,
    read_run_config,
)
from baselines_tf2.train.limits import fraction_left
from baselines_tf2.train.logger import Logger

__all__ = ["BEST_DIR", "EVAL_JSON", "EVAL_KEYS", "EVAL_SEED_OFFSET", "Evaluation", "episode_share"]

EVAL_SEED_OFFSET = 1_000_000  # beyond every training copy's seed (seed + 10000 rank + i) for < 100 ranks
EVAL_KEYS = ("eval/return_mean", "eval/return_std", "eval/length_mean")
BEST_DIR = "best"
EVAL_JSON = BEST_SUMMARY

EnvMaker = Callable[[], gym.Env]


def episode_share(episodes: int, rank: int, size: int) -> range:
    """The episode indices rank ``rank`` of ``size`` plays: a contiguous share, sizes differing by at most 1."""
    base, extra = divmod(episodes, size)
    start = rank * base + min(rank, extra)
    return range(start, start + base + (rank < extra))


def _env_maker(env: Any, eval_env: gym.Env | EnvMaker | None) -> gym.Env | EnvMaker:
    """The evaluation env (kept open) or the function making one, from ``learn()``'s ``env`` and ``eval_env``."""
    if isinstance(eval_env, gym.Env) or (callable(eval_env) and not isinstance(eval_env, gym.vector.VectorEnv)):
        return eval_env
    if eval_env is not None:
        raise ConfigError(f"eval_env must be a gymnasium Env or a function making one, got {type(eval_env).__name__}")
    if isinstance(env, str):
        return lambda: make_env(env, train=False)
    raise ConfigError("eval_every needs eval_env= (a gymnasium Env or a function making one) when env is not an id")


def _check_spaces(env: gym.Env, policy: Policy) -> None:
    """The evaluation env must give the policy's observations and take its actions."""
    if env.observation_space.shape != policy.ob_space.shape or env.action_space != policy.ac_space:
        raise ConfigError(
            f"the evaluation env's spaces ({env.observation_space}, {env.action_space}) are not the training env's "
            f"({policy.ob_space}, {policy.ac_space})"
        )


class Evaluation:
    """The evaluation hook of :class:`~baselines_tf2.train.training.TrainingRun` (see the module docstring).

    Args:
        cfg: the run's settings (``eval_every``, ``eval_episodes``, ``seed``, ``save_path``, ``load_path``, limits).
        env, eval_env: ``learn()``'s arguments, from which the evaluation env is made.
        policy: the policy evaluated.
        state: the run's counters (read only).
        checkpointed: the run's checkpoint objects; the best checkpoint holds them but the optimizer
            (the policy with its ``ob_rms``, the reward scaler).
        logger: gets the evaluation's columns declared, so ``progress.csv`` has them from the first row.
        comm: MPI communicator.
    """

    def __init__(
        self,
        cfg: RunConfig,
        env: Any,
        eval_env: gym.Env | EnvMaker | None,
        policy: Policy,
        state: TrainState,
        checkpointed: Mapping[str, Any],
        logger: Logger,
        comm: Any,
    ) -> None:
        self.cfg, self.policy, self.state, self.comm = cfg, policy, state, comm
        self.every, self.episodes = cfg.eval_every, cfg.eval_episodes
        self.rank, self.size = mpi_util.rank(comm), mpi_util.size(comm)
        self.best_objects = {name: obj for name, obj in checkpointed.items() if name != "optimizer"}
        self.best_dir = os.path.join(cfg.save_path, BEST_DIR) if cfg.save_path else None
        self.checkpointer: Checkpointer | None = None
        self.best_score = -np.inf
        if not self.every:
            return
        self.env = _env_maker(env, eval_env)
        self._with_env(lambda made: _check_spaces(made, policy))  # bad input fails now, not at the first evaluation
        logger.declare(EVAL_KEYS)
        if self.best_dir and cfg.load_path:
            self.best_score = mpi_util.bcast_object(self._saved_score() if self.rank == 0 else None, comm=comm)

    def after_iteration(self) -> dict[str, float]:
        """Evaluate if this iteration is due (collective); the ``eval/`` values for the log row, else ``{}``."""
        if not self.every:
            return {}
        iteration = int(self.state.iters)
        counters = (int(self.state.timesteps), int(self.state.episodes), iteration)
        last = fraction_left(self.cfg, *counters, 0.0) is None  # a step, episode or iteration limit is reached
        if iteration % self.every and not last:
            return {}
        mine = episode_share(self.episodes, self.rank, self.size)
        local = self._play(mine.start, len(mine)) if len(mine) else []
        stats = np.array([ep for eps in mpi_util.allgather_object(local, self.comm) for ep in eps], np.float64)
        returns, lengths = stats[:, 0], stats[:, 1]
        row = dict(zip(EVAL_KEYS, (float(returns.mean()), float(returns.std()), float(lengths.mean()))))
        if self.best_dir and row["eval/return_mean"] > self.best_score:
            self.best_score = row["eval/return_mean"]
            self._save_best(iteration, counters[0], row)
        return row

    def _play(self, first: int, count: int) -> list[tuple[float, int]]:
        """``(return, length)`` of episodes ``first``, ..., ``first + count - 1`` of the evaluation."""
        seed = self.cfg.seed + EVAL_SEED_OFFSET + first
        masking = self.cfg.action_masking
        return self._with_env(
            lambda env: episode_stats(self.policy, env, count, seed=seed, reseed=True, action_masking=masking)
        )

    def _with_env(self, use: Callable[[gym.Env], Any]) -> Any:
        """``use(env)`` on the given evaluation env, or on a new one closed afterwards."""
        env = self.env if isinstance(self.env, gym.Env) else self.env()
        try:
            return use(env)
        finally:
            if env is not self.env:
                env.close()

    def _save_best(self, iteration: int, timesteps: int, row: Mapping[str, float]) -> None:
        """Rank 0 writes the best checkpoint, then ``eval.json`` (and, the first time, ``run.json``)."""
        assert self.best_dir is not None  # only called with a save folder
        if self.checkpointer is None:
            self.checkpointer = Checkpointer(self.best_dir, enabled=self.rank == 0, max_to_keep=1, **self.best_objects)
            record = read_run_config(self.cfg.save_path) if self.rank == 0 and self.cfg.save_path else None
            if record is not None:  # so that --load_path <save_path>/best checks the env and network
                atomic_write_json(os.path.join(self.best_dir, "run.json"), record)
        prefix = self.checkpointer.save(iteration)
        if prefix is None:  # ranks other than 0
            return
        summary: dict[str, Any] = {"iteration": iteration, "timesteps": timesteps, "score": row["eval/return_mean"]}
        summary.update(return_std=row["eval/return_std"], length_mean=row["eval/length_mean"], episodes=self.episodes)
        summary["checkpoint"] = os.path.basename(prefix)
        atomic_write_json(os.path.join(self.best_dir, EVAL_JSON), summary)

    def _saved_score(self) -> float:
        """The score in ``<save_path>/best/eval.json`` (``-inf`` without one)."""
        assert self.best_dir is not None
        try:
            with open(os.path.join(self.best_dir, EVAL_JSON), encoding="utf-8") as f:
                return float(json.load(f)["score"])
        except (OSError, ValueError, KeyError, TypeError):
            return -np.inf
