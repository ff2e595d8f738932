"""Actor-critic policies of Baselines PPO1: ``MlpPolicy`` and ``CnnPolicy``.

A policy maps a batch of observations to an action distribution (``Pd``) and a value estimate
``vpred``. Both are ``tf.Module``s made only of ``tf.Module`` layers, so ``trainable_variables``
lists every weight and ``tf.train.Checkpoint(policy=pi)`` saves them with the observation
normaliser ``ob_rms``.

* ``MlpPolicy`` (PPO1 ``mlp_policy``): observations normalised by ``ob_rms`` and clipped to +-5;
  separate tanh networks for the policy and the value (no shared weights, as in the paper's MuJoCo
  runs); for ``Box`` actions a state-independent learned log-std.
* ``CnnPolicy`` (PPO1 ``cnn_policy``): pixels scaled to [0, 1] (no running normalisation, so its
  ``ob_rms`` is ``None``), a shared convolutional trunk, policy and value heads on top. With
  ``precision="bfloat16"`` (opt-in) the network computes in bfloat16 from float32 weights, for
  CPUs whose AMX / AVX512-BF16 units run it faster; distributions and losses stay float32.

Initialisation (``init``): ``"ppo1"`` (the default) is PPO1's: normalised-column dense weights of
scale 0.01 for the policy head (near-uniform first actions), 1.0 elsewhere, Glorot-uniform
convolutions. ``"orthogonal"`` is Baselines ppo2's (its ``mlp`` and ``nature_cnn``, also A2C's,
SB3's and CleanRL's): orthogonal weights of scale sqrt(2) in every hidden layer and convolution,
0.01 in the policy head, 1.0 in the value head. Zero biases and log-std 0 either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf
from gymnasium import spaces

from baselines_tf2.common.actors import Actor, NumpyMlpActor, TfActor
from baselines_tf2.common.distributions import DiagGaussianPdType, Pd, PdType, make_pdtype
from baselines_tf2.common.layers import INITS, Conv2D, Dense, check_init
from baselines_tf2.common.running_mean_std import RunningMeanStd
from baselines_tf2.config import PRECISIONS  # CnnPolicy's compute dtypes; weights are float32 either way

__all__ = ["CnnPolicy", "INITS", "MlpPolicy", "Policy", "OBS_CLIP", "PRECISIONS", "bfloat16_is_fast"]

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


class _ActionHead(tf.Module):
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

    ob_rms: RunningMeanStd | None = None
    jit_compile: bool = False  # whether training steps should be XLA-compiled (see PPOUpdater)
    precision: str = "float32"  # compute dtype of the network (CnnPolicy also offers bfloat16)

    def __init__(self, ob_space: spaces.Space, ac_space: spaces.Space, ob_dtype: tf.DType, name: str) -> None:
        super().__init__(name=name)
        if not isinstance(ob_space, spaces.Box):
            raise ValueError(f"{type(self).__name__} needs a Box observation space, got {ob_space!r}")
        self.ob_space = ob_space
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

    def __call__(self, ob: tf.Tensor) -> tuple[Pd, tf.Tensor]:
        """The action distribution and value estimate for a batch of observations."""
        pdparam, vpred = self.forward(ob)
        return self.pdtype.pdfromflat(pdparam), vpred

    def value(self, ob: tf.Tensor) -> tf.Tensor:
        """``vpred`` ``[batch]`` only."""
        return self.forward(ob)[1]

    def with_precision(self, precision: str) -> Policy:
        """This policy computing in ``precision`` (same weights); ``self`` if it already does."""
        if precision != self.precision:
            raise ValueError(f"{type(self).__name__} computes in {self.precision} only, not {precision}")
        return self

    def forward_numpy(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`forward` as one compiled call on a NumPy batch; returns NumPy arrays.

        Calls the traced concrete function directly: ``tf.function``'s argument binding costs
        ~0.3 ms, a seventh of a CNN's 8-frame acting pass (measured here).
        """
        if self._forward_concrete is None:
            self._forward_concrete = self._forward_fn.get_concrete_function()
        pdparam, vpred = self._forward_concrete(tf.constant(np.asarray(obs, dtype=self.ob_dtype.as_numpy_dtype)))
        return pdparam.numpy(), vpred.numpy()

    def act_batch(self, stochastic: bool, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Actions ``[n, *sample_shape]`` and values ``[n]`` for a batch (one per vector-env copy).

        Acts through the same actor as the rollouts (:meth:`make_actor`),
        drawing from ``self.rng``; ``stochastic=False`` returns the distribution's mode
        (deterministic evaluation). The actor re-reads the weights at every call, so restored or
        updated weights are always used.
        """
        if self._actor is None or self._actor.rng is not self.rng:
            self._actor = self.make_actor(self.rng)
        else:
            self._actor.refresh()
        return self._actor.step(np.asarray(obs), stochastic=bool(stochastic))

    def make_actor(self, rng: np.random.Generator) -> Actor:
        """The actor that rollouts, ``act`` and evaluation use: one compiled forward call per step."""
        return TfActor(self, rng)

    def act(self, stochastic: bool, ob: np.ndarray) -> tuple[np.ndarray, float]:
        """Action and value for one unbatched observation (Baselines PPO1's ``pi.act``)."""
        action, vpred = self.act_batch(stochastic, np.asarray(ob)[None])
        return action[0], float(vpred[0])


class MlpPolicy(Policy):
    """PPO1's MLP policy: separate ``num_hid_layers`` x ``hid_size`` tanh networks for pi and V.

    Args:
        ob_space: ``Box`` observations (flattened after normalisation).
        ac_space: any space :func:`make_pdtype` supports.
        hid_size: width of each hidden layer.
        num_hid_layers: hidden layers in each network.
        gaussian_fixed_var: for ``Box`` actions, a state-independent learned log-std (the paper's
            choice) instead of a log-std output of the network.
        init: ``"ppo1"`` or ``"orthogonal"`` (see the module docstring).
    """

    jit_compile = True

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
    ) -> None:
        check_init(init)
        super().__init__(ob_space, ac_space, tf.float32, name)
        shape = tuple(ob_space.shape or ())
        self.ob_rms = RunningMeanStd(shape=shape, name="ob_rms")
        self.hid_size, self.num_hid_layers, self.init = hid_size, num_hid_layers, init
        in_dim = int(np.prod(shape))
        widths = [in_dim] + [hid_size] * num_hid_layers
        pairs = list(enumerate(zip(widths, widths[1:])))
        hidden = _hidden_scale(init)
        self.vf_hidden = [Dense(a, b, hidden, name=f"vf_fc{i + 1}", init=init) for i, (a, b) in pairs]
        self.vf_final = Dense(widths[-1], 1, 1.0, name="vf_final", init=init)
        self.pol_hidden = [Dense(a, b, hidden, name=f"pol_fc{i + 1}", init=init) for i, (a, b) in pairs]
        self.pol_head = _ActionHead(widths[-1], self.pdtype, gaussian_fixed_var, init)

    def make_actor(self, rng: np.random.Generator) -> Actor:
        """A NumPy mirror of this network (~6 us a step where a TF call costs ~250 us)."""
        return NumpyMlpActor(self, rng)

    def numpy_snapshot(self) -> dict:
        """The weights and normaliser as NumPy arrays, for :class:`~baselines_tf2.common.actors.NumpyMlpActor`."""
        rms = self._normaliser()
        return {
            "mean": rms.mean.numpy(),
            "std": rms.std.numpy(),
            "clip": OBS_CLIP,
            "vf_layers": [(layer.w.numpy(), layer.b.numpy()) for layer in [*self.vf_hidden, self.vf_final]],
            "pol_layers": [(layer.w.numpy(), layer.b.numpy()) for layer in [*self.pol_hidden, self.pol_head.dense]],
            "logstd": None if self.pol_head.logstd is None else self.pol_head.logstd.numpy(),
        }

    def _normaliser(self) -> RunningMeanStd:
        assert self.ob_rms is not None  # an MlpPolicy always has one
        return self.ob_rms

    def normalize(self, ob: tf.Tensor) -> tf.Tensor:
        """``clip((ob - mean) / std, -5, 5)`` flattened to ``[batch, prod(ob_shape)]``."""
        rms = self._normaliser()
        obz = tf.clip_by_value((tf.cast(ob, tf.float32) - rms.mean) / rms.std, -OBS_CLIP, OBS_CLIP)
        return tf.reshape(obz, [tf.shape(obz)[0], -1])

    def forward(self, ob: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        obz = self.normalize(ob)
        vpred = _tanh_mlp(obz, self.vf_hidden)
        vpred = self.vf_final(vpred)[:, 0]
        pdparam = self.pol_head(_tanh_mlp(obz, self.pol_hidden))
        return pdparam, vpred


def _hidden_scale(init: str) -> float:
    """Scale of hidden dense layers: PPO1's normc 1.0, ppo2's orthogonal sqrt(2)."""
    return 1.0 if init == "ppo1" else 2**0.5


def _tanh_mlp(x: tf.Tensor, layers: Sequence[Dense]) -> tf.Tensor:
    for layer in layers:
        x = tf.tanh(layer(x))
    return x


_CNN_KINDS = {
    # kind: ([(filters, kernel, stride), ...], dense units)
    "small": ([(16, 8, 4), (32, 4, 2)], 256),  # A3C's network (Mnih et al. 2016)
    "large": ([(32, 8, 4), (64, 4, 2), (64, 3, 1)], 512),  # Nature DQN's network (Mnih et al. 2015)
}


class CnnPolicy(Policy):
    """PPO1's CNN policy for ``uint8`` image observations ``[H, W, C]`` (Atari: 84x84x4).

    Args:
        ob_space: ``Box`` of images; values are divided by 255.
        ac_space: any space :func:`make_pdtype` supports (Atari: ``Discrete``).
        kind: ``"large"`` (Nature CNN, the paper's) or ``"small"`` (A3C CNN).
        precision: compute dtype of the convolutions and the hidden dense layer, ``"float32"`` or
            ``"bfloat16"`` (mixed precision: float32 weights, heads, optimizer and loss; on this
            project's AMX CPU a gradient step of 256 Atari frames takes ~0.6x the float32 time).
            The rollout acts with the same network, so the ratio starts at 1 either way.
        init: ``"ppo1"`` (PPO1's ``cnn_policy``) or ``"orthogonal"`` (Baselines' ``nature_cnn``
            as ppo2 and A2C build it); see the module docstring.
    """

    def __init__(
        self,
        ob_space: spaces.Space,
        ac_space: spaces.Space,
        kind: str = "large",
        name: str = "pi",
        *,
        precision: str = "float32",
        init: str = "ppo1",
    ) -> None:
        check_init(init)
        if kind not in _CNN_KINDS:
            raise ValueError(f"unknown CNN kind {kind!r}; choose from {sorted(_CNN_KINDS)}")
        if precision not in PRECISIONS:
            raise ValueError(f"unknown precision {precision!r}; choose from {', '.join(PRECISIONS)}")
        if not isinstance(ob_space, spaces.Box) or len(ob_space.shape) != 3:
            raise ValueError(f"CnnPolicy needs [H, W, C] image observations, got {ob_space!r}")
        super().__init__(ob_space, ac_space, tf.as_dtype(ob_space.dtype), name)
        self.kind, self.init = kind, init
        self.precision = precision
        self.compute_dtype = tf.as_dtype(precision)
        convs, units = _CNN_KINDS[kind]
        height, width, channels = (int(d) for d in ob_space.shape)
        self.convs = []
        for i, (filters, kernel, stride) in enumerate(convs):
            conv = Conv2D(channels, filters, kernel, stride, name=f"conv{i + 1}", init=init)
            height, width, channels = conv.output_size(height), conv.output_size(width), filters
            if height <= 0 or width <= 0:
                raise ValueError(f"observations {ob_space.shape} are too small for the {kind!r} CNN")
            self.convs.append(conv)
        self.fc = Dense(height * width * channels, units, _hidden_scale(init), name="fc", init=init)
        self.pol_head = _ActionHead(units, self.pdtype, gaussian_fixed_var=True, init=init)
        self.vf_final = Dense(units, 1, 1.0, name="vf_final", init=init)

    def with_precision(self, precision: str) -> CnnPolicy:
        """This policy (same weights, copied) computing in ``precision``; ``self`` if it already does."""
        if precision == self.precision:
            return self
        twin = CnnPolicy(
            self.ob_space, self.ac_space, kind=self.kind, precision=precision, name=self.name, init=self.init
        )
        for dst, src in zip(twin.variables, self.variables, strict=True):
            dst.assign(src)
        return twin

    def forward(self, ob: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        x = tf.cast(ob, self.compute_dtype) / 255.0
        for conv in self.convs:
            x = tf.nn.relu(conv(x))
        x = tf.reshape(x, [tf.shape(x)[0], -1])
        # The heads run in float32 (they are small): logits and V keep float32's precision, which
        # GAE and the ratio need (bfloat16 would round a value of 10 by up to 0.04).
        h = tf.cast(tf.nn.relu(self.fc(x)), tf.float32)
        return self.pol_head(h), self.vf_final(h)[:, 0]
