"""Running mean and standard deviation of observations, shared by all MPI ranks.

Semantics are PPO1's (``baselines/common/mpi_running_mean_std.py``), the ones the PPO paper's code
used: the state is a running ``sum``, ``sumsq`` and ``count`` in float64, started at
``(0, epsilon, epsilon)``; each update adds the batch's sums from *every* rank (one all-reduce), so
all ranks end with identical statistics. Then

    mean = sum / count
    var  = max(sumsq / count - mean**2, 1e-2)       (so std >= 0.1)
    std  = sqrt(var)

The variance floor keeps near-constant features (e.g. a MuJoCo observation that never moves)
from being blown up by the normalisation ``(ob - mean) / std``. (Baselines' other class, the
parallel-variance ``common/running_mean_std.py`` used by VecNormalize, has no floor and no MPI.)

The state is non-trainable ``tf.Variable``s, so a ``tf.train.Checkpoint`` of a policy holding this
module saves and restores it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import tensorflow as tf

from baselines_tf2.mpi import mpi_util

__all__ = ["ObNormaliser", "RunningMeanStd", "VAR_FLOOR"]

VAR_FLOOR = 1e-2


class ObNormaliser(Protocol):
    """What the learners use of a policy's ``ob_rms``: a collective ``update`` from a batch of
    (packed) observations, over the ranks of ``comm``. :class:`RunningMeanStd` is one; a Dict
    policy's per-key :class:`~baselines_tf2.common.dict_normaliser.DictRunningMeanStd` another."""

    comm: Any

    def update(self, x: np.ndarray) -> None: ...


class RunningMeanStd(tf.Module):
    """Mean/std of a stream of ``[batch, *shape]`` arrays, all-reduced over MPI ranks.

    Args:
        shape: shape of one sample.
        epsilon: prior count (and prior sum of squares), which keeps the first statistics finite.
        comm: MPI communicator (default: all ranks).
    """

    def __init__(
        self, shape: Sequence[int] = (), epsilon: float = 1e-2, comm: Any = None, name: str | None = None
    ) -> None:
        super().__init__(name=name)
        self.shape = tuple(int(d) for d in shape)
        self.comm = comm
        self._sum = tf.Variable(np.zeros(self.shape, np.float64), trainable=False, name="sum")
        self._sumsq = tf.Variable(np.full(self.shape, epsilon, np.float64), trainable=False, name="sumsq")
        self._count = tf.Variable(np.float64(epsilon), trainable=False, name="count")

    @property
    def count(self) -> tf.Tensor:
        """Number of samples seen (plus the prior ``epsilon``), float64 scalar."""
        return self._count.read_value()

    @property
    def mean(self) -> tf.Tensor:
        """Running mean, float32 ``shape``."""
        return tf.cast(self._sum / self._count, tf.float32)

    @property
    def var(self) -> tf.Tensor:
        """Running variance with the ``1e-2`` floor, float32 ``shape``."""
        mean = self._sum / self._count
        return tf.cast(tf.maximum(self._sumsq / self._count - tf.square(mean), VAR_FLOOR), tf.float32)

    @property
    def std(self) -> tf.Tensor:
        """``sqrt(var)``, float32 ``shape`` (at least 0.1)."""
        return tf.sqrt(self.var)

    def update(self, x: np.ndarray) -> None:
        """Add a batch ``x`` of shape ``[batch, *shape]`` from this rank; collective under MPI.

        Every rank must call this the same number of times (a rank with no data passes an empty
        ``[0, *shape]`` batch).
        """
        self.add_sums(mpi_util.allreduce_sum(self.local_sums(x), self.comm))

    def local_sums(self, x: np.ndarray) -> np.ndarray:
        """This rank's ``[sum, sum of squares, count]`` of a batch ``[batch, *shape]``, flat float64.

        With :meth:`add_sums`, the two halves of :meth:`update`, for callers that all-reduce several
        normalisers' sums at once (:class:`~baselines_tf2.common.dict_normaliser.DictRunningMeanStd`).
        """
        x = np.asarray(x, dtype=np.float64).reshape((-1,) + self.shape)
        return np.concatenate([x.sum(axis=0).ravel(), np.square(x).sum(axis=0).ravel(), [len(x)]])

    def add_sums(self, total: np.ndarray) -> None:
        """Add the all-ranks sum of :meth:`local_sums` vectors to the statistics."""
        n = int(np.prod(self.shape)) if self.shape else 1
        self._sum.assign_add(total[:n].reshape(self.shape))
        self._sumsq.assign_add(total[n : 2 * n].reshape(self.shape))
        self._count.assign_add(total[2 * n])
