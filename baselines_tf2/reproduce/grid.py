"""What the paper's experiments are, as a list of runs: tasks, objective settings, seeds, budgets.

A :class:`RunSpec` is one ``run.py`` invocation. Its ``key`` (``<env>/<setting>/seed<k>``) names
its curve under ``data/`` and its working folder, so a run is the same run whichever experiment
asks for it: Figure 3's runs are Table 1's ``clip_0.2`` column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "ABLATION_SETTINGS",
    "ALG_SETTINGS",
    "ATARI_ENVS",
    "ATARI_SETTING",
    "ATARI_SETTINGS",
    "ATARI_TABLE5_SETTING",
    "EXPERIMENTS",
    "MUJOCO_ENVS",
    "SETTINGS",
    "RunSpec",
    "build_grid",
    "changed_flags",
]

MUJOCO_ENVS = (
    "HalfCheetah-v5",
    "Hopper-v5",
    "InvertedDoublePendulum-v5",
    "InvertedPendulum-v5",
    "Reacher-v5",
    "Swimmer-v5",
    "Walker2d-v5",
)
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
# `reproduce atari`: the `--alg ppo` Atari preset (the paper's Table 5 with the details of the code released with
# it, alpha over 40M frames) on the paper's emulator setting: no sticky actions, as its NoFrameskip-v4 ids.
ATARI_SETTING = "paper_atari"
# The preset before the ablation settled it: Table 5's values as written (c1 = 1 on the plain squared error, no
# gradient clipping), PPO1's initialisation, v5's sticky actions, alpha over the run's own 10M frames.
ATARI_TABLE5_SETTING = "table5_alpha_10M"


def _flags(**values: str) -> list[str]:
    """``--key value`` run.py flags for ``values``, in their order."""
    return [flag for key, value in values.items() for flag in (f"--{key}", value)]


def _pinned(**changes: str) -> list[str]:
    """run.py flags for the pre-ablation preset with ``changes``, every value given so the arm keeps its meaning."""
    base = {
        "schedule_timesteps": "2500000",  # agent steps: 10M frames at frame skip 4
        "init": "ppo1",
        "vf_coef": "1",
        "vf_clip": "false",
        "max_grad_norm": "0",
        "repeat_action_probability": "0.25",
    }
    return _flags(**{**base, **changes})


# What the code released with the paper had beyond its Table 5: ppo2's orthogonal init and gradient
# clipping, a value loss halved (c1 = 1 on 0.5 * squared error) and clipped (July 2017's pposgd and
# ppo2 alike), NoFrameskip-v4 ids (no sticky actions), 40M-frame runs: today's `--alg ppo` preset.
_PAPER_CODE = {
    "schedule_timesteps": "10000000",
    "init": "orthogonal",
    "repeat_action_probability": "0",
    "vf_coef": "0.5",
    "vf_clip": "true",
    "max_grad_norm": "0.5",
}

_FAST = ["--precision", "bfloat16", "--env_backend", "ale_vector"]

# The Atari ablation (issue: why Pong learns late): 4M-frame runs, each arm the pre-ablation preset
# (ATARI_TABLE5_SETTING) with one thing changed, all values pinned. Its base follows the alpha of a
# 10M-frame run (what `reproduce atari` ran then), so its first 4M frames are that run's.
ABLATION_SETTINGS: dict[str, tuple[str, list[str]]] = {
    "alpha_10M": ("The pre-ablation preset, alpha over 10M frames", _pinned()),
    "paper_code": ("All of the paper's code's details, 3 epochs", _pinned(**_PAPER_CODE)),
    "alpha_40M": ("alpha over 40M frames", _pinned(schedule_timesteps="10000000")),
    "init_orthogonal": ("Orthogonal initialisation", _pinned(init="orthogonal")),
    "no_sticky": ("No sticky actions", _pinned(repeat_action_probability="0")),
    "vf_coef_0.5": ("c1 = 0.5 (c1 = 1 on a halved squared error)", _pinned(vf_coef="0.5")),
    "grad_clip_0.5": ("Gradient norm clipped at 0.5", _pinned(max_grad_norm="0.5")),
    "epochs_4": ("4 epochs", [*_pinned(), "--optim_epochs", "4"]),
    "vf_clip": ("Clipped value loss", _pinned(vf_clip="true")),
    "paper_code_epochs_4": (
        "All of the paper's code's details, 4 epochs",
        [*_pinned(**_PAPER_CODE), "--optim_epochs", "4"],
    ),
    "vf_coef_0.25": ("c1 = 0.25 (ppo2's 0.5 on its halved squared error)", _pinned(vf_coef="0.25")),
    # Not a factor of the gap: whether the faster path (bfloat16 CNN, ale_py's C++ vector env) learns as the defaults
    # do, and (the two after it) which of its two parts makes it learn differently.
    "paper_code_fast": ("paper_code on the fast path", [*_pinned(**_PAPER_CODE), *_FAST]),
    "paper_code_ale_vector": ("paper_code on ale_py's vector env only", [*_pinned(**_PAPER_CODE), *_FAST[2:]]),
    "paper_code_bfloat16": ("paper_code with the bfloat16 CNN only", [*_pinned(**_PAPER_CODE), *_FAST[:2]]),
    # The references' epoch count on the fast path: beside the `reproduce atari` runs' first 4M frames (Breakout).
    "paper_code_fast_epochs_4": (
        "paper_code on the fast path, 4 epochs",
        [*_pinned(**_PAPER_CODE), *_FAST, "--optim_epochs", "4"],
    ),
}


def changed_flags(flags: list[str]) -> list[str]:
    """The ``--flag value`` pairs of ``flags`` that differ from the ablation's base (what an arm changes)."""
    base = dict(zip(_pinned()[::2], _pinned()[1::2]))
    pairs = dict(zip(flags[::2], flags[1::2]))
    return [item for key, value in pairs.items() if base.get(key) != value for item in (key, value)]


