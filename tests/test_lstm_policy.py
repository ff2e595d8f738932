"""Recurrent policies: one cell for steps and sequences, the episode mask, the acting state, the recorded segment."""

import gymnasium as gym
import numpy as np
import pytest
import tensorflow as tf
from gymnasium import spaces
from toy_envs import ConstantEnv, CueEnv, NoiseImageEnv

from baselines_tf2.common.lstm_policy import CnnLstmPolicy, LstmPolicy
from baselines_tf2.envs.monitor import Monitor
from baselines_tf2.ppo.recurrent_update import recurrent_pi_old
from baselines_tf2.train.recurrent_rollout import RecurrentCollector

OB = spaces.Box(-np.inf, np.inf, (3,), np.float32)


def perturbed(pi, seed=0, stddev=0.3):
    """Weights away from the near-uniform initial head, so outputs depend visibly on the state."""
    tf.random.set_seed(seed)
    for v in pi.trainable_variables:
        v.assign_add(tf.random.normal(v.shape, stddev=stddev))
    return pi


def lstm(ac_space=None, **kwargs):
    tf.random.set_seed(0)
    return perturbed(LstmPolicy(OB, ac_space or spaces.Discrete(3), nlstm=8, hid_size=16, **kwargs))


@pytest.mark.parametrize("num_hid_layers", [0, 2])
def test_sequences_equal_steps_with_resets_inside(num_hid_layers):
    pi = lstm(num_hid_layers=num_hid_layers)
    rng = np.random.default_rng(0)
    batch, steps = 3, 5
    obs = rng.normal(size=(batch * steps, 3)).astype(np.float32)
    starts = np.zeros(batch * steps, bool)
    starts[[0, 7, 13]] = True  # sequence 0 begins an episode; 1 and 2 have one starting inside
    state0 = rng.normal(size=(batch, pi.state_size)).astype(np.float32)
    pdparam, vpred, last = pi.forward_recurrent_numpy(obs, state0, starts)
    state = state0
    for t in range(steps):
        rows = np.arange(batch) * steps + t  # env-major rows
        step_pdparam, step_vpred, state = pi.step_numpy(obs[rows], state, starts[rows])
        np.testing.assert_allclose(step_pdparam, pdparam[rows], rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(step_vpred, vpred[rows], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(state, last, rtol=1e-6, atol=1e-6)
    assert pi.state_size == 16 and last.shape == (batch, 16)


def test_an_episode_start_forgets_the_state():
    pi = lstm()
    rng = np.random.default_rng(1)
    obs = rng.normal(size=(4, 3)).astype(np.float32)
    state = rng.normal(size=(4, pi.state_size)).astype(np.float32)
    reset = pi.step_numpy(obs, state, np.ones(4, bool))
    fresh = pi.step_numpy(obs, pi.initial_state(4), np.zeros(4, bool))
    carried = pi.step_numpy(obs, state, np.zeros(4, bool))
    for a, b in zip(reset, fresh):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(carried[0], fresh[0])  # without the start flag the state matters
    # Policy's interface (pi(ob), forward, act_batch's first call): an episode's first step.
    np.testing.assert_allclose(pi.forward_numpy(obs)[0], fresh[0], rtol=1e-6, atol=1e-6)


def test_the_actor_carries_each_copys_state_and_resets_ended_episodes():
    pi = lstm()
    rng = np.random.default_rng(2)
    obs = [rng.normal(size=(2, 3)).astype(np.float32) for _ in range(3)]
    actor = pi.make_actor(np.random.default_rng(0))
    actor.forward(obs[0])
    own = actor.final_value(obs[1][1:], [1])  # a copy's own state
    np.testing.assert_allclose(own, actor.value(obs[1])[1:], rtol=1e-6, atol=1e-6)
    before = actor.state.copy()
    actor.value(obs[1])
    np.testing.assert_array_equal(actor.state, before)  # values do not move the state
    actor.forward(obs[1])
    actor.end_episodes(np.array([True, False]))  # copy 0's episode ended
    flat, _ = actor.forward(obs[2])
    fresh, _ = pi.make_actor(np.random.default_rng(0)).forward(obs[2])
    np.testing.assert_allclose(flat[0], fresh[0], rtol=1e-6, atol=1e-6)
    assert not np.allclose(flat[1], fresh[1])
    actor.forward(obs[0][:1])  # another batch size: every row starts afresh
    other = pi.make_actor(np.random.default_rng(0))
    other.forward(obs[0][:1])
    np.testing.assert_array_equal(actor.state, other.state)


def test_act_batch_carries_the_state_until_told_of_an_episode_start():
    pi = lstm()
    obs = np.ones((2, 3), np.float32)
    first = pi.act_batch(False, obs)[1]
    second = pi.act_batch(False, obs)[1]
    assert not np.allclose(second, first)  # the second step sees the state of the first
    again = pi.act_batch(False, obs, episode_start=np.array([True, False]))[1]
    assert again[0] == pytest.approx(first[0], abs=1e-6) and not np.isclose(again[1], first[1])


def make_collector(pi, num_env, horizon, env_fn):
    vec = gym.vector.SyncVectorEnv(
        [lambda: Monitor(env_fn()) for _ in range(num_env)],
        autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,
    )
    return RecurrentCollector(vec, horizon, 0.99, pi.ob_dtype.as_numpy_dtype, seeds=list(range(num_env)))


@pytest.mark.parametrize("kind", ["lstm", "cnn_lstm"])
def test_the_segment_replays_to_what_the_rollout_acted_with(kind):
    """Segments of 5 steps over episodes of 6: the second starts mid-episode, from the states the first left."""
    if kind == "lstm":
        pi, env_fn = lstm(ac_space=spaces.Discrete(2)), lambda: CueEnv(delay=4)
    else:
        tf.random.set_seed(0)
        pi = perturbed(
            CnnLstmPolicy(NoiseImageEnv.observation_space, spaces.Discrete(4), nlstm=8, kind="small"), 0, 0.05
        )
        env_fn = NoiseImageEnv
    collector = make_collector(pi, 3, 5, env_fn)
    actor = pi.make_actor(np.random.default_rng(0))
    first, second = collector.collect(actor), collector.collect(actor)
    assert first.rnn_states.shape == (5, 3, pi.state_size) and first.episode_starts.shape == (5, 3)
    assert first.episode_starts[0].all() and not first.rnn_states[0].any()  # a run starts every copy afresh
    np.testing.assert_array_equal(first.episode_starts[1:], first.dones[:-1])  # the mask: done at t-1
    np.testing.assert_array_equal(second.episode_starts[0], first.dones[-1])
    assert np.abs(second.rnn_states[0]).min() > 0  # carried over mid-episode
    for seg in (first, second):
        pdparam, vpred = recurrent_pi_old(pi, seg)
        np.testing.assert_allclose(pdparam, seg.pdparams.reshape(pdparam.shape), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(vpred, seg.vpreds.reshape(-1), rtol=1e-5, atol=1e-5)
        # Where an episode starts, the step saw a zero state: the policy's first-step output.
        t, e = np.nonzero(seg.episode_starts)
        zero = pi.forward_numpy(seg.obs[t, e])[0]
        np.testing.assert_allclose(seg.pdparams[t, e], zero, rtol=1e-5, atol=1e-5)


def test_a_truncated_episode_is_bootstrapped_from_its_copys_state():
    """Time limit 3, segments of 5 steps: V(final observation) continues the episode's state, not a zero one."""
    tf.random.set_seed(0)
    pi = perturbed(LstmPolicy(ConstantEnv.observation_space, ConstantEnv.action_space, nlstm=8, hid_size=16))
    collector = make_collector(pi, 2, 5, lambda: gym.wrappers.TimeLimit(ConstantEnv(), 3))
    seg = collector.collect(pi.make_actor(np.random.default_rng(0)))
    assert seg.dones[2].all() and seg.episode_starts[3].all() and not seg.dones[[0, 1, 3, 4]].any()
    final = np.ones((2, 1), np.float32)  # ConstantEnv's every observation
    carried = pi.step_numpy(final, seg.rnn_states[3], np.zeros(2, bool))[1]
    np.testing.assert_allclose(seg.bootstrap[2], 0.99 * carried, rtol=1e-5, atol=1e-6)
    fresh = pi.step_numpy(final, pi.initial_state(2), np.zeros(2, bool))[1]
    assert np.abs(carried - fresh).min() > 1e-4  # the state does matter here
