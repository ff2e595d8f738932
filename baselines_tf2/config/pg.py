"""The vanilla policy gradient's settings (``pg.learn``, ``--alg pg``)."""

from __future__ import annotations

from dataclasses import dataclass

from baselines_tf2.config.fields import PG_WEIGHTS, setting
from baselines_tf2.config.validation import non_negative, one_of, positive_int, positive_schedule, unit_interval
from baselines_tf2.errors import ConfigError
from baselines_tf2.schedules import Schedule


@dataclass
class PGConfig:
    """The vanilla policy gradient's settings (``--alg pg``)."""

    batch_size: int = setting(5000, "minimum steps per gradient step (whole episodes; unfinished ones are dropped)")
    pg_weight: str = setting(
        "reward_to_go",
        "the weight of grad log pi: return (R(tau)), reward_to_go (discounted by gamma) or gae (normalised "
        "GAE advantages, with a value network trained alongside)",
        PG_WEIGHTS,
    )
    optim_stepsize: Schedule = setting(
        1e-2, "Adam step size (a constant, or in Python a callable of the fraction left)"
    )
    gamma: float = setting(1.0, "[gamma] discount of the rewards-to-go and GAE")
    lam: float = setting(0.95, "[lambda] GAE parameter (pg_weight gae)")
    vf_coef: float = setting(1.0, "value-loss coefficient (pg_weight gae)")
    adam_epsilon: float = setting(1e-8, "Adam's epsilon (numerical stability of the step)")
    max_grad_norm: float = setting(0.0, "clip the gradient's global norm to this (0: off)")
    normalize_rewards: bool = setting(False, "divide rewards by the running std of discounted returns")
    desired_kl: float = setting(
        0.0,
        "adaptive step size (the paper's 'Vanilla PG, Adaptive', Berkeley CS294 hw4's rule): after each step, if "
        "the batch's mean KL[pi_old || pi] exceeds 2 desired_kl the step size is divided by 1.5, below desired_kl/2 "
        "multiplied by 1.5 (hw4: 2e-3, from a step size of 1e-3). 0: a fixed step size",
    )

    def validate(self) -> None:
        """Raise ConfigError for settings the policy gradient cannot run with."""
        positive_int("batch_size", self.batch_size)
        one_of("pg_weight", self.pg_weight, PG_WEIGHTS)
        positive_schedule("optim_stepsize", self.optim_stepsize)
        unit_interval("gamma", self.gamma)
        unit_interval("lam", self.lam)
        non_negative("vf_coef", self.vf_coef)
        non_negative("max_grad_norm", self.max_grad_norm)
        non_negative("desired_kl", self.desired_kl)
        if not self.adam_epsilon > 0:
            raise ConfigError(f"adam_epsilon must be > 0, got {self.adam_epsilon}")
