"""What run.py does after parsing: check the flags, then train and/or play and export.

Each step imports what it needs (TensorFlow, gymnasium, the learner) when it runs, so that importing
this module, and parsing, imports none of them.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from baselines_tf2.cli.flags import resolve_settings, tracking_settings
from baselines_tf2.cli.networks import policy_fn_for
from baselines_tf2.cli.play_export import export, play, prepare_video, restored_policy
from baselines_tf2.config import RECURRENT_NETWORKS, PolicyConfig, RunConfig, TrackingConfig
from baselines_tf2.errors import CheckpointError, ConfigError, TrainingInterrupted

if TYPE_CHECKING:
    from baselines_tf2.train.tracking import WandbTracker

__all__ = ["export", "play", "run", "train"]


def _run_record(args: argparse.Namespace, env_type: str, policy: PolicyConfig) -> dict[str, Any]:
    """What ``run.json`` records beside the checkpoints (and ``--load_path`` checks)."""
    record = {"alg": args.alg, "env": args.env, "env_type": env_type, **dataclasses.asdict(policy)}
    return {**record, "repeat_action_probability": args.repeat_action_probability}


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


def _check_args(args: argparse.Namespace, env_type: str, run_cfg: RunConfig, tracking: TrackingConfig) -> None:
    """The checks of run.py's own flags, before anything is built."""
    from baselines_tf2.envs.make import check_env_backend, check_repeat_action_probability  # noqa: PLC0415
    from baselines_tf2.tools.export import check_export_dir  # noqa: PLC0415
    from baselines_tf2.tools.onnx_export import check_onnx_available  # noqa: PLC0415

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
    for flag in ("export_tflite", "export_onnx"):
        if getattr(args, flag) and not args.export:
            raise ConfigError(f"--{flag} needs --export DIR")
    if args.export:
        check_export_dir(args.export)
    if args.export_onnx:
        check_onnx_available()  # before training, not after it
    check_env_backend(args.env_backend, args.env, env_type)
    check_repeat_action_probability(args.repeat_action_probability, args.env, env_type)
    if args.video and not args.play:
        raise ConfigError("--video records the --play episodes; add --play")
    if tracking.track and args.num_timesteps == 0:
        raise ConfigError("--track records training; --num_timesteps 0 trains nothing")


def run(args: argparse.Namespace, callback: Callable[..., Any] | None = None) -> int:
    """Everything after parsing: check, then train and/or play and export. Returns the exit code."""
    from baselines_tf2.envs.make import env_type_of, import_packages  # noqa: PLC0415
    from baselines_tf2.mpi import mpi_util  # noqa: PLC0415
    from baselines_tf2.train.checkpoint import atomic_write_json, check_save_path  # noqa: PLC0415

    import_packages(args.gym_packages)
    env_type = args.env_type or env_type_of(args.env)
    algo, run_cfg, policy = resolve_settings(args, env_type)
    tracking = tracking_settings(args)
    record = _run_record(args, env_type, policy)
    _check_args(args, env_type, run_cfg, tracking)
    rank = mpi_util.rank()
    if args.video and rank == 0:
        prepare_video(args.env, env_type, args.video)
    if run_cfg.load_path:
        _check_compatible(run_cfg.load_path, record)
    check_save_path(run_cfg.save_path, run_cfg.load_path)
    tracker = _start_tracker(tracking, args, record, algo, run_cfg, callback, rank == 0) if tracking.track else None
    if tracker is not None and rank == 0:
        record = {**record, **tracker.record_entry()}  # run.json names the W&B run, so a resume continues it
    if rank == 0:
        _print_settings(args, env_type, algo, run_cfg, policy)
        if run_cfg.save_path:
            atomic_write_json(os.path.join(run_cfg.save_path, "run.json"), record)
    policy_fn = policy_fn_for(policy)
    if args.num_timesteps > 0:
        with tracker if tracker is not None else contextlib.nullcontext():  # closes the W&B run, failed on errors
            pi = train(args, env_type, algo, run_cfg, policy_fn, record, tracker or callback)
    else:
        assert run_cfg.load_path is not None  # _check_args requires it without training
        pi = restored_policy(args, env_type, policy_fn, run_cfg.load_path)
    if rank == 0:
        if args.export:
            export(pi, args.export, args.export_tflite, args.export_onnx)
        if args.play:
            play(pi, args, env_type, run_cfg.seed, run_cfg.action_masking)
    return 0


