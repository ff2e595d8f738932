"""The distributions of a batch of actions (Baselines' ``Pd`` classes), on tensorflow-probability.

Each is built from flat parameters ``[batch, param]`` in Baselines' layouts (see
:mod:`baselines_tf2.common.distributions`) and answers ``mode / sample / logp / neglogp / kl /
entropy``, summed over action dimensions. All are pure TF ops, safe inside ``tf.function``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

__all__ = ["BernoulliPd", "CategoricalPd", "DiagGaussianPd", "MultiCategoricalPd", "Pd"]

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
