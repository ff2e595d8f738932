"""What the paper's experiments are, as a list of runs: tasks, objective settings, seeds, budgets.

A :class:`RunSpec` is one ``run.py`` invocation. Its ``key`` (``<env>/<setting>/seed<k>``) names
its curve under ``data/`` and its working folder, so a run is the same run whichever experiment
asks for it: Figure 3's runs are Table 1's ``clip_0.2`` column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ABLATION_SETTINGS", "ATARI_ENVS", "EXPERIMENTS", "MUJOCO_ENVS", "SETTINGS", "RunSpec", "build_grid"]

MUJOCO_ENVS = (
    "HalfCheetah-v5", "Hopper-v5", "InvertedDoublePendulum-v5", "InvertedPendulum-v5", "Reacher-v5", "Swimmer-v5",
    "Walker2d-v5",
)  # fmt: skip
ATARI_ENVS = ("ALE/Pong-v5", "ALE/Breakout-v5")

# The paper's Table 1 rows, in its order: setting name -> (label, run.py flags).
SETTINGS: dict[str, tuple[str, list[str]]] = {
    "none": ("No clipping or penalty", ["--loss", "none"]),
    "clip_0.1": ("Clipping, ε = 0.1", ["--loss", "clip", "--clip_param", "0.1"]),
    "clip_0.2": ("Clipping, ε = 0.2", ["--loss", "clip", "--clip_param", "0.2"]),
    "clip_0.3": ("Clipping, ε = 0.3", ["--loss", "clip", "--clip_param", "0.3"]),
    "adaptive_kl_0.003": ("Adaptive KL d_targ = 0.003", ["--loss", "adaptive_kl", "--kl_target", "0.003"]),
    "adaptive_kl_0.01": ("Adaptive KL d_targ = 0.01", ["--loss", "adaptive_kl", "--kl_target", "0.01"]),
    "adaptive_kl_0.03": ("Adaptive KL d_targ = 0.03", ["--loss", "adaptive_kl", "--kl_target", "0.03"]),
    "fixed_kl_0.3": ("Fixed KL, β = 0.3", ["--loss", "fixed_kl", "--kl_beta", "0.3"]),
    "fixed_kl_1": ("Fixed KL, β = 1", ["--loss", "fixed_kl", "--kl_beta", "1"]),
    "fixed_kl_3": ("Fixed KL, β = 3", ["--loss", "fixed_kl", "--kl_beta", "3"]),
    "fixed_kl_10": ("Fixed KL, β = 10", ["--loss", "fixed_kl", "--kl_beta", "10"]),
}
ATARI_SETTING = "paper_atari"

# The Atari ablation (issue: why Pong learns late): 4M-frame runs, each arm today's `--alg ppo`
# preset with one thing changed. The base follows the alpha of a 10M-frame run (what
# `reproduce atari` ran), so its first 4M frames are that run's.
_ALPHA_10M = ["--schedule_timesteps", "2500000"]  # agent steps: 10M frames at frame skip 4
_ALPHA_40M = ["--schedule_timesteps", "10000000"]  # the paper's 40M-frame runs
# What the code released with the paper had beyond its Table 5: ppo2's orthogonal init and gradient
# clipping, a value loss halved (c1 = 1 on 0.5 * squared error) and clipped (July 2017's pposgd and
# ppo2 alike), NoFrameskip-v4 ids (no sticky actions), 40M-frame runs.
_PAPER_CODE = [*_ALPHA_40M, "--init", "orthogonal", "--repeat_action_probability", "0", "--vf_coef", "0.5",
               "--vf_clip", "true", "--max_grad_norm", "0.5"]  # fmt: skip
ABLATION_SETTINGS: dict[str, tuple[str, list[str]]] = {
    "alpha_10M": ("Today's preset, alpha over 10M frames", _ALPHA_10M),
    "paper_code": ("All of the paper's code's details, 3 epochs", _PAPER_CODE),
    "alpha_40M": ("alpha over 40M frames", _ALPHA_40M),
    "init_orthogonal": ("Orthogonal initialisation", [*_ALPHA_10M, "--init", "orthogonal"]),
    "no_sticky": ("No sticky actions", [*_ALPHA_10M, "--repeat_action_probability", "0"]),
    "vf_coef_0.5": ("c1 = 0.5 (c1 = 1 on a halved squared error)", [*_ALPHA_10M, "--vf_coef", "0.5"]),
    "grad_clip_0.5": ("Gradient norm clipped at 0.5", [*_ALPHA_10M, "--max_grad_norm", "0.5"]),
    "epochs_4": ("4 epochs", [*_ALPHA_10M, "--optim_epochs", "4"]),
    "vf_clip": ("Clipped value loss", [*_ALPHA_10M, "--vf_clip", "true"]),
    "paper_code_epochs_4": ("All of the paper's code's details, 4 epochs", [*_PAPER_CODE, "--optim_epochs", "4"]),
    "vf_coef_0.25": ("c1 = 0.25 (ppo2's 0.5 on its halved squared error)", [*_ALPHA_10M, "--vf_coef", "0.25"]),
    # Not a factor of the gap: whether the faster path (bfloat16 CNN, ale_py's C++ vector env) learns as the defaults do.
    "paper_code_fast": (
        "paper_code on the fast path",
        [*_PAPER_CODE, "--precision", "bfloat16", "--env_backend", "ale_vector"],
    ),  # fmt: skip
}
_ALL_SETTINGS = {**SETTINGS, **ABLATION_SETTINGS, ATARI_SETTING: ("The paper's Atari settings", [])}


@dataclass(frozen=True)
class Experiment:
    """Defaults of one ``reproduce`` sub-command."""

    envs: tuple[str, ...]
    settings: tuple[str, ...]
    seeds: tuple[int, ...]
    timesteps: int
    save_interval: int  # iterations between checkpoints, so an interrupted run loses little


EXPERIMENTS: dict[str, Experiment] = {
    "mujoco": Experiment(MUJOCO_ENVS, ("clip_0.2",), (0, 1, 2), 1_000_000, 25),
    "table1": Experiment(MUJOCO_ENVS, tuple(SETTINGS), (0,), 1_000_000, 25),
    # 10M frames = 2.5M agent steps at frame skip 4.
    "atari": Experiment(ATARI_ENVS, (ATARI_SETTING,), (0,), 2_500_000, 100),
    # 4M frames of Pong per arm.
    "ablation": Experiment(("ALE/Pong-v5",), tuple(ABLATION_SETTINGS), (0, 1), 1_000_000, 100),
}


@dataclass(frozen=True)
class RunSpec:
    """One training run: ``run.py --alg ppo --env ENV --seed SEED --num_timesteps STEPS`` plus the setting's flags."""

    env: str
    setting: str
    seed: int
    timesteps: int
    save_interval: int
    flags: tuple[str, ...] = field(default=())

    @property
    def key(self) -> str:
        """``<env with / as _>/<setting>/seed<k>``: the run's name on disk."""
        return f"{self.env.replace('/', '_')}/{self.setting}/seed{self.seed}"

    def command(self) -> list[str]:
        """``run.py`` arguments (without the interpreter, log, save and load paths)."""
        return ["--alg", "ppo", "--env", self.env, "--seed", str(self.seed), "--num_timesteps", str(self.timesteps),
                "--save_interval", str(self.save_interval), "--progress", "false", *self.flags]  # fmt: skip


