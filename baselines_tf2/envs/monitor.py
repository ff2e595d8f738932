"""Episode monitor writing Baselines' ``*.monitor.csv`` (columns ``r,l,t``).

Wrap each environment copy *below* any reward clipping or life-loss wrapper, so that the recorded
return is the true (unclipped) game score and an episode is a whole game. At the end of every
episode the step's ``info`` gets ``info["episode"] = {"r": return, "l": length, "t": seconds since
the monitor started}``, which the rollout collector reads for ``eprewmean``/``eplenmean``.

File format (as Baselines, so its plotting tools read it)::

    #{"t_start": 1700000000.0, "env_id": "Hopper-v5"}
    r,l,t
    123.4,200,1.52
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, SupportsFloat

import gymnasium as gym

__all__ = ["Monitor", "MonitorLog", "has_monitor", "read_monitor_csv"]


class MonitorLog:
    """One env copy's episode records: the ``info["episode"]`` dicts and, optionally, the CSV file.

    Used by :class:`Monitor` and by vector envs that watch their copies themselves
    (:class:`~baselines_tf2.envs.ale_vector.AleVectorEnv`).
    """

    def __init__(self, filename: str | None = None, env_id: str | None = None) -> None:
        self.t_start = time.time()
        self._file = None
        if filename is not None:
            if not filename.endswith(".monitor.csv"):
                filename += ".monitor.csv"
            os.makedirs(os.path.dirname(os.path.abspath(filename)), exist_ok=True)
            self._file = open(filename, "w", encoding="utf-8")  # noqa: SIM115 (closed in close())
            self._file.write("#" + json.dumps({"t_start": self.t_start, "env_id": env_id}) + "\n")
            self._file.write("r,l,t\n")
            self._file.flush()

    def episode(self, ret: float, length: int) -> dict[str, float]:
        """Record a finished episode; returns its ``{"r", "l", "t"}``."""
        episode = {"r": round(float(ret), 6), "l": int(length), "t": round(time.time() - self.t_start, 6)}
        if self._file is not None:
            self._file.write(f"{episode['r']},{episode['l']},{episode['t']}\n")
            self._file.flush()
        return episode

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class Monitor(gym.Wrapper):
    """Records each episode's return, length and end time; optionally appends them to a CSV file.

    Args:
        env: the environment to watch.
        filename: path of the CSV (``.monitor.csv`` is appended if missing); ``None`` writes nothing.
    """

    def __init__(self, env: gym.Env, filename: str | None = None) -> None:
        super().__init__(env)
        self.log = MonitorLog(filename, env.spec.id if env.spec is not None else None)
        self._return = 0.0
        self._length = 0

    @property
    def t_start(self) -> float:
        """When the monitor started (the file header's ``t_start``)."""
        return self.log.t_start

    def reset(self, **kwargs: Any) -> tuple[Any, dict]:
        self._return, self._length = 0.0, 0
        return self.env.reset(**kwargs)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._return += float(reward)
        self._length += 1
        if terminated or truncated:
            info = dict(info, episode=self.log.episode(self._return, self._length))
        return obs, reward, terminated, truncated, info

    def close(self) -> None:
        self.log.close()
        super().close()


def has_monitor(env: gym.Env) -> bool:
    """True if a :class:`Monitor` is anywhere in ``env``'s wrapper stack."""
    while isinstance(env, gym.Wrapper):
        if isinstance(env, Monitor):
            return True
        env = env.env
    return False


def read_monitor_csv(path: str) -> tuple[dict, list[tuple[float, int, float]]]:
    """The header dict and the ``(r, l, t)`` rows of a monitor file."""
    with open(path, encoding="utf-8") as f:
        header = json.loads(f.readline()[1:])
        columns = f.readline().strip()
        if columns != "r,l,t":
            raise ValueError(f"{path}: expected columns 'r,l,t', found {columns!r}")
        rows = [(float(r), int(n), float(t)) for r, n, t in (line.strip().split(",") for line in f if line.strip())]
    return header, rows
