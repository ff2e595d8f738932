"""Masked distributions against closed forms: invalid actions have probability exactly 0, the rest renormalised."""

import numpy as np
import pytest
import tensorflow as tf
from gymnasium import spaces

from baselines_tf2.common.distributions import make_pdtype
from baselines_tf2.common.masking import MASKED_LOGIT, check_action_masks, mask_sizes
from baselines_tf2.errors import ActionMaskError

LOGITS = np.array([[0.3, -1.2, 2.0, 0.5, 1.1], [4.0, -3.0, 0.0, 1.0, 2.5], [0.7, 0.7, 0.7, 0.7, 0.7]], np.float32)
MASK = np.array([[1, 0, 1, 0, 1], [0, 1, 0, 1, 0], [0, 0, 1, 0, 0]], bool)  # the last row: one valid action
OTHER = np.array([[1.0, 3.0, -0.5, 0.0, 0.2], [0.1, 0.4, 2.0, -1.0, 0.3], [2.0, -2.0, 0.0, 1.0, 0.5]], np.float32)


def renormalised_log_probs(logits: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """log pi over the valid actions only (float64); -inf elsewhere."""
    z = np.where(mask, logits.astype(np.float64), -np.inf)
    return z - np.log(np.exp(z - z.max(-1, keepdims=True)).sum(-1, keepdims=True)) - z.max(-1, keepdims=True)


def masked_pd(logits, mask, nvec=None):
    space = spaces.Discrete(logits.shape[-1]) if nvec is None else spaces.MultiDiscrete(nvec)
    return make_pdtype(space).pdfromflat(tf.convert_to_tensor(logits), tf.constant(mask))


def test_probabilities_and_log_probabilities_are_renormalised_over_the_valid_actions():
    pd = masked_pd(LOGITS, MASK)
    expected = renormalised_log_probs(LOGITS, MASK)
    probs = pd.dist.probs_parameter().numpy()
    np.testing.assert_array_equal(probs[~MASK], 0.0)  # exactly
    np.testing.assert_allclose(probs, np.exp(expected), rtol=1e-6)
    for action in range(5):
        logp = pd.logp(tf.fill([3], action)).numpy()
        valid = MASK[:, action]
        np.testing.assert_allclose(logp[valid], expected[valid, action], rtol=1e-6, atol=1e-7)
        assert np.all(np.isfinite(logp)) and np.all(logp[~valid] < -1e7)  # finite, and ~MASKED_LOGIT
    np.testing.assert_array_equal(pd.mode().numpy(), [2, 3, 2])


def test_entropy_and_kl_are_over_the_valid_actions():
    pd, other = masked_pd(LOGITS, MASK), masked_pd(OTHER, MASK)
    logp, logq = renormalised_log_probs(LOGITS, MASK), renormalised_log_probs(OTHER, MASK)
    p = np.exp(logp)
    entropy = -np.where(MASK, p * np.where(MASK, logp, 0.0), 0.0).sum(-1)
    kl = np.where(MASK, p * (np.where(MASK, logp, 0.0) - np.where(MASK, logq, 0.0)), 0.0).sum(-1)
    np.testing.assert_allclose(pd.entropy().numpy(), entropy, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(pd.kl(other).numpy(), kl, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(pd.kl(pd).numpy(), 0.0)
    assert pd.entropy().numpy()[2] == 0.0 and pd.kl(other).numpy()[2] == 0.0  # one valid action: no uncertainty


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_entropy_of_uniform_over_k_valid_actions_is_ln_k(k):
    logits = np.array([[0.4, -7.0, 3.0, 0.4, 9.0]], np.float32)
    mask = np.zeros((1, 5), bool)
    mask[0, :k] = True
    logits[0, :k] = 1.5  # equal logits on the valid actions, anything on the others
    pd = masked_pd(logits, mask)
    assert pd.entropy().numpy()[0] == pytest.approx(np.log(k), abs=1e-6)
    for action in range(k):
        assert pd.logp(tf.constant([action])).numpy()[0] == pytest.approx(-np.log(k), abs=1e-6)


def test_multidiscrete_masks_each_component_and_sums():
    nvec = [3, 2, 4]
    logits = np.array([[0.2, 1.0, -0.5, 0.3, 0.9, 1.0, -1.0, 0.5, 2.0]], np.float32)
    mask = np.array([[1, 0, 1, 0, 1, 0, 0, 1, 0]], bool)
    pd = masked_pd(logits, mask, nvec)
    parts = np.split(np.arange(9), np.cumsum(nvec)[:-1])
    logps = [renormalised_log_probs(logits[:, i], mask[:, i]) for i in parts]
    action = np.array([[2, 1, 2]])
    expected = sum(lp[0, a] for lp, a in zip(logps, action[0]))
    assert pd.logp(tf.constant(action)).numpy()[0] == pytest.approx(expected, rel=1e-6)
    entropy = -sum(np.sum(np.exp(lp[np.isfinite(lp)]) * lp[np.isfinite(lp)]) for lp in logps)
    assert pd.entropy().numpy()[0] == pytest.approx(entropy, rel=1e-6)
    assert pd.entropy().numpy()[0] == pytest.approx(
        -np.sum(np.exp(logps[0][0, [0, 2]]) * logps[0][0, [0, 2]]), rel=1e-6
    )  # components 2 and 3 have one valid action each: no entropy
    np.testing.assert_array_equal(pd.mode().numpy(), [[0, 1, 2]])


def test_gradients_are_finite_and_zero_on_masked_logits():
    x = tf.Variable(LOGITS)
    with tf.GradientTape() as tape:
        pd = masked_pd(x, MASK)
        old = masked_pd(tf.constant(OTHER), MASK)
        loss = tf.reduce_sum(pd.entropy() + old.kl(pd) - pd.logp(tf.constant([0, 3, 2])))
    grad = tape.gradient(loss, x).numpy()
    assert np.all(np.isfinite(grad)) and np.all(np.isfinite(loss.numpy()))
    np.testing.assert_array_equal(grad[~MASK], 0.0)
    np.testing.assert_array_equal(grad[2], 0.0)  # one valid action: nothing to learn
    assert np.abs(grad[:2][MASK[:2]]).max() > 1e-3


@pytest.mark.parametrize("sampler", ["numpy", "stateless"])
@pytest.mark.parametrize("nvec", [None, [3, 2]], ids=["Discrete", "MultiDiscrete"])
def test_samplers_never_draw_a_masked_action_and_follow_the_renormalised_law(sampler, nvec):
    n = 100_000
    logits = np.array([[3.0, 0.5, -1.0, 2.0, 1.0]], np.float32)  # the masked ones are the likeliest
    mask = np.array([[0, 1, 1, 0, 1]], bool)  # MultiDiscrete [3, 2]: [0, 1, 1] and [0, 1]
    pdtype = make_pdtype(spaces.Discrete(5) if nvec is None else spaces.MultiDiscrete(nvec))
    flat, masks = np.tile(logits, (n, 1)), np.tile(mask, (n, 1))
    if sampler == "numpy":
        x = pdtype.sample_numpy(flat, np.random.default_rng(0), masks)
    else:
        x = pdtype.sample_stateless(tf.constant(flat), tf.constant(3, tf.int64), tf.constant(masks)).numpy()
    x = x.reshape(n, -1)
    parts = [np.arange(5)] if nvec is None else np.split(np.arange(5), [3])
    for column, idx in enumerate(parts):
        counts = np.bincount(x[:, column], minlength=len(idx))
        p = np.exp(renormalised_log_probs(logits[:, idx], mask[:, idx]))[0]
        assert np.all(counts[p == 0] == 0)
        assert np.all(np.abs(counts / n - p) <= 4 * np.sqrt(p * (1 - p) / n)), (counts / n, p)
    expected_mode = [4] if nvec is None else [1, 1]
    np.testing.assert_array_equal(pdtype.mode_numpy(flat[:2], masks[:2]).reshape(2, -1), [expected_mode] * 2)


def test_one_valid_action_is_always_drawn_even_against_huge_logits():
    pdtype = make_pdtype(spaces.Discrete(4))
    flat = np.tile(np.array([[50.0, 40.0, -60.0, 30.0]], np.float32), (10_000, 1))
    masks = np.tile(np.array([[0, 0, 1, 0]], bool), (10_000, 1))
    assert set(pdtype.sample_numpy(flat, np.random.default_rng(1), masks)) == {2}
    assert set(pdtype.sample_stateless(tf.constant(flat), tf.constant(1, tf.int64), masks).numpy()) == {2}
    assert set(pdtype.mode_numpy(flat, masks)) == {2}
    pd = pdtype.pdfromflat(tf.constant(flat[:1]), masks[:1])
    assert pd.logp(tf.constant([2])).numpy()[0] == 0.0 and pd.entropy().numpy()[0] == 0.0


def test_no_mask_leaves_the_distribution_unchanged():
    pdtype = make_pdtype(spaces.Discrete(5))
    a, b = pdtype.pdfromflat(tf.constant(LOGITS)), pdtype.pdfromflat(tf.constant(LOGITS), None)
    np.testing.assert_array_equal(a.flatparam(), b.flatparam())
    full = pdtype.pdfromflat(tf.constant(LOGITS), np.ones_like(MASK))
    np.testing.assert_allclose(full.entropy(), a.entropy(), rtol=1e-7)
    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    np.testing.assert_array_equal(
        pdtype.sample_numpy(LOGITS, rng_a), pdtype.sample_numpy(LOGITS, rng_b, np.ones_like(MASK))
    )


@pytest.mark.parametrize("space", [spaces.Box(-1, 1, (2,)), spaces.MultiBinary(2)])
def test_masks_are_refused_where_they_cannot_apply(space):
    pdtype = make_pdtype(space)
    flat = np.zeros((1, pdtype.param_shape()[0]), np.float32)
    mask = np.ones_like(flat, bool)
    for call in (
        lambda: pdtype.pdfromflat(tf.constant(flat), mask),
        lambda: pdtype.sample_numpy(flat, np.random.default_rng(0), mask),
        lambda: pdtype.mode_numpy(flat, mask),
        lambda: pdtype.sample_stateless(tf.constant(flat), tf.constant(0, tf.int64), mask),
    ):
        with pytest.raises(ValueError, match="cannot be masked"):
            call()
    assert mask_sizes(space) is None


def test_check_action_masks_names_the_problem():
    assert mask_sizes(spaces.MultiDiscrete([3, 2])) == [3, 2] and mask_sizes(spaces.Discrete(4)) == [4]
    out = check_action_masks(np.array([[1, 0, 1, 1]], np.int8), [4])
    assert out.dtype == bool and out.tolist() == [[True, False, True, True]]
    with pytest.raises(ActionMaskError, match=r"shape \(1, 3\).*expected 4 bools"):
        check_action_masks(np.ones((1, 3), bool), [4])
    with pytest.raises(ActionMaskError, match="dtype float"):
        check_action_masks(np.ones((1, 4)), [4])
    with pytest.raises(ActionMaskError, match="allows no action for env copy 1"):
        check_action_masks(np.array([[1, 0, 0, 0], [0, 0, 0, 0]], bool), [4])
    with pytest.raises(ActionMaskError, match=r"no action in component 1 \(of \[3, 2\]\) for env copy 0"):
        check_action_masks(np.array([[1, 0, 0, 0, 0]], bool), [3, 2])
    assert MASKED_LOGIT == -1e8
