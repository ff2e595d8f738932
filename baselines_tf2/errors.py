"""Errors that mean "the user asked for something we cannot do"; the CLI prints them as one line."""

__all__ = ["CheckpointError", "ConfigError", "ExportError", "TrainingDivergedError", "VideoError"]


class ConfigError(ValueError):
    """A bad flag, keyword value, environment id or incompatible combination."""


class CheckpointError(RuntimeError):
    """A checkpoint that is missing, unreadable, or does not fit the policy being built."""


class TrainingDivergedError(RuntimeError):
    """NaN or Inf appeared in a loss or in the parameters; nothing was saved from that state."""


class ExportError(RuntimeError):
    """A policy that cannot be exported as asked (e.g. a TFLite conversion that fails)."""


class VideoError(RuntimeError):
    """Episodes cannot be recorded: no offscreen OpenGL, no ``rgb_array`` rendering, no video encoder."""
