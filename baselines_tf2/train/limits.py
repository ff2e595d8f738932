"""When a run stops and how far its schedules have run: a pure function of the run's counters."""

from __future__ import annotations

from baselines_tf2.config import RunConfig

__all__ = ["fraction_left"]


def fraction_left(
    cfg: RunConfig, timesteps: int, episodes: int, iters: int, elapsed: float, schedule_timesteps: int = 0
) -> float | None:
    """The schedules' fraction left, or ``None`` once a stop limit is reached (pure).

    The stop decision takes the largest share used of any limit set (``cfg.max_*``, 0 = unset).
    The fraction is ``1 - timesteps / schedule_timesteps`` (floored at 0) when a horizon is set,
    else ``1 -`` that largest share.
    """
    counts = (timesteps, episodes, iters, elapsed)
    limits = (cfg.max_timesteps, cfg.max_episodes, cfg.max_iters, cfg.max_seconds)
    shares = [count / limit for count, limit in zip(counts, limits) if limit]
    if max(shares) >= 1.0:
        return None
    return max(1.0 - timesteps / schedule_timesteps, 0.0) if schedule_timesteps else 1.0 - max(shares)
