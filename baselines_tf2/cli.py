"""``run.py``: Baselines' command line, typed. Parse flags -> preset for (alg, env type) -> learn().

Every setting of :mod:`baselines_tf2.config` is a flag, generated from its field: its type, its
allowed values and its documentation (``--help``) come from there, so nothing is guessed from a
default and no flag is handled by hand. A setting not given on the command line takes the value of
the ``--alg`` preset for the env's type (printed at start). Parsing imports neither TensorFlow nor
gymnasium: ``--help`` answers at once. Errors in the user's input end the program with one line on
stderr and a non-zero exit code (``--debug`` shows the traceback); under ``mpirun`` an error on any
rank aborts the whole job.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import dataclasses
import difflib
import os
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, NoReturn

from baselines_tf2.config import ENV_BACKENDS, ENV_TYPES, PGConfig, PolicyConfig, PPOConfig, RunConfig
from baselines_tf2.errors import (
    CheckpointError,
    ConfigError,
    ExportError,
    TrainingDivergedError,
    TrainingInterrupted,
    VideoError,
)
from baselines_tf2.ppo.defaults import ALGS, presets

__all__ = ["build_parser", "exit_process", "import_tensorflow", "main", "resolve_settings"]

# RunConfig fields that run.py names otherwise: the step limit is --num_timesteps (0: play or export only).
_NOT_FLAGS = {"max_timesteps"}


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
_PARSERS: dict[str, Callable[[str], Any]] = {"int": _whole_number, "float": _number, "bool": _boolean,
                                             "Schedule": _number, "str": str, "str | None": str}  # fmt: skip


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
        group.add_argument(f"--{f.name}", type=_PARSERS[kind], choices=choices, default=None, metavar=metavar,
                           help=f.metadata["doc"])  # fmt: skip


def build_parser(alg: str = "ppo") -> argparse.ArgumentParser:
    """run.py's flags for ``--alg alg``: its own, then every config field (imports no TensorFlow)."""
    p = _Parser(prog="run.py", description="Train, play or export a PPO agent (Baselines' run.py). A setting "
                "not given takes the --alg preset's value for the env's type; the values used are printed at start.",
                epilog="run.py --alg pg --help lists the vanilla policy gradient's settings.")  # fmt: skip
    p.add_argument("--alg", default="ppo", choices=ALGS,
                   help="ppo: the paper's settings; ppo1/ppo2: Baselines' defaults; pg: vanilla policy gradient")  # fmt: skip
    p.add_argument("--env", default="CartPole-v1", help="gymnasium environment id")
    p.add_argument("--env_type", default=None, choices=ENV_TYPES, help="override the type detected from the id")
    p.add_argument("--num_timesteps", type=_whole_number, default=1_000_000,
                   help="environment steps to train, over all ranks (0: no training; play or export a checkpoint)")  # fmt: skip
    p.add_argument("--env_backend", default="gymnasium", choices=ENV_BACKENDS,
                   help="how training env copies are stepped: gymnasium's SyncVectorEnv, or for Atari ale_py's "
                   "C++ vector env on the rank's share of the cores")  # fmt: skip
    p.add_argument("--reward_scale", type=_number, default=1.0, help="constant reward multiplier")
    p.add_argument("--repeat_action_probability", type=_number, default=None, metavar="P",
                   help="Atari sticky actions: the emulator repeats the previous action with probability P "
                   "(default: the id's own, 0.25 for ALE/*-v5, 0 for *NoFrameskip-v4 as in the paper)")  # fmt: skip
    p.add_argument("--play", action="store_true",
                   help="after training (or with --num_timesteps 0), run deterministic episodes")  # fmt: skip
    p.add_argument("--play_episodes", type=_whole_number, default=5, help="episodes for --play")
    p.add_argument("--video", default=None, metavar="DIR", help="with --play, record each episode to DIR as MP4")
    p.add_argument("--export", default=None, metavar="DIR",
                   help="write a SavedModel of the policy to this new folder after training (or, with "
                   "--num_timesteps 0, of the --load_path checkpoint)")  # fmt: skip
    p.add_argument("--export_tflite", action="store_true", help="with --export, also write DIR/model.tflite")
    p.add_argument("--gym_packages", nargs="+", default=[], metavar="PKG",
                   help="import these packages first (they register custom environments), as RL-Zoo's flag")  # fmt: skip
    p.add_argument("--debug", action="store_true", help="show tracebacks (and TensorFlow's start-up log)")
    p.add_argument("--verbose", action="store_true", help="show TensorFlow's start-up log")
    _add_config_flags(p, RunConfig, "training run (baselines_tf2.config.RunConfig)")
    algo = _algo_class(alg)
    _add_config_flags(p, algo, f"{'vanilla policy gradient' if alg == 'pg' else 'PPO'} "
                      f"(baselines_tf2.config.{algo.__name__}; default: the --alg preset)")  # fmt: skip
    _add_config_flags(p, PolicyConfig, "policy network (baselines_tf2.config.PolicyConfig; default: the --alg preset)")
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
    run_cfg = RunConfig(max_timesteps=args.num_timesteps,
                        **{"num_env": chosen.num_env, "schedule_timesteps": horizon, **_given(args, RunConfig)})  # fmt: skip
    algo.validate()
    policy.validate()
    return algo, run_cfg, policy


