"""``python -m baselines_tf2.plot LOGDIR...``: learning curves of one or many runs in one PNG.

Each LOGDIR is a ``run.py --log_path`` folder (its ``progress.csv``, or its monitor files when it
has no ``progress.csv``) or a CSV file; see :mod:`baselines_tf2.tools.curves` for the x and y
axes of each source.

Seeds are grouped as Baselines' ``plot_util`` and RL-Zoo's plotter do: runs whose paths differ
only by a trailing seed part (``hopper_seed0``, ``hopper-seed1``, ``hopper/seed2``,
``pendulum_seed0.csv``) form one group, drawn as the mean over its runs with a min-max band
(``--band std``: mean +- the standard deviation over runs, ddof 0). Each run is first smoothed
(``--smooth K``: mean of its last K points), then linearly interpolated on a common grid over the
x range that all runs of the group cover (as many points as the longest run has). Other runs are
drawn as separate lines.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

import numpy as np

from baselines_tf2.tools.curves import X_AXES, Curve, CurveError, load_curve

__all__ = ["BANDS", "Series", "aggregate", "build_series", "group_paths", "main", "plot_runs", "smooth"]

BANDS = ("minmax", "std")
_SEED_SUFFIX = re.compile(r"(?:^|[/\\_.\-])seed[_\-=]?\d+$", re.IGNORECASE)
_X_LABELS = {"timesteps": "timesteps", "episodes": "episodes", "time": "time (s)"}


@dataclass
class Series:
    """One line of the plot: a run (``low``/``high`` are ``None``) or a group's mean with its band."""

    label: str
    x: np.ndarray
    y: np.ndarray
    low: np.ndarray | None = None
    high: np.ndarray | None = None
    runs: int = 1


def _run_name(path: str) -> str:
    """``path`` normalised: ``run/progress.csv`` -> ``run``; other CSV files lose ``.csv`` / ``.monitor.csv``."""
    name = os.path.normpath(path)
    if os.path.basename(name) == "progress.csv":
        return os.path.dirname(name) or "."
    for ext in (".monitor.csv", ".csv"):
        if name.endswith(ext) and os.path.isfile(path):
            return name[: -len(ext)]
    return name


def group_paths(paths: Sequence[str]) -> dict[str, list[str]]:
    """Runs by group, in first-seen order: ``{group name: [paths]}``.

    The group name of ``runs/hopper_seed0`` and ``runs/hopper/seed1`` is ``runs/hopper``; a run
    without a trailing seed part is a group of its own, named after its path. Repeated paths count once.
    """
    groups: dict[str, list[str]] = {}
    seen: set[str] = set()
    for path in paths:
        name = _run_name(path)
        if name in seen:
            continue
        seen.add(name)
        match = _SEED_SUFFIX.search(name)
        key = (name[: match.start()] or ".") if match else name
        groups.setdefault(key, []).append(path)
    return groups


def smooth(y: np.ndarray, k: int) -> np.ndarray:
    """Trailing moving average: point i becomes the mean of points ``max(0, i-k+1) .. i``."""
    y = np.asarray(y, dtype=np.float64)
    if k <= 1 or len(y) == 0:
        return y.copy()
    sums = np.concatenate([[0.0], np.cumsum(y)])
    end = np.arange(1, len(y) + 1)
    start = np.maximum(end - k, 0)
    return (sums[end] - sums[start]) / (end - start)


