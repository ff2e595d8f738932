"""Step-size and clip-range schedules.

A schedule value is either a constant or a callable of ``frac``, the fraction of training that
*remains* (1 at the start, 0 at the end; PPO2's convention), so ``lambda f: 3e-4 * f`` is the
paper's linear annealing. PPO1's ``schedule`` keyword names a multiplier of the same kind applied
to both the step size and the clip range (the paper's alpha on Atari).
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["LinearAnneal", "Schedule", "constant", "linear", "lr_multiplier", "value_at"]

Schedule = float | Callable[[float], float]


def constant(frac: float) -> float:
    """Always 1."""
    return 1.0


def linear(frac: float) -> float:
    """Falls from 1 to 0 as training proceeds."""
    return max(frac, 0.0)


class LinearAnneal:
    """PPO2's ``lambda f: start * f``, printable and picklable."""

    def __init__(self, start: float) -> None:
        self.start = float(start)

    def __call__(self, frac: float) -> float:
        return self.start * frac

    def __repr__(self) -> str:
        return f"{self.start:g}*frac"


_MULTIPLIERS = {"constant": constant, "linear": linear}


def lr_multiplier(name: str) -> Callable[[float], float]:
    """PPO1's ``schedule`` by name: ``"constant"`` or ``"linear"``."""
    try:
        return _MULTIPLIERS[name]
    except KeyError:
        raise ValueError(f"unknown schedule {name!r}; choose from {sorted(_MULTIPLIERS)}") from None


def value_at(schedule: Schedule, frac: float) -> float:
    """The value of a constant or callable schedule when ``frac`` of training remains."""
    return float(schedule(frac)) if callable(schedule) else float(schedule)
