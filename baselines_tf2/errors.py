"""Errors that mean "the user asked for something we cannot do"; the CLI prints them as one line."""

import signal

__all__ = [
    "ActionMaskError",
    "CheckpointError",
    "ConfigError",
    "ExportError",
    "TrainingDivergedError",
    "TrainingInterrupted",
    "VideoError",
]


class ConfigError(ValueError):
    """A bad flag, keyword value, environment id or incompatible combination."""


class ActionMaskError(ValueError):
    """An action mask of the wrong shape, or one that leaves a state without any valid action."""


class CheckpointError(RuntimeError):
    """A checkpoint that is missing, unreadable, or does not fit the policy being built."""


class TrainingDivergedError(RuntimeError):
    """NaN or Inf appeared in a loss or in the parameters; nothing was saved from that state."""


class TrainingInterrupted(Exception):
    """SIGINT or SIGTERM stopped training at an iteration boundary, after saving a checkpoint there.

    Attributes:
        signum: the signal received (on any rank).
        folder: the checkpoint folder written (resume with ``--load_path folder``).
        iteration: the last finished iteration, the one saved.
    """

    def __init__(self, signum: int, folder: str | None, iteration: int) -> None:
        self.signum, self.folder, self.iteration = signum, folder, iteration
        name = signal.Signals(signum).name
        where = (
            f"saved iteration {iteration} in {folder}; resume with --load_path {folder}" if folder else "nothing saved"
        )
        super().__init__(f"interrupted by {name}: {where}")


class ExportError(RuntimeError):
    """A policy that cannot be exported as asked (e.g. a TFLite conversion that fails)."""


class VideoError(RuntimeError):
    """Episodes cannot be recorded: no offscreen OpenGL, no ``rgb_array`` rendering, no video encoder."""
