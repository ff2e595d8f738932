"""Exporting a policy for deployment: a TensorFlow SavedModel that needs neither this package nor tfp.

The exported graph takes **raw** observations ``[batch, *ob_shape]`` (the dtype of the policy's
``ob_spec``: float32 for ``MlpPolicy``, the image dtype, uint8, for ``CnnPolicy``) and does what the
policy does: for ``MlpPolicy`` ``clip((ob - ob_rms.mean) / ob_rms.std, -5, 5)`` with the running
statistics saved as they were at export time, for ``CnnPolicy`` ``ob / 255``, then the network
(always in float32: a ``precision="bfloat16"`` CNN is exported as its float32 twin, which TFLite and
CPUs without bfloat16 units can run).

A ``DictPolicy`` (Dict observations) is exported with one named input per key instead of
``observations``: each key's raw batch (``image=uint8 [batch, H, W, C]``, ``vector=float32 [batch,
...]``, a ``Discrete`` key's int64 indices ``[batch]``...; ``export.json`` lists them under
``inputs``), packed inside the graph as the env boundary packs them, then unpacked and
normalised per key as in the policy.

Signatures (load with ``tf.saved_model.load(dir).signatures[name]``, call with ``observations=...``):

* ``serving_default(observations) -> {"action", "value"}``: the distribution's mode (Gaussian
  mean, most likely category), as ``pi.act(stochastic=False, ...)``, and ``vpred``;
* ``sample(observations, seed) -> {"action", "value"}`` (with ``stochastic=True``): actions drawn
  inside the graph with TensorFlow's stateless random ops, so the same ``seed`` (int64 scalar) and
  observations give the same actions; vary the seed between calls;
* for ``Discrete`` and ``MultiDiscrete`` actions, ``serving_masked(observations,
  action_mask)`` and ``sample_masked(observations, seed, action_mask)``: the same over the valid
  actions of a bool ``action_mask`` ``[batch, n or sum(nvec)]`` (the training mask's layout; every
  row needs a valid action). A policy trained with masks never learned anything about invalid
  actions' logits (their gradient is 0), so deploy it through these. Separate signatures because a
  signature has no optional inputs, and the unmasked ones stay as they were.

A recurrent policy (``LstmPolicy``, ``CnnLstmPolicy``) is exported as one step that takes and
returns its state: ``serving_default(observations, state, episode_start) -> {"action", "value",
"next_state"}`` and ``sample(observations, state, episode_start, seed)`` likewise, the masked ones
with ``action_mask`` last (see
:mod:`baselines_tf2.tools.serving_recurrent`); ``export.json`` records its ``state_size``.

Actions are the distribution's, not clipped to the action space's bounds (``run.py`` clips ``Box``
actions in the environment; do the same when deploying, the bounds are in ``export.json``).
``tflite=True`` also writes ``model.tflite`` holding ``serving_default`` only, in TFLite's builtin
ops (the stateless random ops of ``sample`` would need the Flex delegate); ``onnx=True`` writes
``model.onnx``, ``serving_default`` converted by tf2onnx (:mod:`baselines_tf2.tools.onnx_export`).
The signature functions are built in :mod:`baselines_tf2.tools.serving`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from typing import Any

import numpy as np
import tensorflow as tf
from gymnasium import spaces

from baselines_tf2.common.distributions import PdType
from baselines_tf2.common.policies import Policy
from baselines_tf2.errors import ConfigError, ExportError
from baselines_tf2.tools.onnx_export import ONNX_FILE, check_onnx_available, write_onnx
from baselines_tf2.tools.serving import (
    SAMPLE,
    SAMPLE_MASKED,
    SERVING,
    SERVING_MASKED,
    masked_sample_function,
    masked_serving_function,
    sample_function,
    serving_function,
    signature_names,
)

__all__ = [
    "ONNX_FILE",
    "SAMPLE",
    "SAMPLE_MASKED",
    "SERVING",
    "SERVING_MASKED",
    "TFLITE_FILE",
    "check_export_dir",
    "export_saved_model",
    "sample_actions",
]

TFLITE_FILE = "model.tflite"
INFO_FILE = "export.json"


def check_export_dir(directory: str) -> None:
    """Refuse a target that exists and is not an empty folder (an export never overwrites one)."""
    if os.path.exists(directory) and not (os.path.isdir(directory) and not os.listdir(directory)):
        raise ConfigError(f"{directory} already exists and is not an empty folder; export into a new folder")


def sample_actions(pdtype: PdType, flat: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """An action per row of flat parameters ``[batch, param]``: ``pdtype.sample_stateless`` (kept for old callers)."""
    return pdtype.sample_stateless(flat, seed)


def _serving_module(policy: Policy, stochastic: bool) -> tuple[tf.Module, dict[str, Any]]:
    """A module holding the policy's variables and the signature functions (and only those)."""
    module = tf.Module(name="exported_policy")
    module.policy_variables = list(policy.variables)  # tracked, so the SavedModel holds them
    module.serving = serving_function(policy)
    signatures = {SERVING: module.serving}
    if stochastic:
        module.sample = sample_function(policy)
        signatures[SAMPLE] = module.sample
    if policy.pdtype.maskable:  # action masking's signatures
        module.serving_masked = masked_serving_function(policy)
        signatures[SERVING_MASKED] = module.serving_masked
        if stochastic:
            module.sample_masked = masked_sample_function(policy)
            signatures[SAMPLE_MASKED] = module.sample_masked
    return module, signatures


