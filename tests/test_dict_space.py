"""Dict observations packed into one float32 vector: the layout, exact round trips, the env boundary, errors."""

import gymnasium as gym
import numpy as np
import pytest
import tensorflow as tf
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from toy_envs import DictQuadrantEnv

from baselines_tf2.common.dict_policy import DictPolicy, pack_tensors
from baselines_tf2.common.dict_space import PackedDictSpace, as_dict_space, dict_layout, pack, pack_batch, unpack
from baselines_tf2.envs.dict_obs import PackDictObservation
from baselines_tf2.envs.make import as_vec_env, make_env, make_vec_env
from baselines_tf2.errors import ConfigError
from baselines_tf2.train.rollout import RolloutCollector

SPACE = spaces.Dict(
    {
        "pixels": spaces.Box(0, 255, (20, 21, 3), np.uint8),
        "pos": spaces.Box(-1e3, 1e3, (2, 2), np.float32),
        "mode": spaces.Discrete(4, start=1),
        "switches": spaces.MultiBinary(3),
        "grid": spaces.MultiDiscrete([3, 2], start=[-1, 5]),
    }
)


def samples(n, seed=0):
    """``n`` observations of SPACE, the image's extremes 0 and 255 included."""
    SPACE.seed(seed)
    obs = [SPACE.sample() for _ in range(n)]
    obs[0]["pixels"][:] = 0
    obs[1]["pixels"][:] = 255
    return obs


def batched(obs):
    return {key: np.stack([ob[key] for ob in obs]) for key in SPACE.spaces}


def test_layout_is_gymnasiums_flatten_and_kinds_follow_the_spaces():
    layout = dict_layout(SPACE)
    assert [s.key for s in layout] == ["grid", "mode", "pixels", "pos", "switches"]  # gymnasium sorts the keys
    assert [s.kind for s in layout] == ["onehot", "onehot", "image", "box", "binary"]
    assert [(s.offset, s.size) for s in layout] == [(0, 5), (5, 4), (9, 1260), (1269, 4), (1273, 3)]
    ob = samples(2)[1]
    packed = pack(SPACE, ob)
    assert packed.dtype == np.float32 and packed.shape == (1276,)
    for slot in layout:
        np.testing.assert_array_equal(packed[slot.offset : slot.stop], spaces.flatten(slot.space, ob[slot.key]))
    packed_space = PackedDictSpace(SPACE)
    assert packed_space.shape == (1276,) and packed_space.dtype == np.float32 and packed_space.contains(packed)
    assert as_dict_space(packed_space) is SPACE and as_dict_space(SPACE) is SPACE
    assert as_dict_space(spaces.Box(0, 1, (2,))) is None
    # Not an image for SB3's test: other bounds, dtype or rank.
    others = {"a": spaces.Box(0, 1, (4, 4, 1), np.uint8), "b": spaces.Box(0, 255, (4, 4), np.uint8)}
    assert [s.kind for s in dict_layout(spaces.Dict(others))] == ["box", "box"]


def test_pack_then_unpack_is_exact_for_every_key():
    for ob in samples(40):
        back = unpack(SPACE, pack(SPACE, ob))
        for key, value in ob.items():
            assert np.asarray(back[key]).dtype == np.asarray(value).dtype, key
            np.testing.assert_array_equal(back[key], value, err_msg=key)


def test_batch_packing_numpy_and_in_graph_equal_row_by_row_packing():
    obs = samples(30)
    rows = np.stack([pack(SPACE, ob) for ob in obs])
    np.testing.assert_array_equal(pack_batch(SPACE, batched(obs)), rows)
    pi = DictPolicy(SPACE, spaces.Discrete(2), hid_size=8, cnn_kind="small")
    raw = [tf.constant(batched(obs)[spec.name], spec.dtype) for spec in pi.input_specs()]
    np.testing.assert_array_equal(pack_tensors(pi.layout, raw).numpy(), rows)


