"""Rollout collection: transitions line up, truncation bootstraps, death does not, episodes are counted."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from toy_envs import CountdownEnv, NoiseImageEnv, truncated_constant_env

from baselines_tf2.common.actors import Actor, make_actor
from baselines_tf2.common.advantages import gae
from baselines_tf2.common.mpi_adam import MpiAdam
from baselines_tf2.common.policies import CnnPolicy, MlpPolicy
from baselines_tf2.envs.monitor import Monitor
from baselines_tf2.ppo.pposgd import _prepare_batch
from baselines_tf2.ppo.update import PPOUpdater
from baselines_tf2.train.rollout import RolloutCollector


class FixedActor(Actor):
    """Action 0 and a constant value estimate, whatever the observation."""

    def __init__(self, value: float, action_shape=()):
        self.v = value
        self.action_shape = action_shape

    def forward(self, obs):
        raise NotImplementedError

    def step_with_params(self, obs, stochastic=True, mask=None):
        n = len(obs)
        actions = np.zeros((n, *self.action_shape), np.float32 if self.action_shape else np.int32)
        return actions, np.full(n, self.v, np.float32), np.zeros((n, 2), np.float32)

    def value(self, obs):
        return np.full(len(obs), self.v, np.float32)


def vec(make, n=1):
    return SyncVectorEnv(
        [lambda: Monitor(make()) for _ in range(n)], autoreset_mode=AutoresetMode.SAME_STEP, copy=False
    )


def test_truncation_bootstraps_so_the_true_value_is_a_fixed_point():
    """V = 1/(1-gamma) = 100 must be self-consistent: every value target is exactly 100."""
    gamma = 0.99
    collector = RolloutCollector(vec(lambda: truncated_constant_env(50), 2), 120, gamma, np.float32, seeds=[0, 1])
    seg = collector.collect(FixedActor(100.0))
    assert seg.dones.sum() == 4  # truncations at steps 50 and 100 in both copies
    np.testing.assert_allclose(seg.rewards, 1.0)
    np.testing.assert_allclose(seg.bootstrap[49], gamma * 100, rtol=1e-6)
    assert np.count_nonzero(seg.bootstrap) == 4
    _, vtarg = gae(seg.rewards + seg.bootstrap, seg.vpreds, seg.dones, seg.last_vpreds, gamma, 0.95)
    np.testing.assert_allclose(vtarg, 100.0, rtol=1e-5)
    assert seg.episodes == [(50.0, 50)] * 4


def test_termination_is_not_bootstrapped_and_steps_line_up():
    collector = RolloutCollector(vec(lambda: CountdownEnv(3)), 7, 0.9, np.float32, seeds=[0])
    seg = collector.collect(FixedActor(5.0, action_shape=(1,)))
    np.testing.assert_array_equal(seg.obs[:, 0, 0], [0, 1, 2, 0, 1, 2, 0])  # the observation acted on
    np.testing.assert_array_equal(seg.dones[:, 0], [0, 0, 1, 0, 0, 1, 0])
    np.testing.assert_array_equal(seg.rewards[:, 0], 1.0)
    np.testing.assert_array_equal(seg.bootstrap[:, 0], 0.0)  # no bootstrap on death
    np.testing.assert_array_equal(collector.obs[:, 0], [1.0])  # the next segment continues from here
    assert seg.actions.shape == (7, 1, 1) and seg.episodes == [(3.0, 3), (3.0, 3)]
    _, vtarg = gae(seg.rewards + seg.bootstrap, seg.vpreds, seg.dones, seg.last_vpreds, 0.9, 1.0)
    np.testing.assert_allclose(vtarg[:3, 0], [1 + 0.9 + 0.81, 1.9, 1.0], rtol=1e-6)


def test_segments_continue_across_calls():
    collector = RolloutCollector(vec(lambda: CountdownEnv(4)), 3, 0.9, np.float32, seeds=[0])
    first = collector.collect(FixedActor(0.0, action_shape=(1,)))
    second = collector.collect(FixedActor(0.0, action_shape=(1,)))
    np.testing.assert_array_equal(first.obs[:, 0, 0], [0, 1, 2])
    np.testing.assert_array_equal(second.obs[:, 0, 0], [3, 0, 1])
    assert first.episodes == [] and second.episodes == [(4.0, 4)]


def test_collect_episodes_keeps_whole_episodes_only():
    env = SyncVectorEnv(
        [lambda n=n: Monitor(CountdownEnv(n)) for n in (3, 5)], autoreset_mode=AutoresetMode.SAME_STEP, copy=False
    )
    collector = RolloutCollector(env, 1, 0.9, np.float32, seeds=[0, 1])
    seg = collector.collect_episodes(FixedActor(0.0, action_shape=(1,)), min_steps=6)
    # copy 0 ends an episode at step 3 (3 steps), copy 1 at step 5 (8 in all): copy 0's second,
    # unfinished episode (2 steps) is dropped.
    np.testing.assert_array_equal(seg.obs[:, 0, 0], [0, 1, 2, 0, 1, 2, 3, 4])
    np.testing.assert_array_equal(seg.dones[:, 0], [0, 0, 1, 0, 0, 0, 0, 1])
    assert seg.actions.shape == (8, 1, 1) and seg.num_steps == 8
    assert seg.episodes == [(3.0, 3), (5.0, 5)]
    np.testing.assert_array_equal(collector.obs[:, 0], [0.0, 0.0])  # fresh episodes for the next call
    again = collector.collect_episodes(FixedActor(0.0, action_shape=(1,)), min_steps=1)
    np.testing.assert_array_equal(again.obs[:, 0, 0], [0, 1, 2])


def test_direct_stepping_of_sync_copies_equals_the_vector_envs_step():
    """The collector steps a SyncVectorEnv's copies itself; the result must equal vec.step's, bit for bit."""

    def segments(direct):
        env = vec(lambda: gym.make("Hopper-v5", max_episode_steps=23), 2)  # truncations and falls
        pi = MlpPolicy(env.single_observation_space, env.single_action_space)
        for v in pi.trainable_variables:
            v.assign(np.full(v.shape, 0.05, np.float32))
        pi.pol_head.logstd.assign(np.full(3, 0.5, np.float32))
        collector = RolloutCollector(env, 150, 0.99, np.float32, seeds=[3, 4])
        if not direct:
            collector._envs = None  # force the vector env's own step
        actor = make_actor(pi, np.random.default_rng(0))
        return [collector.collect(actor) for _ in range(2)]

    for a, b in zip(segments(True), segments(False)):
        assert a.episodes == b.episodes and len(a.episodes) > 4
        assert a.dones.sum() > 4 and np.count_nonzero(a.bootstrap) > 0 and np.count_nonzero(a.bootstrap) < a.dones.sum()
        for name in ("obs", "actions", "rewards", "bootstrap", "dones", "vpreds", "last_vpreds"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_cnn_pi_old_is_the_acting_distribution(precision):
    """Without a normaliser nothing moves between acting and updating: pi_old is the rollout's, ratio 1
    (in bfloat16 too: the rollout acts with the same bfloat16 network)."""
    env = vec(NoiseImageEnv, 3)
    pi = CnnPolicy(env.single_observation_space, env.single_action_space, kind="small", precision=precision)
    for v in pi.trainable_variables:  # a head far from uniform, so that a mismatch would show
        v.assign(v + np.random.default_rng(0).normal(0, 0.05, v.shape).astype(np.float32))
    seg = RolloutCollector(env, 10, 0.99, np.uint8, seeds=[0, 1, 2]).collect(make_actor(pi, np.random.default_rng(1)))
    assert seg.pdparams.shape == (10, 3, 4)
    batch = _prepare_batch(seg, pi, None, 0.99, 0.95)
    flat, vpred = pi.forward_numpy(batch.ob)
    np.testing.assert_allclose(batch.oldpdparam, flat, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(batch.oldvpred, vpred, rtol=1e-5, atol=1e-5)
    updater = PPOUpdater(pi, MpiAdam(pi.trainable_variables), entcoeff=0.01, vf_coef=1.0, vf_clip=False)
    updater.load_batch(batch)
    m = updater.evaluate(clip_param=0.1)
    assert m["approxkl"] == pytest.approx(0.0, abs=1e-9) and m["clipfrac"] == 0.0
