"""run.py's process: parse, import TensorFlow, run the command, and turn every error into one line.

Errors in the user's input end the program with one line on stderr and a non-zero exit code
(``--debug`` shows the traceback); under ``mpirun`` an error on any rank aborts the whole job.
:func:`exit_process` ends the process without the interpreter's slow finalisation.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from baselines_tf2.cli.commands import run
from baselines_tf2.cli.flags import parse_args
from baselines_tf2.errors import (
    CheckpointError,
    ConfigError,
    ExportError,
    TrainingDivergedError,
    TrainingInterrupted,
    VideoError,
)

__all__ = ["exit_process", "import_tensorflow", "main", "script"]


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


def script() -> NoReturn:
    """The process of every entry point: ``run.py``, ``python -m baselines_tf2`` and the ``baselines-tf2`` script."""
    exit_process(main())
