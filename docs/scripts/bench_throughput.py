"""Throughput of our PPO vs Stable-Baselines3's and vs the bare environment, side by side.

* ``mujoco``: Hopper-v5, 1 env, T=2048, minibatch 64, 10 epochs, 64-64 tanh networks, 100k steps;
  rows: ours, SB3, the bare environment (``gymnasium.make``, random actions), ours on
  ``mpirun -n 2`` with the allgather (default) and the allreduce update.
* ``atari``: ALE/Pong-v5, the paper's Atari settings (8 envs, T=128, 3 epochs, minibatch 256,
  Nature CNN), 20k steps; rows: ours, SB3 with its own Atari wrappers, ours with
  ``--precision bfloat16``, and with ``--env_backend ale_vector`` on top.

Runs alternate (ours, SB3, ...) so that machine noise hits all; each run is a fresh process, timed
around ``learn()`` (ours: ``time_elapsed`` in progress.csv, which includes the one-off compile;
SB3: ``model.learn``) and as a whole process, with its peak RSS.

    python docs/scripts/bench_throughput.py [mujoco|atari|all]   # needs .bench-venv with SB3 (--setup makes it)
    python docs/scripts/bench_throughput.py mujoco --against REV  # ours now against ours at an earlier commit

Writes ``docs/data/throughput.csv`` / ``docs/data/throughput_atari.csv`` (every run) and
``docs/benchmarks.md`` (both summaries; the Atari time breakdown comes from
``docs/scripts/profile_cnn.py``'s ``docs/data/cnn_pieces.csv``). The runs use a clean clone of the current commit, so
editing the work tree meanwhile does not change them. Nothing else may run on the machine meanwhile.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CODE = REPO  # where the measured code is run from (a clean clone, set in main)
BENCH_VENV = REPO / ".bench-venv"
DATA = {"mujoco": REPO / "docs" / "data" / "throughput.csv", "atari": REPO / "docs" / "data" / "throughput_atari.csv"}
FIELDS = ["round", "impl", "ranks", "steps", "learn_seconds", "steps_per_s", "steady_steps_per_s", "process_seconds",
          "peak_rss_mib", "commit"]  # fmt: skip
REPORT = REPO / "docs" / "benchmarks.md"
MPI_ROW, MPI_ALLREDUCE_ROW = "baselines_tf2 mpirun -n 2", "baselines_tf2 mpirun -n 2 --mpi_update allreduce"
BF16 = ("--precision", "bfloat16")
ALE = ("--env_backend", "ale_vector")
LOG_ROW = "baselines_tf2 --log_path"  # progress.csv, TensorBoard events and monitor files written
BF16_ROW, BF16_ALE_ROW = "baselines_tf2 " + " ".join(BF16), "baselines_tf2 " + " ".join(BF16 + ALE)
PONG_MPI = ("baselines_tf2 mpirun -n 2 --mpi_update allgather", "baselines_tf2 mpirun -n 2 --mpi_update allreduce")
MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "PRTE_MCA_rmaps_default_mapping_policy": ":oversubscribe"}  # fmt: skip


def setup_bench_venv() -> None:
    """Create .bench-venv with torch (CPU), SB3 and MuJoCo, apart from the project's environment."""
    subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
    pip = [str(BENCH_VENV / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "torch==2.13.0"], check=True)
    subprocess.run([*pip, "stable-baselines3", "gymnasium[mujoco,atari]", "opencv-python-headless"], check=True)


