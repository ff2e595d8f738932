"""Exported masked signatures act as the policy does with masks, in a process that imports only TensorFlow."""

import json
import textwrap

import numpy as np
import pytest
import tensorflow as tf
from conftest import run_loader
from gymnasium import spaces

from baselines_tf2.common.policies import MlpPolicy
from baselines_tf2.tools.export import export_saved_model

OB = spaces.Box(-np.inf, np.inf, (3,), np.float32)
SPACES = {"Discrete": spaces.Discrete(6), "MultiDiscrete": spaces.MultiDiscrete([4, 3])}
N = 2000

LOADER = textwrap.dedent("""
    import sys
    import numpy as np
    import tensorflow as tf
    model = tf.saved_model.load(sys.argv[1])
    obs, mask = np.load("obs.npy"), np.load("mask.npy")
    out = {"mode": model.signatures["serving_masked"](observations=tf.constant(obs), action_mask=tf.constant(mask))["action"]}
    sample = model.signatures["sample_masked"]
    for seed in (1, 1, 2):
        out.setdefault("samples", []).append(
            sample(observations=tf.constant(obs), seed=tf.constant(seed, tf.int64), action_mask=tf.constant(mask))["action"]
        )
    assert "baselines_tf2" not in sys.modules and "tensorflow_probability" not in sys.modules
    np.savez("outputs.npz", **{k: np.asarray(v) for k, v in out.items()})
""")


def policy_and_masks(space):
    tf.random.set_seed(0)
    pi = MlpPolicy(OB, space, hid_size=16)
    for v in pi.trainable_variables:  # far from uniform: unmasked modes would often be invalid
        v.assign_add(tf.random.normal(v.shape, stddev=1.0))
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(N, 3)).astype(np.float32)
    width = pi.pdtype.param_shape()[0]
    mask = rng.random((N, width)) < 0.4
    sizes = [space.n] if isinstance(space, spaces.Discrete) else list(space.nvec)
    for start, n in zip(np.cumsum([0, *sizes[:-1]]), sizes):
        mask[np.arange(N), start + rng.integers(n, size=N)] = True  # a valid action in every component
    return pi, obs, mask, sizes


@pytest.mark.parametrize("name", list(SPACES))
def test_masked_signatures_match_the_masked_policy(name, tmp_path):
    pi, obs, mask, sizes = policy_and_masks(SPACES[name])
    folder = str(tmp_path / "export")
    export_saved_model(pi, folder)
    info = json.loads((tmp_path / "export" / "export.json").read_text())["signatures"]
    assert info["serving_masked"]["inputs"] == ["observations", "action_mask"]
    assert info["sample_masked"]["inputs"] == ["observations", "seed", "action_mask"]
    np.save(tmp_path / "obs.npy", obs)
    np.save(tmp_path / "mask.npy", mask)
    out = run_loader(tmp_path, LOADER, folder)
    mode, samples = out["mode"].reshape(N, -1), out["samples"].reshape(3, N, -1)
    host_mode, _ = pi.act_batch(False, obs, action_masks=mask)
    np.testing.assert_array_equal(mode, host_mode.reshape(N, -1))
    unmasked, _ = pi.act_batch(False, obs)
    assert (unmasked.reshape(N, -1) != mode).any()  # the masks matter for this policy
    np.testing.assert_array_equal(samples[0], samples[1])  # seeded
    assert (samples[0] != samples[2]).any()
    offsets = np.cumsum([0, *sizes[:-1]])
    for s in samples:
        assert np.take_along_axis(mask, s + offsets, axis=1).all()  # never an invalid action


def test_box_policies_have_no_masked_signatures(tmp_path):
    pi = MlpPolicy(OB, spaces.Box(-1, 1, (2,)), hid_size=8)
    export_saved_model(pi, str(tmp_path / "box"))
    assert sorted(tf.saved_model.load(str(tmp_path / "box")).signatures) == ["sample", "serving_default"]


