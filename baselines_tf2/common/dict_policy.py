"""A policy for ``Dict`` observations (Stable-Baselines3's ``MultiInputPolicy``, on this package's layers).

Observations arrive packed into one float32 vector (:mod:`baselines_tf2.common.dict_space`); the
policy cuts the vector back into its keys and encodes each on its own:

* image keys (uint8 ``[H, W, C]``, bounds 0 and 255): pixels / 255 through a CNN of
  :mod:`~baselines_tf2.common.cnn_policy` (``cnn_kind``: the Nature CNN, or A3C's ``"small"``),
  one per key, each ending in its hidden dense layer (512 or 256 ReLU units);
* other ``Box`` keys: their own running mean/std (``ob_rms[key]``), clipped to +-5 and flattened,
  exactly as ``MlpPolicy`` treats its observation;
* ``Discrete`` / ``MultiDiscrete`` keys: one-hot; ``MultiBinary`` keys: their 0/1 values.

The encodings are concatenated, then, as in ``MlpPolicy`` (PPO1's ``mlp_policy``, the paper's
MuJoCo networks), **separate** ``num_hid_layers`` x ``hid_size`` tanh networks for pi and V. The
CNNs are shared by both heads, as in ``CnnPolicy`` (a second CNN per key would double the cost
of every step); past the encoders nothing is shared, so the value loss does not pull on the
policy's hidden layers (SB3's ``MultiInputPolicy`` has the same shape: one features extractor,
separate pi and vf MLPs).

Computes in float32 (``precision="bfloat16"`` is ``CnnPolicy``'s alone). Acts through one compiled
forward call per step; training XLA-compiles when no key is an image (XLA's CPU convolutions are slow).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import tensorflow as tf
from gymnasium import spaces

from baselines_tf2.common.cnn_policy import build_cnn_trunk, cnn_trunk
from baselines_tf2.common.dict_normaliser import DictRunningMeanStd
from baselines_tf2.common.dict_space import KeySlot, PackedDictSpace, as_dict_space, pack, pack_batch
from baselines_tf2.common.layers import Dense, check_init
from baselines_tf2.common.policy_base import OBS_CLIP, ActionHead, Policy, hidden_scale, tanh_mlp
from baselines_tf2.errors import ConfigError, ExportError

__all__ = ["CNN_KINDS", "DictPolicy", "ImageEncoder", "MultiInputPolicy", "pack_tensors"]

CNN_KINDS = ("large", "small")
_INPUT_NAME = re.compile(r"[A-Za-z0-9.][A-Za-z0-9_.\-/]*")  # what TensorFlow accepts as an input name


class ImageEncoder(tf.Module):
    """One image key's CNN: raw pixel values ``[batch, H, W, C]`` -> features ``[batch, units]``."""

    def __init__(self, slot: KeySlot, kind: str, init: str) -> None:
        super().__init__(name="image_encoder")
        try:
            self.convs, self.fc = build_cnn_trunk(kind, slot.shape, init, what=f"images of key {slot.key!r}")
        except ValueError as exc:
            hint = "; use the small CNN (cnn_kind='small', run.py --network cnn_small)" if kind == "large" else ""
            raise ConfigError(f"{exc}{hint}") from None
        self.units = int(self.fc.b.shape[0])

    def __call__(self, pixels: tf.Tensor) -> tf.Tensor:
        return cnn_trunk(pixels / 255.0, self.convs, self.fc)


