"""Every training setting in one typed, documented place.

* :class:`RunConfig`: what every learner shares (stop limits, the schedules' horizon, seeding, env
  copies, log and checkpoint paths).
* :class:`PPOConfig`: PPO's settings (``ppo.learn``), each named as Baselines named it.
* :class:`PGConfig`: the vanilla policy gradient's (``pg.learn``).
* :class:`PolicyConfig`: the network ``run.py`` builds.
* :class:`TrackingConfig`: ``run.py --track``, experiment tracking with Weights & Biases.

Each field carries its documentation (``field(metadata={"doc": ...})``), from which ``run.py``
generates its flags and ``--help``; each class has one ``validate()`` that raises
:class:`~baselines_tf2.errors.ConfigError` naming the setting. This module imports neither
TensorFlow nor gymnasium, so ``run.py --help`` answers at once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from baselines_tf2.config_keywords import split_settings
from baselines_tf2.errors import ConfigError
from baselines_tf2.schedules import LinearAnneal, Schedule, value_at
from baselines_tf2.validation import (
    non_negative,
    non_negative_int,
    one_of,
    positive_int,
    positive_schedule,
    unit_interval,
)

__all__ = [
    "ACTION_MASKING",
    "ENV_BACKENDS",
    "ENV_TYPES",
    "INITS",
    "LOSSES",
    "MPI_UPDATES",
    "NETWORKS",
    "PG_WEIGHTS",
    "PRECISIONS",
    "RECURRENT_NETWORKS",
    "PGConfig",
    "PPOConfig",
    "PolicyConfig",
    "RunConfig",
    "TrackingConfig",
    "doc",
    "split_settings",
]

ENV_TYPES = ("mujoco", "classic_control", "box2d", "atari", "other")
ENV_BACKENDS = ("gymnasium", "ale_vector")  # how make_vec_env steps the copies
NETWORKS = ("mlp", "cnn", "cnn_small", "multi_input", "lstm", "cnn_lstm")
RECURRENT_NETWORKS = ("lstm", "cnn_lstm")  # an LSTM after the trunk (Baselines ppo2's lstm, cnn_lstm)
PRECISIONS = ("float32", "bfloat16")
INITS = ("ppo1", "orthogonal")
LOSSES = ("clip", "none", "fixed_kl", "adaptive_kl")
MPI_UPDATES = ("auto", "allgather", "allreduce")
PG_WEIGHTS = ("return", "reward_to_go", "gae")
WANDB_MODES = ("online", "offline")
SCHEDULES = ("constant", "linear")
ACTION_MASKING = ("auto", "on", "off")  # invalid-action masks from the env: when provided, required, ignored


def _s(default: Any, text: str, choices: tuple[str, ...] | None = None) -> Any:
    """A setting: its default, its one-paragraph documentation and, for names, the allowed values."""
    return field(default=default, metadata={"doc": text, "choices": choices})


def doc(cls: type, name: str) -> str:
    """The documentation of setting ``name`` of config class ``cls``."""
    return next(f.metadata["doc"] for f in dataclasses.fields(cls) if f.name == name)


@dataclass
class RunConfig:
    """The settings of a training run that do not depend on the algorithm."""

    max_timesteps: int = _s(0, "stop after this many environment steps, summed over ranks (0: no limit)")
    max_episodes: int = _s(0, "stop after this many finished episodes, summed over ranks (0: no limit)")
    max_iters: int = _s(0, "stop after this many iterations (0: no limit)")
    max_seconds: float = _s(0.0, "stop after this much wall time, the ranks' mean (0: no limit)")
    schedule_timesteps: int = _s(
        0,
        "the horizon of the annealing (alpha and callable schedules reach 0 there) when it is not the stop "
        "limit: a run can follow a longer run's schedule and stop early (the paper's Atari alpha falls over 40M "
        "frames: 10000000 agent steps). Kept in checkpoints. 0: the stop limits set the horizon",
    )
    num_env: int = _s(1, "environment copies per MPI rank, when the env is given by id")
    seed: int = _s(0, "rank r's env copy i is seeded seed + 10000 r + i; the policy's initialisation and sampling too")
    log_path: str | None = _s(None, "folder for progress.csv, TensorBoard events and monitor files (rank 0 logs)")
    save_path: str | None = _s(None, "folder for checkpoints (rank 0 saves; the newest 5 are kept)")
    load_path: str | None = _s(None, "checkpoint folder or prefix to resume from (counters continue)")
    save_interval: int = _s(0, "save every N iterations (0: only at the end and on the timer)")
    save_every_seconds: float = _s(
        600.0, "also save every this many seconds of wall time when save_path is set (0: off)"
    )
    progress: bool = _s(True, "show a tqdm progress bar on a terminal")
    eval_every: int = _s(
        0,
        "every K iterations (and after the last), play eval_episodes deterministic episodes on a separate env and "
        "log eval/return_mean, eval/return_std, eval/length_mean; the best policy goes to save_path/best (0: off)",
    )
    eval_episodes: int = _s(10, "episodes per evaluation (eval_every), shared among the MPI ranks")
    action_masking: str = _s(
        "auto",
        "invalid-action masking for Discrete and MultiDiscrete actions, the masks read from the env's "
        "action_masks() method (SB3-contrib's) or info['action_mask']: auto (when the env provides them), on "
        "(required: an error if it does not), off (ignored)",
        ACTION_MASKING,
    )

    def validate(self) -> None:
        """Raise ConfigError for settings no run can use."""
        limits = (self.max_timesteps, self.max_episodes, self.max_iters, self.max_seconds)
        if any(v < 0 for v in limits):
            raise ConfigError("max_timesteps, max_episodes, max_iters and max_seconds must be >= 0")
        if not any(limits):
            raise ConfigError("set at least one of max_timesteps, max_episodes, max_iters, max_seconds")
        if (
            isinstance(self.schedule_timesteps, bool)
            or not isinstance(self.schedule_timesteps, int)
            or (self.schedule_timesteps < 0)
        ):
            raise ConfigError(f"schedule_timesteps must be an integer >= 0, got {self.schedule_timesteps!r}")
        if self.schedule_timesteps and self.max_timesteps > self.schedule_timesteps:
            raise ConfigError(
                f"schedule_timesteps {self.schedule_timesteps} is below max_timesteps {self.max_timesteps}: "
                "the annealed step size would be 0 for the last steps"
            )
        positive_int("num_env", self.num_env)
        non_negative("save_interval", self.save_interval)
        non_negative("save_every_seconds", self.save_every_seconds)
        non_negative_int("eval_every", self.eval_every)
        positive_int("eval_episodes", self.eval_episodes)
        one_of("action_masking", self.action_masking, ACTION_MASKING)


@dataclass
class PPOConfig:
    """PPO's settings (paper symbols in brackets); the defaults are PPO1's ``pposgd_simple``'s."""

    timesteps_per_actorbatch: int = _s(2048, "[T] steps each env copy collects per iteration")
    clip_param: Schedule = _s(
        0.2, "[epsilon] clip range of the ratio (a constant, or in Python a callable of the fraction left)"
    )
    entcoeff: float = _s(0.0, "[c2] entropy bonus coefficient")
    optim_epochs: int = _s(10, "[K] epochs over each batch")
    optim_stepsize: Schedule = _s(3e-4, "Adam step size (a constant, or in Python a callable of the fraction left)")
    optim_batchsize: int = _s(64, "[M] minibatch size")
    gamma: float = _s(0.99, "[gamma] discount")
    lam: float = _s(0.95, "[lambda] GAE parameter")
    adam_epsilon: float = _s(
        1e-5, "Adam's epsilon (numerical stability of the step; Baselines: 1e-5, PPO1 at first 1e-8)"
    )
    schedule: str = _s(
        "constant",
        "[alpha] PPO1's multiplier of the step size and the clip range: constant 1, or linear from 1 to 0 over "
        "the horizon (not together with callable step size or clip range)",
        SCHEDULES,
    )
    loss: str = _s(
        "clip",
        "the policy surrogate: clip (L^CLIP), none (L^CPI, no clipping or penalty), fixed_kl or adaptive_kl (L^KLPEN)",
        LOSSES,
    )
    kl_beta: float = _s(1.0, "[beta] KL penalty coefficient (the initial one with adaptive_kl)")
    kl_target: float = _s(0.01, "[d_targ] adaptive_kl halves beta below d_targ / 1.5 and doubles it above 1.5 d_targ")
    target_kl: float = _s(
        0.0, "stop an iteration's epochs once an epoch's mean approximate KL exceeds 1.5x this (0: off)"
    )
    vf_coef: float = _s(
        1.0,
        "[c1] value-loss coefficient on the mean squared error (Baselines ppo2's vf_coef 0.5 on its halved error is 0.25)",
    )
    vf_clip: bool = _s(False, "clip the value loss around the old predictions with the clip range (PPO2)")
    max_grad_norm: float = _s(0.0, "clip the rank-averaged gradient's global norm to this (0: off; ppo2: 0.5)")
    normalize_rewards: bool = _s(False, "divide rewards by the running std of discounted returns (VecNormalize)")
    mpi_update: str = _s(
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


@dataclass
class PGConfig:
    """The vanilla policy gradient's settings (``--alg pg``)."""

    batch_size: int = _s(5000, "minimum steps per gradient step (whole episodes; unfinished ones are dropped)")
    pg_weight: str = _s(
        "reward_to_go",
        "the weight of grad log pi: return (R(tau)), reward_to_go (discounted by gamma) or gae (normalised "
        "GAE advantages, with a value network trained alongside)",
        PG_WEIGHTS,
    )
    optim_stepsize: Schedule = _s(1e-2, "Adam step size (a constant, or in Python a callable of the fraction left)")
    gamma: float = _s(1.0, "[gamma] discount of the rewards-to-go and GAE")
    lam: float = _s(0.95, "[lambda] GAE parameter (pg_weight gae)")
    vf_coef: float = _s(1.0, "value-loss coefficient (pg_weight gae)")
    adam_epsilon: float = _s(1e-8, "Adam's epsilon (numerical stability of the step)")
    max_grad_norm: float = _s(0.0, "clip the gradient's global norm to this (0: off)")
    normalize_rewards: bool = _s(False, "divide rewards by the running std of discounted returns")
    desired_kl: float = _s(
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


@dataclass
class PolicyConfig:
    """The network ``run.py`` builds (in Python, pass a ``policy_fn`` instead)."""

    network: str = _s(
        "mlp",
        "mlp (separate tanh networks for pi and V), cnn (Nature CNN), cnn_small (A3C's), multi_input (Dict "
        "observations: each key through its own encoder, images a CNN, other Box keys their own normaliser, "
        "Discrete one-hot; concatenated, then mlp's separate pi and V networks), or the recurrent lstm (tanh MLP "
        "trunk, then an LSTM shared by pi and V) and cnn_lstm (Nature CNN, then the LSTM). A Dict observation space "
        "always gets multi_input (recurrent networks refuse it); there cnn_small gives its image keys A3C's CNN "
        "instead of the Nature CNN. Recurrent policies train on minibatches of whole env sequences: "
        "optim_batchsize = timesteps_per_actorbatch x a divisor of num_env",
        NETWORKS,
    )
    hid_size: int = _s(64, "width of the MLP's hidden layers")
    num_hid_layers: int = _s(
        2, "hidden layers of each MLP (lstm: of the trunk before the LSTM; 0 feeds it the observation, as Baselines)"
    )
    nlstm: int = _s(128, "LSTM units of the recurrent networks lstm and cnn_lstm (Baselines' nlstm)")
    precision: str = _s(
        "float32",
        "compute dtype of a CNN: bfloat16 is mixed precision (float32 weights, Adam, heads and loss), faster on "
        "CPUs with AMX or AVX512-BF16",
        PRECISIONS,
    )
    init: str = _s(
        "ppo1",
        "initialisation: ppo1 (normalised columns, Glorot convolutions) or orthogonal (Baselines ppo2's mlp and "
        "nature_cnn: sqrt(2) hidden, 0.01 policy head, 1 value head)",
        INITS,
    )

    def validate(self) -> None:
        """Raise ConfigError for a network that cannot be built."""
        one_of("network", self.network, NETWORKS)
        one_of("precision", self.precision, PRECISIONS)
        one_of("init", self.init, INITS)
        positive_int("hid_size", self.hid_size)
        positive_int("nlstm", self.nlstm)
        if self.network == "lstm":
            non_negative("num_hid_layers", self.num_hid_layers)
        else:
            positive_int("num_hid_layers", self.num_hid_layers)
        if self.network == "mlp" and self.precision != "float32":
            raise ConfigError(
                f"precision {self.precision} is for CNN policies; the MLP acts in NumPy and trains in float32"
            )
        if self.network == "multi_input" and self.precision != "float32":
            raise ConfigError(f"precision {self.precision} is for CNN policies; multi_input computes in float32")
        if self.network in RECURRENT_NETWORKS and self.precision != "float32":
            raise ConfigError(
                f"precision {self.precision} is for the cnn and cnn_small networks; {self.network} is float32"
            )


@dataclass
class TrackingConfig:
    """``run.py --track``: the run's settings and log rows to Weights & Biases (in Python: ``train/tracking.py``)."""

    track: bool = _s(
        False, 'send the settings and every progress.csv row to Weights & Biases (pip install "baselines_tf2[wandb]")'
    )
    wandb_project: str = _s("baselines_tf2", "W&B project of the run")
    wandb_entity: str = _s("", "W&B team or user that owns the project (default: your default entity)")
    wandb_name: str = _s("", "run name (default: <env>__<alg>__<seed>__<unix time>, as CleanRL names runs)")
    wandb_group: str = _s("", "W&B group (e.g. the seeds of one setting)")
    wandb_tags: str = _s("", "comma-separated W&B tags")
    wandb_id: str = _s("", "W&B run id to create or continue (default: --load_path's run.json's, else new)")
    wandb_mode: str | None = _s(
        None, "online, or offline (upload later: wandb sync DIR); default: WANDB_MODE", WANDB_MODES
    )

    def validate(self) -> None:
        """Raise ConfigError for an unknown mode, or a tracking setting given without ``track``."""
        if self.wandb_mode is not None:
            one_of("wandb_mode", self.wandb_mode, WANDB_MODES)
        given = [f.name for f in dataclasses.fields(self) if f.name != "track" and getattr(self, f.name) != f.default]
        if given and not self.track:
            raise ConfigError(f"{given[0]} is a setting of track; add --track (track=True)")
