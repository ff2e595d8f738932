"""PPO (the paper's algorithm; Baselines' PPO1 ``pposgd_simple`` with PPO2's extras)."""

from baselines_tf2.ppo.pposgd import learn

__all__ = ["learn"]
