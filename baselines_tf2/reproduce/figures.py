"""Every number the written results quote, computed from the committed curves.

``docs/results/notes.md`` and ``docs/results/summary.md`` are templates: a number appears in them
only as ``{{key}}``, filled in by :func:`render` from :func:`compute_figures` when the report is
rebuilt, so no quoted figure can go stale. An unknown key is an error naming it. The top-level
README holds the rendered summary between ``<!-- results:begin -->`` and ``<!-- results:end -->``
(rewritten by ``reproduce report``; a test fails if it no longer matches the data).

Keys (``<task>`` as ``Hopper``, ``Pong``):

* ``fig3.<task>.{mean,std,seeds,finals,peaks,peak_steps}`` (std: the population standard
  deviation over seeds, NumPy's default), ``fig3.at_or_above_ppo2``, ``fig3.below_ppo2``; for Figure 3's
  other columns (``pg_adaptive``, ``ppo1``, ``ppo2``): ``fig3.<setting>.<task>.{mean,seeds}``,
  ``fig3.<setting>.{tasks,at_or_above_ppo2,at_or_above_ppo2_count}``;
* ``table1.<setting>.{avg,seed0,runs}``, ``table1.runs``, ``table1.missing`` (runs still needed
  for 3 seeds in every cell), ``table1.single_seed_cells``;
* ``atari.<task>.{mean,finals,seeds,steps_per_s,hours,last2M_change,frames_to_<score>,sb3_gap}`` (``reproduce
  atari``'s runs; ``sb3_gap``: the mean minus SB3's rl-zoo3 score at 10M frames), the same under ``atari_table5.<task>`` for the pre-ablation preset's runs (``table5_alpha_10M``);
* ``ablation.<arm>.{mean,finals,seeds,frames_to_<score>,steps_per_s}`` (per seed where a list) for the Pong
  arms, ``ablation.runs`` (Pong's); the same as ``ablation_<game>.<arm>`` for another game's arms (Breakout:
  ``ablation_breakout``), where ``<ATARI_SETTING>_4M`` is the full runs' first part as long as the arms;
* ``budget.mujoco_minutes.{min,max}`` (training time of one 1M-step run, two at a time);
* references (``reference/``): ``paper.table1.<setting>``, ``sb3.<task>.first_score`` and
  ``sb3.<task>.first_frames`` (when rl-zoo3's SB3 run first reached that score), ``sb3.<task>.10M`` and
  ``cleanrl.<task>.10M`` (their scores at 10M frames).
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from baselines_tf2.envs.atari_wrappers import FRAME_SKIP
from baselines_tf2.reproduce.grid import (
    ABLATION_SETTINGS,
    ALG_SETTINGS,
    ATARI_SETTING,
    ATARI_TABLE5_SETTING,
    MUJOCO_ENVS,
    SETTINGS,
)
from baselines_tf2.reproduce.random_policy import load_random_scores
from baselines_tf2.reproduce.references import paper_table1, read_reference

__all__ = [
    "ABLATION_THRESHOLDS",
    "BEGIN",
    "END",
    "ablation_arms",
    "compute_figures",
    "frames_to_reach",
    "render",
    "replace_block",
    "training_seconds",
    "truncated",
]

BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
# Scores whose first arrival the ablation tables give, per game (a Pong game is -21..21; Breakout's 4M
# frames end near 20).
ABLATION_THRESHOLDS: dict[str, tuple[float, ...]] = {"Pong": (-19.0, -10.0, 10.0), "Breakout": (5.0, 10.0, 20.0)}


def training_seconds(elapsed: np.ndarray) -> float:
    """A run's training time from its ``time_elapsed`` column, which restarts near 0 at every resume."""
    total, previous = 0.0, 0.0
    for value in elapsed:
        if value < previous:  # a resumed attempt: the previous attempt ran `previous` seconds
            total += previous
        previous = float(value)
    return total + previous


