"""PPO's own training state, checkpointed beside the run's (:class:`~baselines_tf2.train.training.TrainingRun`)."""

from __future__ import annotations

import tensorflow as tf

__all__ = ["PPOState"]


class PPOState(tf.Module):
    """The KL penalty's beta: fixed (``loss="fixed_kl"``) or adapted after each update (``"adaptive_kl"``).

    The updater reads the variable at every step, so an adapted beta takes effect without retracing.
    """

    # Before this module existed the run's TrainState held beta: older checkpoints resume with theirs.
    legacy = {"kl_beta": "state/kl_beta"}

    def __init__(self, kl_beta: float) -> None:
        super().__init__(name="ppo_state")
        self.kl_beta = tf.Variable(float(kl_beta), dtype=tf.float32, trainable=False, name="kl_beta")
