"""``run.py``: Baselines' command line, typed. Parse flags -> preset for (alg, env type) -> learn().

Any ``learn()`` keyword can be given as ``--name value``; the value is converted with the type of
its default (int, float, bool, str; schedules take a number), never ``eval``-ed. Errors in the
user's input end the program with one line on stderr and a non-zero exit code (``--debug`` shows
the traceback); under ``mpirun`` an error on any rank aborts the whole job.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import inspect
import os
import signal
import sys
import textwrap
import traceback
from collections.abc import Sequence
from functools import partial
from typing import Any, NoReturn

from baselines_tf2.common import mpi_util
from baselines_tf2.errors import (
    CheckpointError,
    ConfigError,
    ExportError,
    TrainingDivergedError,
    TrainingInterrupted,
    VideoError,
)

__all__ = ["build_parser", "exit_process", "import_tensorflow", "main"]

NETWORKS = ("mlp", "cnn", "cnn_small")
# learn() keywords that run.py sets from its own flags (or that make no sense on a command line).
_RESERVED = {"env", "policy_fn", "callback", "comm", "seed", "log_path", "save_path", "load_path", "save_interval",
             "num_env", "max_timesteps"}  # fmt: skip
_POLICY_KWARGS = {"hid_size": 64, "num_hid_layers": 2, "precision": "float32", "init": "ppo1"}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _positive_number(text: str) -> int:
    """Integers written as ``1000000`` or ``1e6``."""
    value = float(text)
    if not value.is_integer():
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
    return int(value)


def build_parser() -> argparse.ArgumentParser:
    """The typed flags of run.py (``learn()`` keywords are parsed separately)."""
    from baselines_tf2.common.envs import ENV_BACKENDS, ENV_TYPES  # noqa: PLC0415
    from baselines_tf2.ppo.defaults import ALGS  # noqa: PLC0415

    epilog = (
        "\n".join(
            f"learn() flags for --alg {alg}:\n"
            + textwrap.fill(
                ", ".join(sorted(_learn_defaults(alg))), width=88, initial_indent="  ", subsequent_indent="  "
            )
            for alg in ("ppo", "pg")
        )
        + "\n(defaults come from the --alg preset and are printed at start; ppo1/ppo2 take ppo's flags)"
    )
    p = _Parser(prog="run.py", description="Train or play a PPO agent (Baselines' run.py). "
                "Any learn() keyword may be added as --name value.", epilog=epilog,
                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--alg", default="ppo", choices=ALGS,
                   help="ppo: the paper's settings; ppo1/ppo2: Baselines' defaults; pg: vanilla policy gradient")  # fmt: skip
    p.add_argument("--env", default="CartPole-v1", help="gymnasium environment id")
    p.add_argument("--env_type", default=None, choices=ENV_TYPES, help="override the type detected from the id")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--num_timesteps", type=_positive_number, default=1_000_000, help="total over all ranks (0: no training)"
    )
    p.add_argument("--network", default=None, choices=NETWORKS, help="default: mlp, or cnn for Atari")
    p.add_argument("--num_env", type=int, default=None, help="env copies per MPI rank (default from the preset)")
    p.add_argument("--env_backend", default="gymnasium", choices=ENV_BACKENDS,
                   help="how training env copies are stepped: gymnasium's SyncVectorEnv, or for Atari ale_py's "
                   "C++ vector env on the rank's share of the cores")  # fmt: skip
    p.add_argument("--reward_scale", type=float, default=1.0, help="constant reward multiplier")
    p.add_argument("--repeat_action_probability", type=float, default=None, metavar="P",
                   help="Atari sticky actions: the emulator repeats the previous action with probability P "
                   "(default: the id's own, 0.25 for ALE/*-v5, 0 for *NoFrameskip-v4 as in the paper)")  # fmt: skip
    p.add_argument("--save_path", default=None, help="checkpoint folder")
    p.add_argument("--load_path", default=None, help="checkpoint folder or prefix to resume from or play")
    p.add_argument("--log_path", default=None, help="folder for progress.csv, TensorBoard and monitor files")
    p.add_argument("--save_interval", type=int, default=0, help="save every N iterations (0: only at the end)")
    p.add_argument(
        "--play", action="store_true", help="after training (or with --num_timesteps 0), run deterministic episodes"
    )
    p.add_argument("--play_episodes", type=int, default=5, help="episodes for --play")
    p.add_argument("--video", default=None, metavar="DIR", help="with --play, record each episode to DIR as MP4")
    p.add_argument(
        "--export",
        default=None,
        metavar="DIR",
        help="write a SavedModel of the policy to this new folder after training (or, with "
        "--num_timesteps 0, of the --load_path checkpoint)",
    )
    p.add_argument("--export_tflite", action="store_true", help="with --export, also write DIR/model.tflite")
    p.add_argument(
        "--gym_packages",
        nargs="+",
        default=[],
        metavar="PKG",
        help="import these packages first (they register custom environments), as RL-Zoo's flag",
    )
    p.add_argument("--debug", action="store_true", help="show tracebacks (and TensorFlow's start-up log)")
    p.add_argument("--verbose", action="store_true", help="show TensorFlow's start-up log")
    return p


def _learn_fn(alg: str):
    """The learner behind ``--alg``: PPO's for ppo/ppo1/ppo2, the vanilla policy gradient's for pg."""
    if alg == "pg":
        from baselines_tf2.pg import learn  # noqa: PLC0415
    else:
        from baselines_tf2.ppo import learn  # noqa: PLC0415
    return learn


def _learn_defaults(alg: str) -> dict[str, Any]:
    params = inspect.signature(_learn_fn(alg)).parameters
    defaults = {n: p.default for n, p in params.items() if p.kind is p.KEYWORD_ONLY and n not in _RESERVED}
    return {**defaults, **_POLICY_KWARGS}


def _convert(name: str, text: str, default: Any) -> Any:
    """``text`` as the type of ``default`` (schedules and floats: float; bools: true/false)."""
    try:
        if isinstance(default, bool):
            lowered = text.lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if isinstance(default, int):
            return _positive_number(text) if text.strip() else int(text)
        if isinstance(default, str):
            return text
        return float(text)
    except (ValueError, argparse.ArgumentTypeError):
        kind = "true/false" if isinstance(default, bool) else "an integer" if isinstance(default, int) else "a number"
        raise ConfigError(f"--{name} expects {kind}, got {text!r}") from None


def parse_extra(tokens: Sequence[str], alg: str = "ppo") -> dict[str, Any]:
    """``--name value`` / ``--name=value`` pairs for ``alg``'s learn()/policy keywords, typed by their defaults."""
    valid = _learn_defaults(alg)
    out: dict[str, Any] = {}
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if not token.startswith("--"):
            raise ConfigError(f"unexpected argument {token!r}")
        name, _, value = token[2:].partition("=")
        if name not in valid:
            raise ConfigError(f"unknown flag --{name} for --alg {alg}; valid learn() flags: {', '.join(sorted(valid))}")
        if not _:
            if i + 1 >= len(tokens):
                raise ConfigError(f"--{name} needs a value")
            value = tokens[i + 1]
            i += 1
        out[name] = _convert(name, value, valid[name])
        i += 1
    return out


