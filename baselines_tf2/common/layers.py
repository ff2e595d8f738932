"""Dense and convolution layers as plain ``tf.Module``s with Baselines' initialisers.

Two initialisations (:data:`INITS`): ``"ppo1"``, PPO1's (normalised-column dense kernels,
Glorot-uniform convolutions), and ``"orthogonal"``, ppo2's and A2C's (orthogonal kernels of a
given scale, :func:`~baselines_tf2.common.tf_util.orthogonal`). Biases start at 0 either way.

Policies are built wholly from ``tf.Module``s (never Keras layers inside a ``tf.Module``: Keras 3
layers held that way drop out of ``trainable_variables`` and silently never train). Keeping the
weights as plain variables also lets the rollout mirror the MLP in NumPy.

The weights are always float32. Given an input of another float dtype (``bfloat16`` in a
``CnnPolicy(precision="bfloat16")``), a layer computes in that dtype with a cast copy of its
weights, so the gradient still reaches the float32 variables (mixed precision).
"""

from __future__ import annotations

import tensorflow as tf

from baselines_tf2.common.tf_util import glorot_uniform, normc, orthogonal
from baselines_tf2.config import INITS

__all__ = ["INITS", "Conv2D", "Dense", "check_init"]


def check_init(init: str) -> None:
    """Reject an unknown ``init`` name."""
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; choose from {', '.join(INITS)}")


class Dense(tf.Module):
    """``y = x W + b``, ``b = 0`` and ``W`` of scale ``init_scale``: :func:`normc` (``"ppo1"``) or orthogonal."""

    def __init__(
        self, in_dim: int, out_dim: int, init_scale: float = 1.0, name: str | None = None, *, init: str = "ppo1"
    ) -> None:
        super().__init__(name=name)
        check_init(init)
        make = normc if init == "ppo1" else orthogonal
        self.w = tf.Variable(make([in_dim, out_dim], init_scale), name="w")
        self.b = tf.Variable(tf.zeros([out_dim]), name="b")

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        return tf.matmul(x, _as(self.w, x.dtype)) + _as(self.b, x.dtype)


class Conv2D(tf.Module):
    """NHWC 'VALID' convolution, zero bias; kernel Glorot-uniform (``"ppo1"``) or orthogonal of scale ``init_scale``."""

    def __init__(
        self,
        in_channels: int,
        filters: int,
        kernel: int,
        stride: int,
        name: str | None = None,
        *,
        init: str = "ppo1",
        init_scale: float = 2**0.5,
    ) -> None:
        super().__init__(name=name)
        check_init(init)
        self.stride = stride
        shape = [kernel, kernel, in_channels, filters]
        self.w = tf.Variable(glorot_uniform(shape) if init == "ppo1" else orthogonal(shape, init_scale), name="w")
        self.b = tf.Variable(tf.zeros([filters]), name="b")

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        return tf.nn.conv2d(x, _as(self.w, x.dtype), strides=self.stride, padding="VALID") + _as(self.b, x.dtype)

    def output_size(self, size: int) -> int:
        """Spatial size of the output for an input of spatial ``size``."""
        return (size - int(self.w.shape[0])) // self.stride + 1


def _as(var: tf.Variable, dtype: tf.DType) -> tf.Tensor:
    """``var`` in the compute dtype (the variable itself when it already is)."""
    return var if var.dtype == dtype else tf.cast(var, dtype)
