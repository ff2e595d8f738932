"""PPO1's CNN policy (Baselines ``ppo1/cnn_policy.py``); see :mod:`baselines_tf2.common.policies`."""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf
from gymnasium import spaces

from baselines_tf2.common.layers import Conv2D, Dense, check_init
from baselines_tf2.common.policy_base import ActionHead, Policy, hidden_scale
from baselines_tf2.config import PRECISIONS  # CnnPolicy's compute dtypes; weights are float32 either way

__all__ = ["CnnPolicy", "build_cnn_trunk", "cnn_trunk"]


_CNN_KINDS = {
    # kind: ([(filters, kernel, stride), ...], dense units)
    "small": ([(16, 8, 4), (32, 4, 2)], 256),  # A3C's network (Mnih et al. 2016)
    "large": ([(32, 8, 4), (64, 4, 2), (64, 3, 1)], 512),  # Nature DQN's network (Mnih et al. 2015)
}


def build_cnn_trunk(
    kind: str, image_shape: Sequence[int], init: str, what: str = "observations"
) -> tuple[list[Conv2D], Dense]:
    """The convolutions and the hidden dense layer of the ``kind`` CNN for ``[H, W, C]`` images.

    ``what`` names the images in the error for ones too small for the network.
    """
    convs, units = _CNN_KINDS[kind]
    height, width, channels = (int(d) for d in image_shape)
    layers = []
    for i, (filters, kernel, stride) in enumerate(convs):
        conv = Conv2D(channels, filters, kernel, stride, name=f"conv{i + 1}", init=init)
        height, width, channels = conv.output_size(height), conv.output_size(width), filters
        if height <= 0 or width <= 0:
            raise ValueError(f"{what} {tuple(image_shape)} are too small for the {kind!r} CNN")
        layers.append(conv)
    return layers, Dense(height * width * channels, units, hidden_scale(init), name="fc", init=init)


def cnn_trunk(x: tf.Tensor, convs: Sequence[Conv2D], fc: Dense) -> tf.Tensor:
    """Images scaled to [0, 1] ``[batch, H, W, C]`` -> features ``[batch, units]`` (ReLU throughout)."""
    for conv in convs:
        x = tf.nn.relu(conv(x))
    return tf.nn.relu(fc(tf.reshape(x, [tf.shape(x)[0], -1])))


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
        self.convs, self.fc = build_cnn_trunk(kind, ob_space.shape, init)
        units = _CNN_KINDS[kind][1]
        self.pol_head = ActionHead(units, self.pdtype, gaussian_fixed_var=True, init=init)
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
        # The heads run in float32 (they are small): logits and V keep float32's precision, which
        # GAE and the ratio need (bfloat16 would round a value of 10 by up to 0.04).
        h = tf.cast(cnn_trunk(x, self.convs, self.fc), tf.float32)
        return self.pol_head(h), self.vf_final(h)[:, 0]
