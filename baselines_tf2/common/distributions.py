"""Action distributions with Baselines' interface, built on tensorflow-probability.

A policy network outputs a flat parameter vector per observation; its :class:`PdType` turns that
into a :class:`Pd` exposing ``mode / sample / logp / neglogp / kl / entropy`` (Baselines' names).
Everything is batch-first, and ``logp / neglogp / kl / entropy`` are summed over action
dimensions, so each returns shape ``[batch]``. The math is tfp's; this module only fixes the flat
layouts (those of Baselines, so flat parameters are interchangeable):

======================  ==========================================  =================
space                   flat parameters ``[batch, param_shape]``    sample
======================  ==========================================  =================
``Box(d)``              ``concat([mean, logstd], -1)`` (2d)         float32 ``[B, d]``
``Discrete(n)``         logits (n)                                  int32 ``[B]``
``MultiDiscrete(nvec)``  logits of each component, in ``nvec`` order  int32 ``[B, k]``
``MultiBinary(n)``      logits (n)                                  int32 ``[B, n]``
======================  ==========================================  =================

All methods are pure TF ops, safe inside ``tf.function``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
from gymnasium import spaces

__all__ = [
    "BernoulliPd",
    "BernoulliPdType",
    "CategoricalPd",
    "CategoricalPdType",
    "DiagGaussianPd",
    "DiagGaussianPdType",
    "MultiCategoricalPd",
    "MultiCategoricalPdType",
    "Pd",
    "PdType",
    "make_pdtype",
]

tfd = tfp.distributions


class Pd:
    """A batch of action distributions over one action space."""

    def __init__(self, flat: tf.Tensor, dist: Any) -> None:  # a tfp distribution
        self._flat = flat
        self.dist = dist

    def flatparam(self) -> tf.Tensor:
        """The flat parameters this distribution was built from, ``[batch, param_shape]``."""
        return self._flat

    def mode(self) -> tf.Tensor:
        """Most likely action (the mean for a Gaussian), ``[batch, *sample_shape]``."""
        return self.dist.mode()

    def sample(self) -> tf.Tensor:
        """One random action per batch element, ``[batch, *sample_shape]``."""
        return self.dist.sample()

    def logp(self, x: tf.Tensor) -> tf.Tensor:
        """log pi(x), summed over action dimensions, ``[batch]``."""
        return self.dist.log_prob(x)

    def neglogp(self, x: tf.Tensor) -> tf.Tensor:
        """-log pi(x), ``[batch]`` (Baselines stores this for the PPO ratio)."""
        return -self.logp(x)

    def kl(self, other: Pd) -> tf.Tensor:
        """KL[self || other] per batch element, ``[batch]``."""
        return tfd.kl_divergence(self.dist, other.dist)

    def entropy(self) -> tf.Tensor:
        """Entropy per batch element, ``[batch]``."""
        return self.dist.entropy()


class DiagGaussianPd(Pd):
    """Diagonal Gaussian; flat = ``concat([mean, logstd], -1)``."""

    def __init__(self, flat: tf.Tensor) -> None:
        mean, logstd = tf.split(flat, 2, axis=-1)
        self.mean, self.logstd = mean, logstd
        super().__init__(flat, tfd.Independent(tfd.Normal(mean, tf.exp(logstd)), reinterpreted_batch_ndims=1))


class CategoricalPd(Pd):
    """Categorical over ``n`` actions; flat = logits."""

    def __init__(self, flat: tf.Tensor) -> None:
        self.logits = flat
        super().__init__(flat, tfd.Categorical(logits=flat, dtype=tf.int32))


class BernoulliPd(Pd):
    """Independent Bernoulli per dimension; flat = logits."""

    def __init__(self, flat: tf.Tensor) -> None:
        self.logits = flat
        super().__init__(flat, tfd.Independent(tfd.Bernoulli(logits=flat, dtype=tf.int32), reinterpreted_batch_ndims=1))

    def logp(self, x: tf.Tensor) -> tf.Tensor:
        return self.dist.log_prob(tf.cast(x, tf.int32))


class MultiCategoricalPd(Pd):
    """Independent categoricals, one per ``MultiDiscrete`` component; flat = their logits concatenated.

    tfp has no product of categoricals with different sizes, so this keeps one :class:`CategoricalPd`
    per component (``categoricals``) and sums their log-probabilities, KLs and entropies.
    """

    def __init__(self, nvec: np.ndarray, flat: tf.Tensor) -> None:
        self._flat = flat
        self.nvec = nvec
        self.categoricals = [CategoricalPd(logits) for logits in tf.split(flat, [int(n) for n in nvec], axis=-1)]

    def mode(self) -> tf.Tensor:
        return tf.stack([p.mode() for p in self.categoricals], axis=-1)

    def sample(self) -> tf.Tensor:
        return tf.stack([p.sample() for p in self.categoricals], axis=-1)

    def logp(self, x: tf.Tensor) -> tf.Tensor:
        components = tf.unstack(tf.cast(x, tf.int32), num=len(self.categoricals), axis=-1)
        return tf.add_n([p.logp(xi) for p, xi in zip(self.categoricals, components)])

    def kl(self, other: Pd) -> tf.Tensor:
        if not isinstance(other, MultiCategoricalPd):
            raise TypeError(f"KL between MultiCategoricalPd and {type(other).__name__} is undefined")
        return tf.add_n([p.kl(q) for p, q in zip(self.categoricals, other.categoricals)])

    def entropy(self) -> tf.Tensor:
        return tf.add_n([p.entropy() for p in self.categoricals])


class PdType:
    """Describes the distributions of one action space: flat-parameter size, sample shape and dtype."""

    def pdfromflat(self, flat: tf.Tensor) -> Pd:
        """Build the :class:`Pd` for a batch of flat parameters ``[batch, *param_shape()]``."""
        raise NotImplementedError

    def param_shape(self) -> list[int]:
        """Shape of one flat parameter vector."""
        raise NotImplementedError

    def sample_shape(self) -> list[int]:
        """Shape of one action."""
        raise NotImplementedError

    def sample_dtype(self) -> tf.DType:
        """Dtype of actions."""
        raise NotImplementedError

    def sample_numpy(self, flat: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One action per row of ``flat`` ``[batch, *param_shape()]``, drawn on the host with ``rng``.

        The rollouts' and ``Policy.act``'s only sampler: a NumPy draw costs microseconds where a
        TensorFlow call costs hundreds, and one seeded generator per rank is easy to checkpoint.
        Tested against the tfp distribution of :meth:`pdfromflat`.
        """
        raise NotImplementedError

    def mode_numpy(self, flat: np.ndarray) -> np.ndarray:
        """The most likely action of each row (deterministic evaluation), as :meth:`Pd.mode`."""
        raise NotImplementedError


