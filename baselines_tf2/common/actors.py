"""Cheap acting for rollouts: the policy's forward pass and action sampling on the host.

A TensorFlow call costs ~200-300 us however small, while a NumPy forward pass of the 64-64 MLP
costs ~6 us; at one call per environment step the former would dominate a MuJoCo rollout. So the
rollout acts through an *actor*:

* :class:`NumpyMlpActor` mirrors :class:`~baselines_tf2.common.policies.MlpPolicy` in NumPy (same
  normalisation, clipping, layers and heads), from the policy's ``numpy_snapshot()`` of its weights,
  which :meth:`Actor.refresh` retakes after every update;
* :class:`TfActor` calls the policy's compiled forward pass once per step for all env copies
  (CNNs, where the network, not the call, is the cost).

Both sample actions on the host with the action distribution's own NumPy sampler
(:meth:`PdType.sample_numpy <baselines_tf2.common.distributions.PdType.sample_numpy>`) and one
seeded ``Generator`` per rank, which holds all rollout randomness and is checkpointed. Given the
env copies' action masks, they apply them to the flat logits before sampling (or taking the mode).
``Policy.act`` goes through the same actor, so there is one acting path. Each policy class builds its
own actor (``policy.make_actor(rng)``); this module knows policies only by that interface, so it
imports none of them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Actor", "NumpyMlpActor", "TfActor", "make_actor"]


class Actor:
    """Acts for a batch of observations (one per env copy) without touching TF's per-call cost."""

    def __init__(self, policy: Any, rng: np.random.Generator) -> None:
        self.policy = policy
        self.pdtype = policy.pdtype
        self.rng = rng
        self.refresh()

    def refresh(self) -> None:
        """Re-read whatever the actor caches from the policy (call after every update)."""

    def forward(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Flat distribution parameters ``[n, param]`` and values ``[n]``."""
        raise NotImplementedError

    def step(
        self, obs: np.ndarray, stochastic: bool = True, mask: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Actions ``[n, *sample_shape]`` and value estimates ``[n]``; valid actions only with ``mask`` ``[n, param]``."""
        actions, vpred, _ = self.step_with_params(obs, stochastic, mask)
        return actions, vpred

    def step_with_params(
        self, obs: np.ndarray, stochastic: bool = True, mask: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Actions, value estimates and the flat distribution parameters ``[n, param]`` they came from.

        The parameters are the network's, unmasked: the learners apply the recorded ``mask`` again.
        """
        flat, vpred = self.forward(obs)
        pdtype = self.pdtype
        actions = pdtype.sample_numpy(flat, self.rng, mask) if stochastic else pdtype.mode_numpy(flat, mask)
        return actions, vpred, flat

    def value(self, obs: np.ndarray) -> np.ndarray:
        """Value estimates ``[n]``."""
        return self.forward(obs)[1]

    def final_value(self, obs: np.ndarray, copies: list[int]) -> np.ndarray:
        """Value estimates of the final observations of env copies ``copies`` (episodes cut by a time limit).

        The same as :meth:`value` unless the actor carries a state per copy.
        """
        return self.value(obs)

    def end_episodes(self, dones: np.ndarray) -> None:
        """Told which copies' episodes ended at the last step (``[n]`` bool); a recurrent actor resets their state."""


class TfActor(Actor):
    """One compiled forward call per step, sampling on the host."""

    def forward(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.policy.forward_numpy(obs)


class NumpyMlpActor(Actor):
    """:class:`MlpPolicy`'s forward pass in NumPy float32, from a weight snapshot.

    The value and policy networks are evaluated side by side as one wider network: the first
    layers' kernels are concatenated, deeper layers are block-diagonal, and one output matrix
    produces ``[vpred, flat params]`` (a state-independent log-std as constant outputs). Same
    math, a third of the NumPy calls.
    """

    def refresh(self) -> None:
        snap = self.policy.numpy_snapshot()
        self.mean = snap["mean"].reshape(-1).astype(np.float32)
        self.inv_std = (1.0 / snap["std"].reshape(-1)).astype(np.float32)
        self.clip = snap["clip"]
        vf, pol = snap["vf_layers"], snap["pol_layers"]
        self.layers = [_side_by_side(v, p, first=i == 0) for i, (v, p) in enumerate(zip(vf, pol))]
        if snap["logstd"] is not None:
            # A state-independent log-std is an output with zero weights and the log-std as bias.
            w, b = self.layers[-1]
            logstd = snap["logstd"]
            zeros = np.zeros((w.shape[0], len(logstd)), np.float32)
            self.layers[-1] = (np.concatenate([w, zeros], axis=1), np.concatenate([b, logstd]))

    def forward(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = np.subtract(np.asarray(obs).reshape(len(obs), -1), self.mean, dtype=np.float32)
        x *= self.inv_std
        h = np.minimum(np.maximum(x, -self.clip, out=x), self.clip, out=x)  # np.clip's wrapper costs ~10x more
        for w, b in self.layers[:-1]:
            h = h @ w
            h += b
            h = np.tanh(h, out=h)
        w, b = self.layers[-1]
        out = h @ w
        out += b
        return out[:, 1:], out[:, 0]


def _side_by_side(
    vf: tuple[np.ndarray, np.ndarray], pol: tuple[np.ndarray, np.ndarray], first: bool
) -> tuple[np.ndarray, np.ndarray]:
    """One layer computing ``[vf layer | pol layer]``: shared input if ``first``, else block-diagonal."""
    (wv, bv), (wp, bp) = vf, pol
    if first:
        w = np.concatenate([wv, wp], axis=1)
    else:
        w = np.zeros((wv.shape[0] + wp.shape[0], wv.shape[1] + wp.shape[1]), np.float32)
        w[: wv.shape[0], : wv.shape[1]] = wv
        w[wv.shape[0] :, wv.shape[1] :] = wp
    return w, np.concatenate([bv, bp])


def make_actor(policy: Any, rng: np.random.Generator) -> Actor:
    """The fastest actor for ``policy``, as its class builds it (NumPy for MLPs, one TF call per step otherwise)."""
    return policy.make_actor(rng)
