"""Baselines' LSTM cell (``baselines/a2c/utils.py`` ``lstm``) as a ``tf.Module``, with its episode mask.

The state of a batch row is ``[c, h]`` concatenated, ``[batch, 2 * nlstm]`` (Baselines' layout).
Each step first multiplies the incoming state by ``1 - episode_start`` (Baselines' mask ``M``,
"done at t-1"), so a row whose episode begins at that step starts from a zero state whatever came
before; then ``z = x Wx + h Wh + b``, split into input, forget and output gates and the candidate
``u``: ``c' = sig(f) c + sig(i) tanh(u)``, ``h' = sig(o) tanh(c')``. ``Wx`` and ``Wh`` are orthogonal
of scale 1, ``b`` zero (Baselines' ``ortho_init(1.0)``, as CleanRL's and SB3-contrib's LSTMs).

:meth:`LSTM.step` runs one step (acting, export); :meth:`LSTM.sequence` runs ``T`` steps of
time-major inputs ``[T, B, ...]`` in one ``tf.scan`` (training), the same cell at every step.
"""

from __future__ import annotations

import tensorflow as tf

from baselines_tf2.common.tf_util import orthogonal

__all__ = ["LSTM"]


class LSTM(tf.Module):
    """One LSTM layer of ``nlstm`` units on ``nin`` input features."""

    def __init__(self, nin: int, nlstm: int, name: str = "lstm") -> None:
        super().__init__(name=name)
        self.nlstm = nlstm
        self.wx = tf.Variable(orthogonal([nin, 4 * nlstm], 1.0), name="wx")
        self.wh = tf.Variable(orthogonal([nlstm, 4 * nlstm], 1.0), name="wh")
        self.b = tf.Variable(tf.zeros([4 * nlstm]), name="b")

    @property
    def state_size(self) -> int:
        """Width of a row's state, ``2 * nlstm`` (``[c, h]``)."""
        return 2 * self.nlstm

    def _cell(self, xw: tf.Tensor, episode_start: tf.Tensor, state: tf.Tensor) -> tf.Tensor:
        """The next state from ``xw = x Wx + b`` ``[B, 4 nlstm]``, the start flags ``[B]`` (float) and the state."""
        keep = 1.0 - episode_start[:, None]
        c, h = tf.split(state * keep, 2, axis=1)
        i, f, o, u = tf.split(xw + tf.matmul(h, self.wh), 4, axis=1)
        c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(u)
        h = tf.sigmoid(o) * tf.tanh(c)
        return tf.concat([c, h], axis=1)

    def step(self, x: tf.Tensor, episode_start: tf.Tensor, state: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """One step: ``x`` ``[B, nin]``, ``episode_start`` ``[B]``, ``state`` ``[B, 2 nlstm]`` -> output ``h``, new state."""
        new = self._cell(tf.matmul(x, self.wx) + self.b, tf.cast(episode_start, tf.float32), state)
        return new[:, self.nlstm :], new

    def sequence(self, xs: tf.Tensor, episode_starts: tf.Tensor, state: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """``T`` steps: ``xs`` ``[T, B, nin]``, ``episode_starts`` ``[T, B]``, ``state`` ``[B, 2 nlstm]`` (before
        the first step) -> outputs ``[T, B, nlstm]`` and the state after the last step."""
        xw = tf.einsum("tbi,ij->tbj", xs, self.wx) + self.b  # the input part of every step in one product
        starts = tf.cast(episode_starts, tf.float32)
        states = tf.scan(lambda s, inputs: self._cell(inputs[0], inputs[1], s), (xw, starts), initializer=state)
        return states[:, :, self.nlstm :], states[-1]