def _policy_fn(policy: PolicyConfig):
    from baselines_tf2.common.policies import CnnPolicy, MlpPolicy, bfloat16_is_fast  # noqa: PLC0415
    from baselines_tf2.mpi import mpi_util  # noqa: PLC0415

    if policy.network == "mlp":
        return partial(MlpPolicy, hid_size=policy.hid_size, num_hid_layers=policy.num_hid_layers, init=policy.init)
    if policy.precision == "bfloat16" and not bfloat16_is_fast() and mpi_util.rank() == 0:
        print("note: this CPU has no AMX/AVX512-BF16 units; --precision bfloat16 will be slower than float32")
    kind = "large" if policy.network == "cnn" else "small"
    return partial(CnnPolicy, kind=kind, precision=policy.precision, init=policy.init)


def _run_record(args: argparse.Namespace, env_type: str, policy: PolicyConfig) -> dict[str, Any]:
    """What ``run.json`` records beside the checkpoints (and ``--load_path`` checks)."""
    return {"alg": args.alg, "env": args.env, "env_type": env_type, **dataclasses.asdict(policy),
            "repeat_action_probability": args.repeat_action_probability}  # fmt: skip


def _check_compatible(load_path: str, config: dict[str, Any]) -> None:
    from baselines_tf2.train.checkpoint import read_run_config, resolve_checkpoint  # noqa: PLC0415

    resolve_checkpoint(load_path)
    saved = read_run_config(load_path)
    if saved is None:
        return
    for key in ("env", "network", "hid_size", "num_hid_layers"):
        if saved.get(key) != config.get(key):
            raise CheckpointError(
                f"checkpoint {load_path} was trained with {key}={saved.get(key)!r}, not {config.get(key)!r}"
            )


def _check_args(args: argparse.Namespace, env_type: str, run_cfg: RunConfig) -> None:
    """The checks of run.py's own flags, before anything is built."""
    from baselines_tf2.envs.make import check_env_backend, check_repeat_action_probability  # noqa: PLC0415
    from baselines_tf2.tools.export import check_export_dir  # noqa: PLC0415

    if args.num_timesteps < 0:
        raise ConfigError(f"--num_timesteps must be >= 0, got {args.num_timesteps}")
    if args.play_episodes <= 0:
        raise ConfigError(f"--play_episodes must be > 0, got {args.play_episodes}")
    if args.num_timesteps == 0 and not (args.play or args.export):
        raise ConfigError("--num_timesteps 0 trains nothing; add --play or --export to use the loaded policy")
    if args.num_timesteps == 0 and not run_cfg.load_path:
        raise ConfigError(f"--{'play' if args.play else 'export'} with --num_timesteps 0 needs --load_path")
    if args.num_timesteps > 0:
        run_cfg.validate()
    if args.export_tflite and not args.export:
        raise ConfigError("--export_tflite needs --export DIR")
    if args.export:
        check_export_dir(args.export)
    check_env_backend(args.env_backend, args.env, env_type)
    check_repeat_action_probability(args.repeat_action_probability, args.env, env_type)
    if args.video and not args.play:
        raise ConfigError("--video records the --play episodes; add --play")


