"""Small TensorFlow helpers: flat parameter vectors, Baselines' initialisers, thread limits."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

__all__ = [
    "configure_threads",
    "flatgrad",
    "get_flat",
    "glorot_uniform",
    "normc",
    "num_elements",
    "orthogonal",
    "set_from_flat",
]


def num_elements(var_list: Sequence[tf.Variable]) -> int:
    """Total number of scalars in ``var_list``."""
    return int(sum(int(np.prod(v.shape)) for v in var_list))


def get_flat(var_list: Sequence[tf.Variable]) -> tf.Tensor:
    """All variables' values concatenated into one float32 vector (Baselines' ``GetFlat``)."""
    return tf.concat([tf.reshape(tf.cast(v, tf.float32), [-1]) for v in var_list], axis=0)


def set_from_flat(var_list: Sequence[tf.Variable], flat: tf.Tensor) -> None:
    """Assign consecutive slices of ``flat`` to ``var_list`` (Baselines' ``SetFromFlat``)."""
    sizes = [int(np.prod(v.shape)) for v in var_list]
    for v, piece in zip(var_list, tf.split(flat, sizes)):
        v.assign(tf.cast(tf.reshape(piece, v.shape), v.dtype))


def flatgrad(grads: Sequence[tf.Tensor | None], var_list: Sequence[tf.Variable]) -> tf.Tensor:
    """Concatenate gradients into one vector, with zeros for variables the loss does not touch."""
    parts = [
        tf.reshape(tf.zeros_like(v) if g is None else tf.convert_to_tensor(g), [-1]) for g, v in zip(grads, var_list)
    ]
    return tf.concat(parts, axis=0)


def normc(shape: Sequence[int], std: float = 1.0) -> tf.Tensor:
    """Baselines' ``normc_initializer``: Gaussian columns rescaled to L2 norm ``std``.

    A dense kernel ``[fan_in, fan_out]`` then maps unit-norm inputs to outputs of scale ``std``;
    Baselines uses 0.01 for the policy head (near-uniform initial actions) and 1.0 elsewhere.
    """
    out = tf.random.normal(shape, dtype=tf.float32)
    return out * (std / tf.sqrt(tf.reduce_sum(tf.square(out), axis=0, keepdims=True)))


def glorot_uniform(shape: Sequence[int]) -> tf.Tensor:
    """Uniform(+-sqrt(6 / (fan_in + fan_out))) for a conv kernel ``[h, w, in, out]`` (Baselines' conv2d)."""
    receptive = int(np.prod(shape[:-2]))
    bound = np.sqrt(6.0 / (receptive * shape[-2] + receptive * shape[-1]))
    return tf.random.uniform(shape, -bound, bound, dtype=tf.float32)


def orthogonal(shape: Sequence[int], scale: float = 1.0) -> tf.Tensor:
    """Baselines' ``ortho_init`` (ppo2, A2C, ``nature_cnn``): a scaled (semi-)orthogonal matrix.

    A conv kernel ``[h, w, in, out]`` is drawn as a ``[h * w * in, out]`` matrix, as Baselines
    flattens it. The matrix is the ``U`` (or ``V^T``) factor of a Gaussian matrix's SVD, whichever
    has the kernel's flat shape, times ``scale`` (sqrt(2) for ReLU/tanh layers, 0.01 for the policy
    head, 1 for the value head).
    """
    shape = [int(d) for d in shape]
    if len(shape) not in (2, 4):
        raise ValueError(f"orthogonal initialisation needs a 2-D or 4-D shape, got {shape}")
    rows, cols = int(np.prod(shape[:-1])), shape[-1]
    _, u, v = tf.linalg.svd(tf.random.normal([rows, cols], dtype=tf.float32), full_matrices=False)
    q = u if rows >= cols else tf.transpose(v)  # the factor of shape [rows, cols]
    return scale * tf.reshape(q, shape)


def configure_threads(intra_op: int, inter_op: int) -> None:
    """Limit TensorFlow's thread pools; call before the first op (under MPI use 1 and 1 per rank)."""
    try:
        tf.config.threading.set_intra_op_parallelism_threads(intra_op)
        tf.config.threading.set_inter_op_parallelism_threads(inter_op)
    except RuntimeError:
        # TensorFlow was already initialised; the pools are fixed for this process.
        pass