def _settings(args: argparse.Namespace, extra: dict[str, Any], env_type: str) -> dict[str, Any]:
    from baselines_tf2.ppo.defaults import preset  # noqa: PLC0415

    settings = dict(_POLICY_KWARGS, **preset(args.alg, env_type))
    settings.update(extra)
    if args.network:
        settings["network"] = args.network
    if args.num_env is not None:
        settings["num_env"] = args.num_env
    return settings


def _policy_fn(settings: dict[str, Any]):
    from baselines_tf2.common.policies import INITS, PRECISIONS, CnnPolicy, MlpPolicy, bfloat16_is_fast  # noqa: PLC0415

    network = settings.pop("network")
    hid_size, num_hid_layers = settings.pop("hid_size"), settings.pop("num_hid_layers")
    precision, init = settings.pop("precision"), settings.pop("init")
    if precision not in PRECISIONS:
        raise ConfigError(f"--precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if init not in INITS:
        raise ConfigError(f"--init must be one of {', '.join(INITS)}, got {init!r}")
    if network == "mlp":
        if precision != "float32":
            raise ConfigError(
                f"--precision {precision} is for CNN policies; the MLP acts in NumPy and trains in float32"
            )
        return partial(MlpPolicy, hid_size=hid_size, num_hid_layers=num_hid_layers, init=init), network
    if precision == "bfloat16" and not bfloat16_is_fast() and mpi_util.rank() == 0:
        print("note: this CPU has no AMX/AVX512-BF16 units; --precision bfloat16 will be slower than float32")
    return partial(CnnPolicy, kind="large" if network == "cnn" else "small", precision=precision, init=init), network


def _run_config(args: argparse.Namespace, env_type: str, network: str, settings: dict[str, Any]) -> dict[str, Any]:
    return {"alg": args.alg, "env": args.env, "env_type": env_type, "network": network,
            "hid_size": settings.get("hid_size"), "num_hid_layers": settings.get("num_hid_layers"),
            "precision": settings.get("precision"), "init": settings.get("init"),
            "repeat_action_probability": args.repeat_action_probability}  # fmt: skip


def _check_compatible(load_path: str, config: dict[str, Any]) -> None:
    from baselines_tf2.common.checkpoint import read_run_config, resolve_checkpoint  # noqa: PLC0415

    resolve_checkpoint(load_path)
    saved = read_run_config(load_path)
    if saved is None:
        return
    for key in ("env", "network", "hid_size", "num_hid_layers"):
        if saved.get(key) != config.get(key):
            raise CheckpointError(
                f"checkpoint {load_path} was trained with {key}={saved.get(key)!r}, not {config.get(key)!r}"
            )


def run(args: argparse.Namespace, extra: dict[str, Any]) -> int:
    """Everything after parsing: build, train and/or play. Returns the exit code."""
    from baselines_tf2.common.checkpoint import atomic_write_json, check_save_path, restore  # noqa: PLC0415
    from baselines_tf2.common.envs import (  # noqa: PLC0415
        check_env_backend,
        check_repeat_action_probability,
        env_type_of,
        import_packages,
        make_env,
        make_vec_env,
    )
    from baselines_tf2.common.evaluate import run_episodes  # noqa: PLC0415
    from baselines_tf2.common.export import check_export_dir, export_saved_model  # noqa: PLC0415
    from baselines_tf2.common.video import video_prefix  # noqa: PLC0415

    import_packages(args.gym_packages)
    learn = _learn_fn(args.alg)
    rank = mpi_util.rank()
    env_type = args.env_type or env_type_of(args.env)
    settings = _settings(args, extra, env_type)
    config = _run_config(args, env_type, settings["network"], settings)
    policy_fn, network = _policy_fn(settings)
    num_env = settings.pop("num_env")
    if args.num_timesteps < 0 or args.num_env is not None and args.num_env <= 0 or args.save_interval < 0:
        raise ConfigError("--num_timesteps and --save_interval must be >= 0 and --num_env > 0")
    if args.play_episodes <= 0:
        raise ConfigError(f"--play_episodes must be > 0, got {args.play_episodes}")
    if args.num_timesteps == 0 and not (args.play or args.export):
        raise ConfigError("--num_timesteps 0 trains nothing; add --play or --export to use the loaded policy")
    if args.num_timesteps == 0 and not args.load_path:
        raise ConfigError(f"--{'play' if args.play else 'export'} with --num_timesteps 0 needs --load_path")
    if args.export_tflite and not args.export:
        raise ConfigError("--export_tflite needs --export DIR")
    if args.export:
        check_export_dir(args.export)
    check_env_backend(args.env_backend, args.env, env_type)
    check_repeat_action_probability(args.repeat_action_probability, args.env, env_type)
    if args.video and not args.play:
        raise ConfigError("--video records the --play episodes; add --play")
    if args.video and rank == 0:
        _prepare_video(args.env, env_type, args.video)
    if args.load_path:
        _check_compatible(args.load_path, config)
    check_save_path(args.save_path, args.load_path)
    if rank == 0:
        _print_settings(args, env_type, network, num_env, settings, config)
        if args.save_path:
            atomic_write_json(os.path.join(args.save_path, "run.json"), config)

    if args.num_timesteps > 0:
        log_dir = os.path.join(args.log_path, "monitor") if args.log_path else None
        env = make_vec_env(
            args.env, num_env, rank=rank, log_dir=log_dir, reward_scale=args.reward_scale, env_type=env_type,
            backend=args.env_backend, threads=_threads_per_rank() if args.env_backend == "ale_vector" else 0,
            repeat_action_probability=args.repeat_action_probability,
        )  # fmt: skip
        try:
            policy = learn(
                env, policy_fn, max_timesteps=args.num_timesteps, num_env=num_env, seed=args.seed, log_path=args.log_path,
                save_path=args.save_path, load_path=args.load_path, save_interval=args.save_interval, **settings,
            )  # fmt: skip
        except TrainingInterrupted as exc:
            if rank == 0 and exc.folder and not os.path.exists(os.path.join(exc.folder, "run.json")):
                atomic_write_json(os.path.join(exc.folder, "run.json"), config)  # so --load_path can check it
            raise
        env.close()
    else:
        eval_env = make_env(args.env, train=False, env_type=env_type,
                            repeat_action_probability=args.repeat_action_probability)  # fmt: skip
        policy = policy_fn(eval_env.observation_space, eval_env.action_space)
        restore(args.load_path, policy=policy)
        eval_env.close()

    if args.export and rank == 0:
        export_saved_model(policy, args.export, tflite=args.export_tflite)
        tflite_note = f" and {os.path.join(args.export, 'model.tflite')}" if args.export_tflite else ""
        print(f"exported SavedModel to {args.export}{tflite_note} (signatures: serving_default, sample)")
    if args.play and rank == 0:
        eval_env = make_env(args.env, train=False, env_type=env_type, video_dir=args.video,
                            repeat_action_probability=args.repeat_action_probability)  # fmt: skip
        returns = run_episodes(policy, eval_env, args.play_episodes, seed=args.seed + 12345)
        eval_env.close()  # writes the last episode's video
        for i, ret in enumerate(returns):
            print(f"episode {i + 1}: return {ret:.2f}")
        print(f"mean return over {len(returns)} episodes: {sum(returns) / len(returns):.2f}")
        for i in range(len(returns) if args.video else 0):
            print(f"video of episode {i + 1}: {os.path.join(args.video, video_prefix(args.env))}-episode-{i}.mp4")
    return 0


def _threads_per_rank() -> int:
    """This rank's share of the machine's cores (the ranks on one machine split them; collective)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores // mpi_util.local_size())


def _prepare_video(env_id: str, env_type: str, video_dir: str) -> None:
    """Before any env is built: an empty target, an encoder, offscreen rendering, one rendered frame."""
    from baselines_tf2.common import video  # noqa: PLC0415
    from baselines_tf2.common.envs import make_base_env  # noqa: PLC0415

    video.check_video_dir(video_dir)
    video.check_encoder()
    video.select_sdl_driver()
    if env_type == "mujoco":
        video.select_mujoco_gl()
    video.check_rendering(env_id, make=partial(make_base_env, env_type=env_type))


def _print_settings(args: argparse.Namespace, env_type: str, network: str, num_env: int, settings: dict[str, Any],
                    config: dict[str, Any]) -> None:  # fmt: skip
    ranks = mpi_util.size()
    layers = f" {config['num_hid_layers']}x{config['hid_size']}" if network == "mlp" else f" ({config['precision']})"
    backend = f" ({args.env_backend})" if args.env_backend != "gymnasium" else ""
    print(f"baselines_tf2: --alg {args.alg} on {args.env} ({env_type}), network {network}{layers}, "
          f"{ranks} rank(s) x {num_env} env(s){backend}, {args.num_timesteps} timesteps, seed {args.seed}")  # fmt: skip
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
        from baselines_tf2.common.quiet import import_tensorflow_quietly  # noqa: PLC0415

        import_tensorflow_quietly()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    import_tensorflow(argv)
    from baselines_tf2.common.tf_util import configure_threads  # noqa: PLC0415 (after the quiet import)

    if mpi_util.size() > 1:
        configure_threads(1, 1)  # one TF thread pool per rank: ranks already fill the cores
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    debug = args.debug
    try:
        return run(args, parse_extra(rest, args.alg))
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
        return _fail(130, "interrupted", debug, collective=False)
    except ConfigError as exc:
        return _fail(2, str(exc), debug, collective=True)
    except (CheckpointError, ExportError, TrainingDivergedError, VideoError) as exc:
        return _fail(1, str(exc), debug, collective=True)
    except Exception as exc:  # noqa: BLE001 (the one place that turns crashes into one line)
        return _fail(1, f"{type(exc).__name__}: {exc}", debug, collective=False)


def _fail(code: int, message: str, debug: bool, *, collective: bool) -> int:
    """Print one line (rank 0 only for errors every rank hits), then end every rank."""
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
    atexit._run_exitfuncs()  # CPython's own at-exit runner; there is no public one
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (run.py | head) must not skip the rest
            stream.flush()
    mpi_util.finalize()
    os._exit(code)


if __name__ == "__main__":
    exit_process(main())
