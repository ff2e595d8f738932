"""The vanilla policy gradient's own training state, checkpointed beside the run's."""

from __future__ import annotations

import tensorflow as tf

__all__ = ["PGState"]


class PGState(tf.Module):
    """The adaptive step size's factor (``desired_kl > 0``): the step size is ``optim_stepsize * stepsize_mult``."""

    def __init__(self) -> None:
        super().__init__(name="pg_state")
        self.stepsize_mult = tf.Variable(1.0, dtype=tf.float64, trainable=False, name="stepsize_mult")
