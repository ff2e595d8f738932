"""The PPO loss against hand-computed values."""

import numpy as np
import pytest
import tensorflow as tf
from gymnasium import spaces

from baselines_tf2.common.distributions import make_pdtype
from baselines_tf2.ppo.losses import clip_surrogate, ppo_loss, value_loss


def test_clip_surrogate_branches():
    ratio = tf.constant([1.0, 1.5, 0.5, 1.5, 0.5, 1.1])
    atarg = tf.constant([2.0, 1.0, 1.0, -1.0, -1.0, -3.0])
    out = clip_surrogate(ratio, atarg, tf.constant(0.2)).numpy()
    # A>0: min(rA, clip(r)A) caps the gain at (1+eps)A but keeps a loss (r<1-eps) unclipped.
    # A<0: caps at (1-eps)A when r is small, keeps r A when r is large.
    np.testing.assert_allclose(out, [2.0, 1.2, 0.5, -1.5, -0.8, -3.3], rtol=1e-6)


def test_value_loss_plain_and_clipped():
    vpred, vtarg, old = tf.constant([1.0, 3.0]), tf.constant([2.0, 0.0]), tf.constant([0.0, 2.5])
    assert float(value_loss(vpred, vtarg, old, tf.constant(0.2), vf_clip=False)) == pytest.approx((1 + 9) / 2)
    # clipped predictions: 0 + 0.2 = 0.2 (err 3.24 > 1), 2.5 + 0.2 = 2.7 (err 7.29 < 9)
    assert float(value_loss(vpred, vtarg, old, tf.constant(0.2), vf_clip=True)) == pytest.approx(
        (3.24 + 9) / 2, rel=1e-6
    )


def gaussian(mean, logstd):
    flat = tf.constant(np.concatenate([mean, logstd], axis=-1), tf.float32)
    return make_pdtype(spaces.Box(-1, 1, (mean.shape[-1],))).pdfromflat(flat)


def test_ratio_one_gives_minus_mean_advantage_and_zero_kl():
    mean = np.array([[0.1, -0.2], [0.3, 0.0], [0.0, 0.5]])
    logstd = np.zeros_like(mean)
    pd = gaussian(mean, logstd)
    atarg = tf.constant([1.0, -2.0, 4.0])
    vpred, vtarg = tf.constant([0.0, 1.0, 2.0]), tf.constant([1.0, 1.0, 0.0])
    settings = dict(clip_param=tf.constant(0.2), entcoeff=0.01, vf_coef=0.5, vf_clip=False)
    total, m = ppo_loss(pd, vpred, pd, tf.constant(mean, tf.float32), atarg, vtarg, vpred, **settings)
    entropy = 2 * 0.5 * np.log(2 * np.pi * np.e)
    assert float(m["policy_loss"]) == pytest.approx(-1.0)
    assert float(m["value_loss"]) == pytest.approx(5 / 3, rel=1e-6)
    assert float(m["policy_entropy"]) == pytest.approx(entropy, rel=1e-6)
    assert float(total) == pytest.approx(-1.0 + 0.5 * 5 / 3 - 0.01 * entropy, rel=1e-6)
    assert float(m["approxkl"]) == 0.0 and float(m["meankl"]) == pytest.approx(0.0, abs=1e-7)
    assert float(m["clipfrac"]) == 0.0


def test_known_ratio_clipfrac_and_kl():
    # Old N(0, 1), new N(0.5, 1), action 1: ratio = exp(-(0.5)^2/2 + 1/2) = exp(0.375)
    old, new = gaussian(np.zeros((1, 1)), np.zeros((1, 1))), gaussian(np.full((1, 1), 0.5), np.zeros((1, 1)))
    ac = tf.constant([[1.0]])
    ratio = np.exp(0.375)
    settings = dict(clip_param=tf.constant(0.2), entcoeff=0.0, vf_coef=1.0, vf_clip=False)
    total, m = ppo_loss(new, tf.zeros([1]), old, ac, tf.constant([2.0]), tf.zeros([1]), tf.zeros([1]), **settings)
    assert float(m["policy_loss"]) == pytest.approx(-min(ratio * 2.0, 1.2 * 2.0))
    assert float(m["clipfrac"]) == 1.0
    assert float(m["meankl"]) == pytest.approx(0.125, rel=1e-5)  # KL of unit Gaussians = d^2/2
    assert float(m["approxkl"]) == pytest.approx(0.5 * 0.375**2, rel=1e-5)


