"""run.py's flags: its own, and one per setting of :mod:`baselines_tf2.config`, generated from the field.

A field's type, allowed values and documentation (``--help``) come from the config, so nothing is
guessed from a default and no setting is handled by hand. :func:`resolve_settings` fills in what was
not given from the ``--alg`` preset for the env's type. Imports neither TensorFlow nor gymnasium.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from baselines_tf2._version import __version__
from baselines_tf2.config import (
    ENV_BACKENDS,
    ENV_TYPES,
    PGConfig,
    PolicyConfig,
    PPOConfig,
    RunConfig,
    TrackingConfig,
)
from baselines_tf2.ppo.defaults import ALGS, presets

__all__ = ["build_parser", "parse_args", "resolve_settings", "tracking_settings"]

# RunConfig fields that run.py names otherwise: the step limit is --num_timesteps (0: play or export only).
_NOT_FLAGS = {"max_timesteps"}

_DESCRIPTION = (
    "Train, play or export a PPO agent (Baselines' run.py). A setting not given takes the --alg preset's value "
    "for the env's type; the values used are printed at start."
)
_EPILOG = "run.py --alg pg --help lists the vanilla policy gradient's settings."

# The help of run.py's own flags that do not fit on their line.
_ALG_HELP = "ppo: the paper's settings; ppo1/ppo2: Baselines' defaults; pg: vanilla policy gradient"
_NUM_TIMESTEPS_HELP = "environment steps to train, over all ranks (0: no training; play or export a checkpoint)"
_ENV_BACKEND_HELP = (
    "how training env copies are stepped: gymnasium's SyncVectorEnv, or for Atari ale_py's C++ vector env on the "
    "rank's share of the cores"
)
_STICKY_HELP = (
    "Atari sticky actions: the emulator repeats the previous action with probability P (default: the id's own, "
    "0.25 for ALE/*-v5, 0 for *NoFrameskip-v4 as in the paper)"
)
_PLAY_HELP = "after training (or with --num_timesteps 0), run deterministic episodes"
_EXPORT_HELP = (
    "write a SavedModel of the policy to this new folder after training (or, with --num_timesteps 0, of the "
    "--load_path checkpoint)"
)
_EXPORT_ONNX_HELP = 'with --export, also write DIR/model.onnx (needs tf2onnx: pip install "baselines_tf2[onnx]")'
_GYM_PACKAGES_HELP = "import these packages first (they register custom environments), as RL-Zoo's flag"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments:"):  # name the closest flags, as for a misspelled keyword
            flags = [o for a in self._actions for o in a.option_strings if o.startswith("--")]
            unknown = [t.split("=")[0] for t in message.split(":", 1)[1].split() if t.startswith("--")]
            close = sorted({m for t in unknown for m in difflib.get_close_matches(t, flags, n=2, cutoff=0.75)})
            message = f"unknown flag(s) {' '.join(unknown) or message.split(':', 1)[1].strip()}" + (
                f"; did you mean {', '.join(close)}?" if close else f"; see {self.prog} --help"
            )
        self.exit(2, f"{self.prog}: error: {message}\n")


def _whole_number(text: str) -> int:
    """Integers written as ``1000000`` or ``1e6``."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not value.is_integer():
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
    return int(value)


def _boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {text!r}")


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


# A config field's annotation (a string: the config module uses postponed annotations) -> its parser.
_PARSERS: dict[str, Callable[[str], Any]] = {
    "int": _whole_number,
    "float": _number,
    "bool": _boolean,
    "Schedule": _number,
    "str": str,
    "str | None": str,
}


def _algo_class(alg: str) -> type:
    return PGConfig if alg == "pg" else PPOConfig


def _add_config_flags(parser: argparse.ArgumentParser, cls: type, title: str) -> None:
    group = parser.add_argument_group(title)
    for f in dataclasses.fields(cls):
        if f.name in _NOT_FLAGS:
            continue
        choices = f.metadata.get("choices")
        kind = str(f.type)  # the annotation as written (postponed annotations)
        metavar = None if choices else {"Schedule": "X", "str | None": "PATH"}.get(kind, kind.upper())
        parse, doc = _PARSERS[kind], f.metadata["doc"]
        flag = group.add_argument(f"--{f.name}", type=parse, choices=choices, default=None, metavar=metavar, help=doc)
        if kind == "bool":  # a switch may stand alone (--track, --vf_clip) or take a value (--vf_clip false)
            flag.nargs, flag.const = "?", True


