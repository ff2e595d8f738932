"""What an action space's distributions look like, and how to sample them (Baselines' ``PdType`` classes).

A :class:`PdType` knows its space's flat-parameter and action shapes, builds the batch's
:class:`~baselines_tf2.common.pd.Pd`, and holds the space's two samplers, written once each:

* :meth:`PdType.sample_numpy` / :meth:`PdType.mode_numpy`: on the host with a NumPy generator, for
  the rollouts and ``Policy.act`` (microseconds, and one checkpointable generator per rank);
* :meth:`PdType.sample_stateless`: inside a graph with TensorFlow's stateless random ops, for the
  exported ``sample`` signature (the same seed and parameters give the same actions).

Both are tested against the tfp distribution of :meth:`PdType.pdfromflat`.

``Discrete`` and ``MultiDiscrete`` distributions can be masked (invalid-action masking): every
method that reads flat parameters takes an optional boolean ``mask`` of the flat logits' shape
(layout and checks in :mod:`baselines_tf2.common.masking`), so that invalid actions have
probability exactly 0: never sampled, never the mode, outside entropy and KL. Without a mask
(``None``, the default) nothing is added to the computation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf
from gymnasium import spaces

from baselines_tf2.common.masking import MASKED_LOGIT
from baselines_tf2.common.pd import BernoulliPd, CategoricalPd, DiagGaussianPd, MultiCategoricalPd, Pd

__all__ = [
    "BernoulliPdType",
    "CategoricalPdType",
    "DiagGaussianPdType",
    "MultiCategoricalPdType",
    "PdType",
    "make_pdtype",
]


class PdType:
    """Describes the distributions of one action space: flat-parameter size, sample shape and dtype."""

    maskable = False  # whether a mask of invalid actions applies (Discrete, MultiDiscrete)

    def pdfromflat(self, flat: tf.Tensor, mask: tf.Tensor | None = None) -> Pd:
        """Build the :class:`Pd` for a batch of flat parameters ``[batch, *param_shape()]``, masked by ``mask``."""
        raise NotImplementedError

    def mask_logits(self, flat: tf.Tensor, mask: tf.Tensor | None) -> tf.Tensor:
        """``flat`` with the logits of invalid actions (``mask`` False) set to ``MASKED_LOGIT``; ``flat`` if no mask.

        Raises:
            ValueError: a mask for a distribution that cannot be masked (``Box``, ``MultiBinary``).
        """
        if mask is None:
            return flat
        self._no_mask(None if self.maskable else mask)
        flat = tf.convert_to_tensor(flat)
        return tf.where(tf.cast(mask, tf.bool), flat, tf.constant(MASKED_LOGIT, flat.dtype))

    def param_shape(self) -> list[int]:
        """Shape of one flat parameter vector."""
        raise NotImplementedError

    def sample_shape(self) -> list[int]:
        """Shape of one action."""
        raise NotImplementedError

    def sample_dtype(self) -> tf.DType:
        """Dtype of actions."""
        raise NotImplementedError

    def sample_numpy(self, flat: np.ndarray, rng: np.random.Generator, mask: np.ndarray | None = None) -> np.ndarray:
        """One action per row of ``flat`` ``[batch, *param_shape()]``, drawn on the host with ``rng``.

        The rollouts' and ``Policy.act``'s only sampler: a NumPy draw costs microseconds where a
        TensorFlow call costs hundreds, and one seeded generator per rank is easy to checkpoint.
        Tested against the tfp distribution of :meth:`pdfromflat`. With ``mask``, only valid
        actions are drawn (each row needs one; see :func:`~baselines_tf2.common.masking.check_action_masks`).
        """
        raise NotImplementedError

    def mode_numpy(self, flat: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """The most likely (valid) action of each row (deterministic evaluation), as :meth:`Pd.mode`."""
        raise NotImplementedError

    def sample_stateless(self, flat: tf.Tensor, seed: tf.Tensor, mask: tf.Tensor | None = None) -> tf.Tensor:
        """One action per row of ``flat``, drawn in the graph by stateless ops from ``seed`` (int64 scalar).

        The same ``seed``, ``flat`` and ``mask`` give the same actions on every call (the exported
        ``sample`` signature); vary the seed between calls.
        """
        raise NotImplementedError

    def _no_mask(self, mask: Any) -> None:
        """Refuse a mask where none can apply."""
        if mask is not None:
            raise ValueError(f"{type(self).__name__} actions cannot be masked (only Discrete and MultiDiscrete)")


def _key(seed: tf.Tensor) -> tf.Tensor:
    """The ``[2]`` int64 key of TensorFlow's stateless random ops for an int64 scalar seed."""
    return tf.stack([tf.cast(seed, tf.int64), tf.constant(0, tf.int64)])