def timed(cmd: list[str], env: dict | None = None) -> tuple[str, float, float]:
    """Run ``cmd``; returns its stdout, wall seconds and peak RSS in MiB.

    The RSS comes from ``wait4`` on the child, which covers the child and its waited-for
    descendants: for ``mpirun`` it is the largest rank's peak.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=CODE, stdout=out, stderr=err, env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{err.read()[-3000:]}")
        return out.read(), wall, usage.ru_maxrss / 1024.0


def run_ours(
    steps: int, ranks: int = 1, env: str = "Hopper-v5", mpi_update: str | None = None, flags: tuple[str, ...] = ()
) -> dict:
    """``run.py --alg ppo`` on ``env`` (plus ``flags``); steps/s from the learner's own elapsed time."""
    with tempfile.TemporaryDirectory() as log:
        cmd = [sys.executable, "run.py", "--alg", "ppo", "--env", env, "--num_timesteps", str(steps),
               "--log_path", log, "--progress", "false", *flags]  # fmt: skip
        if mpi_update:
            cmd += ["--mpi_update", mpi_update]
        if ranks > 1:
            mpirun = str(Path(sys.executable).parent / "mpirun")
            cmd = [mpirun, "-n", str(ranks), *cmd]
        _, wall, rss = timed(cmd, MPI_ENV)
        with open(os.path.join(log, "progress.csv"), newline="") as f:
            rows = list(csv.DictReader(f))
    last = rows[-1]
    done, seconds = int(last["total_timesteps"]), float(last["time_elapsed"])
    steady = statistics.median(float(r["fps"]) for r in rows[1:])  # per-iteration, after the compile
    impl = "baselines_tf2" if ranks == 1 else f"baselines_tf2 mpirun -n {ranks}"
    if mpi_update:
        impl += f" --mpi_update {mpi_update}"
    if flags:
        impl += " " + " ".join(flags)
    return {"impl": impl, "ranks": ranks,
            "steps": done, "learn_seconds": seconds, "steps_per_s": done / seconds, "steady_steps_per_s": steady,
            "process_seconds": wall, "peak_rss_mib": rss}  # fmt: skip


def _script_row(impl: str, python: str, args: list[str], steps: int) -> dict:
    """A script printing ``steps=<n> seconds=<s>`` as its last line, run as a fresh process."""
    out, wall, rss = timed([python, *args, "--num_timesteps", str(steps)])
    fields = dict(item.split("=") for item in out.strip().splitlines()[-1].split())
    done, seconds = int(fields["steps"]), float(fields["seconds"])
    return {"impl": impl, "ranks": 1, "steps": done, "learn_seconds": seconds, "steps_per_s": done / seconds,
            "steady_steps_per_s": "", "process_seconds": wall, "peak_rss_mib": rss}  # fmt: skip


def run_sb3(steps: int, atari: bool = False) -> dict:
    args = ["docs/scripts/sb3_ppo.py", *(["--atari"] if atari else [])]
    return _script_row("stable-baselines3", str(BENCH_VENV / "bin" / "python"), args, steps)


def run_bare(steps: int) -> dict:
    """The environment alone, random actions: the ceiling for any learner's steps/s."""
    return _script_row("bare environment", sys.executable, ["docs/scripts/bare_env.py"], steps)


LOCKSTEP_FIELDS = ["impl", "kind", "block", "steps", "seconds", "peak_rss_mib", "idle_cpu_s", "commit"]
SETTLE_SECONDS = 0.05  # pause before each block: thread pools that spin after work (TF's, torch's) go idle
LOCKSTEP_DATA = {part: REPO / "docs" / "data" / f"lockstep_{part}.csv" for part in ("mujoco", "atari")}
AGAINST_DATA = REPO / "docs" / "data" / "lockstep_mujoco_against.csv"  # ours now vs an earlier commit (--against)


def lockstep_workers(part: str, steps: int) -> list[tuple[str, list[str], Path]]:
    """``(row name, command, code folder)`` of each lockstep worker (``docs/scripts/lockstep_worker.py``)."""
    worker = "docs/scripts/lockstep_worker.py"
    ours, sb3 = [sys.executable, worker, "ours"], [str(BENCH_VENV / "bin" / "python"), worker, "sb3"]
    if part == "mujoco":
        common = ["--env", "Hopper-v5", "--num_timesteps", str(steps)]
        logs = ["--", "--log_path", tempfile.mkdtemp(prefix="lockstep-logs-")]
        rows = [("baselines_tf2", ours + common), ("stable-baselines3", sb3 + common),
                ("bare environment", [sys.executable, worker, "bare", *common]), (LOG_ROW, [*ours, *common, *logs])]  # fmt: skip
    else:
        common = ["--env", "ALE/Pong-v5", "--num_timesteps", str(steps)]
        rows = [("baselines_tf2", ours + common), ("stable-baselines3", [*sb3, *common, "--atari"]),
                (BF16_ROW, [*ours, *common, "--", *BF16]), (BF16_ALE_ROW, [*ours, *common, "--", *BF16, *ALE])]  # fmt: skip
    return [(name, cmd, CODE) for name, cmd in rows]


def against_workers(steps: int, old: Path, rev: str) -> list[tuple[str, list[str], Path]]:
    """Ours at the measured commit and at ``rev`` (each clone with its own worker script), and the bare env."""
    worker = "docs/scripts/lockstep_worker.py"
    common = ["--env", "Hopper-v5", "--num_timesteps", str(steps)]
    return [("baselines_tf2", [sys.executable, worker, "ours", *common], CODE),
            (f"baselines_tf2 @{rev}", [sys.executable, worker, "ours", *common], old),
            ("bare environment", [sys.executable, worker, "bare", *common], CODE)]  # fmt: skip


