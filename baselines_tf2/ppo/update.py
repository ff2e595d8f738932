"""One PPO epoch over a batch: minibatch gradients of :func:`ppo_loss` applied with :class:`MpiAdam`.

Two paths, chosen once by the number of MPI ranks and ``mpi_update``:

* one rank, or several with ``allgather``: the whole epoch (every minibatch's gradient *and* Adam step) is one XLA-compiled
  ``tf.function`` call, so the ~0.2 ms cost of entering TensorFlow is paid once per epoch, not per
  minibatch;
  With ``allgather`` (the default for MLPs, whose minibatch steps are tiny) the ranks
  exchange their batches once per iteration and, every epoch, their minibatch indices; each rank
  then runs the one-rank epoch on the *union* of the ranks' minibatch ``i``. The mean gradient
  over that union is the mean of the ranks' minibatch gradients (equal sizes), so this is MpiAdam's
  averaged-gradient step, taken identically on every rank with no collective per minibatch
  (tested equal to the all-reduce path). Every rank computes every rank's gradients, which is
  cheap for an MLP and is not for a CNN;
* several ranks, ``allreduce`` (the default for CNNs): per minibatch, the compiled gradient, its
  all-reduce on the host (:meth:`MpiAdam.average_gradient`), the compiled Adam step. No MPI call
  runs inside a compiled function. Minibatches are gathered inside the graph.

``docs/benchmarks.md`` has the measurements behind the defaults (``mpirun -n 2``, Hopper and Pong).

The batch, the step size and the clip range are held in variables (loaded once per iteration),
so schedules never retrace and the per-minibatch calls pass only indices and, under MPI, the
averaged gradient. The minibatch order (``perm``) comes from the host's seeded generator.

With action masking (``masked=True``) the batch carries each step's mask of valid actions as one
more variable, gathered with the rest on every path, and pi and pi_old are both built over it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import tensorflow as tf

from baselines_tf2.common.mpi_adam import MpiAdam
from baselines_tf2.common.policies import Policy
from baselines_tf2.common.tf_util import flatgrad
from baselines_tf2.config import MPI_UPDATES
from baselines_tf2.mpi import mpi_util
from baselines_tf2.ppo.losses import METRIC_NAMES, POLICY_LOSSES, ppo_loss

__all__ = ["BATCH_KEYS", "MPI_UPDATES", "PPOBatch", "PPOUpdater"]


class PPOBatch(NamedTuple):
    """One iteration's training data, every field ``[n, ...]`` (also the compiled functions' argument order)."""

    ob: Any  # observations
    ac: Any  # actions taken
    atarg: Any  # standardised advantages
    vtarg: Any  # value targets (TD(lambda) returns)
    oldpdparam: Any  # pi_old's flat distribution parameters
    oldvpred: Any  # V_old, for the clipped value loss
    mask: Any = None  # bool [n, param]: the valid actions of each step (action masking); None without


BATCH_KEYS = PPOBatch._fields


class PPOUpdater:
    """Runs PPO epochs for ``policy`` with ``optimizer``.

    Args:
        policy: the policy being trained.
        optimizer: an :class:`MpiAdam` over ``policy.trainable_variables``.
        entcoeff, vf_coef, vf_clip: loss settings (see :func:`ppo_loss`).
        loss: the policy surrogate, a key of :data:`POLICY_LOSSES` (``clip``, ``none``,
            ``fixed_kl``, ``adaptive_kl``).
        kl_beta: variable holding beta for the KL-penalty losses (read at every step, so the
            adaptive rule changes it without retracing).
        comm: MPI communicator (its size picks the compiled path).
        jit_compile: compile the epoch / gradient with XLA; default ``policy.jit_compile`` (on for
            MLPs, whose minibatch steps get several times faster; off for CNNs, because XLA's CPU
            convolutions are ~50x slower than TensorFlow's oneDNN ones).
        mpi_update: with several ranks, ``"allgather"`` (exchange the batch, identical local steps),
            ``"allreduce"`` (all-reduce every minibatch's gradient) or ``"auto"`` (allgather for
            policies that XLA-compile, i.e. MLPs; allreduce otherwise). See the module docstring.
        masked: batches carry action masks (``PPOBatch.mask``), applied to pi and pi_old alike.
    """

    def __init__(
        self,
        policy: Policy,
        optimizer: MpiAdam,
        *,
        entcoeff: float,
        vf_coef: float,
        vf_clip: bool,
        comm: Any = None,
        loss: str = "clip",
        kl_beta: tf.Variable | None = None,
        jit_compile: bool | None = None,
        mpi_update: str = "auto",
        masked: bool = False,
    ) -> None:
        self.policy = policy
        self.optimizer = optimizer
        self.var_list = optimizer.var_list
        self.entcoeff, self.vf_coef, self.vf_clip = float(entcoeff), float(vf_coef), bool(vf_clip)
        self.policy_loss = POLICY_LOSSES[loss]
        self.kl_beta = kl_beta if kl_beta is not None else tf.Variable(1.0, trainable=False)
        if mpi_update not in MPI_UPDATES:
            raise ValueError(f"mpi_update must be one of {', '.join(MPI_UPDATES)}, got {mpi_update!r}")
        self.comm = comm
        self.single_rank = mpi_util.size(comm) == 1
        jit_compile = policy.jit_compile if jit_compile is None else jit_compile
        self.allgather = not self.single_rank and (
            mpi_update == "allgather" or (mpi_update == "auto" and bool(jit_compile))
        )
        self._rank_starts = np.zeros(1, np.int64)  # where each rank's rows start in the gathered batch
        per_sample = tf.TensorSpec([None], tf.float32)
        self.masked = bool(masked)
        mask_spec = tf.TensorSpec(policy.pdparam_spec.shape, tf.bool) if masked else None
        specs = PPOBatch(
            policy.ob_spec, policy.ac_spec, per_sample, per_sample, policy.pdparam_spec, per_sample, mask_spec
        )
        batch_specs = [spec for spec in specs if spec is not None]
        # The batch and the scheduled scalars live in variables, loaded once per iteration, so the
        # compiled calls take almost no arguments (each argument costs ~30 us, a NumPy one ~130 us).
        self.batch = [_empty_variable(spec) for spec in batch_specs]
        self.stepsize = tf.Variable(0.0, trainable=False)
        self.clip_param = tf.Variable(0.0, trainable=False)
        self._stepsize_host = self._clip_host = 0.0
        self._load_fn = tf.function(self._load, input_signature=batch_specs, autograph=False)
        index = tf.TensorSpec([None], tf.int32)
        self._epoch_fn = tf.function(
            self._epoch,
            input_signature=[tf.TensorSpec([None, None], tf.int32)],
            jit_compile=jit_compile,
            autograph=False,
        )
        self._grad_fn = tf.function(
            self._minibatch_grad, input_signature=[index], jit_compile=jit_compile, autograph=False
        )
        self._metrics_fn = tf.function(self._metrics, input_signature=[], autograph=False)
        flat = tf.TensorSpec([optimizer.size], tf.float32)
        self._apply_fn = tf.function(self._apply, input_signature=[flat], jit_compile=jit_compile, autograph=False)
        # Calling the traced (concrete) functions directly skips tf.function's argument binding:
        # ~150 us saved on every call, which under MPI is every minibatch. Each is traced on first
        # use (a trace of the policy and loss takes ~0.5 s; most runs use one path only).
        self._calls: dict[str, Any] = {}

    def _call(self, name: str):
        """The concrete function of the ``tf.function`` attribute ``name``, traced once."""
        if name not in self._calls:
            self._calls[name] = getattr(self, name).get_concrete_function()
        return self._calls[name]

    # ---------------------------------------------------------------- compiled pieces

    def _loss(self, batch: PPOBatch, clip_param):
        pdparam, vpred = self.policy.forward(batch.ob)
        pdtype = self.policy.pdtype
        pd, oldpd = pdtype.pdfromflat(pdparam, batch.mask), pdtype.pdfromflat(batch.oldpdparam, batch.mask)
        coefs = dict(entcoeff=self.entcoeff, vf_coef=self.vf_coef, vf_clip=self.vf_clip, kl_beta=self.kl_beta)
        inputs = (pd, vpred, oldpd, batch.ac, batch.atarg, batch.vtarg, batch.oldvpred)
        return ppo_loss(*inputs, clip_param=clip_param, policy_loss=self.policy_loss, **coefs)

    def _grad(self, batch: PPOBatch, clip_param):
        with tf.GradientTape() as tape:
            loss, metrics = self._loss(batch, clip_param)
        grads = tape.gradient(loss, self.var_list)
        return flatgrad(grads, self.var_list), tf.stack([metrics[k] for k in METRIC_NAMES])

    def _load(self, *tensors):
        for var, value in zip(self.batch, tensors):
            var.assign(value)

    def _minibatch_grad(self, idx):
        return self._grad(PPOBatch(*[tf.gather(v, idx) for v in self.batch]), self.clip_param)

    def _epoch(self, perm):
        def step(i):
            g, metrics = self._minibatch_grad(perm[i])
            self.optimizer.apply_gradient(g, self.stepsize)
            return metrics

        return _mean_over_minibatches(perm, step)

    def _apply(self, avg_grad):
        self.optimizer.apply_gradient(avg_grad, self.stepsize)
        return avg_grad

    def _metrics(self):
        _, metrics = self._loss(PPOBatch(*self.batch), self.clip_param)
        return tf.stack([metrics[k] for k in METRIC_NAMES])

    # ---------------------------------------------------------------- host API

    def load_batch(self, batch: PPOBatch | Mapping[str, np.ndarray]) -> None:
        """Copy a batch (a :class:`PPOBatch`, or a mapping with its field names) into TensorFlow, once per iteration.

        With ``allgather`` (collective) every rank loads all ranks' batches, after checking that
        the ranks' parameters still agree. A batch has a mask exactly when the updater is ``masked``.
        """
        if not isinstance(batch, PPOBatch):
            batch = PPOBatch(**{k: batch[k] for k in BATCH_KEYS if k != "mask"}, mask=batch.get("mask"))
        if (batch.mask is not None) != self.masked:
            raise ValueError(f"this updater was built with masked={self.masked}; the batch must match")
        arrays = [array for array in batch if array is not None]
        if self.allgather:
            self.optimizer.check_synced()
            arrays, self._rank_starts = mpi_util.allgather_rows(arrays, self.comm)
        self._load_fn(*arrays)

    def _set_schedule(self, stepsize: float, clip_param: float) -> None:
        if float(stepsize) != self._stepsize_host:
            self.stepsize.assign(stepsize)
            self._stepsize_host = float(stepsize)
        if float(clip_param) != self._clip_host:
            self.clip_param.assign(clip_param)
            self._clip_host = float(clip_param)

    def run_epoch(self, perm: np.ndarray, stepsize: float, clip_param: float) -> dict[str, float]:
        """One pass over the minibatches ``perm`` (``[n_minibatches, minibatch_size]`` indices).

        Returns the metrics averaged over the minibatches (each taken before its own step): this
        rank's, or with ``allgather`` the union's (the same on every rank).
        """
        self._set_schedule(stepsize, clip_param)
        if self.allgather:
            # Minibatch i of the gathered batch is every rank's minibatch i (collective).
            perms = mpi_util.allgather_object(np.asarray(perm, np.int32), self.comm)
            perm = np.concatenate([p + start for p, start in zip(perms, self._rank_starts)], axis=1)
        if self.single_rank or self.allgather:
            return dict(zip(METRIC_NAMES, self._call("_epoch_fn")(tf.constant(perm, tf.int32)).numpy().tolist()))
        totals = np.zeros(len(METRIC_NAMES))
        grad_fn, apply_fn = self._call("_grad_fn"), self._call("_apply_fn")
        for idx in perm:
            g, metrics = grad_fn(tf.constant(idx, tf.int32))
            apply_fn(tf.constant(self.optimizer.average_gradient(g.numpy())))
            totals += metrics.numpy()
        return dict(zip(METRIC_NAMES, (totals / len(perm)).tolist()))

    def evaluate(self, clip_param: float) -> dict[str, float]:
        """The loss metrics of the current parameters on the whole loaded batch (no update)."""
        self._set_schedule(self._stepsize_host, clip_param)
        return dict(zip(METRIC_NAMES, self._metrics_fn().numpy().tolist()))


def _mean_over_minibatches(perm: tf.Tensor, step) -> tf.Tensor:
    """Run ``step(i)`` (which returns the metrics vector) for every row ``i`` of ``perm``, in order; their mean.

    An explicit ``tf.while_loop``, so the functions need no AutoGraph conversion (which parsed the
    policy's, the loss's and tfp's source at every start: seconds of tracing).
    """
    n = tf.shape(perm)[0]
    _, totals = tf.while_loop(
        lambda i, _: i < n, lambda i, totals: (i + 1, totals + step(i)), (tf.constant(0), tf.zeros([len(METRIC_NAMES)]))
    )
    return totals / tf.cast(n, tf.float32)


def _empty_variable(spec: tf.TensorSpec) -> tf.Variable:
    """A variable of ``spec``'s dtype and (batch-size-free) shape, holding an empty batch until loaded."""
    return tf.Variable(tf.zeros([0, *spec.shape[1:]], spec.dtype), shape=spec.shape, trainable=False)
