"""The rollout's host-side actors compute what the TF policy computes."""

import numpy as np
import pytest
import tensorflow as tf
from gymnasium import spaces

from baselines_tf2.common.actors import NumpyMlpActor, TfActor, make_actor
from baselines_tf2.common.distributions import make_pdtype
from baselines_tf2.common.policies import CnnPolicy, MlpPolicy

OB = spaces.Box(-np.inf, np.inf, (6,), np.float64)
AC_SPACES = [spaces.Box(-1, 1, (3,)), spaces.Discrete(4), spaces.MultiDiscrete([2, 3]), spaces.MultiBinary(2)]


@pytest.mark.parametrize("ac_space", AC_SPACES, ids=lambda s: type(s).__name__)
@pytest.mark.parametrize("num_hid_layers", [1, 2, 3])
def test_numpy_mirror_equals_tf_policy(ac_space, num_hid_layers):
    tf.random.set_seed(num_hid_layers)
    pi = MlpPolicy(OB, ac_space, hid_size=32, num_hid_layers=num_hid_layers)
    rng = np.random.default_rng(0)
    pi.ob_rms.update(rng.normal(3.0, 2.0, size=(500, 6)))
    for v in pi.trainable_variables:  # move away from the near-zero initial head
        v.assign_add(tf.random.normal(v.shape, stddev=0.3))
    actor = make_actor(pi, rng)
    assert isinstance(actor, NumpyMlpActor)
    obs = rng.normal(3.0, 6.0, size=(50, 6))  # includes observations beyond the +-5 std clip
    flat_np, v_np = actor.forward(obs)
    flat_tf, v_tf = pi.forward(tf.constant(obs, tf.float32))
    np.testing.assert_allclose(flat_np, flat_tf.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(v_np, v_tf.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(actor.value(obs), v_tf.numpy(), rtol=1e-4, atol=1e-5)
    mode, _ = actor.step(obs, stochastic=False)
    np.testing.assert_allclose(mode, pi.pdtype.pdfromflat(flat_tf).mode().numpy(), rtol=1e-4, atol=1e-5)


def test_refresh_follows_weight_changes():
    pi = MlpPolicy(OB, spaces.Discrete(3))
    actor = make_actor(pi, np.random.default_rng(0))
    obs = np.ones((2, 6))
    before = actor.value(obs)
    pi.vf_final.b.assign_add([1.0])
    np.testing.assert_allclose(actor.value(obs), before)  # a snapshot until refreshed
    actor.refresh()
    np.testing.assert_allclose(actor.value(obs), before + 1.0, rtol=1e-6)


def test_cnn_uses_the_compiled_tf_forward():
    tf.random.set_seed(0)
    pi = CnnPolicy(spaces.Box(0, 255, (36, 36, 2), np.uint8), spaces.Discrete(5), kind="small")
    actor = make_actor(pi, np.random.default_rng(0))
    assert isinstance(actor, TfActor)
    obs = np.random.default_rng(1).integers(0, 256, (4, 36, 36, 2), dtype=np.uint8)
    actions, vpred = actor.step(obs)
    assert actions.shape == (4,) and vpred.shape == (4,)
    np.testing.assert_allclose(vpred, pi.value(tf.constant(obs)).numpy(), rtol=1e-5)


@pytest.mark.parametrize("ac_space", AC_SPACES, ids=lambda s: type(s).__name__)
def test_host_sampling_matches_the_tfp_distribution(ac_space):
    """Samples drawn on the host have the tfp distribution's log-likelihood on average."""
    pdtype = make_pdtype(ac_space)
    flat = np.random.default_rng(2).normal(size=pdtype.param_shape()).astype(np.float32)
    n = 40_000
    batch = np.tile(flat, (n, 1))
    x = pdtype.sample_numpy(batch, np.random.default_rng(3))
    assert x.shape == (n, *pdtype.sample_shape())
    pd = pdtype.pdfromflat(tf.constant(batch))
    logp = pd.logp(tf.constant(x, pdtype.sample_dtype())).numpy()
    entropy = float(pd.entropy()[0])
    assert abs(-logp.mean() - entropy) < 4 * logp.std() / np.sqrt(n) + 1e-6
    if not isinstance(ac_space, spaces.Box):
        # every outcome frequency within 4 sigma of its probability
        probs = np.exp(logp)
        values, counts = np.unique(x.reshape(n, -1), axis=0, return_counts=True)
        for value, count in zip(values, counts):
            p = probs[np.all(x.reshape(n, -1) == value, axis=1)][0]
            assert abs(count / n - p) < 4 * np.sqrt(p * (1 - p) / n)
    mode = pdtype.mode_numpy(flat[None])
    np.testing.assert_allclose(mode, pdtype.pdfromflat(tf.constant(flat[None])).mode().numpy(), rtol=1e-6)