def test_a_dict_policys_masked_signature_takes_each_key_and_the_mask(tmp_path):
    from test_dict_policy import observations, trained_looking  # noqa: PLC0415 (a Dict policy and its inputs)

    pi, _ = trained_looking()
    obs = observations(64, 9)
    mask = np.zeros((64, 4), bool)
    mask[np.arange(64), np.arange(64) % 4] = True  # one valid action per row: the masked mode is forced
    mask[:, 3] |= np.arange(64) % 2 == 0
    export_saved_model(pi, str(tmp_path / "policy"), stochastic=False)
    model = tf.saved_model.load(str(tmp_path / "policy"))
    inputs = {key: tf.constant(value) for key, value in obs.items()}
    out = model.signatures["serving_masked"](**inputs, action_mask=tf.constant(mask))
    expected, _ = pi.act_batch(False, obs, action_masks=mask)
    np.testing.assert_array_equal(out["action"].numpy(), expected)
    assert mask[np.arange(64), expected].all()
    info = json.loads((tmp_path / "policy" / "export.json").read_text())
    assert info["signatures"]["serving_masked"]["inputs"] == ["flags", "image", "mode", "pos", "action_mask"]


def test_a_recurrent_policys_masked_signatures_carry_the_state_and_respect_the_mask(tmp_path):
    from test_lstm_policy import perturbed  # noqa: PLC0415 (weights away from the uniform head)

    from baselines_tf2.common.lstm_policy import LstmPolicy  # noqa: PLC0415

    rows, steps = 4, 5
    pi = perturbed(LstmPolicy(OB, spaces.MultiDiscrete([4, 3]), nlstm=8, hid_size=16), 0, 1.0)
    rng = np.random.default_rng(1)
    obs = rng.normal(size=(steps, rows, 3)).astype(np.float32)
    starts = np.zeros((steps, rows), bool)
    starts[0] = starts[2, 1] = True
    mask = rng.random((steps, rows, 7)) < 0.5
    mask[:, :, 0] = mask[:, :, 4] = True  # a valid action in each component
    export_saved_model(pi, str(tmp_path / "policy"))
    model = tf.saved_model.load(str(tmp_path / "policy"))
    info = json.loads((tmp_path / "policy" / "export.json").read_text())["signatures"]
    assert info["serving_masked"]["inputs"] == ["observations", "state", "episode_start", "action_mask"]
    assert info["sample_masked"]["inputs"] == ["observations", "state", "episode_start", "seed", "action_mask"]
    # The policy over the whole sequences (the training path), env-major, from zero states.
    env_major = lambda a: np.swapaxes(a, 0, 1).reshape(rows * steps, *a.shape[2:])  # noqa: E731
    pdparam, _, _ = pi.forward_recurrent_numpy(env_major(obs), pi.initial_state(rows), env_major(starts))
    expected = pi.pdtype.mode_numpy(pdparam, env_major(mask)).reshape(rows, steps, 2).swapaxes(0, 1)
    state = np.zeros((rows, pi.state_size), np.float32)
    offsets = np.array([0, 4])
    for t in range(steps):
        inputs = dict(observations=obs[t], state=state, episode_start=starts[t], action_mask=mask[t])
        out = model.signatures["serving_masked"](**{k: tf.constant(v) for k, v in inputs.items()})
        np.testing.assert_array_equal(out["action"].numpy(), expected[t])
        draws = [
            model.signatures["sample_masked"](
                **{k: tf.constant(v) for k, v in inputs.items()}, seed=tf.constant(s, tf.int64)
            )
            for s in (5, 5)
        ]
        np.testing.assert_array_equal(draws[0]["action"], draws[1]["action"])
        assert np.take_along_axis(mask[t], draws[0]["action"].numpy() + offsets, axis=1).all()
        np.testing.assert_array_equal(draws[0]["next_state"], out["next_state"])
        state = out["next_state"].numpy()
    unmasked = pi.pdtype.mode_numpy(pdparam).reshape(rows, steps, 2).swapaxes(0, 1)
    assert (unmasked != expected).any()  # the masks matter for this policy