ATARI_SETTINGS: dict[str, tuple[str, list[str]]] = {
    # On the fast path (bfloat16 CNN, ale_py's vector env): 1.5x the steps/s, learning no slower (the ablation's
    # paper_code_fast against paper_code, seeds 0 and 1).
    ATARI_SETTING: ("The paper's Atari settings (Table 5 and its code)", ["--repeat_action_probability", "0", *_FAST]),
    ATARI_TABLE5_SETTING: ("Table 5 as written, PPO1's init, sticky actions, alpha over 10M frames", _pinned()),
}
# Figure 3's other columns: settings of another --alg (name -> (label, alg, flags)).
ALG_SETTINGS: dict[str, tuple[str, str, list[str]]] = {
    # The paper's "Vanilla PG, Adaptive": hw4's adaptive Adam step size (d = 2e-3 from 1e-3) on GAE advantages
    # (the paper's gamma and lambda) with the value network trained alongside, the paper's 64-64 tanh networks,
    # one step per batch of whole episodes of at least T = 2048 steps (PPO's batch).
    "pg_adaptive": (
        "Vanilla PG, adaptive step size",
        "pg",
        _flags(
            pg_weight="gae",
            gamma="0.99",
            lam="0.95",
            batch_size="2048",
            optim_stepsize="1e-3",
            desired_kl="2e-3",
            hid_size="64",
            num_hid_layers="2",
        ),
    ),
    # The code released with the paper (Baselines PPO1's run_mujoco.py): step size and clip range annealed to 0.
    "ppo1": ("Baselines PPO1's run_mujoco settings", "ppo1", []),
    # Baselines ppo2's MuJoCo defaults, against its published table.
    "ppo2": ("Baselines ppo2's MuJoCo defaults", "ppo2", []),
}
_ALL_SETTINGS = {
    **SETTINGS,
    **ABLATION_SETTINGS,
    **ATARI_SETTINGS,
    **{name: (label, flags) for name, (label, _, flags) in ALG_SETTINGS.items()},
}
_SETTING_ALG = {name: alg for name, (_, alg, _) in ALG_SETTINGS.items()}


@dataclass(frozen=True)
class Experiment:
    """Defaults of one ``reproduce`` sub-command."""

    envs: tuple[str, ...]
    settings: tuple[str, ...]
    seeds: tuple[int, ...]
    timesteps: int
    save_interval: int  # iterations between checkpoints, so an interrupted run loses little


EXPERIMENTS: dict[str, Experiment] = {
    # Figure 3: PPO (the paper's settings, Table 1's clip 0.2 column), the vanilla PG with an adaptive step size,
    # and the released code's settings: Baselines PPO1's and ppo2's.
    "mujoco": Experiment(MUJOCO_ENVS, ("clip_0.2", *ALG_SETTINGS), (0, 1, 2), 1_000_000, 25),
    "table1": Experiment(MUJOCO_ENVS, tuple(SETTINGS), (0,), 1_000_000, 25),
    # 10M frames = 2.5M agent steps at frame skip 4.
    "atari": Experiment(ATARI_ENVS, (ATARI_SETTING,), (0, 1, 2), 2_500_000, 100),
    # 4M frames of Pong per arm.
    "ablation": Experiment(("ALE/Pong-v5",), tuple(ABLATION_SETTINGS), (0, 1), 1_000_000, 100),
}


@dataclass(frozen=True)
class RunSpec:
    """One training run: ``run.py --alg ALG --env ENV --seed SEED --num_timesteps STEPS`` plus the setting's flags."""

    env: str
    setting: str
    seed: int
    timesteps: int
    save_interval: int
    flags: tuple[str, ...] = field(default=())
    alg: str = "ppo"

    @property
    def key(self) -> str:
        """``<env with / as _>/<setting>/seed<k>``: the run's name on disk."""
        return f"{self.env.replace('/', '_')}/{self.setting}/seed{self.seed}"

    def command(self) -> list[str]:
        """``run.py`` arguments (without the interpreter, log, save and load paths)."""
        run = ["--alg", self.alg, "--env", self.env, "--seed", str(self.seed), "--num_timesteps", str(self.timesteps)]
        return [*run, "--save_interval", str(self.save_interval), "--progress", "false", *self.flags]


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
        RunSpec(env, setting, seed, steps, every, tuple(_ALL_SETTINGS[setting][1]), _SETTING_ALG.get(setting, "ppo"))
        for seed in (seeds if seeds is not None else exp.seeds)
        for env in (envs or exp.envs)
        for setting in chosen
    ]
