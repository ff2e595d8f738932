"""Dense and convolution layers as plain ``tf.Module``s with Baselines' initialisers.

Policies are built wholly from ``tf.Module``s (never Keras layers inside a ``tf.Module``: Keras 3
layers held that way drop out of ``trainable_variables`` and silently never train). Keeping the
weights as plain variables also lets the rollout mirror the MLP in NumPy.

The weights are always float32. Given an input of another float dtype (``bfloat16`` in a
``CnnPolicy(precision="bfloat16")``), a layer computes in that dtype with a cast copy of its
weights, so the gradient still reaches the float32 variables (mixed precision).
"""

from __future__ import annotations

import tensorflow as tf

from baselines_tf2.common.tf_util import glorot_uniform, normc

__all__ = ["Conv2D", "Dense"]


class Dense(tf.Module):
    """``y = x W + b`` with ``W`` from :func:`normc` (scale ``init_scale``) and ``b = 0``."""

    def __init__(self, in_dim: int, out_dim: int, init_scale: float = 1.0, name: str | None = None) -> None:
        super().__init__(name=name)
        self.w = tf.Variable(normc([in_dim, out_dim], init_scale), name="w")
        self.b = tf.Variable(tf.zeros([out_dim]), name="b")

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        return tf.matmul(x, _as(self.w, x.dtype)) + _as(self.b, x.dtype)


class Conv2D(tf.Module):
    """NHWC 'VALID' convolution with Baselines' Glorot-uniform kernel and zero bias."""

    def __init__(self, in_channels: int, filters: int, kernel: int, stride: int, name: str | None = None) -> None:
        super().__init__(name=name)
        self.stride = stride
        self.w = tf.Variable(glorot_uniform([kernel, kernel, in_channels, filters]), name="w")
        self.b = tf.Variable(tf.zeros([filters]), name="b")

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        return tf.nn.conv2d(x, _as(self.w, x.dtype), strides=self.stride, padding="VALID") + _as(self.b, x.dtype)

    def output_size(self, size: int) -> int:
        """Spatial size of the output for an input of spatial ``size``."""
        return (size - int(self.w.shape[0])) // self.stride + 1


def _as(var: tf.Variable, dtype: tf.DType) -> tf.Tensor:
    """``var`` in the compute dtype (the variable itself when it already is)."""
    return var if var.dtype == dtype else tf.cast(var, dtype)