def run(args: argparse.Namespace, callback: Callable[..., Any] | None = None) -> int:
    """Everything after parsing: check, then train and/or play and export. Returns the exit code."""
    from baselines_tf2.envs.make import env_type_of, import_packages  # noqa: PLC0415
    from baselines_tf2.mpi import mpi_util  # noqa: PLC0415
    from baselines_tf2.train.checkpoint import atomic_write_json, check_save_path  # noqa: PLC0415

    import_packages(args.gym_packages)
    env_type = args.env_type or env_type_of(args.env)
    algo, run_cfg, policy = resolve_settings(args, env_type)
    record = _run_record(args, env_type, policy)
    _check_args(args, env_type, run_cfg)
    rank = mpi_util.rank()
    if args.video and rank == 0:
        _prepare_video(args.env, env_type, args.video)
    if run_cfg.load_path:
        _check_compatible(run_cfg.load_path, record)
    check_save_path(run_cfg.save_path, run_cfg.load_path)
    if rank == 0:
        _print_settings(args, env_type, algo, run_cfg, policy)
        if run_cfg.save_path:
            atomic_write_json(os.path.join(run_cfg.save_path, "run.json"), record)
    policy_fn = _policy_fn(policy)
    if args.num_timesteps > 0:
        pi = train(args, env_type, algo, run_cfg, policy_fn, record, callback)
    else:
        assert run_cfg.load_path is not None  # _check_args requires it without training
        pi = _restored_policy(args, env_type, policy_fn, run_cfg.load_path)
    if rank == 0:
        if args.export:
            export(pi, args.export, args.export_tflite)
        if args.play:
            play(pi, args, env_type, run_cfg.seed)
    return 0


def train(args: argparse.Namespace, env_type: str, algo: Any, run_cfg: RunConfig, policy_fn: Callable[..., Any],
          record: dict[str, Any], callback: Callable[..., Any] | None = None) -> Any:  # fmt: skip
    """Build this rank's training envs and run the learner; returns the trained policy."""
    from baselines_tf2.envs.make import make_vec_env  # noqa: PLC0415
    from baselines_tf2.mpi import mpi_util  # noqa: PLC0415
    from baselines_tf2.train.checkpoint import atomic_write_json  # noqa: PLC0415

    learn = _learn_fn(args.alg)
    log_dir = os.path.join(run_cfg.log_path, "monitor") if run_cfg.log_path else None
    env = make_vec_env(args.env, run_cfg.num_env, rank=mpi_util.rank(), log_dir=log_dir, reward_scale=args.reward_scale,
                       env_type=env_type, backend=args.env_backend,
                       threads=_threads_per_rank() if args.env_backend == "ale_vector" else 0,
                       repeat_action_probability=args.repeat_action_probability)  # fmt: skip
    try:
        pi = learn(env, policy_fn, config=algo, run_config=run_cfg, callback=callback)
    except TrainingInterrupted as exc:
        if mpi_util.rank() == 0 and exc.folder and not os.path.exists(os.path.join(exc.folder, "run.json")):
            atomic_write_json(os.path.join(exc.folder, "run.json"), record)  # so --load_path can check it
        raise
    env.close()
    return pi


def _learn_fn(alg: str) -> Callable[..., Any]:
    """The learner behind ``--alg``: PPO's for ppo/ppo1/ppo2, the vanilla policy gradient's for pg."""
    if alg == "pg":
        from baselines_tf2.pg.vpg import learn as learn_pg  # noqa: PLC0415

        return learn_pg
    from baselines_tf2.ppo.pposgd import learn  # noqa: PLC0415

    return learn


