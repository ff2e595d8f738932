"""Import TensorFlow without its start-up chatter on stderr (``run.py`` does, unless ``--debug``/``--verbose``).

TensorFlow's C++ runtime writes log lines while it loads (``All log messages before
absl::InitializeLog() ...``, ``Could not find cuda drivers ...``, CPU instruction notes) straight
to file descriptor 2, before ``TF_CPP_MIN_LOG_LEVEL`` takes effect, so they can only be silenced by
pointing that descriptor elsewhere while the import runs. Python exceptions are not affected: a
failing import still raises, after stderr is restored.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings
from collections.abc import Iterator

__all__ = ["import_tensorflow_quietly", "stderr_silenced"]


@contextlib.contextmanager
def stderr_silenced() -> Iterator[None]:
    """Send file descriptor 2 to ``/dev/null`` inside the block (C++ writes included)."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_tensorflow_quietly() -> None:
    """Import TensorFlow and tensorflow-probability with stderr silenced; keep later TF logging to errors."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with stderr_silenced(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import tensorflow as tf  # noqa: PLC0415
        import tensorflow_probability  # noqa: F401, PLC0415

    tf.get_logger().setLevel(logging.ERROR)
    with contextlib.suppress(ImportError):
        from absl import logging as absl_logging  # noqa: PLC0415

        absl_logging.set_verbosity(absl_logging.ERROR)
