"""MpiAdam (one process) against a NumPy Adam, plus the flat-parameter helpers."""

import numpy as np
import pytest
import tensorflow as tf

from baselines_tf2.common.mpi_adam import MpiAdam
from baselines_tf2.common.tf_util import flatgrad, get_flat, set_from_flat


class NumpyAdam:
    """Reference: Baselines' MpiAdam step in NumPy (float64)."""

    def __init__(self, theta, beta1=0.9, beta2=0.999, epsilon=1e-8):
        self.theta = np.array(theta, np.float64)
        self.m = np.zeros_like(self.theta)
        self.v = np.zeros_like(self.theta)
        self.t = 0
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon

    def update(self, g, stepsize):
        self.t += 1
        a = stepsize * np.sqrt(1 - self.beta2**self.t) / (1 - self.beta1**self.t)
        self.m = self.beta1 * self.m + (1 - self.beta1) * g
        self.v = self.beta2 * self.v + (1 - self.beta2) * g * g
        self.theta = self.theta - a * self.m / (np.sqrt(self.v) + self.epsilon)


def make_vars(rng):
    return [
        tf.Variable(rng.normal(size=(3, 2)).astype(np.float32)),
        tf.Variable(rng.normal(size=(4,)).astype(np.float32)),
    ]


def test_matches_numpy_adam_over_many_steps_with_a_schedule():
    rng = np.random.default_rng(0)
    var_list = make_vars(rng)
    adam = MpiAdam(var_list, epsilon=1e-5)
    ref = NumpyAdam(adam.getflat(), epsilon=1e-5)
    for step in range(50):
        g = rng.normal(size=10).astype(np.float32)
        stepsize = 1e-2 * (1 - step / 50)
        adam.update(g, stepsize)
        ref.update(g.astype(np.float64), stepsize)
    np.testing.assert_allclose(adam.getflat(), ref.theta, rtol=1e-5, atol=1e-6)
    assert int(adam.t) == 50
    # The step size is a tensor argument: the schedule above compiled the step exactly once.
    assert adam._compiled_apply.experimental_get_tracing_count() == 1


def test_apply_gradient_inside_a_callers_tf_function_equals_update():
    rng = np.random.default_rng(1)
    a_vars = make_vars(rng)
    b_vars = [tf.Variable(v) for v in a_vars]
    a, b = MpiAdam(a_vars), MpiAdam(b_vars)
    grads = rng.normal(size=(5, 10)).astype(np.float32)

    @tf.function
    def epoch(gs, stepsize):
        for i in tf.range(tf.shape(gs)[0]):
            b.apply_gradient(gs[i], stepsize)

    for g in grads:
        a.update(g, 3e-3)
    epoch(tf.constant(grads), tf.constant(3e-3))
    np.testing.assert_allclose(a.getflat(), b.getflat(), rtol=1e-6)
    np.testing.assert_allclose(a.m.numpy(), b.m.numpy(), rtol=1e-6)


def test_rejects_a_gradient_of_the_wrong_size():
    adam = MpiAdam(make_vars(np.random.default_rng(2)))
    with pytest.raises(ValueError, match="expected \\(10,\\)"):
        adam.update(np.zeros(9, np.float32), 1e-3)


def test_optimizer_state_checkpoints_and_resumes_exactly(tmp_path):
    rng = np.random.default_rng(3)
    var_list = make_vars(rng)
    adam = MpiAdam(var_list)
    for _ in range(3):
        adam.update(rng.normal(size=10).astype(np.float32), 1e-2)
    path = tf.train.Checkpoint(vars=var_list, adam=adam).save(str(tmp_path / "ckpt"))
    g = rng.normal(size=10).astype(np.float32)
    adam.update(g, 1e-2)
    expected = adam.getflat()

    fresh_vars = make_vars(np.random.default_rng(99))
    fresh = MpiAdam(fresh_vars)
    tf.train.Checkpoint(vars=fresh_vars, adam=fresh).restore(path).assert_consumed()
    assert int(fresh.t) == 3
    fresh.update(g, 1e-2)
    np.testing.assert_allclose(fresh.getflat(), expected, rtol=1e-6)


def test_flat_helpers_round_trip_and_fill_missing_gradients():
    var_list = make_vars(np.random.default_rng(4))
    flat = get_flat(var_list).numpy()
    assert flat.shape == (10,)
    set_from_flat(var_list, tf.range(10, dtype=tf.float32))
    np.testing.assert_array_equal(var_list[0].numpy(), np.arange(6).reshape(3, 2))
    np.testing.assert_array_equal(var_list[1].numpy(), np.arange(6, 10))
    g = flatgrad([None, tf.ones([4])], var_list).numpy()
    np.testing.assert_array_equal(g, [0] * 6 + [1] * 4)