def _restored_policy(args: argparse.Namespace, env_type: str, policy_fn: Callable[..., Any], load_path: str) -> Any:
    """The policy of a checkpoint, for ``--num_timesteps 0`` (play or export only)."""
    from baselines_tf2.envs.make import make_env  # noqa: PLC0415
    from baselines_tf2.train.checkpoint import restore  # noqa: PLC0415

    env = make_env(args.env, train=False, env_type=env_type, repeat_action_probability=args.repeat_action_probability)
    pi = policy_fn(env.observation_space, env.action_space)
    env.close()
    restore(load_path, policy=pi)
    return pi


def export(pi: Any, folder: str, tflite: bool) -> None:
    """Write the SavedModel (and TFLite model) and say where."""
    from baselines_tf2.tools.export import export_saved_model  # noqa: PLC0415

    export_saved_model(pi, folder, tflite=tflite)
    tflite_note = f" and {os.path.join(folder, 'model.tflite')}" if tflite else ""
    print(f"exported SavedModel to {folder}{tflite_note} (signatures: serving_default, sample)")


def play(pi: Any, args: argparse.Namespace, env_type: str, seed: int) -> None:
    """Run ``--play_episodes`` deterministic episodes (recording them with ``--video``) and print their returns."""
    from baselines_tf2.envs.make import make_env  # noqa: PLC0415
    from baselines_tf2.envs.video import video_prefix  # noqa: PLC0415
    from baselines_tf2.tools.evaluate import run_episodes  # noqa: PLC0415

    env = make_env(args.env, train=False, env_type=env_type, video_dir=args.video,
                   repeat_action_probability=args.repeat_action_probability)  # fmt: skip
    returns = run_episodes(pi, env, args.play_episodes, seed=seed + 12345)
    env.close()  # writes the last episode's video
    for i, ret in enumerate(returns):
        print(f"episode {i + 1}: return {ret:.2f}")
    print(f"mean return over {len(returns)} episodes: {sum(returns) / len(returns):.2f}")
    for i in range(len(returns) if args.video else 0):
        print(f"video of episode {i + 1}: {os.path.join(args.video, video_prefix(args.env))}-episode-{i}.mp4")


def _threads_per_rank() -> int:
    """This rank's share of the machine's cores (the ranks on one machine split them; collective)."""
    from baselines_tf2.mpi import mpi_util  # noqa: PLC0415

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores // mpi_util.local_size())


def _prepare_video(env_id: str, env_type: str, video_dir: str) -> None:
    """Before any env is built: an empty target, an encoder, offscreen rendering, one rendered frame."""
    from baselines_tf2.envs import video  # noqa: PLC0415
    from baselines_tf2.envs.make import make_base_env  # noqa: PLC0415

    video.check_video_dir(video_dir)
    video.check_encoder()
    video.select_sdl_driver()
    if env_type == "mujoco":
        video.select_mujoco_gl()
    video.check_rendering(env_id, make=partial(make_base_env, env_type=env_type))


def _print_settings(args: argparse.Namespace, env_type: str, algo: Any, run_cfg: RunConfig,
                    policy: PolicyConfig) -> None:  # fmt: skip
    from baselines_tf2.mpi import mpi_util  # noqa: PLC0415

    layers = f" {policy.num_hid_layers}x{policy.hid_size}" if policy.network == "mlp" else f" ({policy.precision})"
    backend = f" ({args.env_backend})" if args.env_backend != "gymnasium" else ""
    print(f"baselines_tf2: --alg {args.alg} on {args.env} ({env_type}), network {policy.network}{layers}, "
          f"{mpi_util.size()} rank(s) x {run_cfg.num_env} env(s){backend}, {args.num_timesteps} timesteps, "
          f"seed {run_cfg.seed}")  # fmt: skip
    settings = {**dataclasses.asdict(algo), "init": policy.init}
    settings.update({k: v for k, v in dataclasses.asdict(run_cfg).items() if v != getattr(RunConfig, k, None)})
    for key in sorted(settings):
        print(f"  {key:26s} {settings[key]!r}")
    sys.stdout.flush()


