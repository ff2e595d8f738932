"""The random policy's score on each task: the 0 of the paper's Table 1 normalisation.

The paper scales each task so that "the random policy gave a score of 0"; on gymnasium's ``-v5``
tasks we measure it ourselves: actions drawn uniformly from the action space, ``episodes``
complete episodes, seeded, scored as the mean episode return (the same measure as a run's score).
"""

from __future__ import annotations

import csv
from pathlib import Path

import gymnasium as gym
import numpy as np

__all__ = ["load_random_scores", "measure_random_scores", "random_score"]

FILENAME = "random_scores.csv"


def random_score(env_id: str, episodes: int = 100, seed: int = 0) -> float:
    """Mean return of ``episodes`` episodes of uniformly random actions on ``env_id``."""
    env = gym.make(env_id)
    env.action_space.seed(seed)
    returns = []
    try:
        for i in range(episodes):
            env.reset(seed=seed + i)
            total, done = 0.0, False
            while not done:
                _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
                total += float(reward)
                done = terminated or truncated
            returns.append(total)
    finally:
        env.close()
    return float(np.mean(returns))


def measure_random_scores(data_dir: Path, env_ids: list[str], episodes: int = 100) -> dict[str, float]:
    """Measure the envs missing from ``data_dir/random_scores.csv`` and rewrite it; returns all scores."""
    scores = load_random_scores(data_dir)
    missing = [e for e in env_ids if e not in scores]
    for env_id in missing:
        scores[env_id] = random_score(env_id, episodes)
    if missing:
        data_dir.mkdir(parents=True, exist_ok=True)
        with open(data_dir / FILENAME, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["env", "episodes", "random_score"])
            for env_id in sorted(scores):
                writer.writerow([env_id, episodes, f"{scores[env_id]:.6g}"])
    return scores


def load_random_scores(data_dir: Path) -> dict[str, float]:
    """``env -> random score`` from ``data_dir/random_scores.csv`` (empty if not measured yet)."""
    path = data_dir / FILENAME
    if not path.exists():
        return {}
    with open(path, newline="") as f:
        return {row["env"]: float(row["random_score"]) for row in csv.DictReader(f)}
