"""The vanilla policy gradient (``--alg pg``), on the same plumbing as PPO.

``learn`` is imported on first use (as in :mod:`baselines_tf2.ppo`).
"""

from typing import Any

__all__ = ["learn"]


def __getattr__(name: str) -> Any:
    if name == "learn":
        from baselines_tf2.pg.vpg import learn  # noqa: PLC0415

        return learn
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
