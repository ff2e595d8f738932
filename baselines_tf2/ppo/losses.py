"""PPO's loss as pure functions of tensors (safe inside ``tf.function``; no state, no side effects).

Symbols (paper -> here): r_t(theta) -> ``ratio``, A_t -> ``atarg``, epsilon -> ``clip_param``,
V_t^targ -> ``vtarg``, c1 -> ``vf_coef``, c2 -> ``entcoeff``, S -> ``pd.entropy()``.
"""

from __future__ import annotations

import tensorflow as tf

from baselines_tf2.common.distributions import Pd

__all__ = ["METRIC_NAMES", "clip_surrogate", "ppo_loss", "value_loss"]

METRIC_NAMES = ("total_loss", "policy_loss", "value_loss", "policy_entropy", "approxkl", "meankl", "clipfrac")


def clip_surrogate(ratio: tf.Tensor, atarg: tf.Tensor, clip_param: tf.Tensor) -> tf.Tensor:
    """Per-sample L^CLIP: ``min(r_t A_t, clip(r_t, 1 - eps, 1 + eps) A_t)``, shape ``[batch]``."""
    return tf.minimum(ratio * atarg, tf.clip_by_value(ratio, 1.0 - clip_param, 1.0 + clip_param) * atarg)


def value_loss(vpred: tf.Tensor, vtarg: tf.Tensor, oldvpred: tf.Tensor, clip_param: tf.Tensor, vf_clip: bool) -> tf.Tensor:
    """L^VF = mean((V(s_t) - V_t^targ)^2).

    With ``vf_clip`` (PPO2), the larger of that and the error of the prediction clipped to
    ``oldvpred +- clip_param``: ``mean(max((V - R)^2, (oldV + clip(V - oldV, -eps, eps) - R)^2))``.
    """
    err = tf.square(vpred - vtarg)
    if vf_clip:
        clipped = oldvpred + tf.clip_by_value(vpred - oldvpred, -clip_param, clip_param)
        err = tf.maximum(err, tf.square(clipped - vtarg))
    return tf.reduce_mean(err)


def ppo_loss(
    pd: Pd,
    vpred: tf.Tensor,
    oldpd: Pd,
    ac: tf.Tensor,
    atarg: tf.Tensor,
    vtarg: tf.Tensor,
    oldvpred: tf.Tensor,
    *,
    clip_param: tf.Tensor,
    entcoeff: float,
    vf_coef: float,
    vf_clip: bool,
) -> tuple[tf.Tensor, dict[str, tf.Tensor]]:
    """The paper's L^{CLIP+VF+S}, negated for minimisation::

        loss = -E_t[min(r_t A_t, clip(r_t, 1-eps, 1+eps) A_t)] + c1 E_t[(V(s_t) - V_t^targ)^2] - c2 E_t[S[pi](s_t)]

    with ``r_t = pi(a_t|s_t) / pi_old(a_t|s_t)``.

    Args:
        pd, vpred: the current policy's distribution and values on the minibatch.
        oldpd: the distribution that collected the data (after the normaliser update).
        ac, atarg, vtarg, oldvpred: actions, advantages, value targets, old values ``[batch]``.

    Returns:
        The scalar loss and the metrics named in :data:`METRIC_NAMES` (``approxkl`` is PPO2's
        ``0.5 E[(log pi - log pi_old)^2]``, ``meankl`` the exact ``E[KL(pi_old || pi)]``,
        ``clipfrac`` the fraction of samples with ``|r_t - 1| > eps``).
    """
    logratio = oldpd.neglogp(ac) - pd.neglogp(ac)
    ratio = tf.exp(logratio)
    policy_loss = -tf.reduce_mean(clip_surrogate(ratio, atarg, clip_param))
    vf_loss = value_loss(vpred, vtarg, oldvpred, clip_param, vf_clip)
    entropy = tf.reduce_mean(pd.entropy())
    total = policy_loss + vf_coef * vf_loss - entcoeff * entropy
    metrics = {
        "total_loss": total,
        "policy_loss": policy_loss,
        "value_loss": vf_loss,
        "policy_entropy": entropy,
        "approxkl": 0.5 * tf.reduce_mean(tf.square(logratio)),
        "meankl": tf.reduce_mean(oldpd.kl(pd)),
        "clipfrac": tf.reduce_mean(tf.cast(tf.abs(ratio - 1.0) > clip_param, tf.float32)),
    }
    return total, metrics
