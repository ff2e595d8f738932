"""Action masks from environments through the rollout: detection, every step's mask recorded and obeyed."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AsyncVectorEnv, AutoresetMode, SyncVectorEnv
from toy_envs import ConstantEnv, CountdownEnv, InfoMaskedChoiceEnv, MaskedChoiceEnv

from baselines_tf2.common.actors import make_actor
from baselines_tf2.common.masking import mask_sizes
from baselines_tf2.common.policies import MlpPolicy
from baselines_tf2.envs.action_masks import env_masks, vector_env_masks
from baselines_tf2.envs.monitor import Monitor
from baselines_tf2.errors import ActionMaskError, ConfigError
from baselines_tf2.tools.evaluate import run_episodes
from baselines_tf2.train.rollout import RolloutCollector


def vec(make, n=2):
    return SyncVectorEnv(
        [lambda: Monitor(make()) for _ in range(n)], autoreset_mode=AutoresetMode.SAME_STEP, copy=False
    )


def random_policy(env):
    """An MLP with a far-from-uniform head, so that unmasked draws would pick forbidden actions often."""
    pi = MlpPolicy(env.single_observation_space, env.single_action_space, hid_size=8)
    pi.pol_head.dense.b.assign(np.linspace(3.0, -3.0, pi.pol_head.dense.b.shape[0]).astype(np.float32))
    return pi


def allowed(seg, space):
    """Whether every recorded action is allowed by the mask recorded with it."""
    offsets = np.concatenate([[0], np.cumsum(mask_sizes(space))[:-1]])
    actions = seg.actions.reshape(seg.num_steps, -1) + offsets  # [n, components]: columns of the flat mask
    masks = seg.masks.reshape(seg.num_steps, -1)
    return bool(np.take_along_axis(masks, actions, axis=1).all())


MULTI = [4, 3, 5]
ENVS = {
    "method": lambda: MaskedChoiceEnv(),
    "info": lambda: InfoMaskedChoiceEnv(),
    "method_multi": lambda: MaskedChoiceEnv(nvec=MULTI),
    "info_multi": lambda: InfoMaskedChoiceEnv(nvec=MULTI),
}


@pytest.mark.parametrize("kind", list(ENVS))
def test_the_rollout_acts_with_and_records_each_steps_mask(kind):
    env = vec(ENVS[kind])
    collector = RolloutCollector(env, 300, 0.99, np.float32, seeds=[0, 1])
    assert collector.masked and collector.action_masks.reads_infos == kind.startswith("info")
    actor = make_actor(random_policy(env), np.random.default_rng(0))
    seg = collector.collect(actor)
    assert seg.masks.shape == (300, 2, sum(MULTI) if "multi" in kind else 8) and seg.masks.dtype == bool
    assert allowed(seg, env.single_action_space) and sum(copy.unwrapped.forbidden for copy in env.envs) == 0
    assert seg.dones.sum() >= 2 * 300 // 10 - 2  # whole episodes of 10 steps: no forbidden choice ended one
    episodes = collector.collect_episodes(actor, min_steps=50)  # the policy gradient's collection
    assert episodes.masks.shape[:2] == (episodes.num_steps, 1) and allowed(episodes, env.single_action_space)
    assert sum(copy.unwrapped.forbidden for copy in env.envs) == 0


def test_without_masking_the_same_policy_makes_forbidden_choices():
    env = vec(ENVS["method"])
    collector = RolloutCollector(env, 300, 0.99, np.float32, seeds=[0, 1], action_masking="off")
    seg = collector.collect(make_actor(random_policy(env), np.random.default_rng(0)))
    assert not collector.masked and seg.masks is None
    assert sum(copy.unwrapped.forbidden for copy in env.envs) > 100


def test_the_recorded_mask_is_the_one_of_the_observed_state():
    """Masks line up with the steps: the mask recorded at step t is what action_masks() said before step t."""
    env = vec(ENVS["method"], n=1)
    collector = RolloutCollector(env, 1, 0.99, np.float32, seeds=[3])
    actor = make_actor(random_policy(env), np.random.default_rng(0))
    for _ in range(25):  # across episode ends (autoreset within the step)
        before = env.envs[0].unwrapped.action_masks().copy()
        seg = collector.collect(actor)
        np.testing.assert_array_equal(seg.masks[0, 0], before)


def test_async_vector_env_copies_are_asked_through_call():
    env = AsyncVectorEnv([lambda: Monitor(MaskedChoiceEnv()) for _ in range(2)], autoreset_mode=AutoresetMode.SAME_STEP)
    try:
        collector = RolloutCollector(env, 100, 0.99, np.float32, seeds=[0, 1])
        assert collector.masked and not collector.action_masks.reads_infos
        seg = collector.collect(make_actor(random_policy(env), np.random.default_rng(0)))
        assert allowed(seg, env.single_action_space) and seg.dones.sum() >= 18
    finally:
        env.close()


def test_modes_and_their_errors():
    masked, plain = vec(ENVS["method"]), vec(ConstantEnv)
    infos = masked.reset(seed=0)[1]
    assert vector_env_masks(masked, "off", infos) is None
    assert vector_env_masks(plain, "auto", plain.reset(seed=0)[1]) is None
    assert vector_env_masks(masked, "on", infos).current().shape == (2, 8)
    with pytest.raises(ConfigError, match="action_masking is on, but the env provides no action masks"):
        vector_env_masks(plain, "on", {})
    box = vec(lambda: CountdownEnv(3))
    with pytest.raises(ConfigError, match=r"Box\(.*cannot be masked"):
        vector_env_masks(box, "on", {})

    class BoxWithMasks(CountdownEnv):
        def action_masks(self):
            return np.ones(1, bool)

    with pytest.raises(ConfigError, match="the env provides action masks, but Box"):
        vector_env_masks(vec(BoxWithMasks), "auto", {})
    with pytest.raises(ConfigError, match="action_masking must be one of auto, on, off"):
        vector_env_masks(masked, "yes", infos)


class WrongMasks(MaskedChoiceEnv):
    def __init__(self, problem):
        super().__init__()
        self.problem = problem

    def action_masks(self):
        mask = super().action_masks()
        return mask[:-1] if self.problem == "shape" else np.zeros_like(mask)


@pytest.mark.parametrize(
    "problem, message",
    [
        ("shape", r"action_masks\(\) has shape \(2, 7\) and dtype bool; expected 8 bools"),
        ("empty", r"action_masks\(\) allows no action for env copy 0"),
    ],
)
def test_a_bad_mask_is_one_clear_error(problem, message):
    with pytest.raises(ActionMaskError, match=message):
        RolloutCollector(vec(lambda: WrongMasks(problem)), 10, 0.99, np.float32, seeds=[0, 1])


def test_an_info_without_the_mask_is_named():
    class Forgetful(InfoMaskedChoiceEnv):
        def _info(self):
            return {} if getattr(self, "t", 0) >= 3 else super()._info()

    collector = RolloutCollector(vec(Forgetful, n=1), 10, 0.99, np.float32, seeds=[0])
    with pytest.raises(ActionMaskError, match="env copy 0 returned an info without 'action_mask'"):
        collector.collect(make_actor(random_policy(collector.env), np.random.default_rng(0)))


@pytest.mark.parametrize("kind", ["method", "info_multi"])
def test_play_acts_with_the_envs_masks(kind):
    """Deterministic episodes take the mode over the valid actions: never a forbidden choice."""
    env = Monitor(ENVS[kind]())
    pi = random_policy(vec(ENVS[kind], n=1))
    returns = run_episodes(pi, env, 5, seed=0)
    assert env.unwrapped.forbidden == 0 and all(r >= 0 for r in returns)
    run_episodes(pi, env, 5, seed=0, action_masking="off")
    assert env.unwrapped.forbidden > 0
    assert env_masks(gym.make("CartPole-v1"), "auto", {}) is None


def test_policy_act_takes_a_mask():
    env = vec(ENVS["method"], n=1)
    pi = random_policy(env)
    ob = np.ones(1, np.float32)
    assert pi.act(False, ob)[0] == 0  # the head favours action 0
    mask = np.array([0, 0, 0, 0, 0, 1, 0, 1], bool)
    assert pi.act(False, ob, mask)[0] == 5
    assert {int(pi.act(True, ob, mask)[0]) for _ in range(50)} <= {5, 7}
    with pytest.raises(ActionMaskError, match="allows no action"):
        pi.act(True, ob, np.zeros(8, bool))
    box = MlpPolicy(env.single_observation_space, gym.spaces.Box(-1, 1, (2,)))
    with pytest.raises(ActionMaskError, match="cannot be masked"):
        box.act(True, ob, np.ones(4, bool))
