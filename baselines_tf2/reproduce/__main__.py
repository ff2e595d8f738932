"""``python -m baselines_tf2.reproduce {mujoco,table1,atari,ablation,report}``: the paper's experiments, resumable.

    mujoco   Figure 3: 7 MuJoCo -v5 tasks x seeds 0-2, 1M steps: clip 0.2, and the columns pg_adaptive, ppo1, ppo2
    table1   Table 1: the 11 objective settings x 7 tasks, seed 0, 1M steps (measures the random policy first)
    atari    Pong and Breakout (ALE v5), the --alg ppo Atari preset, 10M frames, seeds 0-2
    ablation Pong, 4M frames per arm, seeds 0-1: the pre-ablation Atari preset with one factor changed at a time
    report   rebuild docs/results/README.md and its plots from the committed curves (trains nothing)

Every training command ends by building the report. Stop it at any time (Ctrl-C, SIGTERM); the same
command continues where it was: finished runs are kept, unfinished ones resume from checkpoints.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from baselines_tf2.reproduce.grid import ABLATION_SETTINGS, EXPERIMENTS, SETTINGS, build_grid
from baselines_tf2.reproduce.runner import GridRunner, is_done

DEFAULT_OUT = Path("docs/results")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m baselines_tf2.reproduce",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("what", choices=[*EXPERIMENTS, "report"])
    p.add_argument("--seeds", type=int, nargs="+", default=None, help="seeds (default: the experiment's)")
    p.add_argument("--envs", nargs="+", default=None, help="only these env ids")
    p.add_argument(
        "--settings", nargs="+", default=None, help=f"only these settings: {', '.join([*SETTINGS, *ABLATION_SETTINGS])}"
    )
    p.add_argument("--timesteps", type=float, default=None, help="steps per run (default: the experiment's)")
    p.add_argument("--save_interval", type=int, default=None, help="iterations between checkpoints of a run")
    p.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="runs at once, one TF thread each (default: cores)"
    )
    p.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="results folder (curves in OUT/data); default docs/results"
    )
    p.add_argument("--work", type=Path, default=None, help="checkpoints of unfinished runs (default: OUT/.work)")
    p.add_argument("--status_every", type=float, default=60.0, help="seconds between progress lines")
    p.add_argument(
        "--start_until",
        default=None,
        metavar="HH:MM",
        help="start no run after this local time (running ones finish): fits a session or a night",
    )
    p.add_argument("--dry_run", action="store_true", help="list the runs and whether each is done, then stop")
    p.add_argument(
        "--allow_dirty",
        action="store_true",
        help="run even if the code has uncommitted changes (the runs are marked -dirty in the report)",
    )
    return p


def _clock_time(text: str | None, parser: argparse.ArgumentParser) -> float | None:
    """``HH:MM`` as the next such local time (today, or tomorrow if it has passed), in ``time.time()`` units."""
    if text is None:
        return None
    try:
        hours, minutes = (int(part) for part in text.split(":"))
        now = datetime.datetime.now()
        at = now.replace(hour=hours, minute=minutes, second=0, microsecond=0)
    except ValueError:
        parser.exit(2, f"{parser.prog}: error: --start_until expects HH:MM, got {text!r}\n")
    if at <= now:
        at += datetime.timedelta(days=1)
    return at.timestamp()


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.what == "report":
        from baselines_tf2.reproduce.report import build_report, update_readme  # noqa: PLC0415

        try:
            print(build_report(args.out))
            readme = args.out.resolve().parent.parent / "README.md"  # docs/results -> the repository's README
            if update_readme(readme, args.out):
                print(f"updated the generated Results block of {readme}")
        except KeyError as exc:  # a template quotes a figure the data does not give
            parser.exit(2, f"{parser.prog}: error: {exc.args[0]}\n")
        return 0
    try:
        timesteps = None if args.timesteps is None else int(args.timesteps)
        specs = build_grid(
            args.what,
            envs=args.envs,
            settings=args.settings,
            seeds=args.seeds,
            timesteps=timesteps,
            save_interval=args.save_interval,
        )
        if args.envs:
            from baselines_tf2.envs.make import env_type_of  # noqa: PLC0415 (validates the ids)

            for env in args.envs:
                env_type_of(env)
    except Exception as exc:  # noqa: BLE001 (bad flags: one line, exit 2)
        parser.exit(2, f"{parser.prog}: error: {exc}\n")
    if args.dry_run:
        for spec in specs:
            print(
                f"{'done' if is_done(args.out, spec) else 'todo'}  {spec.key}  python run.py {' '.join(spec.command())}"
            )
        return 0
    if args.what == "table1":
        from baselines_tf2.reproduce.random_policy import measure_random_scores  # noqa: PLC0415

        measure_random_scores(args.out / "data", sorted({s.env for s in specs}))
    start_until = _clock_time(args.start_until, parser)
    runner = GridRunner(
        args.out,
        args.work or args.out / ".work",
        args.jobs,
        args.status_every,
        start_until=start_until,
        allow_dirty=args.allow_dirty,
    )
    try:
        code = runner.run(specs)
    except (RuntimeError, ValueError) as exc:
        parser.exit(2, f"{parser.prog}: error: {exc}\n")
    except KeyboardInterrupt:
        return 130
    from baselines_tf2.reproduce.report import build_report  # noqa: PLC0415

    build_report(args.out)
    print(f"report: {args.out / 'README.md'}")
    return code


if __name__ == "__main__":
    sys.exit(main())
