"""Cheap acting for rollouts: the policy's forward pass and action sampling on the host.

A TensorFlow call costs ~200-300 us however small, while a NumPy forward pass of the 64-64 MLP
costs ~6 us; at one call per environment step the former would dominate a MuJoCo rollout. So the
rollout acts through an *actor*:

* :class:`NumpyMlpActor` mirrors :class:`~baselines_tf2.common.policies.MlpPolicy` in NumPy (same
  normalisation, clipping, layers and heads), from a snapshot of the weights that
  :meth:`Actor.refresh` retakes after every update;
* :class:`TfActor` calls the policy's compiled forward pass once per step for all env copies
  (CNNs, where the network, not the call, is the cost).

Both sample actions on the host with a NumPy ``Generator``, so one seeded generator per rank
holds all rollout randomness and can be checkpointed. Sampling follows the same distributions as
:mod:`baselines_tf2.common.distributions` (tested against them).
"""

from __future__ import annotations

import numpy as np

from baselines_tf2.common.distributions import (
    BernoulliPdType,
    CategoricalPdType,
    DiagGaussianPdType,
    MultiCategoricalPdType,
    PdType,
)
from baselines_tf2.common.policies import OBS_CLIP, MlpPolicy, Policy

__all__ = ["Actor", "NumpyMlpActor", "TfActor", "make_actor", "select_actions"]


def _categorical(logits: np.ndarray, rng: np.random.Generator, stochastic: bool) -> np.ndarray:
    if not stochastic:
        return logits.argmax(axis=-1).astype(np.int32)
    gumbel = -np.log(-np.log(rng.random(logits.shape)))  # Gumbel-max: exact categorical sampling
    return (logits + gumbel).argmax(axis=-1).astype(np.int32)


def select_actions(pdtype: PdType, flat: np.ndarray, rng: np.random.Generator, stochastic: bool) -> np.ndarray:
    """A sample (or the mode) of each row's distribution, from flat parameters ``[batch, param]``."""
    if isinstance(pdtype, DiagGaussianPdType):
        mean, logstd = np.split(flat, 2, axis=-1)
        if not stochastic:
            return mean.astype(np.float32)
        return (mean + np.exp(logstd) * rng.standard_normal(mean.shape)).astype(np.float32)
    if isinstance(pdtype, CategoricalPdType):
        return _categorical(flat, rng, stochastic)
    if isinstance(pdtype, MultiCategoricalPdType):
        parts = np.split(flat, np.cumsum(pdtype.nvec)[:-1], axis=-1)
        return np.stack([_categorical(p, rng, stochastic) for p in parts], axis=-1)
    if isinstance(pdtype, BernoulliPdType):
        if not stochastic:
            return (flat > 0).astype(np.int32)
        return (rng.random(flat.shape) < 1.0 / (1.0 + np.exp(-flat))).astype(np.int32)
    raise TypeError(f"no host sampler for {type(pdtype).__name__}")


class Actor:
    """Acts for a batch of observations (one per env copy) without touching TF's per-call cost."""

    def __init__(self, policy: Policy, rng: np.random.Generator) -> None:
        self.policy = policy
        self.pdtype = policy.pdtype
        self.rng = rng
        self.refresh()

    def refresh(self) -> None:
        """Re-read whatever the actor caches from the policy (call after every update)."""

    def forward(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Flat distribution parameters ``[n, param]`` and values ``[n]``."""
        raise NotImplementedError

    def step(self, obs: np.ndarray, stochastic: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Actions ``[n, *sample_shape]`` and value estimates ``[n]``."""
        flat, vpred = self.forward(obs)
        return select_actions(self.pdtype, flat, self.rng, stochastic), vpred

    def value(self, obs: np.ndarray) -> np.ndarray:
        """Value estimates ``[n]``."""
        return self.forward(obs)[1]


class TfActor(Actor):
    """One compiled forward call per step, sampling on the host."""

    def forward(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.policy.forward_numpy(obs)


class NumpyMlpActor(Actor):
    """:class:`MlpPolicy`'s forward pass in NumPy float32, from a weight snapshot.

    The value and policy networks are evaluated side by side as one wider network: the first
    layers' kernels are concatenated, deeper layers are block-diagonal, and one output matrix
    produces ``[vpred, flat params]``. Same math, a third of the NumPy calls.
    """

    policy: MlpPolicy

    def refresh(self) -> None:
        pi = self.policy
        self.mean = pi.ob_rms.mean.numpy().reshape(-1)
        self.inv_std = 1.0 / pi.ob_rms.std.numpy().reshape(-1)
        vf = [(layer.w.numpy(), layer.b.numpy()) for layer in [*pi.vf_hidden, pi.vf_final]]
        pol = [(layer.w.numpy(), layer.b.numpy()) for layer in [*pi.pol_hidden, pi.pol_head.dense]]
        self.layers = [_side_by_side(v, p, first=i == 0) for i, (v, p) in enumerate(zip(vf, pol))]
        self.logstd = None if pi.pol_head.logstd is None else pi.pol_head.logstd.numpy()
        self.std = None if self.logstd is None else np.exp(self.logstd)

    def _outputs(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``vpred [n]`` and the policy head's output ``[n, head]`` (the mean, for a fixed log-std)."""
        x = (np.asarray(obs, dtype=np.float32).reshape(len(obs), -1) - self.mean) * self.inv_std
        h = np.clip(x, -OBS_CLIP, OBS_CLIP, out=x)
        for w, b in self.layers[:-1]:
            h = np.tanh(h @ w + b)
        w, b = self.layers[-1]
        out = h @ w + b
        return out[:, 0], out[:, 1:]

    def forward(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        vpred, flat = self._outputs(obs)
        if self.logstd is not None:
            flat = np.concatenate([flat, np.broadcast_to(self.logstd, flat.shape)], axis=-1)
        return flat, vpred

    def step(self, obs: np.ndarray, stochastic: bool = True) -> tuple[np.ndarray, np.ndarray]:
        if self.logstd is None:
            return super().step(obs, stochastic)
        vpred, mean = self._outputs(obs)  # Gaussian with a state-independent std: skip the flat layout
        if not stochastic:
            return mean, vpred
        return (mean + self.std * self.rng.standard_normal(mean.shape)).astype(np.float32), vpred

    def value(self, obs: np.ndarray) -> np.ndarray:
        return self._outputs(obs)[0]


def _side_by_side(vf: tuple[np.ndarray, np.ndarray], pol: tuple[np.ndarray, np.ndarray], first: bool) -> tuple[np.ndarray, np.ndarray]:
    """One layer computing ``[vf layer | pol layer]``: shared input if ``first``, else block-diagonal."""
    (wv, bv), (wp, bp) = vf, pol
    if first:
        w = np.concatenate([wv, wp], axis=1)
    else:
        w = np.zeros((wv.shape[0] + wp.shape[0], wv.shape[1] + wp.shape[1]), np.float32)
        w[: wv.shape[0], : wv.shape[1]] = wv
        w[wv.shape[0] :, wv.shape[1] :] = wp
    return w, np.concatenate([bv, bp])


def make_actor(policy: Policy, rng: np.random.Generator) -> Actor:
    """The fastest actor for ``policy``: NumPy for MLPs, one TF call per step otherwise."""
    return NumpyMlpActor(policy, rng) if isinstance(policy, MlpPolicy) else TfActor(policy, rng)
