"""Distributions against closed forms (exact) and against sampling (Monte Carlo, tolerant)."""

import numpy as np
import pytest
import tensorflow as tf
from gymnasium import spaces

from baselines_tf2.common.distributions import (
    BernoulliPdType,
    CategoricalPdType,
    DiagGaussianPdType,
    MultiCategoricalPdType,
    make_pdtype,
)

RNG = np.random.default_rng(0)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -x)


# ---------------------------------------------------------------- make_pdtype


@pytest.mark.parametrize(
    "space, cls, param, sample, dtype",
    [
        (spaces.Box(-1, 1, (3,)), DiagGaussianPdType, [6], [3], tf.float32),
        (spaces.Discrete(5), CategoricalPdType, [5], [], tf.int32),
        (spaces.MultiDiscrete([2, 3, 4]), MultiCategoricalPdType, [9], [3], tf.int32),
        (spaces.MultiBinary(4), BernoulliPdType, [4], [4], tf.int32),
    ],
)
def test_make_pdtype_shapes(space, cls, param, sample, dtype):
    pdtype = make_pdtype(space)
    assert isinstance(pdtype, cls)
    assert pdtype.param_shape() == param
    assert pdtype.sample_shape() == sample
    assert pdtype.sample_dtype() == dtype


@pytest.mark.parametrize(
    "space",
    [
        spaces.Dict({"a": spaces.Discrete(2)}),
        spaces.Tuple((spaces.Discrete(2), spaces.Discrete(3))),
        spaces.Box(-1, 1, (2, 2)),
        spaces.Text(5),
    ],
)
def test_make_pdtype_rejects_other_spaces_naming_them(space):
    with pytest.raises(ValueError, match=type(space).__name__):
        make_pdtype(space)


# ---------------------------------------------------------------- closed forms


