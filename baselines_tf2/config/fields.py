"""The allowed names of the settings and the field helper every config class is written with.

Imports neither TensorFlow nor gymnasium, so ``run.py --help`` answers at once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import field
from typing import Any

ENV_TYPES = ("mujoco", "classic_control", "box2d", "atari", "other")
ENV_BACKENDS = ("gymnasium", "ale_vector")  # how make_vec_env steps the copies
NETWORKS = ("mlp", "cnn", "cnn_small", "multi_input", "lstm", "cnn_lstm")
RECURRENT_NETWORKS = ("lstm", "cnn_lstm")  # an LSTM after the trunk (Baselines ppo2's lstm, cnn_lstm)
PRECISIONS = ("float32", "bfloat16")
INITS = ("ppo1", "orthogonal")
LOSSES = ("clip", "none", "fixed_kl", "adaptive_kl")
MPI_UPDATES = ("auto", "allgather", "allreduce")
PG_WEIGHTS = ("return", "reward_to_go", "gae")
WANDB_MODES = ("online", "offline")
SCHEDULES = ("constant", "linear")
ACTION_MASKING = ("auto", "on", "off")  # invalid-action masks from the env: when provided, required, ignored


def setting(default: Any, text: str, choices: tuple[str, ...] | None = None) -> Any:
    """A setting: its default, its one-paragraph documentation and, for names, the allowed values."""
    return field(default=default, metadata={"doc": text, "choices": choices})


def doc(cls: type, name: str) -> str:
    """The documentation of setting ``name`` of config class ``cls``."""
    return next(f.metadata["doc"] for f in dataclasses.fields(cls) if f.name == name)
