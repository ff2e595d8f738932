"""Checks of one setting's value, each raising :class:`~baselines_tf2.errors.ConfigError` that names the setting."""

from __future__ import annotations

from typing import Any

from baselines_tf2.errors import ConfigError
from baselines_tf2.schedules import Schedule, value_at

__all__ = ["non_negative", "non_negative_int", "one_of", "positive_int", "positive_schedule", "unit_interval"]


def positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")


def non_negative(name: str, value: float) -> None:
    if not value >= 0 or value == float("inf"):
        raise ConfigError(f"{name} must be >= 0, got {value}")


def non_negative_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{name} must be an integer >= 0, got {value!r}")


def unit_interval(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"{name} must be in [0, 1], got {value}")


def positive_schedule(name: str, value: Schedule) -> None:
    start = value_at(value, 1.0)
    if not start > 0 or start == float("inf"):
        raise ConfigError(f"{name} must be > 0, got {start}")


def one_of(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
