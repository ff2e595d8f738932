"""Run a grid of ``run.py`` processes, a few at a time, so that stopping and restarting loses little.

* A run is **done** when its curve ``<out>/data/<key>.csv`` exists; done runs are never started again.
* A run in progress lives in ``<work>/<key>/`` (``log/`` and ``ckpt/``); it checkpoints every
  ``save_interval`` iterations, and a restarted command resumes it with ``--load_path`` (the
  ``progress.csv`` is continued, not restarted).
* Each run is a separate process with one TensorFlow thread; children get SIGTERM when the
  command is interrupted and die with it if it is killed (``PR_SET_PDEATHSIG`` on Linux).
* A lock file keeps two commands from working in the same folder at once.
* Provenance: each curve's ``.json`` names the full commit of the code that finished it, with
  ``-dirty`` when the work tree had uncommitted changes to tracked files; the runner refuses to start
  from such a tree unless told (``allow_dirty``), and the report marks those runs.
"""

from __future__ import annotations

import contextlib
import csv
import ctypes
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from baselines_tf2.reproduce.grid import RunSpec

__all__ = ["KEPT_COLUMNS", "GridRunner", "curve_path", "git_commit", "is_done"]

# progress.csv columns worth keeping in the committed curves.
KEPT_COLUMNS = (
    "total_timesteps",
    "iterations",
    "episodes",
    "eprewmean",
    "eplenmean",
    "time_elapsed",
    "policy_loss",
    "value_loss",
    "policy_entropy",
    "approxkl",
    "meankl",
    "clipfrac",
    "explained_variance",
    "kl_beta",
    "epochs_run",
)

_THREAD_ENV = {
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "PYTHONUNBUFFERED": "1",
}


def curve_path(out: Path, spec: RunSpec) -> Path:
    """Where ``spec``'s committed curve lives."""
    return out / "data" / f"{spec.key}.csv"


def is_done(out: Path, spec: RunSpec) -> bool:
    return curve_path(out, spec).exists()


@dataclass
class _Job:
    spec: RunSpec
    proc: subprocess.Popen
    started: float
    start_steps: int
    stderr: TextIO
    commit: str | None  # the code the process was started from (the work tree may move on meanwhile)