def lockstep(workers: list[tuple[str, list[str], Path]], path: Path, commit: str) -> None:
    """Run the workers one block at a time, in turn, until all are done; write every block's time to ``path``.

    The workers are started one after the other (each one's start-up alone on the machine), then
    take turns: one block of each unfinished worker per round, nothing else computing meanwhile.
    """
    procs: dict[str, subprocess.Popen] = {}
    launched: dict[str, float] = {}
    rows: list[dict] = []
    logs = Path(tempfile.mkdtemp(prefix="lockstep-"))

    # Each worker imports its clone's package, not the editable install's work tree: a script's own
    # folder, not the clone's root, heads sys.path.
    def env(code: Path) -> dict[str, str]:
        return {**os.environ, **MPI_ENV, "PYTHONPATH": os.pathsep.join([str(code), os.environ.get("PYTHONPATH", "")])}

    def reply(impl: str) -> list[str]:
        line = procs[impl].stdout.readline()
        if not line:
            code = procs[impl].wait()
            tail = (logs / f"{impl}.log").read_text()[-2000:]
            raise RuntimeError(f"{impl}: worker exited with {code} (stderr: {logs / f'{impl}.log'}):\n{tail}")
        return line.split()

    try:
        for impl, cmd, code in workers:
            launched[impl] = start = time.perf_counter()
            with open(logs / f"{impl}.log", "w") as err:
                procs[impl] = subprocess.Popen(cmd, cwd=code, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                                               text=True, env=env(code))  # fmt: skip
            kind, package = reply(impl)
            if kind != "ready" or (package != "-" and not Path(package).resolve().is_relative_to(code.resolve())):
                raise RuntimeError(f"{impl}: worker sent {kind} {package}, not ready with the code under {code}")
            rows.append(
                {"impl": impl, "kind": "startup", "block": 0, "steps": 0, "seconds": time.perf_counter() - start}
            )
        block = 0
        while procs:
            block += 1
            for impl, proc in list(procs.items()):
                time.sleep(SETTLE_SECONDS)
                proc.stdin.write("go\n")
                proc.stdin.flush()
                kind, *values = reply(impl)
                if kind == "block":
                    rows.append({"impl": impl, "kind": "block", "block": block, "steps": int(values[0]),
                                 "seconds": float(values[1])})  # fmt: skip
                    continue
                if kind != "finish":
                    raise RuntimeError(f"{impl}: worker sent {kind!r} in block {block}")
                rows.append({"impl": impl, "kind": "tail", "block": block, "steps": 0, "seconds": float(values[0])})
                _, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = os.waitstatus_to_exitcode(status)
                proc.stdin.close()
                proc.stdout.close()
                if proc.returncode != 0:
                    raise RuntimeError(f"{impl}: worker exited with {proc.returncode}")
                # The whole process minus its waits for its turn (the first wait, from ``ready``, included).
                busy = time.perf_counter() - launched[impl] - float(values[1])
                rows.append({"impl": impl, "kind": "process", "block": block, "steps": 0, "seconds": busy,
                             "peak_rss_mib": usage.ru_maxrss / 1024.0, "idle_cpu_s": float(values[2])})  # fmt: skip
                del procs[impl]
            if block % 10 == 0:
                print(f"lockstep {path.stem}: round {block}", flush=True)
    finally:
        for proc in procs.values():
            proc.kill()
            proc.wait()
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=LOCKSTEP_FIELDS)
        writer.writeheader()
        writer.writerows({**r, "commit": commit} for r in rows)


