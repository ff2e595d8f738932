"""Alias: the schedules moved to :mod:`baselines_tf2.schedules` (beside the configs that use them)."""

from baselines_tf2.schedules import LinearAnneal, Schedule, constant, linear, lr_multiplier, value_at

__all__ = ["LinearAnneal", "Schedule", "constant", "linear", "lr_multiplier", "value_at"]
