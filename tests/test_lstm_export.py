"""Exported recurrent policies (SavedModel, TFLite, ONNX): one step taking and returning the state, run without baselines_tf2."""

import json
import textwrap

import numpy as np
import pytest
import tensorflow as tf
from conftest import run_loader
from gymnasium import spaces
from test_lstm_policy import perturbed

from baselines_tf2.common.lstm_policy import CnnLstmPolicy, LstmPolicy
from baselines_tf2.tools.export import export_saved_model

ROWS, STEPS = 3, 6
# Row 1's episode ends after its third step (its fourth observation begins a new episode).
STARTS = np.zeros((STEPS, ROWS), bool)
STARTS[0] = True
STARTS[3, 1] = True

# A fresh interpreter with only tensorflow and numpy: step each export through the sequence, threading the state.
LOADER = textwrap.dedent("""
    import json, sys
    import numpy as np
    import onnxruntime as ort
    import tensorflow as tf
    out = {}
    for name in json.loads(sys.argv[1]):
        obs, starts = np.load(f"{name}.obs.npy"), np.load("starts.npy")
        model = tf.saved_model.load(f"{name}.export")
        lite = tf.lite.Interpreter(model_path=f"{name}.export/model.tflite").get_signature_runner("serving_default")
        size = json.load(open(f"{name}.export/export.json"))["state_size"]
        onnx = ort.InferenceSession(f"{name}.export/model.onnx", providers=["CPUExecutionProvider"])
        state = lite_state = onnx_state = np.zeros((obs.shape[1], size), np.float32)
        for t in range(len(obs)):
            inputs = dict(observations=tf.constant(obs[t]), state=tf.constant(state), episode_start=tf.constant(starts[t]))
            res = model.signatures["serving_default"](**inputs)
            sample = model.signatures["sample"](**inputs, seed=tf.constant(3, tf.int64))
            out.setdefault(f"{name}.sample_state", []).append(sample["next_state"].numpy())
            state = res["next_state"].numpy()
            for key in ("action", "value", "next_state"):
                out.setdefault(f"{name}.{key}", []).append(res[key].numpy())
            res = lite(observations=obs[t], state=lite_state, episode_start=starts[t])
            lite_state = res["next_state"]
            for key in ("action", "value", "next_state"):
                out.setdefault(f"{name}.lite_{key}", []).append(res[key])
            feed = {"observations": obs[t], "state": onnx_state, "episode_start": starts[t]}
            keys = ["action", "value", "next_state"]
            res = dict(zip(keys, onnx.run(keys, feed)))
            onnx_state = res["next_state"]
            for key in keys:
                out.setdefault(f"{name}.onnx_{key}", []).append(res[key])
    assert "baselines_tf2" not in sys.modules and "tensorflow_probability" not in sys.modules
    np.savez("outputs.npz", **{k: np.asarray(v) for k, v in out.items()})
""")


def make_case(name):
    rng = np.random.default_rng(0)
    tf.random.set_seed(0)
    if name == "cnn_lstm":
        ob_space = spaces.Box(0, 255, (36, 36, 2), np.uint8)
        pi = perturbed(CnnLstmPolicy(ob_space, spaces.Discrete(4), nlstm=8, kind="small"), 0, 0.05)
        return pi, rng.integers(0, 256, size=(STEPS, ROWS, *ob_space.shape), dtype=np.uint8)
    ac_space = spaces.Box(-1.0, 1.0, (2,), np.float32) if name == "lstm_box" else spaces.Discrete(3)
    pi = perturbed(LstmPolicy(spaces.Box(-np.inf, np.inf, (4,), np.float32), ac_space, nlstm=8, hid_size=16), 0)
    pi.ob_rms.update(rng.normal(2.0, 3.0, size=(500, 4)))
    return pi, rng.normal(2.0, 6.0, size=(STEPS, ROWS, 4)).astype(np.float32)


CASES = ["lstm_discrete", "lstm_box", "cnn_lstm"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("exports")
    cases = {}
    for name in CASES:
        pi, obs = make_case(name)
        export_saved_model(pi, str(root / f"{name}.export"), tflite=True, onnx=True)
        np.save(root / f"{name}.obs.npy", obs)
        cases[name] = (pi, obs)
    np.save(root / "starts.npy", STARTS)
    outputs = run_loader(root, LOADER, json.dumps(CASES))
    return root, cases, outputs


def env_major(a):
    return np.swapaxes(a, 0, 1).reshape(ROWS * STEPS, *a.shape[2:])


@pytest.mark.parametrize("name", CASES)
def test_stepping_the_export_matches_the_policy_over_a_sequence_with_an_episode_boundary(exported, name):
    root, cases, out = exported
    pi, obs = cases[name]
    # The policy over the whole sequences (the training path), from zero states.
    pdparam, vpred, last = pi.forward_recurrent_numpy(env_major(obs), pi.initial_state(ROWS), env_major(STARTS))
    pdparam = np.swapaxes(pdparam.reshape(ROWS, STEPS, -1), 0, 1)
    vpred = vpred.reshape(ROWS, STEPS).T
    mode = np.stack([pi.pdtype.mode_numpy(p) for p in pdparam])
    for prefix, tol in (("", 1e-5), ("lite_", 2e-5), ("onnx_", 2e-5)):
        np.testing.assert_allclose(out[f"{name}.{prefix}value"], vpred, rtol=tol, atol=tol)
        np.testing.assert_allclose(out[f"{name}.{prefix}next_state"][-1], last, rtol=tol, atol=tol)
        if name == "lstm_box":
            np.testing.assert_allclose(out[f"{name}.{prefix}action"], mode, rtol=tol, atol=tol)
        else:
            np.testing.assert_array_equal(out[f"{name}.{prefix}action"], mode)
    np.testing.assert_array_equal(out[f"{name}.sample_state"], out[f"{name}.next_state"])  # sampling moves it alike
    # The boundary matters: without it, row 1's values after it differ; the other rows' do not.
    no_boundary = np.zeros_like(STARTS)
    no_boundary[0] = True
    zero = pi.initial_state(ROWS)
    carried = pi.forward_recurrent_numpy(env_major(obs), zero, env_major(no_boundary))[1].reshape(ROWS, STEPS).T
    assert np.abs(carried[3:, 1] - out[f"{name}.value"][3:, 1]).min() > 1e-4
    np.testing.assert_allclose(carried[:, [0, 2]], out[f"{name}.value"][:, [0, 2]], rtol=1e-5, atol=1e-5)


def test_export_json_records_the_recurrent_signatures(exported):
    root, _, _ = exported
    info = json.loads((root / "lstm_discrete.export" / "export.json").read_text())
    assert info["signatures"]["serving_default"]["inputs"] == ["observations", "state", "episode_start"]
    assert info["signatures"]["sample"]["outputs"] == ["action", "next_state", "value"]
    assert info["state_size"] == 16 and info["tflite"] == "model.tflite" and info["onnx"] == "model.onnx"