def build_parser(alg: str = "ppo") -> argparse.ArgumentParser:
    """run.py's flags for ``--alg alg``: its own, then every config field (imports no TensorFlow)."""
    p = _Parser(prog="run.py", description=_DESCRIPTION, epilog=_EPILOG)
    p.add_argument("--version", action="version", version=f"baselines_tf2 {__version__}")
    p.add_argument("--alg", default="ppo", choices=ALGS, help=_ALG_HELP)
    p.add_argument("--env", default="CartPole-v1", help="gymnasium environment id")
    p.add_argument("--env_type", default=None, choices=ENV_TYPES, help="override the type detected from the id")
    p.add_argument("--num_timesteps", type=_whole_number, default=1_000_000, help=_NUM_TIMESTEPS_HELP)
    p.add_argument("--env_backend", default="gymnasium", choices=ENV_BACKENDS, help=_ENV_BACKEND_HELP)
    p.add_argument("--reward_scale", type=_number, default=1.0, help="constant reward multiplier")
    p.add_argument("--repeat_action_probability", type=_number, default=None, metavar="P", help=_STICKY_HELP)
    p.add_argument("--play", action="store_true", help=_PLAY_HELP)
    p.add_argument("--play_episodes", type=_whole_number, default=5, help="episodes for --play")
    p.add_argument("--video", default=None, metavar="DIR", help="with --play, record each episode to DIR as MP4")
    p.add_argument("--export", default=None, metavar="DIR", help=_EXPORT_HELP)
    p.add_argument("--export_tflite", action="store_true", help="with --export, also write DIR/model.tflite")
    p.add_argument("--export_onnx", action="store_true", help=_EXPORT_ONNX_HELP)
    p.add_argument("--gym_packages", nargs="+", default=[], metavar="PKG", help=_GYM_PACKAGES_HELP)
    p.add_argument("--debug", action="store_true", help="show tracebacks (and TensorFlow's start-up log)")
    p.add_argument("--verbose", action="store_true", help="show TensorFlow's start-up log")
    _add_config_flags(p, RunConfig, "training run (baselines_tf2.config.RunConfig)")
    algo = _algo_class(alg)
    algo_name = "vanilla policy gradient" if alg == "pg" else "PPO"
    _add_config_flags(p, algo, f"{algo_name} (baselines_tf2.config.{algo.__name__}; default: the --alg preset)")
    _add_config_flags(p, PolicyConfig, "policy network (baselines_tf2.config.PolicyConfig; default: the --alg preset)")
    _add_config_flags(p, TrackingConfig, "experiment tracking (baselines_tf2.config.TrackingConfig)")
    return p


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse ``argv`` with the flags of the ``--alg`` it names (exits with one line on bad input)."""
    first = _Parser(prog="run.py", add_help=False)
    first.add_argument("--alg", default="ppo", choices=ALGS)
    known, _ = first.parse_known_args(argv)
    return build_parser(known.alg).parse_args(argv)


def _given(args: argparse.Namespace, cls: Any) -> dict[str, Any]:
    """The fields of ``cls`` that were given on the command line."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in vars(args).items() if k in names and v is not None}


def resolve_settings(args: argparse.Namespace, env_type: str) -> tuple[Any, RunConfig, PolicyConfig]:
    """The algorithm's, the run's and the network's settings: the preset, then the flags given."""
    chosen = presets(args.alg, env_type)
    algo = dataclasses.replace(chosen.algo, **_given(args, type(chosen.algo)))
    policy = dataclasses.replace(chosen.policy, **_given(args, PolicyConfig))
    # The preset's annealing horizon holds for runs no longer than it (a longer run anneals over itself).
    horizon = chosen.schedule_timesteps if 0 < args.num_timesteps <= chosen.schedule_timesteps else 0
    run_settings = {"num_env": chosen.num_env, "schedule_timesteps": horizon, **_given(args, RunConfig)}
    run_cfg = RunConfig(max_timesteps=args.num_timesteps, **run_settings)
    algo.validate()
    policy.validate()
    return algo, run_cfg, policy


def tracking_settings(args: argparse.Namespace) -> TrackingConfig:
    """``--track`` and its W&B settings, validated (a W&B setting without ``--track`` is an error)."""
    tracking = TrackingConfig(**_given(args, TrackingConfig))
    tracking.validate()
    return tracking
