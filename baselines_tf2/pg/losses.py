"""The vanilla policy-gradient loss as a pure function of tensors, and the adaptive step-size rule."""

from __future__ import annotations

import tensorflow as tf

from baselines_tf2.common.distributions import Pd

__all__ = ["adapt_stepsize", "pg_loss"]


def pg_loss(pd: Pd, ac: tf.Tensor, weights: tf.Tensor) -> tf.Tensor:
    """``-E_t[log pi(a_t|s_t) w_t]``, whose gradient is the policy-gradient estimate (ascent on return)."""
    return -tf.reduce_mean(pd.logp(ac) * weights)


def adapt_stepsize(stepsize: float, kl: float, desired_kl: float) -> float:
    """The step size for the next batch (Berkeley CS294 hw4, the paper's "Vanilla PG, Adaptive").

    ``kl`` is the mean KL[pi_old || pi] that the last step caused: above ``2 desired_kl`` the step size
    is divided by 1.5, below ``desired_kl / 2`` multiplied by 1.5, otherwise kept. As the rule of the
    paper's section 4 for the KL penalty's beta, with a wider dead band.
    """
    if kl > 2.0 * desired_kl:
        return stepsize / 1.5
    if kl < desired_kl / 2.0:
        return stepsize * 1.5
    return stepsize
