"""Saving and restoring training state with ``tf.train.Checkpoint``.

Saves go through ``tf.train.CheckpointManager``: every save writes a *new* ``ckpt-N`` file set and
only then atomically rewrites the small ``checkpoint`` index file, so an interrupted or failing
save never damages an earlier checkpoint. Restores accept a checkpoint folder (its latest
checkpoint) or one checkpoint prefix, and turn every failure into a one-line
:class:`~baselines_tf2.errors.CheckpointError`.

A ``run.json`` beside the checkpoints records what is needed to rebuild the same policy (env id,
network, spaces) so that ``--play`` and ``--load_path`` can say what does not match.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from typing import Any

import numpy as np
import tensorflow as tf

from baselines_tf2.errors import CheckpointError, ConfigError

__all__ = [
    "Checkpointer",
    "TrainState",
    "atomic_write_json",
    "check_save_path",
    "interrupt_folder",
    "read_run_config",
    "resolve_checkpoint",
    "restore",
    "restore_state",
    "restored_env_states",
    "restored_episodes",
    "restored_rng",
]

RUN_CONFIG = "run.json"
BEST_SUMMARY = "eval.json"  # beside a best-evaluated policy's checkpoint (train/evaluation.py)


class TrainState(tf.Module):
    """Counters, RNG states and recent episodes: what makes a resumed run continue (any algorithm).

    Restored with :func:`restore_state`, so a checkpoint written before a variable was added still
    resumes (the variable keeps its initial value).
    """

    def __init__(self) -> None:
        super().__init__(name="train_state")
        self.timesteps = tf.Variable(0, dtype=tf.int64, trainable=False, name="timesteps")
        self.episodes = tf.Variable(0, dtype=tf.int64, trainable=False, name="episodes")
        self.iters = tf.Variable(0, dtype=tf.int64, trainable=False, name="iters")
        self.rng_states = tf.Variable("", dtype=tf.string, trainable=False, name="rng_states")
        # JSON list of the last 100 episodes' (return, length), so eprewmean continues across a resume.
        self.recent_episodes = tf.Variable("", dtype=tf.string, trainable=False, name="recent_episodes")
        # The schedules' horizon in timesteps when it is not the stop limit (0: the limits decide).
        self.schedule_timesteps = tf.Variable(0, dtype=tf.int64, trainable=False, name="schedule_timesteps")
        # JSON list over ranks of each env copy's generator state at the start of its current episode.
        self.env_states = tf.Variable("", dtype=tf.string, trainable=False, name="env_states")


class Checkpointer:
    """Periodic saves of ``objects`` into ``directory`` (keeps the newest ``max_to_keep``).

    With ``directory=None`` (or ``enabled=False``, on ranks other than 0) saves do nothing.
    """

    def __init__(self, directory: str | None, *, enabled: bool = True, max_to_keep: int = 5, **objects: Any) -> None:
        self.checkpoint = tf.train.Checkpoint(**objects)
        self.directory = directory
        self.manager = None
        if enabled and directory:
            os.makedirs(directory, exist_ok=True)
            self.manager = tf.train.CheckpointManager(self.checkpoint, directory, max_to_keep=max_to_keep)

    def save(self, step: int) -> str | None:
        """Write ``ckpt-<step>``; returns its prefix (``None`` when disabled)."""
        if self.manager is None:
            return None
        return self.manager.save(checkpoint_number=step)


def resolve_checkpoint(path: str) -> str:
    """The checkpoint prefix that ``path`` (a folder or a prefix) names, or CheckpointError."""
    if os.path.isdir(path):
        try:
            prefix = tf.train.latest_checkpoint(path)
        except (tf.errors.OpError, ValueError) as exc:
            raise CheckpointError(f"cannot read the checkpoint index in {path}: {_first_line(exc)}") from None
        if prefix is None:
            raise CheckpointError(f"no checkpoint found in {path}")
        return prefix
    if os.path.exists(path + ".index"):
        return path
    raise CheckpointError(f"no checkpoint at {path}")


def restore(path: str, **objects: Any) -> str:
    """Restore ``objects`` from the checkpoint at ``path``; returns the prefix used.

    Every object given must be found in the checkpoint with matching shapes.
    """
    prefix = resolve_checkpoint(path)
    try:
        status = tf.train.Checkpoint(**objects).read(prefix)
        status.assert_existing_objects_matched()
        status.expect_partial()  # e.g. --play restores only the policy from a full training checkpoint
    except Exception as exc:  # noqa: BLE001 (a damaged file fails in many ways: OpError, IndexError, ...)
        if os.path.exists(os.path.join(os.path.dirname(prefix), BEST_SUMMARY)):
            raise CheckpointError(
                f"cannot restore {prefix}: it is the best evaluated policy (weights and normalisers, no optimizer or "
                "counters); play or export it with --num_timesteps 0, resume from the folder above it"
            ) from None
        raise CheckpointError(f"cannot restore {prefix}: {_first_line(exc)}") from None
    return prefix


def restore_state(path: str, name: str, module: tf.Module, legacy: dict[str, str] | None = None) -> None:
    """Set each ``tf.Variable`` attribute of ``module`` from the checkpoint's ``name/<attribute>``, where present.

    For state whose variables can be added over versions (the run's counters, an algorithm's
    coefficients): a checkpoint that predates a variable leaves it at its initial value instead of
    failing. ``legacy`` maps an attribute to the object path an older version saved it under
    (e.g. ``{"kl_beta": "state/kl_beta"}``).
    """
    prefix = resolve_checkpoint(path)
    try:
        reader = tf.train.load_checkpoint(prefix)
        for attr, var in vars(module).items():
            if not isinstance(var, tf.Variable):
                continue
            for where in (f"{name}/{attr}", (legacy or {}).get(attr)):
                key = f"{where}/.ATTRIBUTES/VARIABLE_VALUE"
                if where and reader.has_tensor(key):
                    var.assign(reader.get_tensor(key))
                    break
    except Exception as exc:  # noqa: BLE001 (a damaged file fails in many ways)
        raise CheckpointError(f"cannot restore {prefix}: {_first_line(exc)}") from None


def check_save_path(save_path: str | None, load_path: str | None) -> None:
    """Refuse to start a run in a folder holding another run's checkpoints (it would overwrite them).

    Saving into the folder being resumed from is fine: checkpoint numbers continue.
    """
    if not save_path or not os.path.exists(os.path.join(save_path, "checkpoint")):
        return
    if load_path and os.path.realpath(os.path.dirname(resolve_checkpoint(load_path))) == os.path.realpath(save_path):
        return
    raise ConfigError(f"{save_path} already holds checkpoints; resume with --load_path {save_path} or save elsewhere")


def atomic_write_json(path: str, data: dict) -> None:
    """Write ``data`` as JSON to ``path`` via a temporary file and a rename."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, sort_keys=True)
    os.replace(tmp, path)


