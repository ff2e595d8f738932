"""PPO1's MLP policy (Baselines ``ppo1/mlp_policy.py``); see :mod:`baselines_tf2.common.policies`."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from gymnasium import spaces

from baselines_tf2.common.actors import Actor, NumpyMlpActor
from baselines_tf2.common.layers import Dense, check_init
from baselines_tf2.common.policy_base import OBS_CLIP, ActionHead, Policy, hidden_scale, normalize_flat, tanh_mlp
from baselines_tf2.common.running_mean_std import RunningMeanStd

__all__ = ["MlpPolicy"]


class MlpPolicy(Policy):
    """PPO1's MLP policy: separate ``num_hid_layers`` x ``hid_size`` tanh networks for pi and V.

    Args:
        ob_space: ``Box`` observations (flattened after normalisation).
        ac_space: any space :func:`make_pdtype` supports.
        hid_size: width of each hidden layer.
        num_hid_layers: hidden layers in each network.
        gaussian_fixed_var: for ``Box`` actions, a state-independent learned log-std (the paper's
            choice) instead of a log-std output of the network.
        init: ``"ppo1"`` or ``"orthogonal"`` (see the module docstring).
    """

    jit_compile = True

    def __init__(
        self,
        ob_space: spaces.Space,
        ac_space: spaces.Space,
        hid_size: int = 64,
        num_hid_layers: int = 2,
        gaussian_fixed_var: bool = True,
        name: str = "pi",
        *,
        init: str = "ppo1",
    ) -> None:
        check_init(init)
        super().__init__(ob_space, ac_space, tf.float32, name)
        shape = tuple(ob_space.shape or ())
        self.ob_rms = RunningMeanStd(shape=shape, name="ob_rms")
        self.hid_size, self.num_hid_layers, self.init = hid_size, num_hid_layers, init
        in_dim = int(np.prod(shape))
        widths = [in_dim] + [hid_size] * num_hid_layers
        pairs = list(enumerate(zip(widths, widths[1:])))
        hidden = hidden_scale(init)
        self.vf_hidden = [Dense(a, b, hidden, name=f"vf_fc{i + 1}", init=init) for i, (a, b) in pairs]
        self.vf_final = Dense(widths[-1], 1, 1.0, name="vf_final", init=init)
        self.pol_hidden = [Dense(a, b, hidden, name=f"pol_fc{i + 1}", init=init) for i, (a, b) in pairs]
        self.pol_head = ActionHead(widths[-1], self.pdtype, gaussian_fixed_var, init)

    def make_actor(self, rng: np.random.Generator) -> Actor:
        """A NumPy mirror of this network (~6 us a step where a TF call costs ~250 us)."""
        return NumpyMlpActor(self, rng)

    def numpy_snapshot(self) -> dict:
        """The weights and normaliser as NumPy arrays, for :class:`~baselines_tf2.common.actors.NumpyMlpActor`."""
        rms = self._normaliser()
        return {
            "mean": rms.mean.numpy(),
            "std": rms.std.numpy(),
            "clip": OBS_CLIP,
            "vf_layers": [(layer.w.numpy(), layer.b.numpy()) for layer in [*self.vf_hidden, self.vf_final]],
            "pol_layers": [(layer.w.numpy(), layer.b.numpy()) for layer in [*self.pol_hidden, self.pol_head.dense]],
            "logstd": None if self.pol_head.logstd is None else self.pol_head.logstd.numpy(),
        }

    def _normaliser(self) -> RunningMeanStd:
        assert isinstance(self.ob_rms, RunningMeanStd)  # an MlpPolicy always has one
        return self.ob_rms

    def normalize(self, ob: tf.Tensor) -> tf.Tensor:
        """``clip((ob - mean) / std, -5, 5)`` flattened to ``[batch, prod(ob_shape)]``."""
        return normalize_flat(ob, self._normaliser())

    def forward(self, ob: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        obz = self.normalize(ob)
        vpred = tanh_mlp(obz, self.vf_hidden)
        vpred = self.vf_final(vpred)[:, 0]
        pdparam = self.pol_head(tanh_mlp(obz, self.pol_hidden))
        return pdparam, vpred
