"""The policy's common part: :class:`Policy` (observations -> distribution and value), the action head, bf16 detection.

:class:`~baselines_tf2.common.mlp_policy.MlpPolicy` and
:class:`~baselines_tf2.common.cnn_policy.CnnPolicy` build on it; :mod:`baselines_tf2.common.policies`
gathers them (see its docstring for what each does and the initialisations).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf
from gymnasium import spaces

from baselines_tf2.common.actors import Actor, TfActor
from baselines_tf2.common.distributions import DiagGaussianPdType, Pd, PdType, make_pdtype
from baselines_tf2.common.layers import Dense
from baselines_tf2.common.masking import check_action_masks, mask_sizes
from baselines_tf2.common.running_mean_std import ObNormaliser, RunningMeanStd
from baselines_tf2.errors import ActionMaskError

__all__ = ["OBS_CLIP", "ActionHead", "Policy", "bfloat16_is_fast", "hidden_scale", "normalize_flat", "tanh_mlp"]

OBS_CLIP = 5.0


def bfloat16_is_fast() -> bool:
    """Whether this CPU has bfloat16 matrix units (AMX-BF16 or AVX512-BF16) that oneDNN uses.

    Elsewhere TensorFlow emulates bfloat16 convolutions, which is slower than float32.
    """
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


class ActionHead(tf.Module):
    """Features -> flat distribution parameters.

    With ``Box`` actions and ``gaussian_fixed_var`` the mean is a dense layer and the log-std a
    free vector shared by all states (the paper's MuJoCo policy); otherwise one dense layer emits
    every parameter.
    """

    def __init__(self, in_dim: int, pdtype: PdType, gaussian_fixed_var: bool, init: str = "ppo1") -> None:
        super().__init__(name="pol_head")
        self.logstd: tf.Variable | None = None
        if isinstance(pdtype, DiagGaussianPdType) and gaussian_fixed_var:
            self.dense = Dense(in_dim, pdtype.size, init_scale=0.01, name="mean", init=init)
            self.logstd = tf.Variable(tf.zeros([pdtype.size]), name="logstd")
        else:
            self.dense = Dense(in_dim, pdtype.param_shape()[0], init_scale=0.01, name="flat", init=init)

    def __call__(self, h: tf.Tensor) -> tf.Tensor:
        out = self.dense(h)
        if self.logstd is None:
            return out
        return tf.concat([out, tf.zeros_like(out) + self.logstd], axis=-1)


class Policy(tf.Module):
    """Shared interface: ``pi(ob) -> (pd, vpred)``, ``act`` for one observation, ``act_batch`` for many.

    Subclasses implement :meth:`forward`. ``ob`` batches are ``[batch, *ob_space.shape]``.
    """

    ob_rms: ObNormaliser | None = None  # MlpPolicy's RunningMeanStd; DictPolicy's per-key normalisers
    jit_compile: bool = False  # whether training steps should be XLA-compiled (see PPOUpdater)
    precision: str = "float32"  # compute dtype of the network (CnnPolicy also offers bfloat16)
    recurrent: bool = False  # True for policies with a state carried between steps (common/lstm_policy.py)

    def __init__(self, ob_space: spaces.Space, ac_space: spaces.Space, ob_dtype: tf.DType, name: str) -> None:
        super().__init__(name=name)
        if not isinstance(ob_space, spaces.Box):
            raise ValueError(f"{type(self).__name__} needs a Box observation space, got {ob_space!r}")
        self.ob_space: spaces.Space = ob_space  # DictPolicy's is the Dict behind its packed Box
        self.ac_space = ac_space
        self.pdtype = make_pdtype(ac_space)
        self.ob_dtype = ob_dtype
        # Batch-first signatures of observations, actions and flat distribution parameters, shared by
        # every compiled function that takes them (here and in the learners' update steps).
        self.ob_spec = tf.TensorSpec([None, *ob_space.shape], ob_dtype)
        self.ac_spec = tf.TensorSpec([None, *self.pdtype.sample_shape()], self.pdtype.sample_dtype())
        self.pdparam_spec = tf.TensorSpec([None, *self.pdtype.param_shape()], tf.float32)
        # The host generator behind act(); learn() replaces it with its rank's checkpointed generator.
        self.rng = np.random.default_rng()
        self._actor: Actor | None = None
        self._forward_fn = tf.function(self.forward, input_signature=[self.ob_spec], autograph=False)
        self._forward_concrete: Any = None

    def forward(self, ob: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Flat distribution parameters ``[batch, *param_shape]`` and ``vpred`` ``[batch]``."""
        raise NotImplementedError

    def __call__(self, ob: tf.Tensor, action_mask: tf.Tensor | None = None) -> tuple[Pd, tf.Tensor]:
        """The action distribution (over the valid actions of ``action_mask``, if given) and value estimate
        for a batch of observations."""
        pdparam, vpred = self.forward(ob)
        return self.pdtype.pdfromflat(pdparam, action_mask), vpred

    def value(self, ob: tf.Tensor) -> tf.Tensor:
        """``vpred`` ``[batch]`` only."""
        return self.forward(ob)[1]

    def with_precision(self, precision: str) -> Policy:
        """This policy computing in ``precision`` (same weights); ``self`` if it already does."""
        if precision != self.precision:
            raise ValueError(f"{type(self).__name__} computes in {self.precision} only, not {precision}")
        return self

    def input_specs(self) -> list[tf.TensorSpec]:
        """The raw inputs an exported model takes, named: here one ``observations`` batch of ``ob_spec``."""
        return [tf.TensorSpec(self.ob_spec.shape, self.ob_spec.dtype, name="observations")]

    def pack_inputs(self, inputs: list[tf.Tensor]) -> tf.Tensor:
        """The ``ob`` batch :meth:`forward` takes, from tensors of :meth:`input_specs` (in the graph)."""
        return inputs[0]

    def forward_numpy(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`forward` as one compiled call on a NumPy batch; returns NumPy arrays.

        Calls the traced concrete function directly: ``tf.function``'s argument binding costs
        ~0.3 ms, a seventh of a CNN's 8-frame acting pass (measured here).
        """
        if self._forward_concrete is None:
            self._forward_concrete = self._forward_fn.get_concrete_function()
        pdparam, vpred = self._forward_concrete(tf.constant(np.asarray(obs, dtype=self.ob_dtype.as_numpy_dtype)))
        return pdparam.numpy(), vpred.numpy()

    def act_batch(
        self, stochastic: bool, obs: np.ndarray, *, action_masks: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Actions ``[n, *sample_shape]`` and values ``[n]`` for a batch (one per vector-env copy).

        Acts through the same actor as the rollouts (:meth:`make_actor`),
        drawing from ``self.rng``; ``stochastic=False`` returns the distribution's mode
        (deterministic evaluation). The actor re-reads the weights at every call, so restored or
        updated weights are always used. ``action_masks`` ``[n, param]`` (``Discrete`` and
        ``MultiDiscrete`` actions; see :mod:`~baselines_tf2.common.masking`) restricts every row to
        its valid actions.
        """
        if self._actor is None or self._actor.rng is not self.rng:
            self._actor = self.make_actor(self.rng)
        else:
            self._actor.refresh()
        return self._actor.step(np.asarray(obs), stochastic=bool(stochastic), mask=self.checked_masks(action_masks))

    def checked_masks(self, action_masks: Any) -> np.ndarray | None:
        """``action_masks`` as the bool ``[n, param]`` the actor applies (``None`` stays ``None``), or one clear error."""
        if action_masks is None:
            return None
        sizes = mask_sizes(self.ac_space)
        if sizes is None:
            raise ActionMaskError(f"{self.ac_space} actions cannot be masked (only Discrete and MultiDiscrete)")
        return check_action_masks(action_masks, sizes)

    def make_actor(self, rng: np.random.Generator) -> Actor:
        """The actor that rollouts, ``act`` and evaluation use: one compiled forward call per step."""
        return TfActor(self, rng)

    def act(self, stochastic: bool, ob: np.ndarray, action_mask: np.ndarray | None = None) -> tuple[np.ndarray, float]:
        """Action and value for one unbatched observation (Baselines PPO1's ``pi.act``), a valid one with ``action_mask``."""
        masks = {} if action_mask is None else {"action_masks": np.asarray(action_mask)[None]}
        action, vpred = self.act_batch(stochastic, np.asarray(ob)[None], **masks)
        return action[0], float(vpred[0])


def hidden_scale(init: str) -> float:
    """Scale of hidden dense layers: PPO1's normc 1.0, ppo2's orthogonal sqrt(2)."""
    return 1.0 if init == "ppo1" else 2**0.5


def normalize_flat(ob: tf.Tensor, rms: RunningMeanStd) -> tf.Tensor:
    """PPO1's observation filter ``clip((ob - mean) / std, -5, 5)``, flattened to ``[batch, prod(shape)]``."""
    obz = tf.clip_by_value((tf.cast(ob, tf.float32) - rms.mean) / rms.std, -OBS_CLIP, OBS_CLIP)
    return tf.reshape(obz, [tf.shape(obz)[0], -1])


def tanh_mlp(x: tf.Tensor, layers: Sequence[Dense]) -> tf.Tensor:
    """``x`` through ``layers``, each followed by tanh (PPO1's hidden layers)."""
    for layer in layers:
        x = tf.tanh(layer(x))
    return x
