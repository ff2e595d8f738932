"""Every training setting in one typed, documented place, one module per config class.

* :class:`RunConfig` (``run.py``): what every learner shares (stop limits, the schedules' horizon,
  seeding, env copies, log and checkpoint paths, evaluation, action masking).
* :class:`PPOConfig` (``ppo.py``): PPO's settings (``ppo.learn``), each named as Baselines named it.
* :class:`PGConfig` (``pg.py``): the vanilla policy gradient's (``pg.learn``).
* :class:`PolicyConfig` (``policy.py``): the network ``run.py`` builds.
* :class:`TrackingConfig` (``tracking.py``): ``run.py --track``, experiment tracking with Weights & Biases.

Each field carries its documentation (``fields.setting``), from which ``run.py`` generates its flags
and ``--help``; each class has one ``validate()`` (checks in ``validation.py``) that raises
:class:`~baselines_tf2.errors.ConfigError` naming the setting; ``keywords.split_settings`` sorts
``learn()``'s keywords into config objects. No module here imports TensorFlow or gymnasium, so
``run.py --help`` answers at once.
"""

from baselines_tf2.config.fields import (
    ACTION_MASKING,
    ENV_BACKENDS,
    ENV_TYPES,
    INITS,
    LOSSES,
    MPI_UPDATES,
    NETWORKS,
    PG_WEIGHTS,
    PRECISIONS,
    RECURRENT_NETWORKS,
    SCHEDULES,
    WANDB_MODES,
    doc,
)
from baselines_tf2.config.keywords import split_settings
from baselines_tf2.config.pg import PGConfig
from baselines_tf2.config.policy import PolicyConfig
from baselines_tf2.config.ppo import PPOConfig
from baselines_tf2.config.run import RunConfig
from baselines_tf2.config.tracking import TrackingConfig

__all__ = [
    "ACTION_MASKING",
    "ENV_BACKENDS",
    "ENV_TYPES",
    "INITS",
    "LOSSES",
    "MPI_UPDATES",
    "NETWORKS",
    "PG_WEIGHTS",
    "PRECISIONS",
    "RECURRENT_NETWORKS",
    "SCHEDULES",
    "WANDB_MODES",
    "PGConfig",
    "PPOConfig",
    "PolicyConfig",
    "RunConfig",
    "TrackingConfig",
    "doc",
    "split_settings",
]