def read_run_config(path: str) -> dict | None:
    """The ``run.json`` of the checkpoint folder holding ``path``, if any."""
    directory = path if os.path.isdir(path) else os.path.dirname(path)
    config_path = os.path.join(directory, RUN_CONFIG)
    if not os.path.exists(config_path):
        return None
    try:
        with open(config_path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"cannot read {config_path}: {exc}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def restored_rng(state: TrainState, rank: int, size: int, fallback: np.random.Generator) -> np.random.Generator:
    """This rank's generator from the checkpoint (a fresh seeded one if the rank count changed)."""
    text = state.rng_states.numpy().decode()
    states = json.loads(text) if text else []
    if len(states) != size:
        return fallback
    rng = np.random.default_rng()
    rng.bit_generator.state = states[rank]
    return rng


def restored_env_states(state: TrainState, rank: int, size: int) -> list | None:
    """This rank's env copies' generator states from the checkpoint (``None`` if absent or the rank count changed)."""
    text = state.env_states.numpy().decode()
    states = json.loads(text) if text else []
    return states[rank] if len(states) == size else None


def restored_episodes(state: TrainState) -> list[tuple[float, int]]:
    text = state.recent_episodes.numpy().decode()
    return [(float(r), int(n)) for r, n in json.loads(text)] if text else []


def interrupt_folder(log_path: str | None, load_path: str | None) -> str:
    """Where an interrupted run without ``save_path`` saves: ``<log_path>/checkpoints`` (or a new sibling
    if that holds another run's checkpoints), else ``checkpoints/interrupted-<time>``."""
    if log_path is None:
        return os.path.join("checkpoints", time.strftime("interrupted-%Y%m%d-%H%M%S"))
    folder = os.path.join(log_path, "checkpoints")
    try:
        check_save_path(folder, load_path)
    except ConfigError:
        folder += time.strftime("-%Y%m%d-%H%M%S")
    return folder
