"""Minibatches of whole env sequences, for recurrent policies (Baselines ppo2's recurrent branch).

A segment is stored time-major, ``[T, N]`` flattened to rows ``t * N + e``. A recurrent policy is
trained on whole columns: each minibatch is ``k`` env copies' ``T`` steps, ``k = optim_batchsize / T``,
the copies drawn by a shuffle of the ``N`` copies each epoch (Baselines: ``envsperbatch = nenvs //
nminibatches``, ``mbflatinds = flatinds[mbenvinds].ravel()``). A minibatch's rows are listed
**env-major** (the ``T`` rows of its first copy, then its second's...), the layout the policy's
:meth:`~baselines_tf2.common.lstm_policy.RecurrentPolicy.forward_recurrent` reads, so each
sequence starts from the state its copy acted with at the segment's first step. Under MPI with
``allgather`` the ranks' minibatches are concatenated, which keeps that layout.
"""

from __future__ import annotations

import numpy as np

from baselines_tf2.errors import ConfigError

__all__ = ["env_major_rows", "envs_per_minibatch", "sequence_minibatches"]


def envs_per_minibatch(horizon: int, num_env: int, minibatch_size: int) -> int:
    """Env copies per minibatch, ``minibatch_size / horizon``; ConfigError unless they split the ``num_env`` copies."""
    k = minibatch_size // horizon
    if minibatch_size % horizon == 0 and k > 0 and num_env % k == 0:
        return k
    fits = [d for d in range(1, num_env + 1) if num_env % d == 0 and d * horizon <= max(minibatch_size, horizon)]
    raise ConfigError(
        f"a recurrent policy trains on whole env sequences: optim_batchsize {minibatch_size} must be "
        f"timesteps_per_actorbatch {horizon} x a number of env copies that divides num_env {num_env} "
        f"(e.g. optim_batchsize {max(fits) * horizon})"
    )


def sequence_minibatches(rng: np.random.Generator, horizon: int, num_env: int, envs: int) -> np.ndarray:
    """One epoch's minibatches ``[num_env / envs, envs * horizon]``: rows of the time-major batch, env-major."""
    copies = rng.permutation(num_env).reshape(-1, envs)  # [minibatches, envs]
    rows = copies[:, :, None] + num_env * np.arange(horizon)  # [minibatches, envs, T]: row t * N + e
    return rows.reshape(len(copies), envs * horizon)


def env_major_rows(horizon: int, num_env: int) -> np.ndarray:
    """Every row of a time-major ``[T, N]`` batch, env-major: ``[N * T]``."""
    return (np.arange(num_env)[:, None] + num_env * np.arange(horizon)).reshape(-1)