def lockstep_summary(path: Path) -> dict[str, dict[str, Any]] | None:
    """Per implementation: training steps/s (all blocks), steady steps/s (blocks after the first),
    start-up, training and whole-process seconds, peak RSS."""
    if not path.exists():
        return None
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    out = {}
    for impl in dict.fromkeys(r["impl"] for r in rows):
        mine = [r for r in rows if r["impl"] == impl]
        blocks = [(int(r["steps"]), float(r["seconds"])) for r in mine if r["kind"] == "block"]
        one = {r["kind"]: float(r["seconds"]) for r in mine if r["kind"] != "block"}
        steps, seconds = sum(n for n, _ in blocks), sum(t for _, t in blocks)
        out[impl] = {"steps": steps, "train_s": seconds, "steps_per_s": steps / seconds,
                     "steady_steps_per_s": statistics.median(n / t for n, t in blocks[1:]),
                     "rates": {int(r["block"]): int(r["steps"]) / float(r["seconds"]) for r in mine if r["kind"] == "block"},
                     "startup_s": one["startup"], "process_s": one["process"],
                     "peak_rss_mib": next(float(r["peak_rss_mib"]) for r in mine if r["kind"] == "process"),
                     "idle_cpu_s": next(float(r.get("idle_cpu_s") or "nan") for r in mine if r["kind"] == "process"),
                     "commit": mine[0]["commit"]}  # fmt: skip
    return out