def test_diag_gaussian_closed_forms():
    mean, logstd = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3)) * 0.3
    mean2, logstd2 = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3)) * 0.3
    x = RNG.normal(size=(4, 3))
    pdtype = make_pdtype(spaces.Box(-1, 1, (3,)))
    p = pdtype.pdfromflat(tf.constant(np.concatenate([mean, logstd], -1), tf.float32))
    q = pdtype.pdfromflat(tf.constant(np.concatenate([mean2, logstd2], -1), tf.float32))
    std, std2 = np.exp(logstd), np.exp(logstd2)

    logp = np.sum(-0.5 * ((x - mean) / std) ** 2 - logstd - 0.5 * np.log(2 * np.pi), axis=-1)
    entropy = np.sum(logstd + 0.5 * np.log(2 * np.pi * np.e), axis=-1)
    kl = np.sum(logstd2 - logstd + (std**2 + (mean - mean2) ** 2) / (2 * std2**2) - 0.5, axis=-1)

    np.testing.assert_allclose(p.logp(tf.constant(x, tf.float32)), logp, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(p.neglogp(tf.constant(x, tf.float32)), -logp, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(p.entropy(), entropy, rtol=1e-5)
    np.testing.assert_allclose(p.kl(q), kl, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(p.mode(), mean, rtol=1e-6)
    np.testing.assert_allclose(p.flatparam(), np.concatenate([mean, logstd], -1), rtol=1e-6)


def test_categorical_closed_forms():
    logits, logits2 = RNG.normal(size=(5, 4)), RNG.normal(size=(5, 4))
    x = np.array([0, 1, 2, 3, 1])
    pdtype = make_pdtype(spaces.Discrete(4))
    p = pdtype.pdfromflat(tf.constant(logits, tf.float32))
    q = pdtype.pdfromflat(tf.constant(logits2, tf.float32))
    lp, lq = log_softmax(logits), log_softmax(logits2)
    probs = np.exp(lp)

    np.testing.assert_allclose(p.logp(tf.constant(x)), lp[np.arange(5), x], rtol=1e-5)
    np.testing.assert_allclose(p.entropy(), -(probs * lp).sum(-1), rtol=1e-5)
    np.testing.assert_allclose(p.kl(q), (probs * (lp - lq)).sum(-1), rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(p.mode(), logits.argmax(-1))


def test_multicategorical_closed_forms():
    nvec = [2, 3, 4]
    logits, logits2 = RNG.normal(size=(5, 9)), RNG.normal(size=(5, 9))
    x = np.stack([RNG.integers(0, n, size=5) for n in nvec], axis=-1)
    pdtype = make_pdtype(spaces.MultiDiscrete(nvec))
    p = pdtype.pdfromflat(tf.constant(logits, tf.float32))
    q = pdtype.pdfromflat(tf.constant(logits2, tf.float32))
    bounds = np.cumsum([0] + nvec)
    logp = entropy = kl = 0.0
    for i, (a, b) in enumerate(zip(bounds, bounds[1:])):
        lp, lq = log_softmax(logits[:, a:b]), log_softmax(logits2[:, a:b])
        logp = logp + lp[np.arange(5), x[:, i]]
        entropy = entropy - (np.exp(lp) * lp).sum(-1)
        kl = kl + (np.exp(lp) * (lp - lq)).sum(-1)

    np.testing.assert_allclose(p.logp(tf.constant(x)), logp, rtol=1e-5)
    np.testing.assert_allclose(p.entropy(), entropy, rtol=1e-5)
    np.testing.assert_allclose(p.kl(q), kl, rtol=1e-4, atol=1e-6)
    expected_mode = np.stack([logits[:, a:b].argmax(-1) for a, b in zip(bounds, bounds[1:])], -1)
    np.testing.assert_array_equal(p.mode(), expected_mode)


def test_bernoulli_closed_forms():
    logits, logits2 = RNG.normal(size=(5, 3)), RNG.normal(size=(5, 3))
    x = RNG.integers(0, 2, size=(5, 3))
    pdtype = make_pdtype(spaces.MultiBinary(3))
    p = pdtype.pdfromflat(tf.constant(logits, tf.float32))
    q = pdtype.pdfromflat(tf.constant(logits2, tf.float32))
    p1, p0 = log_sigmoid(logits), log_sigmoid(-logits)
    q1, q0 = log_sigmoid(logits2), log_sigmoid(-logits2)

    np.testing.assert_allclose(p.logp(tf.constant(x)), (x * p1 + (1 - x) * p0).sum(-1), rtol=1e-5)
    np.testing.assert_allclose(p.logp(tf.constant(x, tf.float32)), (x * p1 + (1 - x) * p0).sum(-1), rtol=1e-5)
    np.testing.assert_allclose(p.entropy(), -(np.exp(p1) * p1 + np.exp(p0) * p0).sum(-1), rtol=1e-5)
    kl = (np.exp(p1) * (p1 - q1) + np.exp(p0) * (p0 - q0)).sum(-1)
    np.testing.assert_allclose(p.kl(q), kl, rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(p.mode(), (logits > 0).astype(np.int32))


# ---------------------------------------------------------------- against sampling

SAMPLING_CASES = [
    (spaces.Box(-1, 1, (3,)), np.array([-0.2, 0.3, 0.4, -0.5, 0.1, -0.5]), np.array([0.1, 0.2, 0.5, -0.3, 0.0, -0.2])),
    (spaces.Discrete(4), np.array([-0.2, 0.3, 0.5, 0.0]), np.array([0.4, -0.1, 0.0, 0.8])),
    (spaces.MultiDiscrete([2, 3]), np.array([-0.2, 0.3, 0.5, 0.1, -1.0]), np.array([0.4, 0.0, -0.3, 0.6, 0.2])),
    (spaces.MultiBinary(3), np.array([-0.2, 0.3, 0.5]), np.array([0.4, -0.5, 0.9])),
]


@pytest.mark.parametrize("space, flat_p, flat_q", SAMPLING_CASES, ids=lambda c: type(c).__name__)
def test_entropy_and_kl_agree_with_sampling(space, flat_p, flat_q):
    """Baselines' validate_probtype: entropy ~ -E[logp], KL ~ E_p[logp - logq], KL(p, p) = 0."""
    tf.random.set_seed(0)
    n = 100_000
    pdtype = make_pdtype(space)
    p = pdtype.pdfromflat(tf.constant(np.tile(flat_p, (n, 1)), tf.float32))
    q = pdtype.pdfromflat(tf.constant(np.tile(flat_q, (n, 1)), tf.float32))
    x = p.sample()
    assert x.dtype == pdtype.sample_dtype()
    assert x.shape.as_list() == [n, *pdtype.sample_shape()]
    logp = p.logp(x).numpy()
    entropy = float(p.entropy()[0])
    assert abs(-logp.mean() - entropy) < 3 * logp.std() / np.sqrt(n)
    log_ratio = logp - q.logp(x).numpy()
    kl = float(p.kl(q)[0])
    assert kl > 0.01
    assert abs(log_ratio.mean() - kl) < 3 * log_ratio.std() / np.sqrt(n)
    np.testing.assert_allclose(p.kl(p).numpy()[:10], 0.0, atol=1e-6)


@pytest.mark.parametrize("sampler", ["numpy", "stateless"])
@pytest.mark.parametrize("space, flat_p, flat_q", SAMPLING_CASES, ids=lambda c: type(c).__name__)
def test_the_pdtype_samplers_draw_from_the_distribution(space, flat_p, flat_q, sampler):
    """The host sampler (rollouts, ``act``) and the in-graph stateless one (export) draw from ``pdfromflat``'s law."""
    n = 100_000
    pdtype = make_pdtype(space)
    flat = np.tile(flat_p, (n, 1)).astype(np.float32)
    if sampler == "numpy":
        x = pdtype.sample_numpy(flat, np.random.default_rng(0))
    else:
        x = pdtype.sample_stateless(tf.constant(flat), tf.constant(7, tf.int64)).numpy()
        again = pdtype.sample_stateless(tf.constant(flat[:100]), tf.constant(7, tf.int64)).numpy()
        other = pdtype.sample_stateless(tf.constant(flat[:100]), tf.constant(8, tf.int64)).numpy()
        np.testing.assert_array_equal(again, x[:100])
        assert not np.array_equal(other, again)
    assert x.shape == (n, *pdtype.sample_shape()) and x.dtype == pdtype.sample_dtype().as_numpy_dtype
    p = pdtype.pdfromflat(tf.constant(flat))
    q = pdtype.pdfromflat(tf.constant(np.tile(flat_q, (n, 1)), tf.float32))
    logp = p.logp(tf.constant(x)).numpy()
    assert abs(-logp.mean() - float(p.entropy()[0])) < 4 * logp.std() / np.sqrt(n)
    log_ratio = logp - q.logp(tf.constant(x)).numpy()
    assert abs(log_ratio.mean() - float(p.kl(q)[0])) < 4 * log_ratio.std() / np.sqrt(n)


def test_gaussian_samples_have_the_parameters_moments():
    tf.random.set_seed(1)
    mean, logstd = np.array([1.0, -2.0]), np.array([0.0, np.log(0.5)])
    pd = make_pdtype(spaces.Box(-1, 1, (2,))).pdfromflat(
        tf.constant(np.tile(np.r_[mean, logstd], (50_000, 1)), tf.float32)
    )
    x = pd.sample().numpy()
    np.testing.assert_allclose(x.mean(0), mean, atol=0.02)
    np.testing.assert_allclose(x.std(0), np.exp(logstd), rtol=0.02)


def test_distributions_work_inside_tf_function():
    pdtype = make_pdtype(spaces.MultiDiscrete([3, 2]))

    @tf.function
    def stats(flat, x):
        pd = pdtype.pdfromflat(flat)
        return pd.logp(x), pd.entropy(), pd.kl(pd), pd.sample(), pd.mode()

    flat = tf.constant([[0.0, 1.0, 2.0, 0.5, -0.5]])
    logp, entropy, kl, sample, mode = stats(flat, tf.constant([[2, 0]]))
    expected = log_softmax(np.array([0.0, 1.0, 2.0]))[2] + log_softmax(np.array([0.5, -0.5]))[0]
    np.testing.assert_allclose(logp, [expected], rtol=1e-5)
    np.testing.assert_array_equal(mode, [[2, 0]])
    assert sample.shape == (1, 2) and kl.numpy()[0] == pytest.approx(0.0, abs=1e-7)