def _space_info(space: spaces.Space) -> dict[str, Any]:
    info: dict[str, Any] = {"type": type(space).__name__}
    if isinstance(space, spaces.Box):
        info.update(
            shape=list(space.shape),
            dtype=str(space.dtype),
            low=np.asarray(space.low).tolist(),
            high=np.asarray(space.high).tolist(),
        )
    elif isinstance(space, spaces.Discrete):
        info["n"] = int(space.n)
    elif isinstance(space, spaces.MultiDiscrete):
        info["nvec"] = np.asarray(space.nvec).tolist()
    elif isinstance(space, spaces.MultiBinary):
        info["n"] = np.asarray(space.n).tolist()
    elif isinstance(space, spaces.Dict):
        info["spaces"] = {str(key): _space_info(sub) for key, sub in space.spaces.items()}
    return info


def _write_tflite(saved_model: str, path: str) -> None:
    try:
        converter = tf.lite.TFLiteConverter.from_saved_model(saved_model, signature_keys=[SERVING])
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        model = converter.convert()
    except Exception as exc:  # noqa: BLE001 (the converter raises many types; report one line)
        lines = str(exc).strip().splitlines()
        raise ExportError(f"cannot convert to TFLite: {lines[0] if lines else type(exc).__name__}") from None
    with open(path, "wb") as f:
        f.write(model)


def export_saved_model(
    policy: Policy, directory: str, *, stochastic: bool = True, tflite: bool = False, onnx: bool = False
) -> str:
    """Write ``policy`` as a SavedModel into the new folder ``directory``; returns ``directory``.

    Args:
        policy: an ``MlpPolicy`` or ``CnnPolicy`` (any :class:`Policy`), with its current weights
            and observation statistics.
        directory: must not exist, or be an empty folder. Everything is written to a temporary
            sibling folder first and renamed at the end, so a failed export leaves nothing behind.
        stochastic: add the ``sample`` signature.
        tflite: also write ``model.tflite`` (``serving_default`` only).
        onnx: also write ``model.onnx`` (``serving_default`` only, converted by tf2onnx; needs the
            ``onnx`` extra, checked before anything is written).

    Besides the SavedModel, ``export.json`` records the signatures, the observation and action
    spaces (with the ``Box`` bounds to clip actions to) and which of ``model.tflite`` and
    ``model.onnx`` are present.
    """
    check_export_dir(directory)
    if onnx:
        check_onnx_available()
    parent = os.path.dirname(os.path.abspath(directory))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=parent, prefix=".export-")
    try:
        policy = policy.with_precision("float32")  # portable: TFLite (and many CPUs) have no bfloat16 kernels
        module, signatures = _serving_module(policy, stochastic)
        tf.saved_model.save(module, tmp, signatures=signatures)
        if tflite:
            _write_tflite(tmp, os.path.join(tmp, TFLITE_FILE))
        if onnx:
            write_onnx(module.serving, os.path.join(tmp, ONNX_FILE))
        info = {
            "signatures": {name: signature_names(function) for name, function in signatures.items()},
            **({"state_size": policy.state_size} if policy.recurrent else {}),
            "inputs": {
                spec.name: {"shape": spec.shape.as_list(), "dtype": spec.dtype.name}
                for spec in module.serving.input_signature
            },
            "observation_space": _space_info(policy.ob_space),
            "observation_dtype": policy.ob_spec.dtype.name,
            "action_space": _space_info(policy.ac_space),
            "tflite": TFLITE_FILE if tflite else None,
            "onnx": ONNX_FILE if onnx else None,
        }
        with open(os.path.join(tmp, INFO_FILE), "w", encoding="utf-8") as f:
            json.dump(info, f, indent=2)
        if os.path.isdir(directory):
            os.rmdir(directory)  # empty (checked above); rename needs the name free
        os.rename(tmp, directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return directory
