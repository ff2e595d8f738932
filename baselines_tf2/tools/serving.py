"""The functions an exported policy serves, built once and converted by every export format.

:func:`serving_function` is ``serving_default``: raw observations in, the distribution's mode and
``vpred`` out, with the observation normaliser inside the graph. The SavedModel holds it, and the
TFLite and ONNX models are converted from it, so all three compute the same thing.
:func:`sample_function` is the SavedModel's ``sample`` signature (stateless random ops in the graph).
For ``Discrete`` and ``MultiDiscrete`` actions, :func:`masked_serving_function` and
:func:`masked_sample_function` are the same over the valid actions of an ``action_mask`` input.

Every converter reads a function's inputs from its ``input_signature`` (the ``TensorSpec`` names)
and its outputs from the keys of the dict it returns, never from a fixed list: a recurrent policy's
serving function, ``(observations, state, episode_start) -> {"action", "value", "next_state"}``
(:mod:`~baselines_tf2.tools.serving_recurrent`), is built here, and the SavedModel, ONNX model and
``export.json`` follow (see :func:`signature_names`).
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from baselines_tf2.common.policies import Policy
from baselines_tf2.errors import ExportError
from baselines_tf2.tools.serving_recurrent import recurrent_sample_function, recurrent_serving_function

__all__ = [
    "SAMPLE",
    "SAMPLE_MASKED",
    "SERVING",
    "SERVING_MASKED",
    "masked_sample_function",
    "masked_serving_function",
    "sample_function",
    "serving_function",
    "signature_names",
]

SERVING = "serving_default"
SAMPLE = "sample"
SERVING_MASKED = "serving_masked"
SAMPLE_MASKED = "sample_masked"


def serving_function(policy: Policy) -> Any:
    """``observations [batch, *ob_shape] -> {"action": mode, "value": vpred}``, a ``tf.function`` with its input signature.

    The observations are raw (the policy's ``ob_spec`` dtype); the actions are
    ``pi.act(stochastic=False, ...)``'s. The inputs are the policy's ``input_specs()``: one
    ``observations`` batch, or a ``DictPolicy``'s keys, packed in the graph by ``pack_inputs``. A
    recurrent policy's takes and returns its state (:mod:`baselines_tf2.tools.serving_recurrent`).
    """
    if policy.recurrent:
        return recurrent_serving_function(policy)

    def deterministic(*inputs: tf.Tensor) -> dict[str, tf.Tensor]:
        pd, vpred = policy(policy.pack_inputs(list(inputs)))
        return {"action": pd.mode(), "value": vpred}

    return tf.function(deterministic, input_signature=policy.input_specs())


def sample_function(policy: Policy) -> Any:
    """``(observations, seed) -> {"action": sample, "value": vpred}``: ``pdtype.sample_stateless`` from ``seed`` (int64 scalar).

    A recurrent policy's takes and returns its state (:mod:`baselines_tf2.tools.serving_recurrent`).
    """
    if policy.recurrent:
        return recurrent_sample_function(policy)
    specs = policy.input_specs()
    if "seed" in [spec.name for spec in specs]:
        raise ExportError("an observation key named 'seed' clashes with the sample signature's seed input")

    def stochastic(*inputs: tf.Tensor) -> dict[str, tf.Tensor]:
        flat, vpred = policy.forward(policy.pack_inputs(list(inputs[:-1])))
        return {"action": policy.pdtype.sample_stateless(flat, inputs[-1]), "value": vpred}

    return tf.function(stochastic, input_signature=[*specs, tf.TensorSpec([], tf.int64, name="seed")])


def _mask_spec(policy: Policy, specs: list[tf.TensorSpec]) -> tf.TensorSpec:
    if "action_mask" in [spec.name for spec in specs]:
        raise ExportError("an observation key named 'action_mask' clashes with the masked signatures' input")
    return tf.TensorSpec(policy.pdparam_spec.shape, tf.bool, name="action_mask")


def masked_serving_function(policy: Policy) -> Any:
    """``(observations, action_mask) -> {"action", "value"}``: :func:`serving_function`'s mode over the valid actions.

    ``action_mask`` is bool ``[batch, n or sum(nvec)]``, the layout training reads
    (:mod:`baselines_tf2.common.masking`); every row needs a valid action.
    """
    specs = policy.input_specs()
    mask_spec = _mask_spec(policy, specs)
    if policy.recurrent:
        return recurrent_serving_function(policy, mask_spec)

    def deterministic(*inputs: tf.Tensor) -> dict[str, tf.Tensor]:
        flat, vpred = policy.forward(policy.pack_inputs(list(inputs[:-1])))
        return {"action": policy.pdtype.pdfromflat(flat, inputs[-1]).mode(), "value": vpred}

    return tf.function(deterministic, input_signature=[*specs, mask_spec])


def masked_sample_function(policy: Policy) -> Any:
    """``(observations, seed, action_mask) -> {"action", "value"}``: :func:`sample_function` over the valid actions."""
    specs = policy.input_specs()
    mask_spec = _mask_spec(policy, specs)
    if "seed" in [spec.name for spec in specs]:
        raise ExportError("an observation key named 'seed' clashes with the sample signature's seed input")
    if policy.recurrent:
        return recurrent_sample_function(policy, mask_spec)

    def stochastic(*inputs: tf.Tensor) -> dict[str, tf.Tensor]:
        flat, vpred = policy.forward(policy.pack_inputs(list(inputs[:-2])))
        return {"action": policy.pdtype.sample_stateless(flat, inputs[-2], inputs[-1]), "value": vpred}

    seed_spec = tf.TensorSpec([], tf.int64, name="seed")
    return tf.function(stochastic, input_signature=[*specs, seed_spec, mask_spec])


def signature_names(function: Any) -> dict[str, list[str]]:
    """The input names (in order) and output names (sorted) of a function built here, as ``export.json`` lists them."""
    outputs = function.get_concrete_function().structured_outputs
    return {"inputs": [spec.name for spec in function.input_signature], "outputs": sorted(outputs)}