def import_tensorflow(argv: Sequence[str]) -> None:
    """What :func:`main` does first: set up and import TensorFlow.

    Sets ``TF_USE_LEGACY_KERAS=1`` unless it is set: baselines_tf2 uses no Keras, and
    tensorflow-probability brings tf-keras anyway, so TensorFlow need not also load Keras 3 (with
    matplotlib), ~30% of the import time. The variable stays in this process's environment (and
    its children's): meant for ``run.py``'s own process, not for a program that imports the CLI
    after it has chosen its Keras. Then imports TensorFlow with its start-up log silenced, unless
    ``--debug``/``--verbose`` is in ``argv`` (TensorFlow is then imported at first use, its log shown).
    """
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    if not {"--debug", "--verbose"} & set(argv):
        from baselines_tf2.tools.quiet import import_tensorflow_quietly  # noqa: PLC0415

        import_tensorflow_quietly()


def main(argv: Sequence[str] | None = None, *, callback: Callable[..., Any] | None = None) -> int:
    """Entry point; returns the process exit code. ``callback`` is passed to ``learn()`` (for scripts)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parse_args(argv)  # --help and flag errors end here, before TensorFlow is imported
    except SystemExit as exc:  # argparse's own exit (help printed, or one line of error)
        return int(exc.code or 0)
    import_tensorflow(argv)
    from baselines_tf2.common.tf_util import configure_threads  # noqa: PLC0415 (after the quiet import)
    from baselines_tf2.mpi import mpi_util  # noqa: PLC0415

    if mpi_util.size() > 1:
        configure_threads(1, 1)  # one TF thread pool per rank: ranks already fill the cores
    try:
        return run(args, callback)
    except TrainingInterrupted as exc:  # every rank raises it together, after the save
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # saved already: another Ctrl-C changes nothing
        try:
            with contextlib.suppress(KeyboardInterrupt):  # one that came before the line above
                if mpi_util.rank() == 0:
                    sys.stderr.write(f"run.py: {exc}\n")
                    sys.stderr.flush()
        finally:
            signal.signal(signal.SIGINT, previous)
        return 128 + exc.signum
    except KeyboardInterrupt:
        return _fail(130, "interrupted", args.debug, collective=False)
    except ConfigError as exc:
        return _fail(2, str(exc), args.debug, collective=True)
    except (CheckpointError, ExportError, TrainingDivergedError, VideoError) as exc:
        return _fail(1, str(exc), args.debug, collective=True)
    except Exception as exc:  # noqa: BLE001 (the one place that turns crashes into one line)
        return _fail(1, f"{type(exc).__name__}: {exc}", args.debug, collective=False)


def _fail(code: int, message: str, debug: bool, *, collective: bool) -> int:
    """Print one line (rank 0 only for errors every rank hits), then end every rank."""
    from baselines_tf2.mpi import mpi_util  # noqa: PLC0415

    rank, size = mpi_util.rank(), mpi_util.size()
    if debug:
        traceback.print_exc()
    if not collective or rank == 0:
        where = f" (rank {rank})" if size > 1 else ""
        sys.stderr.write(f"run.py: error{where}: {message.splitlines()[0] if message else 'unknown error'}\n")
        sys.stderr.flush()
    if size > 1:
        mpi_util.abort(code)
    return code


def exit_process(code: int) -> NoReturn:
    """End the process with ``code``, skipping the interpreter's finalisation (``run.py``'s last step).

    By the time :func:`main` returns, everything it opened is closed; what remains is Python
    tearing down TensorFlow's modules and C++ state, ~1.3 s of every run here. The at-exit handlers
    still run, the standard streams are flushed and MPI is finalised (which mpi4py would do in the
    skipped finalisation).
    """
    from baselines_tf2.mpi import mpi_util  # noqa: PLC0415

    atexit._run_exitfuncs()  # CPython's own at-exit runner; there is no public one
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (run.py | head) must not skip the rest
            stream.flush()
    mpi_util.finalize()
    os._exit(code)


if __name__ == "__main__":
    exit_process(main())
