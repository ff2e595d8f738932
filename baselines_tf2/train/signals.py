"""SIGINT/SIGTERM during training: finish the iteration, save, stop (a second signal quits at once)."""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType, TracebackType
from typing import Any

__all__ = ["StopOnSignal"]


class StopOnSignal:
    """While entered, SIGINT and SIGTERM only set :attr:`signal`; the learner stops at the iteration's end.

    A second signal raises ``KeyboardInterrupt`` (quit at once, without saving). The previous
    handlers come back on exit, however training ended. Off the main thread nothing is installed.
    """

    def __init__(self, announce: bool = True) -> None:
        self.signal: int | None = None
        self.announce = announce  # print what happens (rank 0)
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            self._previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.signal is not None:  # a second signal: stop at once
            raise KeyboardInterrupt
        self.signal = signum
        if self.announce:
            name = signal.Signals(signum).name
            sys.stderr.write(
                f"\n{name}: stopping after this iteration and saving a checkpoint "
                "(Ctrl-C again to quit at once, without saving)\n"
            )
            sys.stderr.flush()