def train(
    args: argparse.Namespace,
    env_type: str,
    algo: Any,
    run_cfg: RunConfig,
    policy_fn: Callable[..., Any],
    record: dict[str, Any],
    callback: Callable[..., Any] | None = None,
) -> Any:
    """Build this rank's training envs and run the learner; returns the trained policy."""
    from baselines_tf2.envs.make import make_env, make_vec_env  # noqa: PLC0415
    from baselines_tf2.mpi import mpi_util  # noqa: PLC0415
    from baselines_tf2.train.checkpoint import atomic_write_json  # noqa: PLC0415

    learn = _learn_fn(args.alg)
    log_dir = os.path.join(run_cfg.log_path, "monitor") if run_cfg.log_path else None
    rank = mpi_util.rank()
    threads = _threads_per_rank() if args.env_backend == "ale_vector" else 0
    env = make_vec_env(
        args.env,
        run_cfg.num_env,
        rank=rank,
        log_dir=log_dir,
        reward_scale=args.reward_scale,
        env_type=env_type,
        backend=args.env_backend,
        threads=threads,
        repeat_action_probability=args.repeat_action_probability,
    )
    sticky = args.repeat_action_probability  # --eval_every's env: as --play's (Atari: whole games, true scores)
    eval_env = partial(make_env, args.env, train=False, env_type=env_type, repeat_action_probability=sticky)
    try:
        pi = learn(env, policy_fn, config=algo, run_config=run_cfg, callback=callback, eval_env=eval_env)
    except TrainingInterrupted as exc:
        if rank == 0 and exc.folder and not os.path.exists(os.path.join(exc.folder, "run.json")):
            atomic_write_json(os.path.join(exc.folder, "run.json"), record)  # so --load_path can check it
        raise
    env.close()
    return pi


def _start_tracker(
    tracking: TrackingConfig,
    args: argparse.Namespace,
    record: dict[str, Any],
    algo: Any,
    run_cfg: RunConfig,
    callback: Callable[..., Any] | None,
    enabled: bool,
) -> WandbTracker:
    """``--track``: the W&B run of this training, sent the settings ``run.json`` records plus every other setting.

    A ``--load_path`` checkpoint whose ``run.json`` names a W&B run continues that run. Every rank has a
    tracker (the callback of every rank); rank 0's alone is ``enabled``.
    """
    from baselines_tf2.train.checkpoint import read_run_config  # noqa: PLC0415
    from baselines_tf2.train.tracking import WandbTracker, saved_run_id  # noqa: PLC0415

    saved = read_run_config(run_cfg.load_path) if run_cfg.load_path and enabled else None
    run_id = saved_run_id(saved)
    extra = {"env_backend": args.env_backend, "reward_scale": args.reward_scale}
    config = {**record, **extra, **dataclasses.asdict(algo), **dataclasses.asdict(run_cfg)}
    name = "" if run_id else f"{args.env}__{args.alg}__{run_cfg.seed}__{int(time.time())}"  # CleanRL's form
    tb_dir = os.path.join(run_cfg.log_path, "tb") if run_cfg.log_path else None
    return WandbTracker(tracking, config, run_id=run_id, name=name, tb_dir=tb_dir, callback=callback, enabled=enabled)


def _learn_fn(alg: str) -> Callable[..., Any]:
    """The learner behind ``--alg``: PPO's for ppo/ppo1/ppo2, the vanilla policy gradient's for pg."""
    if alg == "pg":
        from baselines_tf2.pg.vpg import learn as learn_pg  # noqa: PLC0415

        return learn_pg
    from baselines_tf2.ppo.pposgd import learn  # noqa: PLC0415

    return learn


def _threads_per_rank() -> int:
    """This rank's share of the machine's cores (the ranks on one machine split them; collective)."""
    from baselines_tf2.mpi import mpi_util  # noqa: PLC0415

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores // mpi_util.local_size())


def _print_settings(
    args: argparse.Namespace, env_type: str, algo: Any, run_cfg: RunConfig, policy: PolicyConfig
) -> None:
    from baselines_tf2.mpi import mpi_util  # noqa: PLC0415

    mlp_heads = policy.network in ("mlp", "multi_input")
    layers = f" {policy.num_hid_layers}x{policy.hid_size}" if mlp_heads else f" ({policy.precision})"
    if policy.network in RECURRENT_NETWORKS:
        trunk = f" {policy.num_hid_layers}x{policy.hid_size}" if policy.network == "lstm" else ""
        layers = f"{trunk} + LSTM {policy.nlstm}"
    backend = f" ({args.env_backend})" if args.env_backend != "gymnasium" else ""
    workers = f"{mpi_util.size()} rank(s) x {run_cfg.num_env} env(s){backend}"
    print(
        f"baselines_tf2: --alg {args.alg} on {args.env} ({env_type}), network {policy.network}{layers}, {workers}, "
        f"{args.num_timesteps} timesteps, seed {run_cfg.seed}"
    )
    settings = {**dataclasses.asdict(algo), "init": policy.init}
    settings.update({k: v for k, v in dataclasses.asdict(run_cfg).items() if v != getattr(RunConfig, k, None)})
    for key in sorted(settings):
        print(f"  {key:26s} {settings[key]!r}")
    sys.stdout.flush()
