"""PPO epochs for recurrent policies: the loss of whole env sequences replayed from the states the rollout acted with.

:class:`RecurrentPPOUpdater` is :class:`~baselines_tf2.ppo.update.PPOUpdater` with two more inputs
loaded per iteration, each step's ``episode_start`` flag and the policy state it acted with
(:class:`~baselines_tf2.train.recurrent_rollout.RecurrentSegment`), and minibatches of whole env
columns (:mod:`~baselines_tf2.ppo.sequences`). A minibatch's loss runs the policy over its
sequences from the states of their first steps, resetting at episode starts inside them, as the
rollout did. :func:`recurrent_pi_old` records pi_old the same way over the whole segment, after the
observation normaliser's update, so the ratio is exactly 1 before the first step.

Both MPI paths of the base class work unchanged: with ``allgather`` the ranks' minibatches of
whole sequences are concatenated (still env-major), with ``allreduce`` each rank's minibatch
gradient is averaged on the host.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from baselines_tf2.common.mpi_adam import MpiAdam
from baselines_tf2.common.tf_util import flatgrad
from baselines_tf2.mpi import mpi_util
from baselines_tf2.ppo.losses import METRIC_NAMES, ppo_loss
from baselines_tf2.ppo.sequences import env_major_rows, envs_per_minibatch, sequence_minibatches
from baselines_tf2.ppo.update import PPOBatch, PPOUpdater, _empty_variable

__all__ = ["RecurrentPPOUpdater", "recurrent_pi_old"]


def _env_major(a: np.ndarray) -> np.ndarray:
    """``[T, N, ...]`` -> ``[N * T, ...]``, row ``e * T + t`` (Baselines' ``sf01``)."""
    return np.swapaxes(a, 0, 1).reshape(-1, *a.shape[2:])


def recurrent_pi_old(policy: Any, seg: Any) -> tuple[np.ndarray, np.ndarray]:
    """pi_old's flat parameters ``[T * N, param]`` and ``vpred`` ``[T * N]`` (time-major rows) of a
    :class:`~baselines_tf2.train.recurrent_rollout.RecurrentSegment`: each copy's ``T`` steps run from the state it
    acted with at the first step, in one compiled call."""
    horizon, num_env = seg.rewards.shape
    pdparam, vpred, _ = policy.forward_recurrent_numpy(
        _env_major(seg.obs), seg.rnn_states[0], _env_major(seg.episode_starts)
    )
    pdparam = np.swapaxes(pdparam.reshape(num_env, horizon, -1), 0, 1).reshape(horizon * num_env, -1)
    return pdparam, np.swapaxes(vpred.reshape(num_env, horizon), 0, 1).reshape(-1)


class RecurrentPPOUpdater(PPOUpdater):
    """:class:`PPOUpdater` over whole env sequences (see the module docstring).

    Args:
        policy: a :class:`~baselines_tf2.common.lstm_policy.RecurrentPolicy`.
        optimizer: an :class:`MpiAdam` over its variables.
        horizon: ``T``, steps per env copy per segment.
        num_env: env copies on this rank.
        minibatch_size: ``optim_batchsize``; must be ``T`` x a number of copies dividing ``num_env``
            (ConfigError otherwise).
        kwargs: as :class:`PPOUpdater` (loss settings, ``comm``, ``mpi_update``, ``jit_compile``).
    """

    def __init__(
        self, policy: Any, optimizer: MpiAdam, *, horizon: int, num_env: int, minibatch_size: int, **kwargs: Any
    ) -> None:
        self.horizon, self.num_env = horizon, num_env
        self.envs_per_minibatch = envs_per_minibatch(horizon, num_env, minibatch_size)
        super().__init__(policy, optimizer, **kwargs)
        self.episode_starts = _empty_variable(tf.TensorSpec([None], tf.bool))
        self.rnn_states = _empty_variable(tf.TensorSpec([None, policy.state_size], tf.float32))
        self.whole = _empty_variable(tf.TensorSpec([None], tf.int32))  # every loaded row, env-major
        specs = [self.episode_starts, self.rnn_states, self.whole]
        self._load_sequences_fn = tf.function(
            self._load_sequences,
            input_signature=[tf.TensorSpec(v.shape, v.dtype) for v in specs],
            autograph=False,
        )

    def _load_sequences(self, episode_starts, rnn_states, whole):
        self.episode_starts.assign(episode_starts)
        self.rnn_states.assign(rnn_states)
        self.whole.assign(whole)

    def _sequence_loss(self, idx, clip_param):
        """The loss on the rows ``idx``: whole sequences of ``T`` rows each, env-major."""
        batch = PPOBatch(*[tf.gather(v, idx) for v in self.batch])  # with the masks when action masking is on
        state = tf.gather(self.rnn_states, idx[:: self.horizon])  # each sequence's state at its first step
        pdparam, vpred, _ = self.policy.forward_recurrent(batch.ob, state, tf.gather(self.episode_starts, idx))
        pdtype = self.policy.pdtype
        coefs = dict(entcoeff=self.entcoeff, vf_coef=self.vf_coef, vf_clip=self.vf_clip, kl_beta=self.kl_beta)
        pd, oldpd = pdtype.pdfromflat(pdparam, batch.mask), pdtype.pdfromflat(batch.oldpdparam, batch.mask)
        inputs = (pd, vpred, oldpd, batch.ac, batch.atarg, batch.vtarg, batch.oldvpred)
        return ppo_loss(*inputs, clip_param=clip_param, policy_loss=self.policy_loss, **coefs)

    def _minibatch_grad(self, idx):
        with tf.GradientTape() as tape:
            loss, metrics = self._sequence_loss(idx, self.clip_param)
        grads = tape.gradient(loss, self.var_list)
        return flatgrad(grads, self.var_list), tf.stack([metrics[k] for k in METRIC_NAMES])

    def _metrics(self):
        _, metrics = self._sequence_loss(self.whole, self.clip_param)
        return tf.stack([metrics[k] for k in METRIC_NAMES])

    def load_sequences(self, seg: Any) -> None:
        """Load a :class:`~baselines_tf2.train.recurrent_rollout.RecurrentSegment`'s start flags and states, after
        :meth:`load_batch` of its batch (collective with ``allgather``, which loads every rank's)."""
        horizon, num_env = seg.rewards.shape
        arrays = [seg.episode_starts.reshape(-1), seg.rnn_states.reshape(horizon * num_env, -1)]
        counts = [num_env]
        if self.allgather:
            arrays, _ = mpi_util.allgather_rows(arrays, self.comm)
            counts = mpi_util.allgather_object(num_env, self.comm)
        starts = np.cumsum([0, *counts[:-1]]) * horizon  # each rank's first row in the loaded batch
        whole = np.concatenate([start + env_major_rows(horizon, n) for start, n in zip(starts, counts)])
        self._load_sequences_fn(arrays[0], arrays[1], whole.astype(np.int32))

    def minibatches(self, rng: np.random.Generator) -> np.ndarray:
        """One epoch's minibatches of whole sequences (rows of this rank's batch), for ``run_epochs``."""
        return sequence_minibatches(rng, self.horizon, self.num_env, self.envs_per_minibatch)
