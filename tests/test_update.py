"""PPO epochs: ratio 1 at the start, no retrace on schedules, compiled paths agree."""

import numpy as np
import pytest
import tensorflow as tf
from gymnasium import spaces

from baselines_tf2.common.mpi_adam import MpiAdam
from baselines_tf2.common.policies import MlpPolicy
from baselines_tf2.ppo.update import PPOBatch, PPOUpdater

OB, AC = spaces.Box(-np.inf, np.inf, (4,), np.float64), spaces.Box(-1, 1, (2,))


def make(seed=0, **kwargs):
    tf.random.set_seed(seed)
    pi = MlpPolicy(OB, AC, hid_size=16)
    adam = MpiAdam(pi.trainable_variables)
    return pi, adam, PPOUpdater(pi, adam, entcoeff=0.01, vf_coef=0.5, vf_clip=True, **kwargs)


def make_batch(pi, n=256, seed=0):
    rng = np.random.default_rng(seed)
    ob = rng.normal(size=(n, 4)).astype(np.float32)
    pi.ob_rms.update(ob)
    oldpdparam, oldvpred = pi.forward_numpy(ob)  # pi_old recorded after the normaliser update
    ac = (oldpdparam[:, :2] + rng.normal(size=(n, 2))).astype(np.float32)
    atarg, vtarg = rng.normal(size=n).astype(np.float32), rng.normal(size=n).astype(np.float32)
    return PPOBatch(ob=ob, ac=ac, atarg=atarg, vtarg=vtarg, oldpdparam=oldpdparam, oldvpred=oldvpred)


def test_ratio_is_one_before_the_first_step():
    pi, _, updater = make()
    batch = make_batch(pi)
    updater.load_batch(batch)
    m = updater.evaluate(clip_param=0.2)
    assert m["approxkl"] == pytest.approx(0.0, abs=1e-10)
    assert m["meankl"] == pytest.approx(0.0, abs=1e-7)
    assert m["clipfrac"] == 0.0
    assert m["policy_loss"] == pytest.approx(-batch.atarg.mean(), abs=1e-6)


def test_schedules_do_not_retrace_and_epochs_change_the_policy():
    pi, adam, updater = make()
    batch = make_batch(pi)
    updater.load_batch(batch)
    rng = np.random.default_rng(0)
    before = adam.getflat()
    for i in range(4):
        perm = rng.permutation(256).reshape(4, 64)
        m = updater.run_epoch(perm, stepsize=1e-3 * (4 - i), clip_param=0.2 - 0.01 * i)
    assert updater._epoch_fn.experimental_get_tracing_count() == 1
    assert float(updater.stepsize) == pytest.approx(1e-3) and float(updater.clip_param) == pytest.approx(0.17)
    assert not np.allclose(adam.getflat(), before)
    after = updater.evaluate(0.2)
    assert after["approxkl"] > 0 and set(m) == set(after)


@pytest.mark.parametrize("jit_compile", [True, False])
def test_one_call_epoch_equals_the_mpi_path(jit_compile):
    """The one-rank fast path and the all-reduce path (gradient, all-reduce on the host, apply) agree."""
    pi_a, adam_a, fast = make(seed=3, jit_compile=jit_compile)
    pi_b, adam_b, host = make(seed=3, jit_compile=jit_compile)
    host.single_rank = False
    batch = make_batch(pi_a)
    make_batch(pi_b)  # same normaliser update
    perm = np.random.default_rng(1).permutation(256).reshape(4, 64)
    fast.load_batch(batch)
    host.load_batch(batch)
    ma = fast.run_epoch(perm, 3e-3, 0.2)
    mb = host.run_epoch(perm, 3e-3, 0.2)
    np.testing.assert_allclose(adam_a.getflat(), adam_b.getflat(), rtol=1e-4, atol=1e-6)
    for key in ma:
        assert ma[key] == pytest.approx(mb[key], rel=1e-4, abs=1e-6)
    assert int(adam_a.t) == int(adam_b.t) == 4


def test_max_grad_norm_bounds_the_step():
    tf.random.set_seed(0)
    v = [tf.Variable([0.0, 0.0])]
    adam = MpiAdam(v, max_grad_norm=1.0)
    norm = adam.apply_gradient(tf.constant([30.0, 40.0]), tf.constant(0.1))
    assert float(norm) == pytest.approx(50.0)
    np.testing.assert_allclose(adam.m.numpy(), 0.1 * np.array([0.6, 0.8]), rtol=1e-6)  # clipped to unit norm


def test_a_mapping_batch_loads_as_the_typed_one():
    pi_a, _, typed = make(seed=3, jit_compile=False)
    pi_b, _, mapped = make(seed=3, jit_compile=False)
    batch = make_batch(pi_a)
    make_batch(pi_b)
    typed.load_batch(batch)
    mapped.load_batch(batch._asdict())
    assert typed.evaluate(0.2) == mapped.evaluate(0.2)