def _num(x: float) -> str:
    """A score as the tables print it: whole numbers from 100 up, one decimal below."""
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.1f}"


def frames_to_reach(run: Any, score: float) -> float | None:
    """Emulator frames at a run's first iteration whose ``eprewmean`` is at least ``score`` (``None``: never)."""
    hits = np.flatnonzero(np.nan_to_num(run.eprewmean, nan=-np.inf) >= score)
    return float(run.timesteps[hits[0]]) * FRAME_SKIP if len(hits) else None


def _frames_to(run: Any, score: float) -> str:
    frames = frames_to_reach(run, score)
    return "not reached" if frames is None else f"{frames / 1e6:.1f}M frames"


def compute_figures(runs: list, data_dir: Path, normalised_scores) -> dict[str, str]:
    """``key -> formatted value`` for the runs present (see the module docstring)."""
    figures: dict[str, str] = {}
    _figure3(runs, figures)
    _table1(runs, data_dir, normalised_scores, figures)
    _atari(runs, figures)
    _ablation(runs, figures)
    _references(figures)
    minutes = [training_seconds(r.elapsed) / 60 for r in runs if not r.is_atari and r.elapsed is not None]
    if minutes:
        figures["budget.mujoco_minutes.min"] = f"{min(minutes):.1f}"
        figures["budget.mujoco_minutes.max"] = f"{max(minutes):.1f}"
    return figures


def _figure3(runs: list, figures: dict[str, str]) -> None:
    ppo2 = {
        task: float(row["baselines_ppo2_v2_6seeds"]) for task, row in read_reference("mujoco_1m.csv", "task").items()
    }
    above: list[str] = []
    below: list[str] = []
    for env in MUJOCO_ENVS:
        chosen = sorted((r for r in runs if r.env == env and r.setting == "clip_0.2"), key=lambda r: r.seed)
        if not chosen:
            continue
        task, scores = chosen[0].task, np.array([r.score for r in chosen])
        key = f"fig3.{task}"
        figures[f"{key}.mean"], figures[f"{key}.std"] = _num(scores.mean()), _num(scores.std())
        figures[f"{key}.seeds"] = str(len(scores))
        figures[f"{key}.finals"] = ", ".join(_num(s) for s in scores)
        figures[f"{key}.peaks"] = ", ".join(_num(np.nanmax(r.eprewmean)) for r in chosen)
        figures[f"{key}.peak_steps"] = ", ".join(f"{r.timesteps[np.nanargmax(r.eprewmean)] / 1e6:.2f}M" for r in chosen)
        if task in ppo2:
            (above if scores.mean() >= ppo2[task] else below).append(task)
    figures["fig3.at_or_above_ppo2"] = ", ".join(above) or "none"
    figures["fig3.below_ppo2"] = ", ".join(below) or "none"
    for setting in ALG_SETTINGS:  # Figure 3's other columns
        above, tasks = [], 0
        for env in MUJOCO_ENVS:
            chosen = [r for r in runs if r.env == env and r.setting == setting]
            if not chosen:
                continue
            task, scores = chosen[0].task, np.array([r.score for r in chosen])
            tasks += 1
            figures[f"fig3.{setting}.{task}.mean"] = _num(scores.mean())
            figures[f"fig3.{setting}.{task}.seeds"] = str(len(scores))
            if task in ppo2 and scores.mean() >= ppo2[task]:
                above.append(task)
        if tasks:
            figures[f"fig3.{setting}.tasks"] = str(tasks)
            figures[f"fig3.{setting}.at_or_above_ppo2"] = ", ".join(above) or "none"
            figures[f"fig3.{setting}.at_or_above_ppo2_count"] = str(len(above))


