"""Recurrent policies, Baselines ppo2's ``lstm`` and ``cnn_lstm`` networks: a trunk, an LSTM, two heads.

* :class:`LstmPolicy` (``--network lstm``): observations normalised by ``ob_rms`` and clipped to
  +-5 (as :class:`~baselines_tf2.common.mlp_policy.MlpPolicy`), ``num_hid_layers`` x ``hid_size``
  tanh layers, an LSTM of ``nlstm`` units; with ``num_hid_layers=0`` the LSTM reads the flattened
  observation, which is Baselines' ``lstm`` network.
* :class:`CnnLstmPolicy` (``--network cnn_lstm``): the Nature (or A3C) CNN of
  :class:`~baselines_tf2.common.cnn_policy.CnnPolicy` with its hidden dense layer, then the LSTM
  (Baselines' ``cnn_lstm``), float32 only.

The policy and value heads share the LSTM's output (Baselines builds recurrent policies with a
shared value network). The LSTM is :class:`~baselines_tf2.common.lstm.LSTM`; its state per env
copy is ``[c, h]``, ``state_size = 2 * nlstm`` floats, zero at the start of every episode.

Three ways to run the network, all the same cell:

* :meth:`RecurrentPolicy.forward_recurrent`: whole sequences for training. Rows are **env-major**
  (Baselines' ``batch_to_seq`` layout: row ``b * T + t`` is step ``t`` of sequence ``b``), with
  each sequence's state before its first step and per-row ``episode_start`` flags;
* :meth:`RecurrentPolicy.step`: one step of ``B`` copies (acting, export);
* :meth:`RecurrentPolicy.forward` (the :class:`~baselines_tf2.common.policy_base.Policy`
  interface): every row a one-step sequence from a zero state, i.e. the first step of an episode.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf
from gymnasium import spaces

from baselines_tf2.common.actors import Actor
from baselines_tf2.common.cnn_policy import _CNN_KINDS, build_cnn_trunk, cnn_trunk
from baselines_tf2.common.distributions import Pd
from baselines_tf2.common.layers import Dense, check_init
from baselines_tf2.common.lstm import LSTM
from baselines_tf2.common.policy_base import ActionHead, Policy, hidden_scale, normalize_flat, tanh_mlp
from baselines_tf2.common.recurrent_actor import RecurrentActor
from baselines_tf2.common.running_mean_std import RunningMeanStd

__all__ = ["CnnLstmPolicy", "LstmPolicy", "RecurrentPolicy"]


class RecurrentPolicy(Policy):
    """A trunk (:meth:`features`), an :class:`LSTM` and the heads; subclasses build ``lstm``, ``pol_head``, ``vf_final``."""

    recurrent = True
    lstm: LSTM
    pol_head: ActionHead
    vf_final: Dense

    def __init__(self, ob_space: spaces.Space, ac_space: spaces.Space, ob_dtype: tf.DType, name: str) -> None:
        super().__init__(ob_space, ac_space, ob_dtype, name)
        self._step_concrete: Any = None  # the compiled step and sequence calls, traced on first use
        self._sequence_concrete: Any = None

    def features(self, ob: tf.Tensor) -> tf.Tensor:
        """The trunk's output ``[n, features]`` for observations ``[n, *ob_shape]``."""
        raise NotImplementedError

    @property
    def state_size(self) -> int:
        """Width of one copy's recurrent state (``2 * nlstm``)."""
        return self.lstm.state_size

    def initial_state(self, n: int) -> np.ndarray:
        """Zero states ``[n, state_size]`` (float32), those of copies at the start of an episode."""
        return np.zeros((n, self.state_size), np.float32)

    def _heads(self, h: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return self.pol_head(h), self.vf_final(h)[:, 0]

    def step(self, ob: tf.Tensor, state: tf.Tensor, episode_start: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """One step of ``B`` copies: ``ob`` ``[B, *ob_shape]``, ``state`` ``[B, state_size]`` (before the step),
        ``episode_start`` ``[B]`` (bool: the copy's episode begins with ``ob``, its state is reset first) ->
        flat distribution parameters ``[B, param]``, ``vpred`` ``[B]``, the state after the step."""
        h, state = self.lstm.step(self.features(ob), episode_start, state)
        pdparam, vpred = self._heads(h)
        return pdparam, vpred, state

    def forward_recurrent(
        self, ob: tf.Tensor, state: tf.Tensor, episode_start: tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """``B`` sequences of ``T`` steps, env-major: ``ob`` ``[B * T, *ob_shape]`` (row ``b * T + t``), ``state``
        ``[B, state_size]`` (each sequence's state before its first step), ``episode_start`` ``[B * T]`` ->
        ``pdparam`` ``[B * T, param]``, ``vpred`` ``[B * T]`` (same rows) and the states after the last steps."""
        x = self.features(ob)
        batch = tf.shape(state)[0]
        xs = tf.transpose(tf.reshape(x, [batch, -1, self.lstm.wx.shape[0]]), [1, 0, 2])  # [T, B, features]
        starts = tf.transpose(tf.reshape(episode_start, [batch, -1]))  # [T, B]
        hs, state = self.lstm.sequence(xs, starts, state)
        pdparam, vpred = self._heads(tf.reshape(tf.transpose(hs, [1, 0, 2]), [-1, self.lstm.nlstm]))
        return pdparam, vpred, state

    def forward(
        self, ob: tf.Tensor, state: tf.Tensor | None = None, episode_start: tf.Tensor | None = None
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """:class:`Policy`'s interface: one step per row, from ``state`` (default: zero, an episode's first step)."""
        if state is None:
            state = tf.zeros([tf.shape(ob)[0], self.state_size])
        if episode_start is None:
            episode_start = tf.zeros([tf.shape(ob)[0]], tf.bool)
        pdparam, vpred, _ = self.step(ob, state, episode_start)
        return pdparam, vpred

    def __call__(
        self, ob: tf.Tensor, state: tf.Tensor | None = None, episode_start: tf.Tensor | None = None
    ) -> tuple[Pd, tf.Tensor]:
        """The action distribution and ``vpred`` of one step per row (see :meth:`forward`)."""
        pdparam, vpred = self.forward(ob, state, episode_start)
        return self.pdtype.pdfromflat(pdparam), vpred

    def _specs(self) -> list[tf.TensorSpec]:
        """Signatures of observations, states and start flags (those of :meth:`step` and :meth:`forward_recurrent`)."""
        return [self.ob_spec, tf.TensorSpec([None, self.state_size], tf.float32), tf.TensorSpec([None], tf.bool)]

    def _numpy_call(self, fn: Any, obs: np.ndarray, state: np.ndarray, episode_start: np.ndarray) -> tuple:
        args = (
            tf.constant(np.asarray(obs, self.ob_dtype.as_numpy_dtype)),
            tf.constant(np.asarray(state, np.float32)),
            tf.constant(np.asarray(episode_start, bool)),
        )
        return tuple(out.numpy() for out in fn(*args))

    def step_numpy(
        self, obs: np.ndarray, state: np.ndarray, episode_start: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`step` as one compiled call on NumPy arrays (the actor's acting path)."""
        if self._step_concrete is None:
            self._step_concrete = tf.function(
                self.step, input_signature=self._specs(), autograph=False
            ).get_concrete_function()
        return self._numpy_call(self._step_concrete, obs, state, episode_start)

    def forward_recurrent_numpy(
        self, obs: np.ndarray, state: np.ndarray, episode_start: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`forward_recurrent` as one compiled call on NumPy arrays (pi_old of a whole segment)."""
        if self._sequence_concrete is None:
            fn = tf.function(self.forward_recurrent, input_signature=self._specs(), autograph=False)
            self._sequence_concrete = fn.get_concrete_function()
        return self._numpy_call(self._sequence_concrete, obs, state, episode_start)

    def make_actor(self, rng: np.random.Generator) -> Actor:
        """An actor that carries each env copy's state between steps (one compiled :meth:`step` per step)."""
        return RecurrentActor(self, rng)

    def act_batch(
        self,
        stochastic: bool,
        obs: np.ndarray,
        episode_start: np.ndarray | None = None,
        *,
        action_masks: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Actions and values for a batch of env copies, each row carrying its state from the previous call.

        Rows start from a zero state at the first call, when the batch size changes, and where
        ``episode_start`` (bool ``[n]``) is true: pass it with the first observation of each new episode.
        ``action_masks`` as in :meth:`Policy.act_batch`.
        """
        if self._actor is None or self._actor.rng is not self.rng:
            self._actor = self.make_actor(self.rng)
        if episode_start is not None:
            self._actor.end_episodes(np.asarray(episode_start, bool))
        return self._actor.step(np.asarray(obs), stochastic=bool(stochastic), mask=self.checked_masks(action_masks))


class LstmPolicy(RecurrentPolicy):
    """Normalised observations, ``num_hid_layers`` x ``hid_size`` tanh layers, an LSTM of ``nlstm`` units, two heads.

    Args:
        ob_space: ``Box`` observations (flattened after normalisation).
        ac_space: any space :func:`make_pdtype` supports.
        nlstm: LSTM units (Baselines' default 128).
        hid_size, num_hid_layers: the tanh trunk before the LSTM (0 layers: Baselines' ``lstm``).
        gaussian_fixed_var: for ``Box`` actions, a state-independent learned log-std.
        init: ``"ppo1"`` or ``"orthogonal"`` for the trunk and the heads (the LSTM is orthogonal either way).
    """

    jit_compile = True

    def __init__(
        self,
        ob_space: spaces.Space,
        ac_space: spaces.Space,
        nlstm: int = 128,
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
        self.nlstm, self.hid_size, self.num_hid_layers, self.init = nlstm, hid_size, num_hid_layers, init
        widths = [int(np.prod(shape))] + [hid_size] * num_hid_layers
        scale = hidden_scale(init)
        self.hidden = [
            Dense(a, b, scale, name=f"fc{i + 1}", init=init) for i, (a, b) in enumerate(zip(widths, widths[1:]))
        ]
        self.lstm = LSTM(widths[-1], nlstm)
        self.pol_head = ActionHead(nlstm, self.pdtype, gaussian_fixed_var, init)
        self.vf_final = Dense(nlstm, 1, 1.0, name="vf_final", init=init)

    def features(self, ob: tf.Tensor) -> tf.Tensor:
        rms = self.ob_rms
        assert isinstance(rms, RunningMeanStd)  # an LstmPolicy always has one
        return tanh_mlp(normalize_flat(ob, rms), self.hidden)


class CnnLstmPolicy(RecurrentPolicy):
    """``uint8`` images ``[H, W, C]`` / 255, the ``kind`` CNN and its ReLU dense layer, an LSTM of ``nlstm`` units.

    Args:
        ob_space: ``Box`` of images (Atari: 84x84x4).
        ac_space: any space :func:`make_pdtype` supports (Atari: ``Discrete``).
        nlstm: LSTM units (Baselines' default 128).
        kind: ``"large"`` (Nature CNN, Baselines' ``cnn_lstm``) or ``"small"`` (A3C's).
        init: ``"ppo1"`` or ``"orthogonal"`` for the CNN and the heads (the LSTM is orthogonal either way).
    """

    def __init__(
        self,
        ob_space: spaces.Space,
        ac_space: spaces.Space,
        nlstm: int = 128,
        kind: str = "large",
        name: str = "pi",
        *,
        init: str = "ppo1",
    ) -> None:
        check_init(init)
        if not isinstance(ob_space, spaces.Box) or len(ob_space.shape) != 3:
            raise ValueError(f"CnnLstmPolicy needs [H, W, C] image observations, got {ob_space!r}")
        if kind not in _CNN_KINDS:
            raise ValueError(f"unknown CNN kind {kind!r}; choose from {sorted(_CNN_KINDS)}")
        super().__init__(ob_space, ac_space, tf.as_dtype(ob_space.dtype), name)
        self.nlstm, self.kind, self.init = nlstm, kind, init
        self.convs, self.fc = build_cnn_trunk(kind, ob_space.shape, init)
        self.lstm = LSTM(int(self.fc.w.shape[1]), nlstm)
        self.pol_head = ActionHead(nlstm, self.pdtype, gaussian_fixed_var=True, init=init)
        self.vf_final = Dense(nlstm, 1, 1.0, name="vf_final", init=init)

    def features(self, ob: tf.Tensor) -> tf.Tensor:
        return cnn_trunk(tf.cast(ob, tf.float32) / 255.0, self.convs, self.fc)
