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

The ``Pd`` classes live in :mod:`~baselines_tf2.common.pd` (pure TF ops, safe inside ``tf.function``),
the ``PdType`` classes and their samplers in :mod:`~baselines_tf2.common.pdtype`; this module is
their public home, as Baselines' ``distributions.py`` was.
"""

from baselines_tf2.common.pd import BernoulliPd, CategoricalPd, DiagGaussianPd, MultiCategoricalPd, Pd
from baselines_tf2.common.pdtype import (
    BernoulliPdType,
    CategoricalPdType,
    DiagGaussianPdType,
    MultiCategoricalPdType,
    PdType,
    make_pdtype,
)

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
