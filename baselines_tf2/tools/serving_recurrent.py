"""The served functions of a recurrent policy: one step, taking and returning the state.

For a :class:`~baselines_tf2.common.lstm_policy.RecurrentPolicy`, :mod:`baselines_tf2.tools.serving`
builds these instead of the feed-forward ones, so the SavedModel, TFLite, ONNX and ``export.json``
follow unchanged:

* ``serving_default(observations, state, episode_start) -> {"action", "value", "next_state"}``;
* ``sample(observations, state, episode_start, seed) -> {"action", "value", "next_state"}``;
* for ``Discrete`` and ``MultiDiscrete`` actions, ``serving_masked(observations, state, episode_start,
  action_mask)`` and ``sample_masked(observations, state, episode_start, seed, action_mask)``: the same
  over the valid actions of a bool ``action_mask`` ``[batch, n or sum(nvec)]``;

with ``observations`` ``[batch, *ob_shape]`` (raw, as for feed-forward policies), ``state``
``[batch, state_size]`` float32 (each row's state from the previous call's output; zeros to
begin) and ``episode_start`` ``[batch]`` bool (true where the row's episode begins with this
observation: that row's state is reset first, so zeros are not needed after the first call).
The output ``next_state`` is the next call's ``state`` (an output cannot share its input's name:
ONNX, whose graph inputs and outputs are values of one namespace, would refuse it).
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

__all__ = ["recurrent_sample_function", "recurrent_serving_function"]


def _specs(policy: Any) -> list[tf.TensorSpec]:
    return [
        *policy.input_specs(),  # the raw observations, named "observations"
        tf.TensorSpec([None, policy.state_size], tf.float32, name="state"),
        tf.TensorSpec([None], tf.bool, name="episode_start"),
    ]


def recurrent_serving_function(policy: Any, mask_spec: tf.TensorSpec | None = None) -> Any:
    """``(observations, state, episode_start[, action_mask]) -> {"action": mode, "value": vpred, "next_state": ...}``;
    with ``mask_spec``, the mode over the valid actions of ``action_mask``."""

    def deterministic(observations: tf.Tensor, state: tf.Tensor, episode_start: tf.Tensor, *mask: tf.Tensor):
        flat, vpred, new_state = policy.step(observations, state, episode_start)
        action = policy.pdtype.pdfromflat(flat, *mask).mode()
        return {"action": action, "value": vpred, "next_state": new_state}

    masks = [mask_spec] if mask_spec is not None else []
    return tf.function(deterministic, input_signature=[*_specs(policy), *masks])


def recurrent_sample_function(policy: Any, mask_spec: tf.TensorSpec | None = None) -> Any:
    """``(observations, state, episode_start, seed[, action_mask]) -> {"action": sample, "value", "next_state"}``
    (stateless sampling); with ``mask_spec``, over the valid actions of ``action_mask``."""

    def stochastic(observations: tf.Tensor, state: tf.Tensor, episode_start: tf.Tensor, seed: tf.Tensor, *mask):
        flat, vpred, new_state = policy.step(observations, state, episode_start)
        action = policy.pdtype.sample_stateless(flat, seed, *mask)
        return {"action": action, "value": vpred, "next_state": new_state}

    masks = [mask_spec] if mask_spec is not None else []
    seed_spec = tf.TensorSpec([], tf.int64, name="seed")
    return tf.function(stochastic, input_signature=[*_specs(policy), seed_spec, *masks])