def build_grid(
    experiment: str,
    *,
    envs: list[str] | None = None,
    settings: list[str] | None = None,
    seeds: list[int] | None = None,
    timesteps: int | None = None,
    save_interval: int | None = None,
) -> list[RunSpec]:
    """The runs of ``experiment``, optionally narrowed or resized; ordered seed-major.

    Seed-major order (every task's seed 0, then seed 1, ...) means a partial pass still gives one
    complete seed of every cell.
    """
    exp = EXPERIMENTS[experiment]
    chosen = list(settings or exp.settings)
    unknown = [s for s in chosen if s not in _ALL_SETTINGS]
    if unknown:
        raise ValueError(f"unknown setting(s) {', '.join(unknown)}; choose from {', '.join(_ALL_SETTINGS)}")
    steps = timesteps or exp.timesteps
    if steps <= 0:
        raise ValueError(f"--timesteps must be > 0, got {steps}")
    every = exp.save_interval if save_interval is None else save_interval
    if every <= 0:
        raise ValueError(f"--save_interval must be > 0, got {every}")
    return [
        RunSpec(env, setting, seed, steps, every, tuple(_ALL_SETTINGS[setting][1]))
        for seed in (seeds if seeds is not None else exp.seeds)
        for env in (envs or exp.envs)
        for setting in chosen
    ]
