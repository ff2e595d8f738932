"""A DictPolicy exported with one named raw input per key (SavedModel, TFLite, ONNX), and run.py on a Dict env."""

import json
import os
import textwrap

import numpy as np
import pytest
import tensorflow as tf
from conftest import run_loader
from gymnasium import spaces
from test_dict_policy import observations, trained_looking
from toy_envs import DictQuadrantEnv

from baselines_tf2.cli import main
from baselines_tf2.common.dict_policy import DictPolicy
from baselines_tf2.errors import ExportError
from baselines_tf2.tools.export import export_saved_model
from baselines_tf2.train.checkpoint import restore

# A fresh interpreter with only tensorflow and numpy: the export's outputs on every key's raw batch.
LOADER = textwrap.dedent("""
    import sys
    import numpy as np
    import tensorflow as tf
    obs = dict(np.load("obs.npz"))
    model = tf.saved_model.load("policy")
    inputs = {key: tf.constant(value) for key, value in obs.items()}
    out = {k: v.numpy() for k, v in model.signatures["serving_default"](**inputs).items()}
    for i, seed in enumerate((7, 7, 8)):
        out[f"sample{i}"] = model.signatures["sample"](**inputs, seed=tf.constant(seed, tf.int64))["action"].numpy()
    lite = tf.lite.Interpreter(model_path="policy/model.tflite").get_signature_runner("serving_default")
    res = lite(**obs)
    out["lite_action"], out["lite_value"] = res["action"], res["value"]
    import onnxruntime as ort
    session = ort.InferenceSession("policy/model.onnx", providers=["CPUExecutionProvider"])
    out["onnx_action"], out["onnx_value"] = session.run(["action", "value"], obs)
    assert "baselines_tf2" not in sys.modules and "tensorflow_probability" not in sys.modules
    np.savez("outputs.npz", **out)
""")


def test_export_takes_each_key_raw_and_acts_as_the_policy(tmp_path):
    pi, _ = trained_looking()
    obs = observations(64, 9)
    obs["pos"][:2] = [[1e4, 0, 0], [-1e4, 0, 0]]  # normalised and clipped inside the graph
    export_saved_model(pi, str(tmp_path / "policy"), tflite=True, onnx=True)
    np.savez(tmp_path / "obs.npz", **obs)
    out = run_loader(tmp_path, LOADER)
    action, value = pi.act_batch(False, obs)
    assert len(np.unique(action)) > 1
    np.testing.assert_array_equal(out["action"], action)
    assert np.abs(out["value"] - value).max() <= 1e-5
    np.testing.assert_array_equal(out["lite_action"], action)
    np.testing.assert_allclose(out["lite_value"], value, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(out["onnx_action"], action)
    np.testing.assert_allclose(out["onnx_value"], value, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(out["sample0"], out["sample1"])
    assert not np.array_equal(out["sample0"], out["sample2"])
    info = json.loads((tmp_path / "policy" / "export.json").read_text())
    assert info["signatures"]["sample"]["inputs"] == ["flags", "image", "mode", "pos", "seed"]
    assert info["inputs"] == {
        "flags": {"shape": [None, 2], "dtype": "int8"},
        "image": {"shape": [None, 24, 24, 2], "dtype": "uint8"},
        "mode": {"shape": [None], "dtype": "int64"},
        "pos": {"shape": [None, 3], "dtype": "float32"},
    }
    assert info["observation_space"]["type"] == "Dict"
    assert info["observation_space"]["spaces"]["mode"] == {"type": "Discrete", "n": 3}


@pytest.mark.parametrize(
    "key, message",
    [
        ("seed", "an observation key named 'seed' clashes with the sample signature's seed input"),
        ("my key", "observation key 'my key' cannot name an input of a SavedModel"),
    ],
)
def test_keys_that_cannot_name_an_input_are_refused_in_one_line(tmp_path, key, message):
    pi = DictPolicy(spaces.Dict({key: spaces.Discrete(2)}), spaces.Discrete(2))
    with pytest.raises(ExportError, match=f"^{message}$"):
        export_saved_model(pi, str(tmp_path / "out"))
    assert os.listdir(tmp_path) == []


ENV = ["--env", "toy_envs:ToyDictQuadrant-v0"]
FAST = ["--timesteps_per_actorbatch", "64", "--optim_epochs", "1", "--progress", "false"]


def test_cli_trains_plays_and_exports_a_dict_env(tmp_path, capsys):
    ckpt, out = str(tmp_path / "ckpt"), str(tmp_path / "export")
    assert main([*ENV, "--network", "cnn_small", "--num_timesteps", "128", "--save_path", ckpt, *FAST]) == 0
    said = "network multi_input for Dict observations: keys image (image), vector (box); images through the A3C CNN"
    assert f"{said}; pi and V 2x64" in capsys.readouterr().out
    play = ["--num_timesteps", "0", "--load_path", ckpt, "--play", "--play_episodes", "2", "--export", out]
    assert main([*ENV, "--network", "cnn_small", *play]) == 0
    printed = capsys.readouterr().out
    assert "episode 2: return" in printed and "mean return over 2 episodes" in printed
    pi = DictPolicy(DictQuadrantEnv.observation_space, DictQuadrantEnv.action_space, cnn_kind="small")
    restore(ckpt, policy=pi)
    assert float(pi.ob_rms["vector"].count) == pytest.approx(128 + 1e-2)
    env = DictQuadrantEnv()
    obs = [env.reset(seed=i)[0] for i in range(16)]
    batch = {key: np.stack([ob[key] for ob in obs]) for key in ("image", "vector")}
    result = tf.saved_model.load(out).signatures["serving_default"](
        image=tf.constant(batch["image"]), vector=tf.constant(batch["vector"])
    )
    action, value = pi.act_batch(False, batch)
    np.testing.assert_array_equal(result["action"].numpy(), action)
    assert np.abs(result["value"].numpy() - value).max() <= 1e-5


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            [*ENV, "--num_timesteps", "128"],
            "images of key 'image' (24, 24, 1) are too small for the 'large' CNN; use the small CNN "
            "(cnn_kind='small', run.py --network cnn_small)",
        ),
        (
            [*ENV, "--network", "cnn", "--precision", "bfloat16", "--num_timesteps", "128"],
            "precision bfloat16 is for CNN policies; Dict observations take float32",
        ),
        (
            ["--env", "CartPole-v1", "--network", "multi_input", "--num_timesteps", "128"],
            "--network multi_input needs a Dict observation space, not Box(",
        ),
    ],
)
def test_cli_errors_on_dict_envs_are_one_line(capsys, argv, message):
    assert main([*argv, *FAST]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"run.py: error: {message}") and err.count("\n") == 1, err
