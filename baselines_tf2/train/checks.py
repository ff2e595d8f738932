"""Stopping on NaN/Inf with one line, on every rank together, before a bad state is saved; explained variance.

Every check is collective: a problem on one rank raises the same
:class:`~baselines_tf2.errors.TrainingDivergedError` on all of them, so no rank waits forever.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from baselines_tf2.common.mpi_adam import MpiAdam
from baselines_tf2.errors import TrainingDivergedError
from baselines_tf2.mpi import mpi_util
from baselines_tf2.train.rollout import Segment

__all__ = ["check_finite", "check_segment", "checked_metrics", "explained_variance"]


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
