"""MlpPolicy and CnnPolicy: shapes, bounds, determinism, every weight trains, checkpoint round trip."""

import numpy as np
import pytest
import tensorflow as tf
from gymnasium import spaces

from baselines_tf2.common.mpi_adam import MpiAdam
from baselines_tf2.common.policies import OBS_CLIP, CnnPolicy, MlpPolicy
from baselines_tf2.common.tf_util import flatgrad

OB = spaces.Box(-np.inf, np.inf, (5,), np.float64)
IMG = spaces.Box(0, 255, (36, 36, 2), np.uint8)
AC_SPACES = {
    "box": spaces.Box(-1.0, 1.0, (2,), np.float32),
    "discrete": spaces.Discrete(3),
    "multidiscrete": spaces.MultiDiscrete([2, 4]),
    "multibinary": spaces.MultiBinary(3),
}


def make(kind: str, ac_space, seed: int = 0, precision: str = "float32"):
    tf.random.set_seed(seed)
    if kind == "mlp":
        return MlpPolicy(OB, ac_space, hid_size=16, num_hid_layers=2)
    return CnnPolicy(IMG, ac_space, kind=kind, precision=precision)


def observations(kind: str, n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "mlp":
        return rng.normal(size=(n, *OB.shape))
    return rng.integers(0, 256, size=(n, *IMG.shape), dtype=np.uint8)


@pytest.mark.parametrize("ac_name", list(AC_SPACES))
def test_mlp_shapes_and_action_bounds(ac_name):
    ac_space = AC_SPACES[ac_name]
    pi = make("mlp", ac_space)
    obs = observations("mlp", 500)
    actions, vpreds = pi.act_batch(True, obs)
    assert actions.shape == (500, *pi.pdtype.sample_shape())
    assert actions.dtype == pi.pdtype.sample_dtype().as_numpy_dtype
    assert vpreds.shape == (500,) and vpreds.dtype == np.float32
    action, vpred = pi.act(True, obs[0])
    assert action.shape == tuple(pi.pdtype.sample_shape()) and isinstance(vpred, float)
    if ac_name == "box":
        # Samples are unbounded Gaussian draws (the env clips them); the initial mode is ~0.
        mode, _ = pi.act_batch(False, obs)
        assert np.all(np.abs(mode) < 0.2) and np.all(ac_space.contains(m) for m in mode)
    else:
        assert all(ac_space.contains(a.astype(ac_space.dtype)) for a in actions)
        if ac_name == "discrete":
            assert set(np.unique(actions)) == {0, 1, 2}  # near-uniform initial policy visits all


@pytest.mark.parametrize("kind", ["mlp", "large", "small"])
def test_mode_is_deterministic_and_sampling_is_not(kind):
    pi = make(kind, AC_SPACES["box"] if kind == "mlp" else spaces.Discrete(6))
    ob = observations(kind, 1)[0]
    assert np.array_equal(pi.act(False, ob)[0], pi.act(False, ob)[0])
    draws = np.array([pi.act(True, ob)[0] for _ in range(20)])
    assert len({d.tobytes() for d in draws}) > 1
    pd, vpred = pi(tf.constant(ob[None]))
    np.testing.assert_allclose(pi.act(False, ob)[0], pd.mode().numpy()[0], rtol=1e-5)
    assert pi.act(False, ob)[1] == pytest.approx(float(vpred[0]), rel=1e-4, abs=1e-6)


def test_mlp_initial_policy_is_near_uniform():
    pi = make("mlp", spaces.Discrete(4))
    pd, _ = pi(tf.constant(observations("mlp", 100)))
    assert float(tf.reduce_max(tf.abs(pd.flatparam()))) < 0.2  # head initialised at scale 0.01
    box_pi = make("mlp", AC_SPACES["box"])
    np.testing.assert_array_equal(box_pi.pol_head.logstd.numpy(), [0.0, 0.0])


def ppo_like_loss(pi, obs, actions, adv, returns):
    pd, vpred = pi(obs)
    return (
        -tf.reduce_mean(pd.logp(actions) * adv)
        + tf.reduce_mean(tf.square(vpred - returns))
        - 0.01 * tf.reduce_mean(pd.entropy())
    )


@pytest.mark.parametrize(
    "kind, ac_name, n_vars",
    [
        ("mlp", "box", 13),  # vf: 3 dense, pol: 2 hidden + mean head (w, b each) + logstd
        ("mlp", "discrete", 12),
        ("mlp", "multidiscrete", 12),
        ("mlp", "multibinary", 12),
        ("large", "discrete", 12),  # 3 conv + fc + pol head + vf head
        ("small", "box", 11),  # 2 conv + fc + mean head + vf head + logstd
        ("large/bfloat16", "discrete", 12),  # mixed precision: the gradient reaches the float32 weights
        ("small/bfloat16", "box", 11),
    ],
)
def test_every_trainable_variable_changes_after_one_update(kind, ac_name, n_vars):
    kind, _, precision = kind.partition("/")
    pi = make(kind, AC_SPACES[ac_name], precision=precision or "float32")
    assert all(v.dtype == tf.float32 for v in pi.trainable_variables)
    var_list = pi.trainable_variables
    assert len(var_list) == n_vars
    if pi.ob_rms is not None:
        assert not {id(v) for v in pi.ob_rms.variables} & {id(v) for v in var_list}
    obs = tf.constant(observations(kind, 64), dtype=pi.ob_dtype)
    actions, _ = pi.act_batch(True, obs.numpy())
    rng = np.random.default_rng(0)
    adv, returns = tf.constant(rng.normal(size=64), tf.float32), tf.constant(rng.normal(size=64), tf.float32)
    before = [v.numpy().copy() for v in var_list]
    with tf.GradientTape() as tape:
        loss = ppo_like_loss(pi, obs, tf.constant(actions), adv, returns)
    g = flatgrad(tape.gradient(loss, var_list), var_list)
    MpiAdam(var_list).update(g.numpy(), 1e-3)
    unchanged = [v.name for v, b in zip(var_list, before) if np.array_equal(v.numpy(), b)]
    assert not unchanged


def test_observations_are_normalised_by_ob_rms_and_clipped():
    pi = make("mlp", AC_SPACES["box"])
    data = np.random.default_rng(0).normal(loc=10.0, scale=2.0, size=(1000, 5))
    pi.ob_rms.update(data)
    mean, std = pi.ob_rms.mean.numpy(), pi.ob_rms.std.numpy()
    ob = data[:3]
    np.testing.assert_allclose(pi.normalize(tf.constant(ob, tf.float32)), (ob - mean) / std, rtol=1e-4, atol=1e-5)
    far = mean + 100.0 * std
    at_clip = mean + OBS_CLIP * std
    np.testing.assert_allclose(pi.normalize(tf.constant(far[None], tf.float32)), [[OBS_CLIP] * 5], rtol=1e-6)
    np.testing.assert_allclose(
        pi.value(tf.constant(far[None], tf.float32)), pi.value(tf.constant(at_clip[None], tf.float32)), rtol=1e-4
    )


@pytest.mark.parametrize("kind", ["mlp", "large"])
def test_checkpoint_round_trip_includes_ob_rms(kind, tmp_path):
    ac_space = AC_SPACES["box"] if kind == "mlp" else spaces.Discrete(4)
    pi = make(kind, ac_space, seed=1)
    if pi.ob_rms is not None:
        pi.ob_rms.update(observations(kind, 200, seed=5) * 3.0 + 1.0)
    path = tf.train.Checkpoint(policy=pi).save(str(tmp_path / "pi"))
    other = make(kind, ac_space, seed=2)
    obs = tf.constant(observations(kind, 8, seed=6), dtype=pi.ob_dtype)
    assert not np.allclose(other.value(obs), pi.value(obs))
    tf.train.Checkpoint(policy=other).restore(path).assert_consumed()
    np.testing.assert_array_equal(other.value(obs), pi.value(obs))
    np.testing.assert_array_equal(other(obs)[0].flatparam(), pi(obs)[0].flatparam())
    if pi.ob_rms is not None:
        np.testing.assert_array_equal(other.ob_rms.std, pi.ob_rms.std)


def test_bad_spaces_and_kinds_are_rejected():
    with pytest.raises(ValueError, match="Box observation"):
        MlpPolicy(spaces.Discrete(3), spaces.Discrete(2))
    with pytest.raises(ValueError, match="image observations"):
        CnnPolicy(OB, spaces.Discrete(2))
    with pytest.raises(ValueError, match="unknown CNN kind 'huge'"):
        CnnPolicy(IMG, spaces.Discrete(2), kind="huge")
    with pytest.raises(ValueError, match="too small"):
        CnnPolicy(spaces.Box(0, 255, (20, 20, 1), np.uint8), spaces.Discrete(2))
    with pytest.raises(ValueError, match="Dict"):
        MlpPolicy(OB, spaces.Dict({"a": spaces.Discrete(2)}))


def test_only_mlps_ask_for_xla():
    """XLA's CPU convolutions are far slower than oneDNN's, so CNN training steps stay un-jitted."""
    assert MlpPolicy.jit_compile and not CnnPolicy.jit_compile


def test_act_draws_from_the_policy_generator_and_sees_new_weights():
    pi = make("mlp", AC_SPACES["box"])
    ob = observations("mlp", 1)[0]
    pi.rng = np.random.default_rng(5)
    first = pi.act(True, ob)[0]
    pi.rng = np.random.default_rng(5)
    np.testing.assert_array_equal(pi.act(True, ob)[0], first)  # same generator state, same draw
    mode, vpred = pi.act(False, ob)
    pi.vf_final.b.assign_add([2.0])
    pi.pol_head.dense.b.assign_add(tf.ones_like(pi.pol_head.dense.b))
    mode2, vpred2 = pi.act(False, ob)
    assert vpred2 == pytest.approx(vpred + 2.0, rel=1e-5) and np.allclose(mode2, mode + 1.0, atol=1e-5)


@pytest.mark.parametrize("ac_name", ["discrete", "box"])
def test_bfloat16_cnn_is_the_float32_network_rounded_to_bfloat16(ac_name):
    """Same weights: outputs agree to bfloat16's ~3 significant digits, are float32, and do differ."""
    half = make("large", AC_SPACES[ac_name], precision="bfloat16")
    for v in half.trainable_variables:
        v.assign_add(np.random.default_rng(0).normal(0, 0.02, v.shape).astype(np.float32))
    full = half.with_precision("float32")
    assert full.precision == "float32" and half.with_precision("bfloat16") is half
    obs = observations("large", 32)
    (flat32, v32), (flat16, v16) = full.forward_numpy(obs), half.forward_numpy(obs)
    assert flat16.dtype == v16.dtype == np.float32
    for a, b in ((flat32, flat16), (v32, v16)):
        scale = np.abs(a).max()
        assert scale > 0.01
        assert 1e-5 * scale < np.abs(a - b).max() < 3e-2 * scale
    if ac_name == "box":  # the learned log-std passes through untouched
        np.testing.assert_array_equal(flat16[:, 2:], np.broadcast_to(half.pol_head.logstd.numpy(), (32, 2)))


def test_unknown_precision_is_rejected():
    with pytest.raises(ValueError, match="unknown precision 'float16'"):
        CnnPolicy(IMG, spaces.Discrete(2), precision="float16")


def test_mlp_computes_in_float32_only():
    pi = make("mlp", AC_SPACES["box"])
    assert pi.with_precision("float32") is pi
    with pytest.raises(ValueError, match="MlpPolicy computes in float32 only, not bfloat16"):
        pi.with_precision("bfloat16")


def _gram(w):
    """W^T W for a kernel flattened as Baselines does ([h * w * in, out])."""
    w = np.asarray(w).reshape(-1, np.asarray(w).shape[-1])
    return w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T


@pytest.mark.parametrize("init", ["ppo1", "orthogonal"])
def test_mlp_initialisations(init):
    tf.random.set_seed(3)
    pi = MlpPolicy(spaces.Box(-1, 1, (3,)), spaces.Discrete(4), init=init)
    hidden = [layer.w.numpy() for layer in pi.pol_hidden + pi.vf_hidden]
    head, vf = pi.pol_head.dense.w.numpy(), pi.vf_final.w.numpy()
    if init == "orthogonal":  # ppo2's mlp: sqrt(2) hidden, 0.01 policy head, 1 value head
        for w in hidden:
            np.testing.assert_allclose(_gram(w), 2 * np.eye(min(w.shape)), atol=1e-5)
        np.testing.assert_allclose(_gram(head), 1e-4 * np.eye(4), atol=1e-9)
    else:  # PPO1's normc: every column of norm 1 (0.01 in the policy head), not orthogonal
        for w in hidden:
            np.testing.assert_allclose(np.linalg.norm(w, axis=0), 1.0, rtol=1e-5)
        np.testing.assert_allclose(np.linalg.norm(head, axis=0), 0.01, rtol=1e-5)
        assert abs(_gram(hidden[1])[0, 1]) > 1e-4
    np.testing.assert_allclose(np.linalg.norm(vf), 1.0, rtol=1e-5)
    assert all(not layer.b.numpy().any() for layer in pi.pol_hidden + pi.vf_hidden)


def test_cnn_orthogonal_init_is_nature_cnn():
    tf.random.set_seed(4)
    pi = CnnPolicy(spaces.Box(0, 255, (84, 84, 4), np.uint8), spaces.Discrete(6), init="orthogonal")
    for conv in pi.convs:  # [8*8*4, 32], [4*4*32, 64], [3*3*64, 64]: orthogonal columns of norm sqrt(2)
        np.testing.assert_allclose(_gram(conv.w.numpy()), 2 * np.eye(conv.w.shape[-1]), atol=1e-5)
    np.testing.assert_allclose(_gram(pi.fc.w.numpy()), 2 * np.eye(512), atol=1e-4)
    np.testing.assert_allclose(_gram(pi.pol_head.dense.w.numpy()), 1e-4 * np.eye(6), atol=1e-9)
    # The orthogonal net's features are larger than PPO1's (the issue measured ~12x on Pong frames).
    obs = np.random.default_rng(0).integers(0, 256, (16, 84, 84, 4), dtype=np.uint8)
    tf.random.set_seed(4)
    ppo1 = CnnPolicy(pi.ob_space, pi.ac_space)
    twin = pi.with_precision("bfloat16")
    assert twin.init == "orthogonal"

    def feature_rms(p):
        x = tf.cast(obs, tf.float32) / 255.0
        for conv in p.convs:
            x = tf.nn.relu(conv(x))
        return float(tf.sqrt(tf.reduce_mean(tf.square(tf.nn.relu(p.fc(tf.reshape(x, [16, -1])))))))

    assert feature_rms(pi) > 5 * feature_rms(ppo1)


def test_unknown_init_is_refused():
    with pytest.raises(ValueError, match="unknown init 'he'"):
        MlpPolicy(spaces.Box(-1, 1, (3,)), spaces.Discrete(2), init="he")