def aggregate(curves: Sequence[Curve], band: str = "minmax") -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(grid, mean, low, high)`` of ``curves`` interpolated on a common grid over their overlap.

    The grid is ``linspace(max of first x, min of last x, n)`` with ``n`` the longest curve's
    length; ``low/high`` are the min and max over curves (``band="minmax"``) or mean -+ std (``"std"``).
    """
    if band not in BANDS:
        raise CurveError(f"unknown band {band!r}; choose from {', '.join(BANDS)}")
    lo = max(float(c.x[0]) for c in curves)
    hi = min(float(c.x[-1]) for c in curves)
    if hi < lo:
        runs = ", ".join(c.path for c in curves)
        raise CurveError(f"the runs {runs} do not overlap in x (one ends before another starts)")
    grid = np.linspace(lo, hi, max(len(c.x) for c in curves)) if hi > lo else np.array([lo])
    ys = np.stack([np.interp(grid, c.x, c.y) for c in curves])
    mean = ys.mean(axis=0)
    if band == "minmax":
        return grid, mean, ys.min(axis=0), ys.max(axis=0)
    std = ys.std(axis=0)
    return grid, mean, mean - std, mean + std


def _labels(names: Sequence[str]) -> list[str]:
    """Group names relative to the folder they all share (``docs/data/pendulum`` -> ``pendulum``)."""
    try:
        common = os.path.commonpath([os.path.dirname(n) for n in names])
    except ValueError:  # absolute and relative paths mixed
        return list(names)
    return [os.path.relpath(n, common) if common else n for n in names]


def build_series(
    paths: Sequence[str], x: str = "timesteps", y: str = "eprewmean", smooth_k: int = 1, band: str = "minmax"
) -> list[Series]:
    """Load, smooth, group and aggregate ``paths``: one :class:`Series` per group or lone run."""
    if smooth_k < 1:
        raise CurveError(f"--smooth must be >= 1, got {smooth_k}")
    groups = group_paths(paths)
    names = [key if len(members) > 1 else _run_name(members[0]) for key, members in groups.items()]
    series = []
    for label, members in zip(_labels(names), groups.values()):
        curves = [load_curve(p, x, y) for p in members]
        curves = [Curve(c.path, c.x, smooth(c.y, smooth_k), c.source) for c in curves]
        if len(curves) == 1:
            series.append(Series(label, curves[0].x, curves[0].y))
        else:
            grid, mean, low, high = aggregate(curves, band)
            series.append(Series(label, grid, mean, low, high, runs=len(curves)))
    return series


def plot_runs(
    series: Sequence[Series],
    out: str,
    *,
    x: str = "timesteps",
    y: str = "eprewmean",
    band: str = "minmax",
    title: str | None = None,
) -> str:
    """Draw ``series`` into the PNG ``out`` (matplotlib's Agg backend); returns ``out``."""
    import matplotlib  # noqa: PLC0415 (keeps --help fast)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    band_name = "min-max" if band == "minmax" else "±1 std"
    for s in series:
        label = s.label if s.low is None else f"{s.label} (mean of {s.runs}, {band_name})"
        (line,) = ax.plot(s.x, s.y, label=label, linewidth=1.5)
        if s.low is not None and s.high is not None:
            ax.fill_between(s.x, s.low, s.high, color=line.get_color(), alpha=0.25, linewidth=0)
    ax.set_xlabel(_X_LABELS[x])
    ax.set_ylabel(y)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    directory = os.path.dirname(os.path.abspath(out))
    os.makedirs(directory, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"plot: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The flags of ``python -m baselines_tf2.plot``."""
    p = _Parser(
        prog="plot",
        usage="python -m baselines_tf2.plot LOGDIR [LOGDIR ...] [options]",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("logdirs", nargs="+", metavar="LOGDIR", help="run folders or CSV files")
    p.add_argument("--x", default="timesteps", choices=list(X_AXES), help="x axis (default: timesteps)")
    p.add_argument("--y", default="eprewmean", help="progress.csv column (default: eprewmean)")
    p.add_argument("--out", default="plot.png", help="PNG to write (default: plot.png)")
    p.add_argument("--smooth", type=int, default=1, metavar="K", help="trailing mean over K points (default: 1, none)")
    p.add_argument("--band", default="minmax", choices=BANDS, help="band of a seed group (default: minmax)")
    p.add_argument("--title", default=None, help="title of the plot")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; prints the PNG's path and returns the exit code (2 for bad input, 1 if it cannot be written)."""
    args = build_parser().parse_args(argv)
    try:
        series = build_series(args.logdirs, args.x, args.y, args.smooth, args.band)
    except CurveError as exc:
        sys.stderr.write(f"plot: error: {exc}\n")
        return 2
    try:
        out = plot_runs(series, args.out, x=args.x, y=args.y, band=args.band, title=args.title)
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"plot: error: cannot write {args.out}: {str(exc).splitlines()[0]}\n")
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
