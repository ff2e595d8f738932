"""Reading one run's learning curve from disk: ``progress.csv`` or Baselines monitor files.

A *run* is a log folder (``run.py --log_path``) or a single CSV file:

* a folder with ``progress.csv``, or any ``.csv`` file not ending in ``.monitor.csv``: one row per
  iteration; x is ``total_timesteps``, ``episodes`` or ``time_elapsed``, y any column
  (``eprewmean`` by default);
* otherwise a folder with ``monitor/*.monitor.csv`` or ``*.monitor.csv`` (or one such file):
  every episode of every env copy, merged in order of wall-clock end time as Baselines'
  ``load_results`` does; x is the cumulative step count, the episode index (1, 2, ...) or the
  wall time in seconds since the earliest monitor started; y is the episode return ``r``
  (``--y eprewmean`` or ``r``) or length ``l`` (``--y eplenmean`` or ``l``).

Rows whose x or y is empty or not finite (``eprewmean`` before the first episode) are dropped.
"""

from __future__ import annotations

import csv
import glob
import math
import os
from dataclasses import dataclass

import numpy as np

from baselines_tf2.envs.monitor import read_monitor_csv

__all__ = ["X_AXES", "Curve", "CurveError", "load_curve", "monitor_files"]

# --x name -> (progress.csv column, monitor quantity)
X_AXES = {"timesteps": "total_timesteps", "episodes": "episodes", "time": "time_elapsed"}
_MONITOR_Y = {"eprewmean": "r", "r": "r", "eplenmean": "l", "l": "l"}


class CurveError(ValueError):
    """A run that cannot be read: missing folder or files, unknown column, no data."""


@dataclass
class Curve:
    """One run's points, sorted by ``x``; ``source`` is ``"progress"`` or ``"monitor"``."""

    path: str
    x: np.ndarray
    y: np.ndarray
    source: str


def monitor_files(directory: str) -> list[str]:
    """The run's monitor files: ``monitor/*.monitor.csv``, else ``*.monitor.csv`` in ``directory``."""
    for pattern in (os.path.join(directory, "monitor", "*.monitor.csv"), os.path.join(directory, "*.monitor.csv")):
        found = sorted(glob.glob(pattern))
        if found:
            return found
    return []


def load_curve(path: str, x: str = "timesteps", y: str = "eprewmean") -> Curve:
    """The curve of the run at ``path`` (a log folder or a CSV file); see the module docstring."""
    if x not in X_AXES:
        raise CurveError(f"unknown x axis {x!r}; choose from {', '.join(X_AXES)}")
    if not os.path.exists(path):
        raise CurveError(f"no such file or folder: {path}")
    if os.path.isdir(path):
        progress = os.path.join(path, "progress.csv")
        if os.path.isfile(progress):
            return _finish(path, *_read_progress(progress, X_AXES[x], y), "progress")
        files = monitor_files(path)
        if not files:
            raise CurveError(f"{path} has no progress.csv and no monitor files (monitor/*.monitor.csv, *.monitor.csv)")
        return _finish(path, *_read_monitors(files, x, y), "monitor")
    if path.endswith(".monitor.csv"):
        return _finish(path, *_read_monitors([path], x, y), "monitor")
    return _finish(path, *_read_progress(path, X_AXES[x], y), "progress")


def _float(text: str | None) -> float:
    try:
        return float(text) if text not in (None, "") else math.nan
    except ValueError:
        return math.nan


def _read_progress(path: str, x_col: str, y_col: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            columns = reader.fieldnames or []
            for col in (x_col, y_col):
                if col not in columns:
                    raise CurveError(f"{path} has no column {col!r}; columns: {', '.join(columns) or 'none'}")
            rows = [(_float(row[x_col]), _float(row[y_col])) for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CurveError(f"cannot read {path}: {exc}") from None
    data = np.array(rows, dtype=np.float64).reshape(-1, 2)
    return data[:, 0], data[:, 1]


def _read_monitors(files: list[str], x: str, y: str) -> tuple[np.ndarray, np.ndarray]:
    if y not in _MONITOR_Y:
        raise CurveError(
            f"monitor files hold episode returns and lengths only; --y {y} needs a progress.csv "
            f"(use --y {' or '.join(_MONITOR_Y)})"
        )
    episodes = []  # (absolute end time, r, l)
    t_starts = []
    for name in files:
        try:
            header, rows = read_monitor_csv(name)
            t_start = float(header["t_start"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CurveError(f"cannot read monitor file {name}: {exc}") from None
        t_starts.append(t_start)
        episodes += [(t_start + t, r, n) for r, n, t in rows]
    episodes.sort(key=lambda e: e[0])  # stable: ties keep file order
    data = np.array(episodes, dtype=np.float64).reshape(-1, 3)
    ys = data[:, 1] if _MONITOR_Y[y] == "r" else data[:, 2]
    if x == "timesteps":
        xs = np.cumsum(data[:, 2])
    elif x == "episodes":
        xs = np.arange(1, len(data) + 1, dtype=np.float64)
    else:
        xs = data[:, 0] - min(t_starts, default=0.0)
    return xs, ys


def _finish(path: str, x: np.ndarray, y: np.ndarray, source: str) -> Curve:
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if len(x) == 0:
        raise CurveError(f"{path} has no data points")
    order = np.argsort(x, kind="stable")
    return Curve(path=path, x=x[order], y=y[order], source=source)