def _die_with_parent() -> None:
    """In the child: receive SIGTERM when the parent dies, even by SIGKILL (Linux only)."""
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class GridRunner:
    """Runs the pending runs of a grid with at most ``jobs`` processes at once.

    Args:
        out: folder of the committed results (``data/`` is written here).
        work: folder for checkpoints and logs of unfinished runs.
        jobs: processes at once (each with one TensorFlow thread).
        status_every: seconds between progress lines.
        echo: where progress lines go.
        start_until: a ``time.time()`` after which no run is started (running ones finish); ``None``: no limit.
        allow_dirty: start even if the code has uncommitted changes (its runs are recorded ``<commit>-dirty``).
    """

    def __init__(
        self,
        out: Path,
        work: Path,
        jobs: int,
        status_every: float = 60.0,
        echo: Callable[[str], None] = print,
        start_until: float | None = None,
        allow_dirty: bool = False,
    ) -> None:
        if jobs < 1:
            raise ValueError(f"--jobs must be >= 1, got {jobs}")
        self.allow_dirty = allow_dirty
        self.out, self.work, self.jobs, self.status_every, self.echo = out, work, jobs, status_every, echo
        self.start_until = start_until
        self._stop_signal: int | None = None

    def run(self, specs: list[RunSpec]) -> int:
        """Run every pending spec; returns 0, 1 if some run failed, or 128+signal if interrupted."""
        commit = git_commit()
        if commit is not None and commit.endswith("-dirty") and not self.allow_dirty:
            raise RuntimeError(
                f"the code in {_PACKAGE_DIR.parent} has uncommitted changes (at {commit}); commit them, or run from a "
                "clean `git worktree`, or pass --allow_dirty (its runs are then marked -dirty in the report)"
            )
        self.work.mkdir(parents=True, exist_ok=True)
        lock = open(self.work / ".lock", "w")  # noqa: SIM115 (held until the end of run())
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"another reproduce command is working in {self.work}") from None
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            return self._run(specs)
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
            lock.close()

    def _on_signal(self, signum: int, _frame) -> None:
        if self._stop_signal is not None:  # a second Ctrl-C: stop waiting for the children
            raise KeyboardInterrupt
        self._stop_signal = signum

    def _run(self, specs: list[RunSpec]) -> int:
        pending = [s for s in specs if not is_done(self.out, s)]
        total, failed = len(specs), []
        done_before = total - len(pending)
        self.echo(f"reproduce: {total} runs, {done_before} done, {len(pending)} to run, {self.jobs} at a time")
        running: list[_Job] = []
        steps_done, t0, last_status = 0, time.time(), time.time()
        while (pending or running) and self._stop_signal is None:
            if pending and self.start_until is not None and time.time() >= self.start_until:
                self.echo(f"reproduce: --start_until reached; {len(pending)} run(s) not started")
                pending = []
            while pending and len(running) < self.jobs:
                running.append(self._start(pending.pop(0)))
            time.sleep(0.5)
            for job in list(running):
                code = job.proc.poll()
                if code is None:
                    continue
                running.remove(job)
                job.stderr.close()
                steps_done += job.spec.timesteps - job.start_steps
                if code == 0 and self._finish(job):
                    self.echo(
                        f"  done  {job.spec.key}  final eprewmean {self._final(job.spec):.2f}  "
                        f"({time.time() - job.started:.0f} s)"
                    )
                elif self._stop_signal is None:
                    failed.append(job.spec.key)
                    self.echo(f"  FAILED {job.spec.key} (exit {code}): {self._last_error(job.spec)}")
            if time.time() - last_status >= self.status_every and running:
                last_status = time.time()
                self.echo(self._status(total, total - len(pending) - len(running), running, pending, steps_done, t0))
        if self._stop_signal is not None:
            self._stop_all(running)
            left = sum(not is_done(self.out, s) for s in specs)
            self.echo(
                f"reproduce: stopped by signal {self._stop_signal}; {total - left}/{total} runs done. "
                "Run the same command again to continue (unfinished runs resume from their checkpoints)."
            )
            return 128 + self._stop_signal
        if failed:
            self.echo(f"reproduce: {len(failed)} run(s) failed: {', '.join(failed)} (logs in {self.work})")
            return 1
        left = sum(not is_done(self.out, s) for s in specs)
        self.echo(f"reproduce: all {total} runs done" if not left else f"reproduce: {total - left}/{total} runs done")
        return 0

    def _start(self, spec: RunSpec) -> _Job:
        folder = self.work / spec.key
        log, ckpt = folder / "log", folder / "ckpt"
        folder.mkdir(parents=True, exist_ok=True)
        resume = (ckpt / "checkpoint").exists()
        cmd = [
            sys.executable,
            "-m",
            "baselines_tf2.cli",
            *spec.command(),
            "--log_path",
            str(log),
            "--save_path",
            str(ckpt),
        ]
        if resume:
            cmd += ["--load_path", str(ckpt)]
        start_steps = _logged_steps(log / "progress.csv") if resume else 0
        (folder / "command.txt").write_text(" ".join(cmd) + "\n")
        stderr = open(folder / "stderr.log", "a")  # noqa: SIM115 (closed when the job ends)
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env={**os.environ, **_THREAD_ENV},
            preexec_fn=_die_with_parent,
        )
        how = f"resumed at {start_steps} steps" if resume else "started"
        self.echo(f"  {how:>8s}  {spec.key}")
        return _Job(spec, proc, time.time(), start_steps, stderr, git_commit())

    def _finish(self, job: _Job) -> bool:
        """Copy the finished run's curve into ``data/`` (atomically) and drop its working folder."""
        folder = self.work / job.spec.key
        progress = folder / "log" / "progress.csv"
        if not progress.exists():
            return False
        with open(progress, newline="") as f:
            rows = list(csv.DictReader(f))
        if not rows or int(float(rows[-1]["total_timesteps"])) < job.spec.timesteps:
            return False
        target = curve_path(self.out, job.spec)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".csv.tmp")
        with open(tmp, "w", newline="") as f:
            writer = csv.writer(f)
            columns = [c for c in KEPT_COLUMNS if c in rows[0]]
            writer.writerow(columns)
            for row in rows:
                writer.writerow([_compact(row[c]) for c in columns])
        meta = {
            "command": "python run.py " + " ".join(job.spec.command()),
            "commit": job.commit,
            "wall_seconds_last_attempt": round(time.time() - job.started, 1),
        }
        target.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
        os.replace(tmp, target)
        shutil.rmtree(folder, ignore_errors=True)
        return True

    def _final(self, spec: RunSpec) -> float:
        with open(curve_path(self.out, spec), newline="") as f:
            return float(list(csv.DictReader(f))[-1]["eprewmean"])

    def _last_error(self, spec: RunSpec) -> str:
        lines = (self.work / spec.key / "stderr.log").read_text(errors="replace").strip().splitlines()
        errors = [line for line in lines if "error" in line.lower()]
        return (errors or lines or ["no output"])[-1]

    def _status(
        self, total: int, done: int, running: list[_Job], pending: list[RunSpec], steps_done: int, t0: float
    ) -> str:
        parts, now = [], time.time()
        live_steps = 0
        for job in running:
            steps = _logged_steps(self.work / job.spec.key / "log" / "progress.csv")
            live_steps += max(steps - job.start_steps, 0)
            parts.append(f"{job.spec.key} {100 * steps / job.spec.timesteps:.0f}%")
        rate = (steps_done + live_steps) / max(now - t0, 1e-9)
        left = sum(s.timesteps for s in pending) + sum(
            max(j.spec.timesteps - _logged_steps(self.work / j.spec.key / "log" / "progress.csv"), 0) for j in running
        )
        eta = _duration(left / rate) if rate > 0 else "unknown"
        return f"[{done}/{total} done, ETA {eta}, {rate:.0f} steps/s] " + ", ".join(parts)

    def _stop_all(self, running: list[_Job]) -> None:
        for job in running:
            if job.proc.poll() is None:
                job.proc.terminate()
        deadline = time.time() + 60
        for job in running:
            try:
                job.proc.wait(timeout=max(deadline - time.time(), 0.1))
            except subprocess.TimeoutExpired:
                job.proc.kill()
                job.proc.wait()
            job.stderr.close()


def _logged_steps(progress: Path) -> int:
    """``total_timesteps`` of the last row of a ``progress.csv`` (0 if there is none yet)."""
    try:
        with open(progress, newline="") as f:
            rows = list(csv.DictReader(f))
        return int(float(rows[-1]["total_timesteps"])) if rows else 0
    except (OSError, KeyError, ValueError):
        return 0


def _compact(text: str) -> str:
    """Numbers to 6 significant digits: the curves stay small and diff well."""
    try:
        value = float(text)
    except ValueError:
        return text
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.6g}"


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m{int(seconds % 60):02d}s"


_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def git_commit() -> str | None:
    """The full commit id of the imported package's checkout, ``-dirty`` if tracked files changed; ``None`` off git."""

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], capture_output=True, text=True, timeout=10, cwd=_PACKAGE_DIR)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    head = git("rev-parse", "HEAD")
    if not head:
        return None
    return head + ("-dirty" if git("status", "--porcelain", "--untracked-files=no") else "")
