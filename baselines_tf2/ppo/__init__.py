"""PPO (the paper's algorithm; Baselines' PPO1 ``pposgd_simple`` with PPO2's extras).

``learn`` is imported on first use, so that reading the presets (``ppo.defaults``) does not import
TensorFlow (``run.py --help`` answers at once).
"""

from typing import Any

__all__ = ["learn"]


def __getattr__(name: str) -> Any:
    if name == "learn":
        from baselines_tf2.ppo.pposgd import learn  # noqa: PLC0415

        return learn
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
