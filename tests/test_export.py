"""Exported SavedModels (and model.tflite) act as the policy does, in a process that never imports baselines_tf2."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import onnxruntime as ort
import pytest
import tensorflow as tf
from conftest import REPO, run_loader
from gymnasium import spaces

from baselines_tf2.cli import main
from baselines_tf2.common.policies import OBS_CLIP, CnnPolicy, MlpPolicy
from baselines_tf2.errors import ConfigError, ExportError
from baselines_tf2.tools.export import check_export_dir, export_saved_model
from baselines_tf2.train.checkpoint import restore

OB = spaces.Box(-np.inf, np.inf, (5,), np.float64)
IMG = spaces.Box(0, 255, (36, 36, 2), np.uint8)
N_SAMPLES = 4000

# Run in a fresh interpreter with only tensorflow and numpy: load each export, act, write the outputs.
LOADER = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tensorflow as tf
    out = {}
    for name in json.loads(sys.argv[1]):
        obs = np.load(f"{name}.obs.npy")
        model = tf.saved_model.load(f"{name}.export")
        det = model.signatures["serving_default"](observations=tf.constant(obs))
        out[f"{name}.action"], out[f"{name}.value"] = det["action"].numpy(), det["value"].numpy()
        sample = model.signatures["sample"]
        for seed in (7, 7, 8):
            s = sample(observations=tf.constant(obs), seed=tf.constant(seed, tf.int64))["action"].numpy()
            out.setdefault(f"{name}.sample{seed}", []).append(s)
        many = np.repeat(obs[:1], int(sys.argv[2]), axis=0)
        out[f"{name}.many"] = sample(observations=tf.constant(many), seed=tf.constant(1, tf.int64))["action"].numpy()
        lite = tf.lite.Interpreter(model_path=f"{name}.export/model.tflite").get_signature_runner("serving_default")
        res = lite(observations=obs)
        out[f"{name}.lite_action"], out[f"{name}.lite_value"] = res["action"], res["value"]
    assert "baselines_tf2" not in sys.modules and "tensorflow_probability" not in sys.modules
    np.savez("outputs.npz", **{k: np.asarray(v) for k, v in out.items()})
""")


def perturbed(module, seed, stddev=0.3):
    """Weights away from the near-zero initial policy head, so actions and values vary."""
    tf.random.set_seed(seed)
    for v in module.trainable_variables:
        v.assign_add(tf.random.normal(v.shape, stddev=stddev if v.shape.rank else 0.1))
    return module


def make_case(name):
    rng = np.random.default_rng(0)
    if name.startswith("cnn"):
        tf.random.set_seed(1)
        pi = CnnPolicy(IMG, spaces.Discrete(5), kind="large", precision=name.partition("_")[2] or "float32")
        perturbed(pi, 1, stddev=0.1)  # small: values of order 1 (float32 rounding grows with them)
        obs = rng.integers(0, 256, size=(32, *IMG.shape), dtype=np.uint8)
        obs[0] = 0
        obs[1] = 255
        return pi, obs
    tf.random.set_seed(0)
    ac_space = spaces.Box(-1.0, 1.0, (2,), np.float32) if name == "mlp_box" else spaces.Discrete(4)
    pi = perturbed(MlpPolicy(OB, ac_space, hid_size=16), 0)
    pi.ob_rms.update(rng.normal(3.0, 2.0, size=(500, 5)))
    if name == "mlp_box":
        pi.pol_head.logstd.assign([-0.5, 0.3])
    obs = rng.normal(3.0, 6.0, size=(64, 5))
    obs[-4:] = [[1e3] * 5, [-1e3] * 5, [1e4] * 5, [-1e4] * 5]  # far outside the +-5 std clip
    return pi, obs.astype(np.float32)


CASES = ["mlp_box", "mlp_discrete", "cnn", "cnn_bfloat16"]


