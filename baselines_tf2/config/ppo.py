"""PPO's settings (``ppo.learn``), each named as Baselines named it."""

from __future__ import annotations

from dataclasses import dataclass

from baselines_tf2.config.fields import LOSSES, MPI_UPDATES, SCHEDULES, setting
from baselines_tf2.config.validation import non_negative, one_of, positive_int, positive_schedule, unit_interval
from baselines_tf2.errors import ConfigError
from baselines_tf2.schedules import LinearAnneal, Schedule, value_at


@dataclass
class PPOConfig:
    """PPO's settings (paper symbols in brackets); the defaults are PPO1's ``pposgd_simple``'s."""

    timesteps_per_actorbatch: int = setting(2048, "[T] steps each env copy collects per iteration")
    clip_param: Schedule = setting(
        0.2, "[epsilon] clip range of the ratio (a constant, or in Python a callable of the fraction left)"
    )
    entcoeff: float = setting(0.0, "[c2] entropy bonus coefficient")
    optim_epochs: int = setting(10, "[K] epochs over each batch")
    optim_stepsize: Schedule = setting(
        3e-4, "Adam step size (a constant, or in Python a callable of the fraction left)"
    )
    optim_batchsize: int = setting(64, "[M] minibatch size")
    gamma: float = setting(0.99, "[gamma] discount")
    lam: float = setting(0.95, "[lambda] GAE parameter")
    adam_epsilon: float = setting(
        1e-5, "Adam's epsilon (numerical stability of the step; Baselines: 1e-5, PPO1 at first 1e-8)"
    )
    schedule: str = setting(
        "constant",
        "[alpha] PPO1's multiplier of the step size and the clip range: constant 1, or linear from 1 to 0 over "
        "the horizon (not together with callable step size or clip range)",
        SCHEDULES,
    )
    loss: str = setting(
        "clip",
        "the policy surrogate: clip (L^CLIP), none (L^CPI, no clipping or penalty), fixed_kl or adaptive_kl (L^KLPEN)",
        LOSSES,
    )
    kl_beta: float = setting(1.0, "[beta] KL penalty coefficient (the initial one with adaptive_kl)")
    kl_target: float = setting(
        0.01, "[d_targ] adaptive_kl halves beta below d_targ / 1.5 and doubles it above 1.5 d_targ"
    )
    target_kl: float = setting(
        0.0, "stop an iteration's epochs once an epoch's mean approximate KL exceeds 1.5x this (0: off)"
    )
    vf_coef: float = setting(
        1.0,
        "[c1] value-loss coefficient on the mean squared error (Baselines ppo2's vf_coef 0.5 on its halved error is 0.25)",
    )
    vf_clip: bool = setting(False, "clip the value loss around the old predictions with the clip range (PPO2)")
    max_grad_norm: float = setting(0.0, "clip the rank-averaged gradient's global norm to this (0: off; ppo2: 0.5)")
    normalize_rewards: bool = setting(False, "divide rewards by the running std of discounted returns (VecNormalize)")
    mpi_update: str = setting(
        "auto",
        "how ranks share an update: allgather the batch and step identically, allreduce every minibatch's gradient, "
        "or auto (allgather for MLPs, allreduce for CNNs)",
        MPI_UPDATES,
    )

    def validate(self) -> None:
        """Raise ConfigError for settings PPO cannot run with, naming the setting."""
        for name in ("timesteps_per_actorbatch", "optim_epochs", "optim_batchsize"):
            positive_int(name, getattr(self, name))
        unit_interval("gamma", self.gamma)
        unit_interval("lam", self.lam)
        positive_schedule("clip_param", self.clip_param)
        positive_schedule("optim_stepsize", self.optim_stepsize)
        for name in ("entcoeff", "vf_coef", "max_grad_norm", "target_kl", "kl_beta"):
            non_negative(name, getattr(self, name))
        if not self.adam_epsilon > 0:
            raise ConfigError(f"adam_epsilon must be > 0, got {self.adam_epsilon}")
        one_of("schedule", self.schedule, SCHEDULES)
        one_of("mpi_update", self.mpi_update, MPI_UPDATES)
        one_of("loss", self.loss, LOSSES)
        if self.loss == "adaptive_kl" and not (self.kl_target > 0 and self.kl_beta > 0):
            raise ConfigError(
                f"adaptive_kl needs kl_target > 0 and kl_beta > 0, got {self.kl_target} and {self.kl_beta}"
            )
        if self.schedule == "linear" and (callable(self.optim_stepsize) or callable(self.clip_param)):
            raise ConfigError(
                "schedule='linear' with a callable optim_stepsize or clip_param would anneal twice; "
                "use one: the schedule, or the callables"
            )

    def step_size_and_clip(self) -> tuple[Schedule, Schedule]:
        """The step size and clip range as schedules of the fraction left (PPO1's alpha folded in: one mechanism)."""
        if self.schedule == "linear":  # validate() made sure both are constants
            return LinearAnneal(value_at(self.optim_stepsize, 1.0)), LinearAnneal(value_at(self.clip_param, 1.0))
        return self.optim_stepsize, self.clip_param
