"""Per-key observation normalisers of a Dict policy, updated from packed observations.

:class:`DictRunningMeanStd` is a Dict policy's ``ob_rms``: one
:class:`~baselines_tf2.common.running_mean_std.RunningMeanStd` (PPO1's semantics: running sums
over all ranks, variance floor 1e-2) per ``Box`` key that is not an image. The learners call
``ob_rms.update(obs)`` with the packed batch, as for an ``MlpPolicy``; each key's statistics are
taken from its own columns, and every key's sums travel in one all-reduce, so all ranks end with
identical statistics after one collective. In a checkpoint each key's variables sit under
``ob_rms/by_key/<key>/`` (``_sum``, ``_sumsq``, ``_count``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from baselines_tf2.common.dict_space import KeySlot
from baselines_tf2.common.running_mean_std import RunningMeanStd
from baselines_tf2.mpi import mpi_util

__all__ = ["DictRunningMeanStd"]


class DictRunningMeanStd(tf.Module):
    """Running mean/std of each key in ``slots`` (``Box`` keys), read from packed rows ``[batch, flatdim]``.

    Args:
        slots: the keys to normalise, from :func:`~baselines_tf2.common.dict_space.dict_layout`.
        epsilon: prior count of each key's statistics (as :class:`RunningMeanStd`).
        comm: MPI communicator (default: all ranks).
    """

    def __init__(self, slots: Sequence[KeySlot], epsilon: float = 1e-2, comm: Any = None) -> None:
        super().__init__(name="ob_rms")
        self.comm = comm
        self._columns = tuple((slot.key, slot.offset, slot.stop) for slot in slots)
        self.by_key = {slot.key: RunningMeanStd(slot.shape, epsilon) for slot in slots}

    def __getitem__(self, key: str) -> RunningMeanStd:
        """The normaliser of ``key``."""
        return self.by_key[key]

    def __iter__(self) -> Iterator[str]:
        """The normalised keys, in packing order."""
        return iter(key for key, _, _ in self._columns)

    def update(self, x: np.ndarray) -> None:
        """Add a packed batch ``[batch, flatdim]`` from this rank to every key's statistics; collective under MPI.

        Every rank must call this the same number of times (an empty ``[0, flatdim]`` batch is fine).
        """
        x = np.asarray(x)
        x = x.reshape(-1, x.shape[-1])
        local = [self.by_key[key].local_sums(x[:, start:stop]) for key, start, stop in self._columns]
        total = mpi_util.allreduce_sum(np.concatenate(local), self.comm)
        at = 0
        for (key, _, _), sums in zip(self._columns, local):
            self.by_key[key].add_sums(total[at : at + len(sums)])
            at += len(sums)