class DictPolicy(Policy):
    """Per-key encoders, concatenated, then separate tanh MLPs for pi and V (see the module docstring).

    Args:
        ob_space: a ``Dict``, or the :class:`~baselines_tf2.common.dict_space.PackedDictSpace` a
            vector env of packed copies reports.
        ac_space: any space :func:`make_pdtype` supports.
        hid_size, num_hid_layers, gaussian_fixed_var, init: as :class:`MlpPolicy`.
        cnn_kind: the image keys' CNN: ``"large"`` (Nature CNN, SB3's choice) or ``"small"`` (A3C's).

    ``ob_space`` is the Dict; ``ob_spec`` the packed batch ``[None, flatdim]`` float32 every
    compiled function takes. ``act`` and ``act_batch`` take Dict observations (or packed ones).
    """

    def __init__(
        self,
        ob_space: spaces.Space,
        ac_space: spaces.Space,
        hid_size: int = 64,
        num_hid_layers: int = 2,
        gaussian_fixed_var: bool = True,
        name: str = "pi",
        *,
        init: str = "ppo1",
        cnn_kind: str = "large",
    ) -> None:
        check_init(init)
        if cnn_kind not in CNN_KINDS:
            raise ValueError(f"unknown cnn_kind {cnn_kind!r}; choose from {', '.join(CNN_KINDS)}")
        dict_space = as_dict_space(ob_space)
        if dict_space is None:
            raise ConfigError(f"DictPolicy needs a Dict observation space, got {ob_space!r}")
        packed = ob_space if isinstance(ob_space, PackedDictSpace) else PackedDictSpace(dict_space)
        super().__init__(packed, ac_space, tf.float32, name)
        self.ob_space = self.dict_space = dict_space
        self.packed_space = packed
        self.layout = packed.layout
        self.hid_size, self.num_hid_layers, self.init, self.cnn_kind = hid_size, num_hid_layers, init, cnn_kind
        self.images = {s.key: ImageEncoder(s, cnn_kind, init) for s in self.layout if s.kind == "image"}
        boxes = [s for s in self.layout if s.kind == "box"]
        self.ob_rms = DictRunningMeanStd(boxes) if boxes else None
        self.jit_compile = not self.images
        in_dim = sum(self.images[s.key].units if s.kind == "image" else s.size for s in self.layout)
        widths = [in_dim] + [hid_size] * num_hid_layers
        pairs = list(enumerate(zip(widths, widths[1:])))
        hidden = hidden_scale(init)
        self.vf_hidden = [Dense(a, b, hidden, name=f"vf_fc{i + 1}", init=init) for i, (a, b) in pairs]
        self.vf_final = Dense(widths[-1], 1, 1.0, name="vf_final", init=init)
        self.pol_hidden = [Dense(a, b, hidden, name=f"pol_fc{i + 1}", init=init) for i, (a, b) in pairs]
        self.pol_head = ActionHead(widths[-1], self.pdtype, gaussian_fixed_var, init)

    def unpack(self, ob: tf.Tensor) -> dict[str, tf.Tensor]:
        """Packed observations ``[batch, flatdim]`` -> each key's float32 values: images and ``Box`` keys
        ``[batch, *shape]``, one-hot and binary keys as packed ``[batch, size]``."""
        keys = {}
        for slot in self.layout:
            x = ob[:, slot.offset : slot.stop]
            keys[slot.key] = tf.reshape(x, [-1, *slot.shape]) if slot.kind in ("image", "box") else x
        return keys

    def encode(self, ob: tf.Tensor) -> tf.Tensor:
        """Packed observations ``[batch, flatdim]`` -> the keys' encodings side by side ``[batch, in_dim]``."""
        keys, parts = self.unpack(ob), []
        for slot in self.layout:
            x = keys[slot.key]
            if slot.kind == "image":
                x = self.images[slot.key](x)
            elif slot.kind == "box":
                assert isinstance(self.ob_rms, DictRunningMeanStd)  # built with every box key
                rms = self.ob_rms[slot.key]
                z = tf.clip_by_value((x - rms.mean) / rms.std, -OBS_CLIP, OBS_CLIP)
                x = tf.reshape(z, [-1, slot.size])
            parts.append(x)
        return tf.concat(parts, axis=1)

    def forward(self, ob: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        h = self.encode(tf.cast(ob, tf.float32))
        vpred = self.vf_final(tanh_mlp(h, self.vf_hidden))[:, 0]
        return self.pol_head(tanh_mlp(h, self.pol_hidden)), vpred

    def pack(self, obs: Mapping[str, Any]) -> np.ndarray:
        """A batch of Dict observations (every key ``[n, *key_shape]``) as packed rows ``[n, flatdim]``."""
        return pack_batch(self.dict_space, obs)

    def act_batch(
        self, stochastic: bool, obs: np.ndarray | Mapping[str, Any], *, action_masks: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """As :meth:`Policy.act_batch`; ``obs`` a Dict of batches or packed rows."""
        packed = self.pack(obs) if isinstance(obs, Mapping) else obs
        return super().act_batch(stochastic, packed, action_masks=action_masks)

    def act(
        self, stochastic: bool, ob: np.ndarray | Mapping[str, Any], action_mask: np.ndarray | None = None
    ) -> tuple[np.ndarray, float]:
        """Action and value for one Dict observation (or one packed vector), as Baselines' ``pi.act``."""
        return super().act(stochastic, pack(self.dict_space, ob) if isinstance(ob, Mapping) else ob, action_mask)

    def input_specs(self) -> list[tf.TensorSpec]:
        """An export's inputs: one raw batch per key, named by the key (see :func:`pack_tensors` for dtypes)."""
        specs = []
        for slot in self.layout:
            if not _INPUT_NAME.fullmatch(slot.key):
                raise ExportError(f"observation key {slot.key!r} cannot name an input of a SavedModel")
            specs.append(tf.TensorSpec([None, *slot.shape], _raw_dtype(slot.space), name=slot.key))
        return specs

    def pack_inputs(self, inputs: list[tf.Tensor]) -> tf.Tensor:
        return pack_tensors(self.layout, inputs)


MultiInputPolicy = DictPolicy  # Stable-Baselines3's name


def pack_tensors(layout: Sequence[KeySlot], tensors: Sequence[tf.Tensor]) -> tf.Tensor:
    """Raw per-key batches -> packed rows ``[batch, flatdim]``, in the graph (:func:`pack_batch`'s twin).

    Inputs: a ``Box`` key in its own dtype if integer (uint8 images), else float32; a
    ``Discrete`` key its index ``[batch]`` (int64); a ``MultiDiscrete`` key its indices (int64); a
    ``MultiBinary`` key its 0/1 values (int8).
    """
    parts = []
    for slot, x in zip(layout, tensors):
        sub = slot.space
        if isinstance(sub, spaces.Discrete):
            parts.append(tf.one_hot(tf.cast(x - int(sub.start), tf.int32), int(sub.n), dtype=tf.float32))
        elif isinstance(sub, spaces.MultiDiscrete):
            values = tf.reshape(tf.cast(x, tf.int32) - np.asarray(sub.start, np.int32), [tf.shape(x)[0], -1])
            nvec = np.asarray(sub.nvec).reshape(-1)
            parts += [tf.one_hot(values[:, j], int(m), dtype=tf.float32) for j, m in enumerate(nvec)]
        else:
            parts.append(tf.reshape(tf.cast(x, tf.float32), [tf.shape(x)[0], -1]))
    return tf.concat(parts, axis=1)


def _raw_dtype(space: spaces.Space) -> tf.DType:
    if isinstance(space, spaces.Box):
        return tf.as_dtype(space.dtype) if np.issubdtype(space.dtype, np.integer) else tf.float32
    return tf.int8 if isinstance(space, spaces.MultiBinary) else tf.int64
