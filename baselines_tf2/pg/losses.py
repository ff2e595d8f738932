"""The vanilla policy-gradient loss as a pure function of tensors."""

from __future__ import annotations

import tensorflow as tf

from baselines_tf2.common.distributions import Pd

__all__ = ["pg_loss"]


def pg_loss(pd: Pd, ac: tf.Tensor, weights: tf.Tensor) -> tf.Tensor:
    """``-E_t[log pi(a_t|s_t) w_t]``, whose gradient is the policy-gradient estimate (ascent on return)."""
    return -tf.reduce_mean(pd.logp(ac) * weights)
