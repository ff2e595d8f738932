"""Exporting a policy as an ONNX model, converted by tf2onnx from the SavedModel's ``serving_default``.

The ONNX model computes what ``serving_default`` computes (see :mod:`baselines_tf2.tools.serving`):
raw observations in (input ``observations``), the distribution's mode and ``vpred`` out (outputs
``action`` and ``value``), the observation normaliser inside, the weights frozen into it, a
bfloat16 CNN as its float32 twin. Any ONNX runtime runs it, without TensorFlow::

    import onnxruntime as ort
    session = ort.InferenceSession("export/hopper/model.onnx")
    action, value = session.run(["action", "value"], {"observations": obs[None].astype("float32")})

The inputs and outputs are read from the serving function (its input signature's names, its output
dict's keys), so a recurrent policy's ``(observations, state, episode_start) -> {action, value,
next_state}`` converts unchanged (tested in tests/test_lstm_export.py). tf2onnx and onnx come with the ``onnx`` extra (``pip install "baselines_tf2[onnx]"``,
with onnxruntime to run the model); without them :func:`check_onnx_available` raises a ConfigError.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import tempfile
from collections.abc import Iterator
from typing import Any

from baselines_tf2.common.policies import Policy
from baselines_tf2.errors import ConfigError, ExportError
from baselines_tf2.tools.serving import serving_function

__all__ = ["ONNX_FILE", "ONNX_OPSET", "check_onnx_available", "export_onnx", "write_onnx"]

ONNX_FILE = "model.onnx"
# ONNX opset of the model: 17 (2022) is run by onnxruntime >= 1.13 and most other runtimes.
ONNX_OPSET = 17
_EXTRA_HINT = 'pip install "baselines_tf2[onnx]"'


def check_onnx_available() -> None:
    """Raise a one-line ConfigError unless tf2onnx and onnx can be imported (checked without importing them)."""
    missing = [name for name in ("tf2onnx", "onnx") if importlib.util.find_spec(name) is None]
    if missing:
        raise ConfigError(f"ONNX export needs {' and '.join(missing)}, not installed: {_EXTRA_HINT}")


@contextlib.contextmanager
def _quiet_tf2onnx() -> Iterator[None]:
    """tf2onnx logs every step of a conversion, and the ops it cannot convert, which the ExportError names."""
    logger = logging.getLogger("tf2onnx")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def write_onnx(function: Any, path: str, opset: int = ONNX_OPSET) -> None:
    """Convert ``function`` (a ``tf.function`` with an input signature) to an ONNX model at ``path``.

    Inputs are named as the signature's ``TensorSpec`` names, outputs as the keys of the dict the
    function returns. The model is checked (``onnx.checker``: every op is a standard ONNX op of
    ``opset``, so no TensorFlow op the converter could not translate is left in it) before it is
    written; a failure raises a one-line :class:`ExportError` and writes nothing.
    """
    check_onnx_available()
    import onnx  # noqa: PLC0415 (optional extra)
    import tf2onnx  # noqa: PLC0415 (optional extra)

    try:
        with _quiet_tf2onnx():
            model, _ = tf2onnx.convert.from_function(function, input_signature=function.input_signature, opset=opset)
        onnx.checker.check_model(model)
    except Exception as exc:  # noqa: BLE001 (the converter and the checker raise many types; report one line)
        lines = str(exc).strip().splitlines()
        raise ExportError(f"cannot convert to ONNX: {lines[0] if lines else type(exc).__name__}") from None
    with open(path, "wb") as f:
        f.write(model.SerializeToString())


def export_onnx(policy: Policy, path: str, opset: int = ONNX_OPSET) -> str:
    """Write ``policy``'s ``serving_default`` as the ONNX model file ``path`` (which must not exist); returns ``path``.

    The same model as ``export_saved_model(policy, folder, onnx=True)`` writes to
    ``folder/model.onnx``, without the SavedModel. Written to a temporary file and renamed, so a
    failed export leaves nothing.
    """
    if os.path.exists(path):
        raise ConfigError(f"{path} already exists; export into a new file")
    check_onnx_available()
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=".export-", suffix=".onnx")
    os.close(fd)
    try:
        write_onnx(serving_function(policy.with_precision("float32")), tmp, opset)
        os.rename(tmp, path)
    except BaseException:
        os.remove(tmp)
        raise
    return path
