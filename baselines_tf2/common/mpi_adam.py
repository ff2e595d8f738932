"""Adam whose gradient is averaged over MPI ranks before each step (Baselines' ``MpiAdam``).

Every rank computes a flat gradient on its own data; :meth:`MpiAdam.update` all-reduces it on the
host (through :mod:`baselines_tf2.mpi.mpi_util`), divides by the number of ranks, and applies
one Adam step in a compiled function. The two halves are also available separately
(:meth:`average_gradient` on the host, :meth:`apply_gradient` inside a caller's graph) so that a
learner can compile the step into its own function. Ranks that start from the same parameters therefore stay
identical, and the result equals single-process Adam on the averaged gradient.

The step is Baselines' (and Kingma & Ba's with the "epsilon hat" placement)::

    t <- t + 1
    a = stepsize * sqrt(1 - beta2**t) / (1 - beta1**t)
    m <- beta1 m + (1 - beta1) g
    v <- beta2 v + (1 - beta2) g**2
    theta <- theta - a m / (sqrt(v) + epsilon)

``m``, ``v`` and ``t`` are ``tf.Variable``s, so checkpointing the optimizer resumes Adam exactly.
The step size is a tensor argument: a schedule changing it never retraces the compiled step.
:meth:`apply_gradient` is the same step without MPI, for use inside a caller's ``tf.function``
(the one-rank fast path that runs a whole epoch in one compiled call).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from baselines_tf2.common.tf_util import get_flat, num_elements, set_from_flat
from baselines_tf2.mpi import mpi_util

__all__ = ["MpiAdam", "RanksOutOfSyncError"]


class RanksOutOfSyncError(RuntimeError):
    """Raised on every rank by :meth:`MpiAdam.check_synced` when parameters differ across ranks."""


class MpiAdam(tf.Module):
    """Adam over a list of variables with the gradient averaged across MPI ranks.

    Args:
        var_list: the variables to optimise (their order defines the flat layout).
        beta1, beta2, epsilon: Adam's constants.
        scale_grad_by_procs: divide the summed gradient by the number of ranks (average).
        comm: MPI communicator (default: all ranks).
        max_grad_norm: if set, the averaged gradient is rescaled to at most this global L2 norm
            before the step (PPO2's ``max_grad_norm``); the same on any number of ranks.
        check_every: :meth:`update` calls :meth:`check_synced` every this many steps (0: never).
    """

    def __init__(
        self,
        var_list: Sequence[tf.Variable],
        *,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-8,
        scale_grad_by_procs: bool = True,
        comm: Any = None,
        max_grad_norm: float | None = None,
        check_every: int = 100,
    ) -> None:
        super().__init__(name="MpiAdam")
        self.var_list = list(var_list)
        self.beta1, self.beta2, self.epsilon = float(beta1), float(beta2), float(epsilon)
        self.scale_grad_by_procs = scale_grad_by_procs
        self.comm = comm
        self.check_every = check_every
        self.max_grad_norm = max_grad_norm
        self.size = num_elements(self.var_list)
        self.m = tf.Variable(tf.zeros([self.size], tf.float32), trainable=False, name="m")
        self.v = tf.Variable(tf.zeros([self.size], tf.float32), trainable=False, name="v")
        self.t = tf.Variable(0, dtype=tf.int64, trainable=False, name="t")
        self._host_updates = 0
        self._compiled_apply = tf.function(
            self.apply_gradient,
            input_signature=[tf.TensorSpec([self.size], tf.float32), tf.TensorSpec([], tf.float32)],
            autograph=False,
        )
        self._compiled_getflat = tf.function(lambda: get_flat(self.var_list), autograph=False)
        self._compiled_setfromflat = tf.function(
            lambda flat: set_from_flat(self.var_list, flat),
            input_signature=[tf.TensorSpec([self.size], tf.float32)],
            autograph=False,
        )

    def apply_gradient(self, flat_grad: tf.Tensor, stepsize: tf.Tensor) -> tf.Tensor:
        """One Adam step from an already averaged flat gradient; graph-safe, no MPI.

        Returns the gradient's global norm before any clipping.
        """
        norm = tf.norm(flat_grad)
        if self.max_grad_norm:
            flat_grad = flat_grad * tf.minimum(1.0, self.max_grad_norm / tf.maximum(norm, 1e-12))
        t = tf.cast(self.t.assign_add(1), tf.float32)
        a = stepsize * tf.sqrt(1.0 - self.beta2**t) / (1.0 - self.beta1**t)
        m = self.m.assign(self.beta1 * self.m + (1.0 - self.beta1) * flat_grad)
        v = self.v.assign(self.beta2 * self.v + (1.0 - self.beta2) * tf.square(flat_grad))
        step = -a * m / (tf.sqrt(v) + self.epsilon)
        sizes = [int(np.prod(var.shape)) for var in self.var_list]
        for var, piece in zip(self.var_list, tf.split(step, sizes)):
            var.assign_add(tf.reshape(piece, var.shape))
        return norm

    def average_gradient(self, flat_grad: np.ndarray | tf.Tensor) -> np.ndarray:
        """The mean of every rank's ``flat_grad`` (collective; the sum if not ``scale_grad_by_procs``).

        Every ``check_every`` calls it first verifies that the ranks' parameters agree.
        """
        if self.check_every and self._host_updates % self.check_every == 0:
            self.check_synced()
        self._host_updates += 1
        local = np.asarray(flat_grad, dtype=np.float32)
        if local.shape != (self.size,):
            raise ValueError(f"flat gradient has shape {local.shape}, expected ({self.size},)")
        globalg = mpi_util.allreduce_sum(local, self.comm)
        if self.scale_grad_by_procs:
            globalg /= mpi_util.size(self.comm)
        return globalg

    def apply_averaged(self, globalg: np.ndarray, stepsize: float) -> None:
        """One compiled Adam step from an already averaged gradient (no MPI)."""
        self._compiled_apply(tf.constant(globalg, tf.float32), tf.constant(stepsize, tf.float32))

    def update(self, flat_grad: np.ndarray | tf.Tensor, stepsize: float) -> None:
        """Average ``flat_grad`` over ranks (collective), then take one Adam step of ``stepsize``."""
        self.apply_averaged(self.average_gradient(flat_grad), stepsize)

    def getflat(self) -> np.ndarray:
        """The variables as one float32 vector."""
        return self._compiled_getflat().numpy()

    def setfromflat(self, flat: np.ndarray) -> None:
        """Assign the variables from one float32 vector."""
        self._compiled_setfromflat(tf.constant(np.asarray(flat, np.float32)))

    def sync(self) -> None:
        """Make every rank's variables equal to rank 0's (collective)."""
        self.setfromflat(mpi_util.broadcast(self.getflat(), root=0, comm=self.comm))

    def check_synced(self) -> None:
        """Raise :class:`RanksOutOfSyncError` on every rank if any rank's variables differ from rank 0's."""
        mine = self.getflat()
        root = mpi_util.broadcast(mine, root=0, comm=self.comm)
        differs = np.array([0.0 if np.array_equal(mine, root) else 1.0])
        bad = int(mpi_util.allreduce_sum(differs, self.comm)[0])
        if bad:
            raise RanksOutOfSyncError(f"{bad} MPI rank(s) hold parameters different from rank 0's")
