"""One policy-gradient step: the compiled gradient of :func:`pg_loss` (+ value loss), MpiAdam's step.

Batches differ in size from one iteration to the next (whole episodes), so the gradient is a
``tf.function`` with a ``None`` batch dimension and no XLA (which would recompile per size).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from baselines_tf2.common.mpi_adam import MpiAdam
from baselines_tf2.common.policies import Policy
from baselines_tf2.common.tf_util import flatgrad
from baselines_tf2.pg.losses import pg_loss

__all__ = ["PG_METRICS", "PGUpdater"]

PG_METRICS = ("policy_loss", "value_loss", "policy_entropy")


class PGUpdater:
    """Gradient steps for the vanilla policy gradient.

    Args:
        policy, optimizer: the policy and an :class:`MpiAdam` over its trainable variables.
        vf_coef: weight of the value loss ``mean((V - vtarg)^2)``; 0 leaves the value network alone.
        masked: batches carry action masks (``batch["mask"]``, bool ``[n, param]``), applied to pi and pi_old.
    """

    def __init__(self, policy: Policy, optimizer: MpiAdam, *, vf_coef: float, masked: bool = False) -> None:
        self.policy, self.optimizer, self.vf_coef = policy, optimizer, float(vf_coef)
        self.masked = bool(masked)
        per_sample = tf.TensorSpec([None], tf.float32)
        mask = [tf.TensorSpec(policy.pdparam_spec.shape, tf.bool)] if masked else []
        grad_specs = [policy.ob_spec, policy.ac_spec, per_sample, per_sample, *mask]
        self._grad_fn = tf.function(self._grad, input_signature=grad_specs, autograph=False)
        kl_specs = [policy.ob_spec, policy.pdparam_spec, *mask]
        self._kl_fn = tf.function(self._kl, input_signature=kl_specs, autograph=False)

    def _grad(self, ob, ac, weights, vtarg, mask=None):
        with tf.GradientTape() as tape:
            pdparam, vpred = self.policy.forward(ob)
            pd = self.policy.pdtype.pdfromflat(pdparam, mask)
            pol_loss = pg_loss(pd, ac, weights)
            vf_loss = tf.reduce_mean(tf.square(vpred - vtarg))
            loss = pol_loss + self.vf_coef * vf_loss
        grads = tape.gradient(loss, self.optimizer.var_list)
        return flatgrad(grads, self.optimizer.var_list), tf.stack([pol_loss, vf_loss, tf.reduce_mean(pd.entropy())])

    def _kl(self, ob, oldpdparam, mask=None):
        pd = self.policy.pdtype.pdfromflat(self.policy.forward(ob)[0], mask)
        return tf.reduce_mean(self.policy.pdtype.pdfromflat(oldpdparam, mask).kl(pd))

    def step(self, batch: dict[str, np.ndarray], stepsize: float) -> dict[str, Any]:
        """One Adam step on the whole batch (gradient averaged over ranks); metrics before the step,
        plus ``meankl``, the mean KL[pi_old || pi] the step caused."""
        oldpdparam, _ = self.policy.forward_numpy(batch["ob"])
        mask = [batch["mask"]] if self.masked else []
        g, metrics = self._grad_fn(batch["ob"], batch["ac"], batch["weights"], batch["vtarg"], *mask)
        self.optimizer.update(g.numpy(), stepsize)
        values = dict(zip(PG_METRICS, metrics.numpy().tolist()))
        values["meankl"] = float(self._kl_fn(batch["ob"], oldpdparam.astype(np.float32), *mask))
        return values