def _categorical_stateless(logits: tf.Tensor, key: tf.Tensor) -> tf.Tensor:
    return tf.cast(tf.random.stateless_categorical(logits, 1, key)[:, 0], tf.int32)


def _categorical_numpy(logits: np.ndarray, rng: np.random.Generator | None, mask: np.ndarray | None) -> np.ndarray:
    """Gumbel-max: ``argmax(logits + Gumbel noise)`` is an exact categorical draw; the mode without ``rng``.

    With ``mask`` the argmax runs over the valid actions only (invalid ones score -inf), an exact
    draw from the distribution renormalised over them. A valid action's noise is -inf only when its
    uniform draw is exactly 0 (probability 2^-53); it is raised to the lowest finite float so that
    even then no invalid action can win.
    """
    scores = logits if rng is None else logits - np.log(-np.log(rng.random(logits.shape)))
    if mask is not None:
        scores = np.where(mask, np.maximum(scores, _LOWEST), -np.inf)
    return scores.argmax(axis=-1).astype(np.int32)


_LOWEST = np.finfo(np.float64).min


class DiagGaussianPdType(PdType):
    def __init__(self, size: int) -> None:
        self.size = size

    def pdfromflat(self, flat: tf.Tensor, mask: tf.Tensor | None = None) -> DiagGaussianPd:
        return DiagGaussianPd(self.mask_logits(flat, mask))

    def param_shape(self) -> list[int]:
        return [2 * self.size]

    def sample_shape(self) -> list[int]:
        return [self.size]

    def sample_dtype(self) -> tf.DType:
        return tf.float32

    def sample_numpy(self, flat: np.ndarray, rng: np.random.Generator, mask: np.ndarray | None = None) -> np.ndarray:
        self._no_mask(mask)
        mean, logstd = flat[:, : self.size], flat[:, self.size :]
        return (mean + np.exp(logstd) * rng.standard_normal(mean.shape)).astype(np.float32)

    def mode_numpy(self, flat: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        self._no_mask(mask)
        return flat[:, : self.size].astype(np.float32)

    def sample_stateless(self, flat: tf.Tensor, seed: tf.Tensor, mask: tf.Tensor | None = None) -> tf.Tensor:
        mean, logstd = tf.split(self.mask_logits(flat, mask), 2, axis=-1)
        return mean + tf.exp(logstd) * tf.random.stateless_normal(tf.shape(mean), _key(seed))


class CategoricalPdType(PdType):
    maskable = True

    def __init__(self, ncat: int) -> None:
        self.ncat = ncat

    def pdfromflat(self, flat: tf.Tensor, mask: tf.Tensor | None = None) -> CategoricalPd:
        return CategoricalPd(self.mask_logits(flat, mask))

    def param_shape(self) -> list[int]:
        return [self.ncat]

    def sample_shape(self) -> list[int]:
        return []

    def sample_dtype(self) -> tf.DType:
        return tf.int32

    def sample_numpy(self, flat: np.ndarray, rng: np.random.Generator, mask: np.ndarray | None = None) -> np.ndarray:
        return _categorical_numpy(flat, rng, mask)

    def mode_numpy(self, flat: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        return _categorical_numpy(flat, None, mask)

    def sample_stateless(self, flat: tf.Tensor, seed: tf.Tensor, mask: tf.Tensor | None = None) -> tf.Tensor:
        return _categorical_stateless(self.mask_logits(flat, mask), _key(seed))


class MultiCategoricalPdType(PdType):
    maskable = True

    def __init__(self, nvec: np.ndarray) -> None:
        self.nvec = np.asarray(nvec, dtype=np.int64).ravel()

    def pdfromflat(self, flat: tf.Tensor, mask: tf.Tensor | None = None) -> MultiCategoricalPd:
        return MultiCategoricalPd(self.nvec, self.mask_logits(flat, mask))

    def param_shape(self) -> list[int]:
        return [int(self.nvec.sum())]

    def sample_shape(self) -> list[int]:
        return [len(self.nvec)]

    def sample_dtype(self) -> tf.DType:
        return tf.int32

    def sample_numpy(
        self, flat: np.ndarray, rng: np.random.Generator | None, mask: np.ndarray | None = None
    ) -> np.ndarray:
        splits = np.cumsum(self.nvec)[:-1]
        parts = np.split(flat, splits, axis=-1)
        masks = [None] * len(parts) if mask is None else np.split(mask, splits, axis=-1)
        return np.stack([_categorical_numpy(p, rng, m) for p, m in zip(parts, masks)], axis=-1)

    def mode_numpy(self, flat: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        return self.sample_numpy(flat, None, mask)

    def sample_stateless(self, flat: tf.Tensor, seed: tf.Tensor, mask: tf.Tensor | None = None) -> tf.Tensor:
        keys = tf.random.experimental.stateless_split(_key(seed), num=len(self.nvec))
        parts = tf.split(self.mask_logits(flat, mask), [int(n) for n in self.nvec], axis=-1)
        return tf.stack([_categorical_stateless(logits, keys[i]) for i, logits in enumerate(parts)], axis=-1)


class BernoulliPdType(PdType):
    def __init__(self, size: int) -> None:
        self.size = size

    def pdfromflat(self, flat: tf.Tensor, mask: tf.Tensor | None = None) -> BernoulliPd:
        return BernoulliPd(self.mask_logits(flat, mask))

    def param_shape(self) -> list[int]:
        return [self.size]

    def sample_shape(self) -> list[int]:
        return [self.size]

    def sample_dtype(self) -> tf.DType:
        return tf.int32

    def sample_numpy(self, flat: np.ndarray, rng: np.random.Generator, mask: np.ndarray | None = None) -> np.ndarray:
        self._no_mask(mask)
        return (rng.random(flat.shape) < 1.0 / (1.0 + np.exp(-flat))).astype(np.int32)

    def mode_numpy(self, flat: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        self._no_mask(mask)
        return (flat > 0).astype(np.int32)

    def sample_stateless(self, flat: tf.Tensor, seed: tf.Tensor, mask: tf.Tensor | None = None) -> tf.Tensor:
        flat = self.mask_logits(flat, mask)
        uniform = tf.random.stateless_uniform(tf.shape(flat), _key(seed))
        return tf.cast(uniform < tf.sigmoid(flat), tf.int32)


def make_pdtype(space: spaces.Space) -> PdType:
    """The :class:`PdType` for a gymnasium action space.

    Raises:
        ValueError: for spaces other than 1-D ``Box``, ``Discrete``, 1-D ``MultiDiscrete`` and
            1-D ``MultiBinary``, naming the space.
    """
    if isinstance(space, spaces.Box) and len(space.shape) == 1:
        return DiagGaussianPdType(space.shape[0])
    if isinstance(space, spaces.Discrete):
        if int(space.start) != 0:
            raise ValueError(f"Discrete action space with start={space.start} is not supported: {space}")
        return CategoricalPdType(int(space.n))
    if isinstance(space, spaces.MultiDiscrete) and len(space.nvec.shape) == 1:
        if np.any(space.start != 0):
            raise ValueError(f"MultiDiscrete action space with non-zero start is not supported: {space}")
        return MultiCategoricalPdType(space.nvec)
    if isinstance(space, spaces.MultiBinary) and isinstance(space.n, (int, np.integer)):
        return BernoulliPdType(int(space.n))
    raise ValueError(f"no action distribution for space {space!r}")
