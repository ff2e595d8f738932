"""PPO's loss as pure functions of tensors (safe inside ``tf.function``; no state, no side effects).

Symbols (paper -> here): r_t(theta) -> ``ratio``, A_t -> ``atarg``, epsilon -> ``clip_param``,
beta -> ``kl_beta``, V_t^targ -> ``vtarg``, c1 -> ``vf_coef``, c2 -> ``entcoeff``,
S -> ``pd.entropy()``, KL_t = KL[pi_old(.|s_t), pi(.|s_t)] -> ``kl``.

The policy part is one of the paper's Table 1 objectives, chosen by name from
:data:`POLICY_LOSSES` (each returns the *negated* objective, a loss to minimise).
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from baselines_tf2.common.distributions import Pd

__all__ = [
    "METRIC_NAMES",
    "POLICY_LOSSES",
    "adapt_kl_beta",
    "clip_loss",
    "clip_surrogate",
    "kl_penalty_loss",
    "ppo_loss",
    "unclipped_loss",
    "value_loss",
]

METRIC_NAMES = ("total_loss", "policy_loss", "value_loss", "policy_entropy", "approxkl", "meankl", "clipfrac")

PolicyLoss = Callable[[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor], tf.Tensor]


def clip_surrogate(ratio: tf.Tensor, atarg: tf.Tensor, clip_param: tf.Tensor) -> tf.Tensor:
    """Per-sample L^CLIP: ``min(r_t A_t, clip(r_t, 1 - eps, 1 + eps) A_t)``, shape ``[batch]``."""
    return tf.minimum(ratio * atarg, tf.clip_by_value(ratio, 1.0 - clip_param, 1.0 + clip_param) * atarg)


def clip_loss(
    ratio: tf.Tensor, atarg: tf.Tensor, kl: tf.Tensor, clip_param: tf.Tensor, kl_beta: tf.Tensor
) -> tf.Tensor:
    """``-E_t[min(r_t A_t, clip(r_t, 1 - eps, 1 + eps) A_t)]`` (``--loss clip``, the paper's L^CLIP)."""
    return -tf.reduce_mean(clip_surrogate(ratio, atarg, clip_param))


def unclipped_loss(
    ratio: tf.Tensor, atarg: tf.Tensor, kl: tf.Tensor, clip_param: tf.Tensor, kl_beta: tf.Tensor
) -> tf.Tensor:
    """``-E_t[r_t A_t]`` (``--loss none``: Table 1's "no clipping or penalty", L^CPI)."""
    return -tf.reduce_mean(ratio * atarg)


def kl_penalty_loss(
    ratio: tf.Tensor, atarg: tf.Tensor, kl: tf.Tensor, clip_param: tf.Tensor, kl_beta: tf.Tensor
) -> tf.Tensor:
    """``-E_t[r_t A_t - beta KL[pi_old(.|s_t), pi(.|s_t)]]`` (``--loss fixed_kl`` / ``adaptive_kl``, L^KLPEN)."""
    return -tf.reduce_mean(ratio * atarg - kl_beta * kl)


POLICY_LOSSES: dict[str, PolicyLoss] = {
    "clip": clip_loss,
    "none": unclipped_loss,
    "fixed_kl": kl_penalty_loss,
    "adaptive_kl": kl_penalty_loss,
}


def adapt_kl_beta(kl_beta: float, kl: float, kl_target: float) -> float:
    """The paper's rule after each policy update: halve beta if d < d_targ / 1.5, double it if d > 1.5 d_targ."""
    if kl < kl_target / 1.5:
        return kl_beta / 2.0
    if kl > kl_target * 1.5:
        return kl_beta * 2.0
    return kl_beta


def value_loss(
    vpred: tf.Tensor, vtarg: tf.Tensor, oldvpred: tf.Tensor, clip_param: tf.Tensor, vf_clip: bool
) -> tf.Tensor:
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
    policy_loss: PolicyLoss = clip_loss,
    kl_beta: tf.Tensor | float = 0.0,
) -> tuple[tf.Tensor, dict[str, tf.Tensor]]:
    """The paper's objective with any of its policy surrogates, negated for minimisation::

        loss = L_pi + c1 E_t[(V(s_t) - V_t^targ)^2] - c2 E_t[S[pi](s_t)]

    where ``L_pi = policy_loss(r, A, KL, eps, beta)``, e.g. -L^CLIP, and
    ``r_t = pi(a_t|s_t) / pi_old(a_t|s_t)``.

    Args:
        pd, vpred: the current policy's distribution and values on the minibatch.
        oldpd: the distribution that collected the data (after the normaliser update).
        ac, atarg, vtarg, oldvpred: actions, advantages, value targets, old values ``[batch]``.
        policy_loss: one of :data:`POLICY_LOSSES`.
        kl_beta: beta of the KL-penalty losses.

    Returns:
        The scalar loss and the metrics named in :data:`METRIC_NAMES` (``approxkl`` is PPO2's
        ``0.5 E[(log pi - log pi_old)^2]``, ``meankl`` the exact ``E[KL(pi_old || pi)]``,
        ``clipfrac`` the fraction of samples with ``|r_t - 1| > eps``).
    """
    logratio = oldpd.neglogp(ac) - pd.neglogp(ac)
    ratio = tf.exp(logratio)
    kl = oldpd.kl(pd)
    pol_loss = policy_loss(ratio, atarg, kl, clip_param, kl_beta)
    vf_loss = value_loss(vpred, vtarg, oldvpred, clip_param, vf_clip)
    entropy = tf.reduce_mean(pd.entropy())
    total = pol_loss + vf_coef * vf_loss - entcoeff * entropy
    metrics = {
        "total_loss": total,
        "policy_loss": pol_loss,
        "value_loss": vf_loss,
        "policy_entropy": entropy,
        "approxkl": 0.5 * tf.reduce_mean(tf.square(logratio)),
        "meankl": tf.reduce_mean(kl),
        "clipfrac": tf.reduce_mean(tf.cast(tf.abs(ratio - 1.0) > clip_param, tf.float32)),
    }
    return total, metrics
