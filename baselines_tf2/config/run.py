"""The settings every learner shares: stop limits, the schedules' horizon, seeding, env copies, paths, evaluation."""

from __future__ import annotations

from dataclasses import dataclass

from baselines_tf2.config.fields import ACTION_MASKING, setting
from baselines_tf2.config.validation import non_negative, non_negative_int, one_of, positive_int
from baselines_tf2.errors import ConfigError


@dataclass
class RunConfig:
    """The settings of a training run that do not depend on the algorithm."""

    max_timesteps: int = setting(0, "stop after this many environment steps, summed over ranks (0: no limit)")
    max_episodes: int = setting(0, "stop after this many finished episodes, summed over ranks (0: no limit)")
    max_iters: int = setting(0, "stop after this many iterations (0: no limit)")
    max_seconds: float = setting(0.0, "stop after this much wall time, the ranks' mean (0: no limit)")
    schedule_timesteps: int = setting(
        0,
        "the horizon of the annealing (alpha and callable schedules reach 0 there) when it is not the stop "
        "limit: a run can follow a longer run's schedule and stop early (the paper's Atari alpha falls over 40M "
        "frames: 10000000 agent steps). Kept in checkpoints. 0: the stop limits set the horizon",
    )
    num_env: int = setting(1, "environment copies per MPI rank, when the env is given by id")
    seed: int = setting(
        0, "rank r's env copy i is seeded seed + 10000 r + i; the policy's initialisation and sampling too"
    )
    log_path: str | None = setting(None, "folder for progress.csv, TensorBoard events and monitor files (rank 0 logs)")
    save_path: str | None = setting(None, "folder for checkpoints (rank 0 saves; the newest 5 are kept)")
    load_path: str | None = setting(None, "checkpoint folder or prefix to resume from (counters continue)")
    save_interval: int = setting(0, "save every N iterations (0: only at the end and on the timer)")
    save_every_seconds: float = setting(
        600.0, "also save every this many seconds of wall time when save_path is set (0: off)"
    )
    progress: bool = setting(True, "show a tqdm progress bar on a terminal")
    eval_every: int = setting(
        0,
        "every K iterations (and after the last), play eval_episodes deterministic episodes on a separate env and "
        "log eval/return_mean, eval/return_std, eval/length_mean; the best policy goes to save_path/best (0: off)",
    )
    eval_episodes: int = setting(10, "episodes per evaluation (eval_every), shared among the MPI ranks")
    action_masking: str = setting(
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