def versions() -> dict[str, str]:
    python = str(BENCH_VENV / "bin" / "python")
    sb3 = subprocess.run([python, "-c", "import stable_baselines3, torch; print(stable_baselines3.__version__, torch.__version__)"],
                         capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
    import tensorflow as tf  # noqa: PLC0415

    return {"sb3": sb3[0], "torch": sb3[1], "tensorflow": tf.__version__}


def read_rows(part: str) -> list[dict]:
    if not DATA[part].exists():
        return []
    with open(DATA[part], newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        for key in ("steps_per_s", "learn_seconds", "process_seconds", "peak_rss_mib"):
            row[key] = float(row[key])
        row["steady_steps_per_s"] = float(row["steady_steps_per_s"]) if row["steady_steps_per_s"] else ""
    return rows


def median(rows: list[dict], impl: str, key: str) -> float:
    return statistics.median(r[key] for r in rows if r["impl"] == impl)


def _table(rows: list[dict], impls: tuple[str, ...]) -> list[str]:
    lines = ["| implementation | steps/s | learn() s | process s | peak RSS (MiB) |", "|---|---:|---:|---:|---:|"]
    for impl in impls:
        lines.append(f"| {impl} | {median(rows, impl, 'steps_per_s'):,.0f} | {median(rows, impl, 'learn_seconds'):.1f} | "
                     f"{median(rows, impl, 'process_seconds'):.1f} | {median(rows, impl, 'peak_rss_mib'):,.0f} |")  # fmt: skip
    return lines


def paired(a: dict, b: dict) -> float:
    """Median over the rounds after the first of ``a``'s steps/s over ``b``'s: blocks next to each other in time."""
    return statistics.median(a["rates"][k] / b["rates"][k] for k in a["rates"] if k > 1 and k in b["rates"])


def lockstep_lines(part: str) -> list[str]:
    """The lockstep run's table and ratios (empty if it has not been run)."""
    summary = lockstep_summary(LOCKSTEP_DATA[part])
    if summary is None:
        return []
    first = next(iter(summary.values()))
    block = "an iteration of ours or of SB3's PPO" + (
        ", or 2048 steps of the bare environment" if part == "mujoco" else ""
    )
    lines = [
        f"**Lockstep run** (at commit {first['commit']}; `docs/data/lockstep_{part}.csv`): every implementation is one",
        "worker process (`docs/scripts/lockstep_worker.py`), started alone, and the workers then take turns,",
        f"one block each ({block}) with nothing else computing. The machine's slow and fast phases, which",
        "move separate runs by ~30%, so fall on all of them alike. *Training* covers every block (ours: from",
        "`run.py`'s argument parsing on, building the env and the policy and the first iteration's tracing",
        "and compiling included; SB3: from building its model); *steady* is the median block after the",
        "first; *paired* ratios are medians over the rounds of two blocks next to each other in time;",
        "*whole process* is the process's own time without its waits for a turn, imports and exit included.",
        f"Each block starts {SETTLE_SECONDS * 1000:.0f} ms after the previous one ended, so that thread pools spinning after",
        "their work (TensorFlow's, torch's) are idle.",
        "",
        "| implementation | training steps/s | steady steps/s | start-up (imports) s | training s | whole process s | peak RSS (MiB) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]  # fmt: skip
    for impl, r in summary.items():
        lines.append(f"| {impl} | {r['steps_per_s']:,.0f} | {r['steady_steps_per_s']:,.0f} | {r['startup_s']:.1f} | "
                     f"{r['train_s']:.1f} | {r['process_s']:.1f} | {r['peak_rss_mib']:,.0f} |")  # fmt: skip
    ours, sb3 = summary["baselines_tf2"], summary["stable-baselines3"]
    idle = [f"{impl.replace('baselines_tf2 ', '')} {r['idle_cpu_s']:.2f} s" for impl, r in summary.items()]
    if not any(i.endswith("nan s") for i in idle):
        lines += ["", f"CPU time the workers used while waiting for their turns: {', '.join(idle)}."]
    lines.append("")
    if part == "mujoco":
        bare = summary["bare environment"]
        lines += [
            f"- **Ours vs the bare environment: {ours['steps_per_s'] / bare['steps_per_s']:.1%}** of its steps/s while "
            f"training (target >= 75%); steady state {ours['steady_steps_per_s'] / bare['steady_steps_per_s']:.1%};",
            f"  median of the paired per-round ratios (ours' iteration / the 2048 bare steps next to it)"
            f" {paired(ours, bare):.1%}.",
            "  The bare environment acts at random, so its Hopper episodes are ~20 steps and resets weigh more",
            "  than in training; the ratio compares two different mixes of steps and resets.",
        ]
        if LOG_ROW in summary:
            logged = summary[LOG_ROW]
            lines.append(
                f"- **Logging costs {1 - logged['steps_per_s'] / ours['steps_per_s']:.1%}** of the steps/s while training "
                f"(`--log_path`: progress.csv, TensorBoard events, monitor files; target <= 5%); median of the "
                f"paired per-round ratios {1 - paired(logged, ours):.1%}."
            )
        target = "3.5x"
    else:
        target = "2x"
    lines.append(
        f"- **Ours vs Stable-Baselines3: {ours['steps_per_s'] / sb3['steps_per_s']:.2f}x** its steps/s while training, "
        f"**{sb3['process_s'] / ours['process_s']:.2f}x** whole-process (target >= {target}); median of the paired "
        f"per-round ratios {paired(ours, sb3):.2f}x."
    )
    for impl in (BF16_ROW, BF16_ALE_ROW):
        if impl in summary:
            r = summary[impl]
            lines.append(f"- `{impl.removeprefix('baselines_tf2 ')}`: **{r['steps_per_s'] / sb3['steps_per_s']:.2f}x SB3** "
                         f"while training (paired {paired(r, sb3):.2f}x), {sb3['process_s'] / r['process_s']:.2f}x whole-process "
                         f"({r['steps_per_s'] / ours['steps_per_s']:.2f}x our default).")  # fmt: skip
    return [*lines, ""]


def against_lines() -> list[str]:
    """The lockstep run of ours against an earlier commit (``--against``; empty if it has not been run)."""
    summary = lockstep_summary(AGAINST_DATA)
    if summary is None:
        return []
    now, bare = summary["baselines_tf2"], summary["bare environment"]
    rev, old = next((impl.split("@")[1], r) for impl, r in summary.items() if "@" in impl)
    lines = [
        f"**Against an earlier commit** (`--against {rev}`, at commit {now['commit']}; "
        "`docs/data/lockstep_mujoco_against.csv`): the same",
        f"lockstep, ours at {now['commit']} and at {rev} (each from its own clean clone) and the bare environment taking turns,",
        "so a change in speed between the two commits shows apart from the machine's phases.",
        "",
        "| implementation | training steps/s | steady steps/s | start-up (imports) s | training s | whole process s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for impl, r in summary.items():
        lines.append(f"| {impl} | {r['steps_per_s']:,.0f} | {r['steady_steps_per_s']:,.0f} | {r['startup_s']:.1f} | "
                     f"{r['train_s']:.1f} | {r['process_s']:.1f} |")  # fmt: skip
    lines += [
        "",
        f"- **{now['commit']} against {rev}: {now['steps_per_s'] / old['steps_per_s']:.3f}x** the steps/s while training, "
        f"steady state {now['steady_steps_per_s'] / old['steady_steps_per_s']:.3f}x, median of the paired per-round "
        f"ratios {paired(now, old):.3f}x.",
        f"- Against the bare environment (paired): {now['commit']} {paired(now, bare):.1%}, {rev} {paired(old, bare):.1%}.",
        "",
    ]
    return lines


def round_ratio(rows: list[dict], a: str, b: str) -> float:
    """Median over the rounds of ``a``'s steps/s over ``b``'s in the same round."""
    rate = {(r["impl"], r["round"]): r["steps_per_s"] for r in rows}
    return statistics.median(rate[a, k] / rate[b, k] for impl, k in rate if impl == a and (b, k) in rate)


def mujoco_section(rows: list[dict]) -> list[str]:
    ours, sb3 = median(rows, "baselines_tf2", "steps_per_s"), median(rows, "stable-baselines3", "steps_per_s")
    bare = median(rows, "bare environment", "steps_per_s")
    whole = median(rows, "stable-baselines3", "process_seconds") / median(rows, "baselines_tf2", "process_seconds")
    mpi = median(rows, MPI_ROW, "steps_per_s")
    mpi_allreduce = median(rows, MPI_ALLREDUCE_ROW, "steps_per_s")
    steady_one = median(rows, "baselines_tf2", "steady_steps_per_s")
    steady_mpi = median(rows, MPI_ROW, "steady_steps_per_s")
    rounds = len({r["round"] for r in rows})
    return [
        f"## One process: Hopper-v5, 1 env, T=2048, minibatch 64, 10 epochs, {int(rows[0]['steps']):,} steps",
        "",
        *lockstep_lines("mujoco"),
        *against_lines(),
        f"**Separate processes** (at commit {rows[0]['commit']}; `docs/data/throughput.csv`): runs alternate (ours,",
        f"ours on 2 ranks with each `--mpi_update`, SB3, the bare environment; {rounds} rounds), medians. Steps/s is measured",
        "around `learn()` (ours includes the one-off XLA compile) or, for the bare environment",
        "(`gymnasium.make`, random actions, `docs/scripts/bare_env.py`), around its stepping loop; *process s*",
        "is the whole process, imports included; RSS is the process's peak.",
        "",
        *_table(rows, ("baselines_tf2", "stable-baselines3", "bare environment", MPI_ROW, MPI_ALLREDUCE_ROW)),
        "",
        f"- Separately run (at {rows[0]['commit']}, with `--log_path`, so writing logs and monitor files), ours made",
        f"  {ours / bare:.0%} of the bare environment's steps/s and {ours / sb3:.2f}x SB3's ({whole:.2f}x whole-process);",
        "  each run meets the machine in another phase, so these move by tens of percent from run to run.",
        f"- **MPI scaling: `mpirun -n 2` aggregate {mpi:,.0f} steps/s = {mpi / ours:.2f}x one rank** (target >= 1.7x);",
        f"  median of the per-round ratios (two ranks run right after one) {round_ratio(rows, MPI_ROW, 'baselines_tf2'):.2f}x;",
        "  each rank collects its own 2048-step batch, so an iteration is 4096 steps.",
        f"  With `--mpi_update allreduce` (a gradient all-reduce per minibatch): {mpi_allreduce:,.0f} steps/s = "
        f"{mpi_allreduce / ours:.2f}x.",
        f"- Steady state (median per-iteration steps/s, after the one-off XLA compile): one rank {steady_one:,.0f},",
        f"  two ranks {steady_mpi:,.0f} ({steady_mpi / steady_one:.2f}x).",
        "",
        "How two ranks get there: each rank steps its own MuJoCo env on its own core, and the update needs",
        "no collective per minibatch. The default `--mpi_update allgather` (for MLPs) exchanges the ranks'",
        "batches once per iteration; every rank then runs the one-rank XLA epoch (one call) on the union of",
        "the ranks' minibatches, which is MpiAdam's averaged-gradient step computed on each rank. The",
        "all-reduce path pays a host round trip and a rendezvous of both ranks for each of the 320",
        "minibatches of an iteration.",
        "",
    ]


def atari_section(rows: list[dict]) -> list[str]:
    ours, sb3 = median(rows, "baselines_tf2", "steps_per_s"), median(rows, "stable-baselines3", "steps_per_s")
    whole = median(rows, "stable-baselines3", "process_seconds") / median(rows, "baselines_tf2", "process_seconds")
    impls = {r["impl"] for r in rows}
    rounds = len({r["round"] for r in rows})
    lines = [
        f"## Atari: ALE/Pong-v5, the paper's settings (8 envs, T=128, 3 epochs, minibatch 256), {int(rows[0]['steps']):,} steps",
        "",
        "Ours (`run.py --alg ppo --env ALE/Pong-v5`: gymnasium's AtariPreprocessing and FrameStackObservation,",
        "Nature CNN in TensorFlow with oneDNN) against SB3's PPO with its own Atari wrappers",
        "(`docs/scripts/sb3_ppo.py --atari`); both on the CPU with their default thread pools.",
        "Two opt-in rows: `--precision bfloat16` (mixed precision on the CPU's AMX units) and, on top,",
        "`--env_backend ale_vector` (ale_py's C++ vector env stepping the 8 copies on 2 threads).",
        "",
        *lockstep_lines("atari"),
        f"**Separate processes** (at commit {rows[0]['commit']}; `docs/data/throughput_atari.csv`; {rounds} alternating",
        "rounds, medians; steps/s around `learn()`):",
        "",
        *_table(
            rows,
            tuple(i for i in ("baselines_tf2", "stable-baselines3", BF16_ROW, BF16_ALE_ROW, *PONG_MPI) if i in impls),
        ),
        "",
        f"- Separately run (at {rows[0]['commit']}), ours with both defaults made {ours / sb3:.2f}x SB3's steps/s "
        f"({whole:.2f}x whole-process).",
    ]
    if BF16_ALE_ROW in impls:
        bf16, fast = median(rows, BF16_ROW, "steps_per_s"), median(rows, BF16_ALE_ROW, "steps_per_s")
        fast_whole = median(rows, "stable-baselines3", "process_seconds") / median(
            rows, BF16_ALE_ROW, "process_seconds"
        )
        lines += [
            f"- With `--precision bfloat16`: {bf16 / sb3:.2f}x SB3 ({bf16 / ours:.2f}x our default); with",
            f"  `--env_backend ale_vector` as well: {fast / sb3:.2f}x SB3 around `learn()`, {fast_whole:.2f}x whole-process",
            f"  ({fast / ours:.2f}x our default). SB3 runs float32 and its Python Atari wrappers in both comparisons.",
        ]
    if all(impl in impls for impl in PONG_MPI):
        gather, reduce = (median(rows, impl, "steps_per_s") for impl in PONG_MPI)
        lines += [
            f"- `mpirun -n 2` (8 envs per rank): `--mpi_update allgather` {gather:,.0f} steps/s ({gather / ours:.2f}x one",
            f"  rank), `--mpi_update allreduce` {reduce:,.0f} ({reduce / ours:.2f}x): for a CNN the all-reduce of each",
            "  minibatch's gradient beats exchanging the batches, with which every rank computes both ranks' gradients;",
            "  `auto` picks it for CNNs (and allgather for MLPs, per the Hopper rows above).",
        ]
    return lines + [
        *pieces_lines(ours),
        "- Both libraries run the convolutions through oneDNN, so float32 against float32 the network costs",
        "  the same; what is already cut: π_old is the rollout's own distribution (no forward pass of the",
        "  batch) and the compiled functions are traced without AutoGraph.",
        "",
    ]


PIECES = REPO / "docs" / "data" / "cnn_pieces.csv"


def pieces_lines(ours: float) -> list[str]:
    """The timed pieces of one 1,024-step Pong iteration, from ``docs/scripts/profile_cnn.py``'s CSV."""
    if not PIECES.exists():
        return []
    with open(PIECES, newline="") as f:
        ms = {(r["piece"], r["precision"]): float(r["ms"]) for r in csv.DictReader(f)}
    grad, grad16 = ms[("grad_step_256", "float32")], ms[("grad_step_256", "bfloat16")]
    act, act16 = ms[("act_forward_8", "float32")], ms[("act_forward_8", "bfloat16")]
    ev, ev16 = ms[("evaluate_1024", "float32")], ms[("evaluate_1024", "bfloat16")]
    env = ms[("gymnasium_env_step", "")]
    return [
        "- Where the time goes (`docs/scripts/profile_cnn.py`, each piece timed alone: `docs/data/cnn_pieces.csv`),",
        f"  per 1,024-step iteration ({1024 / ours:.1f} s in the run above): the 12 gradient steps of 256 frames",
        f"  {12 * grad / 1e3:.2f} s ({grad:.0f} ms each in float32, {grad16:.0f} ms in bfloat16), the emulator and its",
        f"  wrappers {1024 * env / 1e3:.2f} s ({env:.2f} ms per step on one thread), the 128 acting passes of 8 frames",
        f"  {128 * act / 1e3:.2f} s ({act:.1f} ms each; {act16:.1f} ms in bfloat16), the full-batch loss evaluation",
        f"  {ev / 1e3:.2f} s ({ev16 / 1e3:.2f} s in bfloat16); the rest is not broken down.",
    ]


def write_report() -> str:
    v = versions()
    lines = [
        "# Benchmarks",
        "",
        "Produced by `python docs/scripts/bench_throughput.py [mujoco|atari|all] [--only lockstep|processes]`",
        "(and `mujoco --against REV` for ours against an earlier commit)",
        "(raw runs: `docs/data/lockstep_*.csv`, `docs/data/throughput*.csv`; the lockstep runs give the ratios).",
        f"Machine: {os.cpu_count()} cores, shared; TensorFlow {v['tensorflow']}; Stable-Baselines3 {v['sb3']} on torch {v['torch']} (CPU).",
        "Ratios measured side by side in one run are what carries over between machines; absolute numbers do not.",
        "",
    ]
    if mujoco := read_rows("mujoco"):
        lines += mujoco_section(mujoco)
    if atari := read_rows("atari"):
        lines += atari_section(atari)
    lines += [
        "Memory: importing TensorFlow alone takes ~580 MiB of RSS here (torch ~220 MiB); the rest is",
        "the compiled steps and the graphs.",
        "",
    ]
    REPORT.write_text("\n".join(lines))
    return "\n".join(lines)


def bench(part: str, steps: int, rounds: int, commit: str) -> None:
    if part == "mujoco":
        # Two ranks right after one rank, so each round's MPI ratio pairs runs next to each other in time.
        runs = (
            lambda: run_ours(steps),
            lambda: run_ours(steps, ranks=2),
            lambda: run_ours(steps, ranks=2, mpi_update="allreduce"),
            lambda: run_sb3(steps),
            lambda: run_bare(steps),
        )
    else:
        runs = (
            lambda: run_ours(steps, env="ALE/Pong-v5"),
            lambda: run_sb3(steps, atari=True),
            lambda: run_ours(steps, env="ALE/Pong-v5", flags=BF16),
            lambda: run_ours(steps, env="ALE/Pong-v5", flags=BF16 + ALE),
            lambda: run_ours(steps, ranks=2, env="ALE/Pong-v5", mpi_update="allgather"),
            lambda: run_ours(steps, ranks=2, env="ALE/Pong-v5", mpi_update="allreduce"),
        )
    rows = []
    for i in range(rounds):
        for run in runs:
            row = run()
            row.update(round=i + 1, commit=commit)
            rows.append(row)
            print(
                f"{part} round {i + 1}: {row['impl']:60s} {row['steps_per_s']:8.0f} steps/s  {row['peak_rss_mib']:6.0f} MiB",
                flush=True,
            )
    DATA[part].parent.mkdir(parents=True, exist_ok=True)
    with open(DATA[part], "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", nargs="?", default="all", choices=["mujoco", "atari", "all", "report"])
    parser.add_argument("--steps", type=int, default=None, help="steps per run (default 100k MuJoCo, 20k Atari)")
    parser.add_argument("--pairs", type=int, default=2, help="alternating rounds")
    parser.add_argument("--setup", action="store_true", help="create .bench-venv first")
    parser.add_argument("--only", choices=["lockstep", "processes"], default=None,
                        help="run only the lockstep run or only the separate-process rounds (default both)")  # fmt: skip
    parser.add_argument("--against", metavar="REV", default=None,
                        help="only a lockstep run of ours against ours at REV (a commit since the lockstep worker) and "
                             "the bare env, on Hopper")  # fmt: skip
    args = parser.parse_args()
    if args.against and args.part != "mujoco":
        parser.error("--against compares Hopper runs: give it with `mujoco`")
    if args.part != "report":
        if args.setup or not (BENCH_VENV / "bin" / "python").exists():
            setup_bench_venv()
        global CODE
        clone = tempfile.mkdtemp(prefix="bench-")
        subprocess.run(["git", "clone", "-q", str(REPO), clone], check=True)
        CODE = Path(clone)
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=clone, capture_output=True, text=True
        ).stdout.strip()
        if args.against:
            old = Path(tempfile.mkdtemp(prefix="bench-against-"))
            subprocess.run(["git", "clone", "-q", str(REPO), str(old)], check=True)
            subprocess.run(["git", "checkout", "-q", args.against], cwd=old, check=True)
            steps = args.steps or 100_352
            lockstep(against_workers(steps, old, args.against), AGAINST_DATA, commit)
            print(write_report())
            return
        for part in ("mujoco", "atari") if args.part == "all" else (args.part,):
            steps = args.steps or (100_352 if part == "mujoco" else 20_480)
            if args.only != "processes":
                lockstep(lockstep_workers(part, steps), LOCKSTEP_DATA[part], commit)
            if args.only != "lockstep":
                bench(part, steps, args.pairs, commit)
    print(write_report())


if __name__ == "__main__":
    main()
