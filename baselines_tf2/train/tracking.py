"""Experiment tracking: a training run's settings and log rows sent to Weights & Biases (``run.py --track``).

W&B is an optional extra (``pip install "baselines_tf2[wandb]"``), imported only when a tracker starts.
:class:`WandbTracker` is a ``learn()`` callback: each iteration's row, the very row written to
``progress.csv`` and TensorBoard, becomes one ``wandb.log`` whose x-axis is ``total_timesteps``
(``define_metric``; W&B's own step counts the rows, so the rows a resumed run logs again, from its
checkpoint on, are kept rather than refused as a step going back). TensorBoard's event files are
attached to the run as files when it finishes and are not parsed again: ``sync_tensorboard`` would send
the same scalars a second time. Under MPI every rank makes a tracker (every rank must pass a callback:
``learn()`` all-reduces the callbacks' answers); only rank 0's is enabled and talks to W&B.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from baselines_tf2.config import TrackingConfig
from baselines_tf2.errors import ConfigError, TrainingInterrupted

if TYPE_CHECKING:
    from baselines_tf2.train.training import IterationInfo

__all__ = ["RUN_ID_KEY", "STEP_METRIC", "WandbTracker", "import_wandb", "saved_run_id"]

RUN_ID_KEY = "wandb_run_id"  # the key of run.json that holds the W&B run a checkpoint belongs to
STEP_METRIC = "total_timesteps"


def import_wandb() -> Any:
    """The ``wandb`` module, or a one-line ConfigError saying how to install it."""
    try:
        import wandb  # noqa: PLC0415 (optional extra: imported only when tracking)
    except ImportError:
        raise ConfigError('--track needs wandb: pip install "baselines_tf2[wandb]" (or pip install wandb)') from None
    return wandb


def saved_run_id(record: Mapping[str, Any] | None) -> str:
    """The W&B run that a checkpoint's ``run.json`` record names (empty: none)."""
    return str((record or {}).get(RUN_ID_KEY) or "")


class WandbTracker:
    """One W&B run, fed the rows of ``learn()`` as its ``callback``; finish it (or use it as a context manager).

    Args:
        settings: project, entity, name, group, tags, run id and mode (``settings.track`` is not read).
        config: the run's settings, shown as the W&B run's config.
        run_id: the run to continue (``resume="allow"``: created if W&B does not know it) when
            ``settings.wandb_id`` is not given; empty: a new run.
        name: the run's name when ``settings.wandb_name`` is not given (empty: W&B's own, or the
            continued run's).
        tb_dir: TensorBoard folder whose event files are attached to the run when it finishes.
        callback: called after the row is sent, with the same argument; its answer is returned (``False`` stops).
        enabled: ``False`` (ranks other than 0): W&B is not imported and nothing is sent; still a callback.

    ::

        with WandbTracker(TrackingConfig(track=True), {"env": "Hopper-v5"}) as tracker:
            learn("Hopper-v5", MlpPolicy, max_timesteps=100_000, callback=tracker)

    Under ``mpirun``: ``WandbTracker(..., enabled=comm.Get_rank() == 0)`` on every rank.
    """

    def __init__(
        self,
        settings: TrackingConfig,
        config: Mapping[str, Any],
        *,
        run_id: str = "",
        name: str = "",
        tb_dir: str | None = None,
        callback: Callable[[IterationInfo], bool | None] | None = None,
        enabled: bool = True,
    ) -> None:
        self.tb_dir, self.callback, self.enabled = tb_dir, callback, enabled
        self._finished = not enabled
        self.run: Any = None
        if not enabled:
            return
        wandb = import_wandb()
        run_id = settings.wandb_id or run_id
        tags = [t.strip() for t in settings.wandb_tags.split(",") if t.strip()]
        try:
            self.run = wandb.init(
                project=settings.wandb_project,
                entity=settings.wandb_entity or None,
                name=settings.wandb_name or name or None,
                group=settings.wandb_group or None,
                tags=tags or None,
                mode=settings.wandb_mode,
                id=run_id or None,
                resume="allow" if run_id else None,
                config=dict(config),
                save_code=True,
            )
        except wandb.errors.Error as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ConfigError(f"--track: W&B did not start: {first} (offline: --wandb_mode offline)") from None
        self.run.define_metric(STEP_METRIC)
        self.run.define_metric("*", step_metric=STEP_METRIC)

    @property
    def run_id(self) -> str:
        """The W&B run's id (stored in ``run.json`` so that a resumed run continues it; empty when disabled)."""
        return str(self.run.id) if self.run is not None else ""

    def record_entry(self) -> dict[str, str]:
        """What ``run.json`` adds so that a run resumed from its checkpoints continues this W&B run."""
        return {RUN_ID_KEY: self.run_id}

    def log(self, row: Mapping[str, Any]) -> None:
        """Send one iteration's row (its ``total_timesteps`` is the x-axis)."""
        if self.run is not None:
            self.run.log(dict(row))

    def __call__(self, info: IterationInfo) -> bool | None:
        self.log(info.metrics)
        return self.callback(info) if self.callback is not None else None

    def finish(self, exit_code: int = 0) -> None:
        """Attach the TensorBoard event files and close the run (non-zero ``exit_code``: marked failed)."""
        if self._finished:
            return
        self._finished = True
        if self.tb_dir and glob.glob(os.path.join(self.tb_dir, "*")):
            base = os.path.dirname(os.path.abspath(self.tb_dir))
            self.run.save(os.path.join(os.path.abspath(self.tb_dir), "*"), base_path=base, policy="end")
        self.run.finish(exit_code=exit_code)

    def __enter__(self) -> WandbTracker:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc is None:
            self.finish(0)
        else:
            self.finish(128 + exc.signum if isinstance(exc, TrainingInterrupted) else 1)