def _table1(runs: list, data_dir: Path, normalised_scores, figures: dict[str, str]) -> None:
    mujoco = [r for r in runs if not r.is_atari and r.setting in SETTINGS]
    if not mujoco:
        return
    random = load_random_scores(data_dir)
    norm, norm0 = normalised_scores(mujoco, random), normalised_scores([r for r in mujoco if r.seed == 0], random)
    for setting in SETTINGS:
        groups = list(norm.get(setting, {}).values())
        if groups:
            figures[f"table1.{setting}.avg"] = f"{np.concatenate(groups).mean():.2f}"
            figures[f"table1.{setting}.runs"] = str(len(np.concatenate(groups)))
        if norm0.get(setting):
            figures[f"table1.{setting}.seed0"] = f"{np.concatenate(list(norm0[setting].values())).mean():.2f}"
    cells = {(r.env, r.setting) for r in mujoco}
    seeds = {(r.env, r.setting, r.seed) for r in mujoco if r.seed in (0, 1, 2)}
    figures["table1.runs"] = str(len(mujoco))
    figures["table1.missing"] = str(len(MUJOCO_ENVS) * len(SETTINGS) * 3 - len(seeds))
    figures["table1.single_seed_cells"] = str(sum(1 for c in cells if sum(1 for s in seeds if s[:2] == c) == 1))


def _atari(runs: list, figures: dict[str, str]) -> None:
    for setting, prefix in ((ATARI_SETTING, "atari"), (ATARI_TABLE5_SETTING, "atari_table5")):
        for env in sorted({r.env for r in runs if r.is_atari and r.setting == setting}):
            chosen = sorted((r for r in runs if r.env == env and r.setting == setting), key=lambda r: r.seed)
            _atari_runs(chosen, f"{prefix}.{chosen[0].task}", figures)


def _atari_runs(chosen: list, key: str, figures: dict[str, str]) -> None:
    """The figures of one game's runs of one setting, under ``key``."""
    scores = np.array([r.score for r in chosen])
    figures[f"{key}.mean"], figures[f"{key}.seeds"] = _num(scores.mean()), str(len(scores))
    figures[f"{key}.finals"] = ", ".join(_num(s) for s in scores)
    sb3 = read_reference("atari_10m.csv", "game").get(chosen[0].task, {}).get("sb3_rlzoo3_10M_frames")
    if sb3:  # the mean's distance from SB3's rl-zoo3 run at 10M frames, signed
        figures[f"{key}.sb3_gap"] = f"{scores.mean() - float(sb3):+.1f}"
    rates = [r.timesteps[-1] / training_seconds(r.elapsed) for r in chosen if r.elapsed is not None]
    hours = [training_seconds(r.elapsed) / 3600 for r in chosen if r.elapsed is not None]
    if rates:
        figures[f"{key}.steps_per_s"] = f"{min(rates):.0f}–{max(rates):.0f}" if len(rates) > 1 else f"{rates[0]:.0f}"
        figures[f"{key}.hours"] = f"{min(hours):.1f}–{max(hours):.1f}" if len(hours) > 1 else f"{hours[0]:.1f}"
    changes = []
    for r in chosen:  # the 100-game mean at the end minus 2M frames (500k agent steps) earlier
        earlier = np.flatnonzero(r.timesteps <= r.timesteps[-1] - 2e6 / FRAME_SKIP)
        if len(earlier):
            changes.append(r.score - r.eprewmean[earlier[-1]])
    if changes:
        figures[f"{key}.last2M_change"] = ", ".join(f"{c:+.1f}" for c in changes)
    for score in (-19, -10, 10, 20, 50):
        figures[f"{key}.frames_to_{score}"] = ", ".join(_frames_to(r, score) for r in chosen)


