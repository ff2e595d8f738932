"""ONNX exports (model.onnx) act as the policy does, run by onnxruntime in a process without TensorFlow."""

import importlib.util
import json
import os
import re
import textwrap

import numpy as np
import pytest
import tf2onnx
from conftest import run_loader
from test_export import CASES, make_case, reference

from baselines_tf2.cli import main
from baselines_tf2.errors import ConfigError, ExportError
from baselines_tf2.tools.export import export_saved_model
from baselines_tf2.tools.onnx_export import ONNX_FILE, export_onnx, write_onnx
from baselines_tf2.tools.serving import sample_function

# Run in a fresh interpreter with only onnxruntime and numpy: run each model, write its outputs and I/O.
LOADER = textwrap.dedent("""
    import json, sys
    import numpy as np
    import onnxruntime as ort
    out, io = {}, {}
    for name, path in json.loads(sys.argv[1]).items():
        obs = np.load(f"{name.split('.')[0]}.obs.npy")
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        out[f"{name}.action"], out[f"{name}.value"] = session.run(["action", "value"], {"observations": obs})
        [out[f"{name}.one_action"]] = session.run(["action"], {"observations": obs[1:2]})
        io[name] = {
            "inputs": [[i.name, i.type] for i in session.get_inputs()],
            "outputs": [[o.name, o.type] for o in session.get_outputs()],
        }
    for module in ("tensorflow", "tf2onnx", "baselines_tf2"):
        assert module not in sys.modules, module
    np.savez("outputs.npz", **out)
    with open("io.json", "w") as f:
        json.dump(io, f)
""")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Every case exported with model.onnx (and one as a lone .onnx file), then run by LOADER in a fresh process."""
    root = tmp_path_factory.mktemp("onnx")
    cases, models = {}, {}
    for name in CASES:
        pi, obs = make_case(name)
        folder = export_saved_model(pi, str(root / f"{name}.export"), stochastic=False, onnx=True)
        np.save(root / f"{name}.obs.npy", obs)
        cases[name], models[name] = (pi, obs), os.path.join(folder, ONNX_FILE)
    models["mlp_box.file"] = export_onnx(cases["mlp_box"][0], str(root / "alone" / "policy.onnx"))
    outputs = run_loader(root, LOADER, json.dumps(models))
    return root, cases, outputs, json.loads((root / "io.json").read_text())


@pytest.mark.parametrize("name", [*CASES, "mlp_box.file"])
def test_deterministic_actions_and_values_match_the_policy(exported, name):
    _, cases, out, _ = exported
    case = name.split(".")[0]
    pi, obs = cases[case]
    action, vpred = reference(case, pi).act_batch(False, obs)  # pi.act(stochastic=False)'s path, batched
    got = out[f"{name}.action"]
    assert got.dtype == action.dtype and got.shape == action.shape
    if case == "mlp_box":
        assert np.abs(got - action).max() <= 1e-5
    else:
        np.testing.assert_array_equal(got, action)
        assert len(np.unique(action)) > 1  # the comparison is not trivially between constants
    assert np.abs(out[f"{name}.value"] - vpred).max() <= 1e-5
    assert np.abs(out[f"{name}.one_action"] - action[1:2]).max() <= 1e-5  # any batch size


def test_raw_observations_are_normalised_and_clipped_inside(exported):
    _, cases, out, _ = exported
    pi, obs = cases["mlp_box"]
    assert np.abs(obs[-4:] - pi.ob_rms.mean.numpy()).min() > 100 * pi.ob_rms.std.numpy().max()  # far past the clip
    np.testing.assert_array_equal(out["mlp_box.action"][-4], out["mlp_box.action"][-2])  # 1e3 and 1e4: both +5
    np.testing.assert_array_equal(out["mlp_box.value"][-3], out["mlp_box.value"][-1])  # -1e3 and -1e4: both -5


def test_inputs_outputs_and_export_json(exported):
    root, _, _, io = exported
    assert io["mlp_box"] == {
        "inputs": [["observations", "tensor(float)"]],
        "outputs": [["action", "tensor(float)"], ["value", "tensor(float)"]],
    }
    assert io["cnn_bfloat16"] == {
        "inputs": [["observations", "tensor(uint8)"]],  # raw images; the float32 twin computes inside
        "outputs": [["action", "tensor(int32)"], ["value", "tensor(float)"]],
    }
    info = json.loads((root / "cnn.export" / "export.json").read_text())
    assert info["onnx"] == "model.onnx" and info["tflite"] is None
    assert info["signatures"] == {
        "serving_default": {"inputs": ["observations"], "outputs": ["action", "value"]},
        "serving_masked": {"inputs": ["observations", "action_mask"], "outputs": ["action", "value"]},  # Discrete
    }
    assert os.listdir(root / "alone") == ["policy.onnx"]
    assert not [p for p in os.listdir(root) if p.startswith(".export-")]


@pytest.fixture
def no_tf2onnx(monkeypatch):
    """tf2onnx looks uninstalled."""
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "tf2onnx" else find_spec(name, *a)
    )


MISSING = 'ONNX export needs tf2onnx, not installed: pip install "baselines_tf2[onnx]"'


def test_a_missing_extra_is_one_line_before_anything_is_written(tmp_path, no_tf2onnx):
    pi, _ = make_case("mlp_discrete")
    with pytest.raises(ConfigError, match=f"^{re.escape(MISSING)}$"):
        export_saved_model(pi, str(tmp_path / "out"), onnx=True)
    with pytest.raises(ConfigError, match="^ONNX export needs tf2onnx"):
        export_onnx(pi, str(tmp_path / "model.onnx"))
    assert os.listdir(tmp_path) == []


def test_cli_refuses_export_onnx_without_the_extra_before_training(tmp_path, capsys, no_tf2onnx):
    argv = ["--env", "CartPole-v1", "--num_timesteps", "256", "--export", str(tmp_path / "out"), "--export_onnx"]
    assert main([*argv, "--log_path", str(tmp_path / "logs")]) == 2
    assert capsys.readouterr().err == f"run.py: error: {MISSING}\n"
    assert os.listdir(tmp_path) == []  # nothing trained, logged or exported


def test_a_failed_conversion_leaves_nothing(tmp_path, monkeypatch):
    pi, _ = make_case("mlp_discrete")

    def broken(*args, **kwargs):
        raise ValueError("unsupported op Foo\nsecond line")

    monkeypatch.setattr(tf2onnx.convert, "from_function", broken)
    with pytest.raises(ExportError, match="^cannot convert to ONNX: unsupported op Foo$"):
        export_saved_model(pi, str(tmp_path / "out"), onnx=True)
    with pytest.raises(ExportError, match="^cannot convert to ONNX: unsupported op Foo$"):
        export_onnx(pi, str(tmp_path / "model.onnx"))
    assert os.listdir(tmp_path) == []


def test_an_op_onnx_lacks_is_an_error_not_a_broken_model(tmp_path):
    """tf2onnx leaves ops it cannot convert in the model; the checker refuses it (the sample signature's random op)."""
    pi, _ = make_case("mlp_discrete")
    with pytest.raises(ExportError, match="^cannot convert to ONNX: No Op registered for StatelessMultinomial"):
        write_onnx(sample_function(pi), str(tmp_path / "sample.onnx"))
    assert os.listdir(tmp_path) == []


def test_export_onnx_never_overwrites(tmp_path):
    pi, _ = make_case("mlp_discrete")
    (tmp_path / "model.onnx").write_text("keep")
    with pytest.raises(ConfigError, match="model.onnx already exists; export into a new file"):
        export_onnx(pi, str(tmp_path / "model.onnx"))
    assert (tmp_path / "model.onnx").read_text() == "keep"