def test_the_policy_unpacks_each_key_exactly():
    pi = DictPolicy(SPACE, spaces.Discrete(2), hid_size=8, cnn_kind="small")
    obs = samples(20, seed=3)
    keys = {k: v.numpy() for k, v in pi.unpack(tf.constant(pack_batch(SPACE, batched(obs)))).items()}
    for key in ("pixels", "pos"):
        assert keys[key].dtype == np.float32
        np.testing.assert_array_equal(keys[key], batched(obs)[key].astype(np.float32))
    np.testing.assert_array_equal(keys["pixels"].astype(np.uint8), batched(obs)["pixels"])  # 0..255 exact
    np.testing.assert_array_equal(keys["mode"].argmax(1) + 1, batched(obs)["mode"])
    np.testing.assert_array_equal(keys["switches"], batched(obs)["switches"])


def test_envs_pack_at_the_boundary():
    env = make_env("toy_envs:ToyDictQuadrant-v0")
    assert isinstance(env.observation_space, PackedDictSpace)
    ob, _ = env.reset(seed=1)
    raw = DictQuadrantEnv()
    raw_ob, _ = raw.reset(seed=1)
    np.testing.assert_array_equal(ob, pack(raw.observation_space, raw_ob))
    vec = make_vec_env("toy_envs:ToyDictQuadrant-v0", 2)
    assert as_dict_space(vec.single_observation_space) == DictQuadrantEnv.observation_space
    # A user's env, SyncVectorEnv of raw copies, or copies they packed themselves.
    for user in (
        DictQuadrantEnv(),
        SyncVectorEnv([DictQuadrantEnv, DictQuadrantEnv], autoreset_mode=AutoresetMode.SAME_STEP),
        SyncVectorEnv([lambda: PackDictObservation(DictQuadrantEnv())], autoreset_mode=AutoresetMode.SAME_STEP),
    ):
        packed = as_vec_env(user, 1, 0, None)
        assert isinstance(packed.single_observation_space, PackedDictSpace)
        seg = RolloutCollector(packed, 9, 0.99, np.float32, seeds=list(range(packed.num_envs))).collect(_RandomActor())
        assert seg.obs.dtype == np.float32 and seg.obs.shape == (9, packed.num_envs, 578)
        assert seg.dones[7].all() and not seg.dones[:7].any()  # episodes of 8 steps, reset by the collector


class _RandomActor:
    rng = np.random.default_rng(0)

    def step_with_params(self, obs, stochastic=True, mask=None):
        n = len(obs)
        return self.rng.integers(4, size=n), np.zeros(n, np.float32), np.zeros((n, 4), np.float32)

    def value(self, obs):
        return np.zeros(len(obs), np.float32)


class _DictVectorEnv(gym.vector.VectorEnv):
    """A vector env that is not a SyncVectorEnv (as an AsyncVectorEnv), of Dict observations."""

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP}
    single_observation_space = DictQuadrantEnv.observation_space
    single_action_space = DictQuadrantEnv.action_space
    num_envs = 2


@pytest.mark.parametrize(
    "space, message",
    [
        (spaces.Dict({"inner": spaces.Dict({"x": spaces.Discrete(2)})}), "observation key 'inner' is a nested Dict"),
        (spaces.Dict({"pair": spaces.Tuple([spaces.Discrete(2)] * 2)}), "observation key 'pair' is a Tuple space"),
        (spaces.Dict({"word": spaces.Text(5)}), "observation key 'word' is a Text space, which is not supported"),
        (spaces.Dict({1: spaces.Discrete(2)}), "observation key 1 is not a string"),
        (spaces.Dict({}), "the Dict observation space has no keys"),
    ],
)
def test_unsupported_keys_are_refused_in_one_line(space, message):
    for build in (dict_layout, lambda s: DictPolicy(s, spaces.Discrete(2))):
        with pytest.raises(ConfigError, match=message) as err:
            build(space)
        assert "\n" not in str(err.value)


def test_what_cannot_be_packed_is_refused_in_one_line():
    with pytest.raises(ConfigError, match="^_DictVectorEnv of Dict observations: wrap each copy in"):
        as_vec_env(_DictVectorEnv(), 1, 0, None)
    with pytest.raises(ConfigError, match=r"^DictPolicy needs a Dict observation space, got Box"):
        DictPolicy(spaces.Box(0, 1, (3,)), spaces.Discrete(2))
    small = spaces.Dict({"image": spaces.Box(0, 255, (24, 24, 1), np.uint8)})
    with pytest.raises(
        ConfigError, match=r"images of key 'image' \(24, 24, 1\) are too small for the 'large' CNN; use"
    ):
        DictPolicy(small, spaces.Discrete(2))