def reference(name, pi):
    """What the export computes: the policy itself, or for a bfloat16 CNN its float32 twin."""
    return pi.with_precision("float32") if name == "cnn_bfloat16" else pi


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Every case exported with model.tflite, then run by LOADER in one fresh subprocess."""
    root = tmp_path_factory.mktemp("exports")
    cases = {}
    for name in CASES:
        pi, obs = make_case(name)
        export_saved_model(pi, str(root / f"{name}.export"), tflite=True)
        np.save(root / f"{name}.obs.npy", obs)
        cases[name] = (pi, obs)
    outputs = run_loader(root, LOADER, json.dumps(CASES), str(N_SAMPLES))
    return root, cases, outputs


@pytest.mark.parametrize("name", CASES)
def test_deterministic_actions_and_values_match_the_policy(exported, name):
    _, cases, out = exported
    pi, obs = cases[name]
    pi = reference(name, pi)
    flat, vpred = pi.forward_numpy(obs)  # the TF policy's own forward pass
    action = pi.pdtype.mode_numpy(flat)
    host_action, host_vpred = pi.act_batch(False, obs)  # the NumPy acting path agrees with it
    np.testing.assert_allclose(host_vpred, vpred, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(host_action, action, rtol=1e-5, atol=1e-6)
    assert out[f"{name}.action"].dtype == action.dtype and out[f"{name}.action"].shape == action.shape
    if name == "mlp_box":
        assert np.abs(out[f"{name}.action"] - action).max() <= 1e-5
    else:
        np.testing.assert_array_equal(out[f"{name}.action"], action)
        assert len(np.unique(action)) > 1  # the comparison is not trivially between constants
    assert np.abs(out[f"{name}.value"] - vpred).max() <= 1e-5
    # TFLite's kernels (XNNPACK) round differently: 1e-5 relative to values of up to ~5 (CNN: 6e-6 measured)
    np.testing.assert_allclose(out[f"{name}.lite_value"], vpred, rtol=1e-5, atol=1e-5)
    if name == "mlp_box":
        assert np.abs(out[f"{name}.lite_action"] - action).max() <= 1e-5
    else:
        np.testing.assert_array_equal(out[f"{name}.lite_action"], action)


def test_raw_observations_are_normalised_and_clipped_inside(exported):
    _, cases, out = exported
    pi, obs = cases["mlp_box"]
    z = (obs - pi.ob_rms.mean.numpy()) / pi.ob_rms.std.numpy()
    assert np.abs(z[:-4]).max() > OBS_CLIP  # some ordinary observations are clipped too
    # 1e3 and 1e4 normalise to far beyond +5 (resp. -5): after the clip they are the same input
    np.testing.assert_array_equal(out["mlp_box.action"][-4], out["mlp_box.action"][-2])
    np.testing.assert_array_equal(out["mlp_box.value"][-3], out["mlp_box.value"][-1])
    unclipped = pi.forward_numpy(obs[-4:-3] * 0 + pi.ob_rms.mean.numpy() + 4.0 * pi.ob_rms.std.numpy())[1]
    assert abs(float(unclipped[0]) - float(out["mlp_box.value"][-4])) > 1e-3  # the clip does change the output


@pytest.mark.parametrize("name", CASES)
def test_sample_signature_is_seeded_and_follows_the_distribution(exported, name):
    _, cases, out = exported
    pi, obs = cases[name]
    pi = reference(name, pi)
    first, again = out[f"{name}.sample7"]
    [other] = out[f"{name}.sample8"]
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    many = out[f"{name}.many"]
    n = len(many)
    flat = pi.forward_numpy(obs[:1])[0][0]
    if name == "mlp_box":
        mean, std = flat[:2], np.exp(flat[2:])
        np.testing.assert_allclose(std, np.exp([-0.5, 0.3]), rtol=1e-6)
        assert np.all(np.abs(many.mean(0) - mean) < 4 * std / np.sqrt(n))
        assert np.all(np.abs(many.std(0) / std - 1) < 0.06)
    else:
        probs = np.exp(flat - flat.max())
        probs /= probs.sum()
        freq = np.bincount(many, minlength=len(probs)) / n
        assert np.all(np.abs(freq - probs) < 4 * np.sqrt(probs * (1 - probs) / n) + 1e-3), (freq, probs)


def test_export_json_and_files(exported):
    root, _, _ = exported
    info = json.loads((root / "mlp_box.export" / "export.json").read_text())
    box = {"type": "Box", "shape": [2], "dtype": "float32", "low": [-1.0, -1.0], "high": [1.0, 1.0]}
    assert info["action_space"] == box
    assert info["signatures"]["sample"]["inputs"] == ["observations", "seed"] and info["tflite"] == "model.tflite"
    assert json.loads((root / "cnn.export" / "export.json").read_text())["observation_dtype"] == "uint8"
    assert not [p for p in os.listdir(root) if p.startswith(".export-")]


def test_existing_folders_are_refused_and_a_failed_export_leaves_nothing(tmp_path, monkeypatch):
    pi, _ = make_case("mlp_discrete")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("keep")
    with pytest.raises(ConfigError, match="full already exists and is not an empty folder"):
        export_saved_model(pi, str(tmp_path / "full"))
    assert os.listdir(tmp_path / "full") == ["x"]
    (tmp_path / "empty").mkdir()
    export_saved_model(pi, str(tmp_path / "empty"), stochastic=False)
    assert list(tf.saved_model.load(str(tmp_path / "empty")).signatures) == ["serving_default", "serving_masked"]
    check_export_dir(str(tmp_path / "new"))

    def broken(*args, **kwargs):
        raise RuntimeError("converter exploded\nsecond line")

    monkeypatch.setattr(tf.lite.TFLiteConverter, "from_saved_model", broken)
    with pytest.raises(ExportError, match="^cannot convert to TFLite: converter exploded$"):
        export_saved_model(pi, str(tmp_path / "lite"), tflite=True)
    assert sorted(os.listdir(tmp_path)) == ["empty", "full"]


FAST = ["--timesteps_per_actorbatch", "256", "--optim_epochs", "2", "--progress", "false"]


def test_cli_trains_then_exports_from_the_checkpoint(tmp_path, capsys):
    ckpt, out = str(tmp_path / "ckpt"), str(tmp_path / "export")
    assert main(["--env", "CartPole-v1", "--num_timesteps", "512", "--save_path", ckpt, *FAST]) == 0
    export = ["--load_path", ckpt, "--export", out, "--export_tflite", "--export_onnx"]
    cmd = [sys.executable, "run.py", "--env", "CartPole-v1", "--num_timesteps", "0", *export]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    files = f"{out} and {out}/model.tflite and {out}/model.onnx"
    signatures = "serving_default, sample, serving_masked, sample_masked"
    assert f"exported SavedModel to {files} (signatures: {signatures})" in proc.stdout
    assert {"saved_model.pb", "variables", "export.json", "model.tflite", "model.onnx"} <= set(os.listdir(out))
    pi = MlpPolicy(spaces.Box(-np.inf, np.inf, (4,), np.float32), spaces.Discrete(2))
    restore(ckpt, policy=pi)
    obs = np.random.default_rng(0).normal(0.0, 3.0, size=(200, 4)).astype(np.float32)
    result = tf.saved_model.load(out).signatures["serving_default"](observations=tf.constant(obs))
    action, vpred = pi.act_batch(False, obs)
    np.testing.assert_array_equal(result["action"].numpy(), action)
    assert np.abs(result["value"].numpy() - vpred).max() <= 1e-5
    onnx_action, onnx_value = ort.InferenceSession(f"{out}/model.onnx").run(None, {"observations": obs})
    np.testing.assert_array_equal(onnx_action, action)
    assert np.abs(onnx_value - vpred).max() <= 1e-5


@pytest.mark.parametrize(
    "argv, code, message",
    [
        (
            ["--num_timesteps", "0", "--load_path", "{tmp}/missing", "--export", "{tmp}/out"],
            1,
            "no checkpoint at {tmp}/missing",
        ),
        (["--num_timesteps", "0", "--export", "{tmp}/out"], 2, "--export with --num_timesteps 0 needs --load_path"),
        (
            ["--num_timesteps", "0", "--load_path", "{tmp}", "--export", "{tmp}"],
            2,
            "{tmp} already exists and is not an empty folder; export into a new folder",
        ),
        (["--num_timesteps", "256", "--export_tflite"], 2, "--export_tflite needs --export DIR"),
        (["--num_timesteps", "256", "--export_onnx"], 2, "--export_onnx needs --export DIR"),
    ],
)
def test_cli_export_errors(tmp_path, capsys, argv, code, message):
    (tmp_path / "file").write_text("")
    assert main(["--env", "CartPole-v1", *[a.format(tmp=tmp_path) for a in argv]]) == code
    err = capsys.readouterr().err
    assert err == f"run.py: error: {message.format(tmp=tmp_path)}\n"
    assert not (tmp_path / "out").exists()
