"""``run.py --track``: experiment tracking with Weights & Biases."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from baselines_tf2.config.fields import WANDB_MODES, setting
from baselines_tf2.config.validation import one_of
from baselines_tf2.errors import ConfigError


@dataclass
class TrackingConfig:
    """``run.py --track``: the run's settings and log rows to Weights & Biases (in Python: ``train/tracking.py``)."""

    track: bool = setting(
        False, 'send the settings and every progress.csv row to Weights & Biases (pip install "baselines_tf2[wandb]")'
    )
    wandb_project: str = setting("baselines_tf2", "W&B project of the run")
    wandb_entity: str = setting("", "W&B team or user that owns the project (default: your default entity)")
    wandb_name: str = setting("", "run name (default: <env>__<alg>__<seed>__<unix time>, as CleanRL names runs)")
    wandb_group: str = setting("", "W&B group (e.g. the seeds of one setting)")
    wandb_tags: str = setting("", "comma-separated W&B tags")
    wandb_id: str = setting("", "W&B run id to create or continue (default: --load_path's run.json's, else new)")
    wandb_mode: str | None = setting(
        None, "online, or offline (upload later: wandb sync DIR); default: WANDB_MODE", WANDB_MODES
    )

    def validate(self) -> None:
        """Raise ConfigError for an unknown mode, or a tracking setting given without ``track``."""
        if self.wandb_mode is not None:
            one_of("wandb_mode", self.wandb_mode, WANDB_MODES)
        given = [f.name for f in dataclasses.fields(self) if f.name != "track" and getattr(self, f.name) != f.default]
        if given and not self.track:
            raise ConfigError(f"{given[0]} is a setting of track; add --track (track=True)")
