"""The vanilla policy gradient (``--alg pg``), on the same plumbing as PPO."""

from baselines_tf2.pg.vpg import learn

__all__ = ["learn"]