def _categorical_numpy(logits: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
    """Gumbel-max: ``argmax(logits + Gumbel noise)`` is an exact categorical draw; the mode without ``rng``."""
    if rng is None:
        return logits.argmax(axis=-1).astype(np.int32)
    return (logits - np.log(-np.log(rng.random(logits.shape)))).argmax(axis=-1).astype(np.int32)


class DiagGaussianPdType(PdType):
    def __init__(self, size: int) -> None:
        self.size = size

    def pdfromflat(self, flat: tf.Tensor) -> DiagGaussianPd:
        return DiagGaussianPd(flat)

    def param_shape(self) -> list[int]:
        return [2 * self.size]

    def sample_shape(self) -> list[int]:
        return [self.size]

    def sample_dtype(self) -> tf.DType:
        return tf.float32

    def sample_numpy(self, flat: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        mean, logstd = flat[:, : self.size], flat[:, self.size :]
        return (mean + np.exp(logstd) * rng.standard_normal(mean.shape)).astype(np.float32)

    def mode_numpy(self, flat: np.ndarray) -> np.ndarray:
        return flat[:, : self.size].astype(np.float32)


class CategoricalPdType(PdType):
    def __init__(self, ncat: int) -> None:
        self.ncat = ncat

    def pdfromflat(self, flat: tf.Tensor) -> CategoricalPd:
        return CategoricalPd(flat)

    def param_shape(self) -> list[int]:
        return [self.ncat]

    def sample_shape(self) -> list[int]:
        return []

    def sample_dtype(self) -> tf.DType:
        return tf.int32

    def sample_numpy(self, flat: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return _categorical_numpy(flat, rng)

    def mode_numpy(self, flat: np.ndarray) -> np.ndarray:
        return _categorical_numpy(flat, None)


class MultiCategoricalPdType(PdType):
    def __init__(self, nvec: np.ndarray) -> None:
        self.nvec = np.asarray(nvec, dtype=np.int64).ravel()

    def pdfromflat(self, flat: tf.Tensor) -> MultiCategoricalPd:
        return MultiCategoricalPd(self.nvec, flat)

    def param_shape(self) -> list[int]:
        return [int(self.nvec.sum())]

    def sample_shape(self) -> list[int]:
        return [len(self.nvec)]

    def sample_dtype(self) -> tf.DType:
        return tf.int32

    def sample_numpy(self, flat: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
        parts = np.split(flat, np.cumsum(self.nvec)[:-1], axis=-1)
        return np.stack([_categorical_numpy(p, rng) for p in parts], axis=-1)

    def mode_numpy(self, flat: np.ndarray) -> np.ndarray:
        return self.sample_numpy(flat, None)


class BernoulliPdType(PdType):
    def __init__(self, size: int) -> None:
        self.size = size

    def pdfromflat(self, flat: tf.Tensor) -> BernoulliPd:
        return BernoulliPd(flat)

    def param_shape(self) -> list[int]:
        return [self.size]

    def sample_shape(self) -> list[int]:
        return [self.size]

    def sample_dtype(self) -> tf.DType:
        return tf.int32

    def sample_numpy(self, flat: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return (rng.random(flat.shape) < 1.0 / (1.0 + np.exp(-flat))).astype(np.int32)

    def mode_numpy(self, flat: np.ndarray) -> np.ndarray:
        return (flat > 0).astype(np.int32)


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