def ablation_arms(runs: list) -> dict[str, dict[str, list]]:
    """``game -> arm -> runs`` (by seed) of the ablation's finished arms, Pong first. Another game's arms come
    with ``<ATARI_SETTING>_4M``: the full runs cut at the arms' length, today's preset on the fast path."""
    chosen = [r for r in runs if r.is_atari and r.setting in ABLATION_SETTINGS]
    games: dict[str, dict[str, list]] = {}
    for task in sorted({r.task for r in chosen}, key=lambda t: (t != "Pong", t)):
        game = [r for r in chosen if r.task == task]
        arms = {a: sorted((r for r in game if r.setting == a), key=lambda r: r.seed) for a in ABLATION_SETTINGS}
        if task != "Pong":
            steps = max(r.timesteps[-1] for r in game)
            full = sorted((r for r in runs if r.task == task and r.setting == ATARI_SETTING), key=lambda r: r.seed)
            arms[f"{ATARI_SETTING}_4M"] = [truncated(r, steps) for r in full]
        games[task] = {a: arm_runs for a, arm_runs in arms.items() if arm_runs}
    return games


def _ablation(runs: list, figures: dict[str, str]) -> None:
    games = ablation_arms(runs)
    figures["ablation.runs"] = str(sum(len(arm_runs) for arm_runs in games.get("Pong", {}).values()))
    for task, arms in games.items():
        prefix = "ablation" if task == "Pong" else f"ablation_{task.lower()}"
        for arm, arm_runs in arms.items():
            _arm_figures(f"{prefix}.{arm}", arm_runs, ABLATION_THRESHOLDS.get(task, ()), figures)


def _arm_figures(key: str, arm_runs: list, thresholds: tuple[float, ...], figures: dict[str, str]) -> None:
    scores = np.array([r.score for r in arm_runs])
    figures[f"{key}.mean"], figures[f"{key}.seeds"] = _num(scores.mean()), str(len(scores))
    figures[f"{key}.finals"] = ", ".join(_num(s) for s in scores)
    for score in thresholds:
        figures[f"{key}.frames_to_{score:.0f}"] = ", ".join(_frames_to(r, score) for r in arm_runs)
    rates = [r.timesteps[-1] / training_seconds(r.elapsed) for r in arm_runs if r.elapsed is not None]
    if rates:
        figures[f"{key}.steps_per_s"] = ", ".join(f"{x:.0f}" for x in rates)


def truncated(run: Any, steps: float) -> Any:
    """``run`` cut at its first iteration at or past ``steps`` agent steps (a full run's first part)."""
    n = int(np.searchsorted(run.timesteps, steps)) + 1
    elapsed = None if run.elapsed is None else run.elapsed[:n]
    return replace(run, timesteps=run.timesteps[:n], eprewmean=run.eprewmean[:n], elapsed=elapsed)


def _references(figures: dict[str, str]) -> None:
    for setting, value in paper_table1().items():
        figures[f"paper.table1.{setting}"] = f"{value:.2f}"
    for game, row in read_reference("atari_10m.csv", "game").items():
        for source, column in (("sb3", "sb3_rlzoo3_10M_frames"), ("cleanrl", "cleanrl_10M_frames")):
            if row.get(column):
                figures[f"{source}.{game}.10M"] = _num(float(row[column]))
        if row.get("sb3_rlzoo3_first_score"):
            figures[f"sb3.{game}.first_score"] = row["sb3_rlzoo3_first_score"]
            figures[f"sb3.{game}.first_frames"] = row["sb3_rlzoo3_first_score_M_frames"] + "M frames"


_PLACEHOLDER = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")


def render(template: str, figures: dict[str, str], where: str = "template") -> str:
    """``template`` with every ``{{key}}`` replaced by its figure; an unknown key is a ``KeyError`` naming it."""

    def value(match: re.Match) -> str:
        key = match.group(1)
        if key not in figures:
            raise KeyError(f"{where} quotes {{{{{key}}}}}, which the data does not give")
        return figures[key]

    return _PLACEHOLDER.sub(value, template)


def replace_block(text: str, block: str) -> str:
    """``text`` with what lies between :data:`BEGIN` and :data:`END` replaced by ``block``."""
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[:start] + "\n" + block.strip() + "\n" + text[end:]