# ---------------------------------------------------------------- the paper's Table 1 objectives

from baselines_tf2.common.policies import MlpPolicy  # noqa: E402
from baselines_tf2.common.tf_util import flatgrad  # noqa: E402
from baselines_tf2.pg.losses import pg_loss  # noqa: E402
from baselines_tf2.ppo.losses import POLICY_LOSSES, adapt_kl_beta, clip_loss, kl_penalty_loss, unclipped_loss  # noqa: E402


@pytest.mark.parametrize("name", list(POLICY_LOSSES))
def test_every_objective_at_ratio_one_and_zero_kl_is_minus_mean_advantage(name):
    atarg = tf.constant([1.0, -2.0, 4.0, 0.5])
    value = POLICY_LOSSES[name](tf.ones(4), atarg, tf.zeros(4), tf.constant(0.2), tf.constant(3.0))
    assert float(value) == pytest.approx(-0.875)


def test_unclipped_and_kl_penalty_values():
    ratio, atarg, kl = tf.constant([1.5, 0.5]), tf.constant([1.0, -1.0]), tf.constant([0.1, 0.3])
    # none: -mean(rA) = -(1.5 - 0.5)/2; the clipped loss would cap the first term at 1.2
    assert float(unclipped_loss(ratio, atarg, kl, tf.constant(0.2), tf.constant(0.0))) == pytest.approx(-0.5)
    assert float(clip_loss(ratio, atarg, kl, tf.constant(0.2), tf.constant(0.0))) == pytest.approx(-(1.2 - 0.8) / 2)
    # fixed/adaptive KL: -mean(rA - beta KL) with beta = 2: -((1.5 - 0.2) + (-0.5 - 0.6))/2
    assert float(kl_penalty_loss(ratio, atarg, kl, tf.constant(0.2), tf.constant(2.0))) == pytest.approx(-0.1)


@pytest.mark.parametrize(
    "kl, expected",
    [(0.001, 0.5), (0.0066, 0.5), (0.0067, 1.0), (0.01, 1.0), (0.015, 1.0), (0.0151, 2.0), (0.2, 2.0)],
)
def test_adaptive_beta_rule(kl, expected):
    assert adapt_kl_beta(1.0, kl, 0.01) == expected


def test_surrogate_gradients_at_the_old_policy_equal_the_policy_gradient():
    """At theta_old, grad E[r A] = E[grad log pi A]: the no-clip (and clip) surrogate's gradient is the PG's."""
    tf.random.set_seed(0)
    from gymnasium import spaces as sp  # noqa: PLC0415

    pi = MlpPolicy(sp.Box(-1, 1, (3,)), sp.Discrete(4), hid_size=8)
    ob = tf.random.normal([32, 3])
    ac = tf.random.uniform([32], 0, 4, dtype=tf.int32)
    atarg = tf.random.normal([32])
    oldpd = pi.pdtype.pdfromflat(pi(ob)[0].flatparam())
    var_list = pi.trainable_variables

    def grad(loss_fn):
        with tf.GradientTape() as tape:
            loss = loss_fn(pi(ob)[0])
        return flatgrad(tape.gradient(loss, var_list), var_list).numpy()

    pg = grad(lambda pd: pg_loss(pd, ac, atarg))
    for name in ("none", "clip"):
        surrogate = grad(
            lambda pd, name=name: POLICY_LOSSES[name](
                tf.exp(pd.logp(ac) - oldpd.logp(ac)), atarg, oldpd.kl(pd), tf.constant(0.2), tf.constant(0.0)
            )
        )
        np.testing.assert_allclose(surrogate, pg, rtol=1e-4, atol=1e-6)
    assert np.abs(pg).max() > 1e-3
