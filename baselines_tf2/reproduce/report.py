"""Rebuild every table and plot of the reproduction from the committed curves; trains nothing.

A run's **score** is its final ``eprewmean``: the mean return of its last 100 episodes, the
paper's measure. Sections appear for whatever runs are present:

* **Figure 3**: ``clip_0.2`` runs on non-Atari tasks: one panel per task, mean and min-max band
  over seeds, a table beside Baselines ppo2, CleanRL and RL-Zoo3 (``reference/mujoco_1m.csv``).
* **Table 1**: every objective setting; per task, scores are normalised so that the random policy
  is 0 and the best setting (mean over seeds) is 1, then averaged over tasks and seeds as the paper
  does; beside it the interquartile mean (IQM) with a 95% bootstrap interval (rliable's statistic;
  runs resampled with replacement, stratified by task).
* **Atari**: curves and final scores beside the paper's (40M frames) and Baselines ppo2 (10M steps).
* **Atari ablation**: Pong arms (``reproduce ablation``): score at the end (4M frames) per seed, and
  the frames each seed took to first reach -19, -10 and +10, with every arm's curves in one plot.
"""

from __future__ import annotations

import csv
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from baselines_tf2.envs.atari_wrappers import FRAME_SKIP  # Atari agent steps -> emulator frames
from baselines_tf2.reproduce.figures import (
    ABLATION_THRESHOLDS,
    ablation_arms,
    compute_figures,
    frames_to_reach,
    render,
    replace_block,
)
from baselines_tf2.reproduce.grid import (
    ABLATION_SETTINGS,
    ALG_SETTINGS,
    ATARI_SETTING,
    ATARI_TABLE5_SETTING,
    MUJOCO_ENVS,
    SETTINGS,
    changed_flags,
)
from baselines_tf2.reproduce.random_policy import load_random_scores
from baselines_tf2.reproduce.references import paper_table1, read_reference

__all__ = [
    "Run",
    "bootstrap_ci",
    "build_report",
    "frames_to_reach",
    "iqm",
    "load_runs",
    "normalised_scores",
    "readme_block",
    "update_readme",
]


@dataclass
class Run:
    """One finished run's curve."""

    env: str
    setting: str
    seed: int
    timesteps: np.ndarray
    eprewmean: np.ndarray
    elapsed: np.ndarray | None = None  # time_elapsed per iteration (restarts at each resume)

    @property
    def score(self) -> float:
        return float(self.eprewmean[-1])

    @property
    def task(self) -> str:
        """``Hopper`` for ``Hopper-v5``, ``Pong`` for ``ALE/Pong-v5``."""
        return self.env.split("/")[-1].rsplit("-", 1)[0]

    @property
    def is_atari(self) -> bool:
        return self.env.startswith("ALE/") or "NoFrameskip" in self.env


def load_runs(data_dir: Path) -> list[Run]:
    """Every ``data/<env>/<setting>/seed<k>.csv``."""
    runs = []
    for path in sorted(data_dir.glob("*/*/seed*.csv")):
        env_dir, setting = path.parent.parent.name, path.parent.name
        env = "ALE/" + env_dir[4:] if env_dir.startswith("ALE_") else env_dir
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        if not rows:
            continue
        steps = np.array([float(r["total_timesteps"]) for r in rows])
        returns = np.array([float(r["eprewmean"]) if r["eprewmean"] else np.nan for r in rows])
        elapsed = np.array([float(r["time_elapsed"]) for r in rows]) if "time_elapsed" in rows[0] else None
        runs.append(Run(env, setting, int(path.stem[4:]), steps, returns, elapsed))
    return runs


def iqm(scores: np.ndarray) -> float:
    """Interquartile mean: the mean of the middle 50% (scipy's ``trim_mean(x, 0.25)``)."""
    x = np.sort(np.asarray(scores, np.float64).ravel())
    cut = int(0.25 * len(x))
    return float(x[cut : len(x) - cut].mean())


def bootstrap_ci(
    groups: list[np.ndarray], stat=iqm, reps: int = 2000, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Percentile interval of ``stat`` over resamples that redraw each group's runs with replacement.

    ``groups`` holds one array of run scores per task (rliable's stratified bootstrap); a task with
    one run contributes that run to every resample.
    """
    rng = np.random.default_rng(seed)
    values = np.empty(reps)
    for i in range(reps):
        values[i] = stat(np.concatenate([g[rng.integers(0, len(g), len(g))] for g in groups]))
    lo, hi = np.percentile(values, [100 * (1 - level) / 2, 100 * (1 + level) / 2])
    return float(lo), float(hi)


def probability_of_improvement(
    x: dict[str, np.ndarray], y: dict[str, np.ndarray], reps: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """rliable's P(X > Y) with a 95% stratified-bootstrap interval.

    Per task, the probability that a run of X scores above a run of Y (ties count half: the
    Mann-Whitney U statistic over all pairs), averaged over the tasks both have; the interval
    resamples each task's runs of X and of Y with replacement. Returns ``(p, low, high)``.
    """
    tasks = sorted(set(x) & set(y))

    def p_of(xs: list[np.ndarray], ys: list[np.ndarray]) -> float:
        per_task = [((a[:, None] > b[None, :]) + 0.5 * (a[:, None] == b[None, :])).mean() for a, b in zip(xs, ys)]
        return float(np.mean(per_task))

    xs, ys = [np.asarray(x[t], np.float64) for t in tasks], [np.asarray(y[t], np.float64) for t in tasks]
    rng = np.random.default_rng(seed)
    boot = [
        p_of([a[rng.integers(0, len(a), len(a))] for a in xs], [b[rng.integers(0, len(b), len(b))] for b in ys])
        for _ in range(reps)
    ]
    low, high = np.percentile(boot, [2.5, 97.5])
    return p_of(xs, ys), float(low), float(high)


def normalised_scores(runs: list[Run], random: dict[str, float]) -> dict[str, dict[str, np.ndarray]]:
    """``setting -> task env -> normalised scores of its seeds``: random policy 0, best setting (seed mean) 1."""
    by_cell: dict[tuple[str, str], list[float]] = {}
    for run in runs:
        by_cell.setdefault((run.env, run.setting), []).append(run.score)
    out: dict[str, dict[str, np.ndarray]] = {}
    for env in sorted({e for e, _ in by_cell}):
        if env not in random:
            continue
        cells = {s: np.array(v) for (e, s), v in by_cell.items() if e == env}
        best = max(v.mean() for v in cells.values())
        scale = best - random[env]
        if scale <= 0:
            continue
        for setting, scores in cells.items():
            out.setdefault(setting, {})[env] = (scores - random[env]) / scale
    return out


def _plot_curves(ax, runs: list[Run], label: str | None = None, x_scale: float = 1.0, **style: Any) -> None:
    """Mean curve and min-max band over ``runs`` (cut to the shortest run); x is timesteps times ``x_scale``."""
    n = min(len(r.timesteps) for r in runs)
    steps = runs[0].timesteps[:n] * x_scale
    curves = np.stack([r.eprewmean[:n] for r in runs])
    line = ax.plot(steps, _nanmean(curves), linewidth=1.2, label=label, **style)[0]
    if len(runs) > 1:
        ax.fill_between(
            steps, np.nanmin(curves, 0), np.nanmax(curves, 0), alpha=0.25, color=line.get_color(), linewidth=0
        )


def _nanmean(curves: np.ndarray) -> np.ndarray:
    """Mean over runs (axis 0) ignoring NaN; NaN where every run is NaN (before any episode ended), quietly."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(curves, 0)


def _figure3(runs: list[Run], out: Path, plt) -> list[str]:
    chosen = [r for r in runs if r.setting == "clip_0.2" and not r.is_atari]
    envs = sorted({r.env for r in chosen}, key=lambda e: (e not in MUJOCO_ENVS, e))
    if not envs:
        return []
    refs = read_reference("mujoco_1m.csv", "task")
    ref_cols = [
        ("baselines_ppo2_v2_6seeds", "Baselines ppo2 (-v2, 6 seeds)"),
        ("cleanrl_ppo_v4_3seeds", "CleanRL (-v4, 3 seeds)"),
        ("rlzoo3_ppo_v3_tuned", "RL-Zoo3 (-v3, tuned)"),
    ]
    cols = 4 if len(envs) > 3 else len(envs)
    rows = -(-len(envs) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.8 * rows), squeeze=False)
    lines = [
        "## Figure 3: MuJoCo, the paper's settings (clip ε = 0.2), 1M steps",
        "",
        "![Figure 3](figure3.png)",
        "",
        "Mean (line) and min-max (band) over seeds of `eprewmean` (mean return of the last 100 episodes). "
        "Dashed: other libraries' published 1M-step results, on **older task versions** (gym `-v2`/`-v3`/`-v4` "
        "on mujoco-py; ours are gymnasium `-v5` on the `mujoco` package, whose dynamics and rewards differ in "
        "places): compare magnitudes, not decimals.",
        "",
        "| task | seeds | ours: mean ± std | per seed | " + " | ".join(name for _, name in ref_cols) + " |",
        "|---|---:|---:|---|" + "---:|" * len(ref_cols),
    ]
    others = [r for r in runs if r.setting in ALG_SETTINGS and not r.is_atari]
    for ax, env in zip(axes.flat, envs):
        env_runs = sorted((r for r in chosen if r.env == env), key=lambda r: r.seed)
        _plot_curves(ax, env_runs, "PPO, the paper's settings" if others else "baselines_tf2")
        for setting, linestyle in zip(ALG_SETTINGS, ("-.", ":", "--")):
            setting_runs = sorted((r for r in others if r.env == env and r.setting == setting), key=lambda r: r.seed)
            if setting_runs:
                _plot_curves(ax, setting_runs, ALG_SETTINGS[setting][0], linestyle=linestyle)
        scores = np.array([r.score for r in env_runs])
        ref = refs.get(env_runs[0].task, {})
        for (col, name), style in zip(ref_cols, [(0, (4, 2)), (0, (1, 1)), (0, (6, 2, 1, 2))]):
            if ref.get(col):
                ax.axhline(float(ref[col]), color="grey", linestyle=style, linewidth=0.9, label=name)
        ax.set_title(env, fontsize=9)
        ax.tick_params(labelsize=7)
        refs_text = " | ".join(f"{float(ref[c]):.1f}" if ref.get(c) else "–" for c, _ in ref_cols)
        per_seed = ", ".join(f"{s:.1f}" for s in scores)
        lines.append(f"| {env} | {len(scores)} | {scores.mean():.1f} ± {scores.std():.1f} | {per_seed} | {refs_text} |")
    for ax in list(axes.flat)[len(envs) :]:
        ax.axis("off")
    handles, labels = [], []
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="lower right", fontsize=8)
    fig.supxlabel("timesteps", fontsize=9)
    fig.tight_layout()
    fig.savefig(out / "figure3.png", dpi=90)
    plt.close(fig)
    return [*lines, "", *_figure3_columns(runs, envs, refs)]


def _figure3_columns(runs: list[Run], envs: list[str], refs: dict[str, dict[str, str]]) -> list[str]:
    """Figure 3's columns side by side: mean ± std (seeds) per task and setting, with ppo2's published mean."""
    settings = ["clip_0.2", *(s for s in ALG_SETTINGS if any(r.setting == s for r in runs))]
    if len(settings) == 1:
        return []
    names = {
        "clip_0.2": "PPO (`--alg ppo`)",
        "pg_adaptive": "Vanilla PG, adaptive (`--alg pg`)",
        "ppo1": "`--alg ppo1`",
        "ppo2": "`--alg ppo2`",
    }
    lines = [
        "### Figure 3's columns: PPO, the vanilla policy gradient, and Baselines' PPO1 and ppo2 settings",
        "",
        "`python -m baselines_tf2.reproduce mujoco`; mean ± std over seeds (number of seeds) of the score at "
        "1M steps. The last column is Baselines ppo2's own published 1M-step mean (6 seeds, `-v2` tasks).",
        "",
        "| task | " + " | ".join(names[s] for s in settings) + " | Baselines ppo2 published |",
        "|---|" + "---:|" * (len(settings) + 1),
    ]
    for env in envs:
        cells = []
        for setting in settings:
            scores = np.array([r.score for r in runs if r.env == env and r.setting == setting and not r.is_atari])
            cells.append(f"{scores.mean():.1f} ± {scores.std():.1f} ({len(scores)})" if len(scores) else "–")
        task = env.split("-")[0]
        published = refs.get(task, {}).get("baselines_ppo2_v2_6seeds") or "–"
        lines.append(f"| {env} | " + " | ".join(cells) + f" | {published} |")
    return [*lines, ""]


def _table1(runs: list[Run], data_dir: Path, out: Path, plt) -> list[str]:
    mujoco = [r for r in runs if not r.is_atari and r.setting in SETTINGS]
    settings = [s for s in SETTINGS if any(r.setting == s for r in mujoco)]
    if len(settings) < 2:
        return []
    random = load_random_scores(data_dir)
    envs = sorted({r.env for r in mujoco})
    norm = normalised_scores(mujoco, random)
    paper = paper_table1()
    lines = [
        "## Table 1: objectives, 1M steps",
        "",
        "Per task, a run's score is normalised so that the random policy scores 0 (uniform random actions, "
        "100 episodes, measured on the `-v5` tasks: `data/random_scores.csv`) and the best setting's mean over "
        "seeds scores 1; *avg. normalised* is the mean over all runs (tasks × seeds), the paper's statistic. "
        "IQM: interquartile mean of the same normalised scores with a 95% stratified-bootstrap interval "
        "(2000 resamples; rliable's method). *seed 0 only*: the same average over seed-0 runs alone, normalised "
        "among them, so that every setting is measured alike where some cells have more seeds. "
        "The paper used gym `-v1` tasks with 3 seeds each.",
        "",
        "*P(clip 0.2 > this)*: the probability that a clip 0.2 run beats a run of the setting on the same task "
        "(ties half), averaged over tasks, with a 95% stratified-bootstrap interval (rliable's probability of "
        "improvement): above 0.5 with an interval clear of 0.5, clipping at 0.2 is better.",
        "",
        "| setting | tasks | runs | avg. normalised (ours) | seed 0 only | paper | IQM [95% CI] "
        "| P(clip 0.2 > this) [95% CI] |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    norm0 = normalised_scores([r for r in mujoco if r.seed == 0], random)
    means = {}
    for setting in settings:
        groups = list(norm.get(setting, {}).values())
        if not groups:
            continue
        flat = np.concatenate(groups)
        means[setting] = flat.mean()
        # Resampling within each task: with one run per task there is nothing to resample.
        interval = (
            "one run per task: no interval"
            if all(len(g) == 1 for g in groups)
            else "[{:.2f}, {:.2f}]".format(*bootstrap_ci(groups))
        )
        seed0 = list(norm0.get(setting, {}).values())
        seed0_text = f"{np.concatenate(seed0).mean():.2f}" if seed0 else "–"
        if "clip_0.2" in norm and setting != "clip_0.2":
            p, lo, hi = probability_of_improvement(norm["clip_0.2"], norm[setting])
            poi = f"{p:.2f} [{lo:.2f}, {hi:.2f}]"
        else:
            poi = "–"
        lines.append(
            f"| {SETTINGS[setting][0]} | {len(groups)} | {len(flat)} | {flat.mean():.2f} | {seed0_text} "
            f"| {paper.get(setting, float('nan')):.2f} | {iqm(flat):.2f} {interval} | {poi} |"
        )
    if len({len(norm.get(s, {})) for s in settings}) > 1:
        lines.append(
            "\nNot every setting has run on every task yet: rows average over different tasks (the *tasks* "
            "column) and cannot be compared with each other until the grid is complete."
        )
    missing = [e for e in envs if e not in random]
    if missing:
        lines.append(f"\nNot normalised (no random-policy score yet): {', '.join(missing)}.")
    lines += [
        "",
        "Raw scores (mean over seeds; seeds in brackets):",
        "",
        "| setting | " + " | ".join(envs) + " |",
        "|---|" + "---:|" * len(envs),
    ]
    for setting in settings:
        cells = []
        for env in envs:
            scores = [r.score for r in mujoco if r.env == env and r.setting == setting]
            cells.append(f"{np.mean(scores):.1f} ({len(scores)})" if scores else "–")
        lines.append(f"| {SETTINGS[setting][0]} | " + " | ".join(cells) + " |")
    lines.append("| random policy | " + " | ".join(f"{random[e]:.1f}" if e in random else "–" for e in envs) + " |")
    if means:
        fig, ax = plt.subplots(figsize=(8, 3.2))
        x = np.arange(len(means))
        ax.bar(x - 0.2, list(means.values()), 0.4, label="baselines_tf2 (-v5)")
        ax.bar(x + 0.2, [paper.get(s, np.nan) for s in means], 0.4, label="paper (-v1)")
        ax.set_xticks(
            x, [s.replace("adaptive_kl", "akl").replace("fixed_kl", "fkl") for s in means], rotation=30, fontsize=8
        )
        ax.set_ylabel("avg. normalised score")
        ax.axhline(0, color="black", linewidth=0.6)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "table1.png", dpi=90)
        plt.close(fig)
        lines[2:2] = ["![Table 1](table1.png)", ""]
    return [*lines, ""]


_ATARI_POINTS = (  # reference column -> label, marker: other implementations at 10M frames
    ("sb3_rlzoo3_10M_frames", "SB3 (rl-zoo3)", "o"),
    ("cleanrl_10M_frames", "CleanRL (3 seeds)", "s"),
)


# setting -> what the table calls it, how the plot draws it
_ATARI_ROWS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    (ATARI_SETTING, "`reproduce atari`: the paper's settings", {}),
    (ATARI_TABLE5_SETTING, "before the ablation: Table 5 as written", {"linestyle": ":"}),
)


def _atari(runs: list[Run], out: Path, plt) -> list[str]:
    chosen = [r for r in runs if r.is_atari and r.setting in (ATARI_SETTING, ATARI_TABLE5_SETTING)]
    envs = sorted({r.env for r in chosen})
    if not envs:
        return []
    refs = read_reference("atari_10m.csv", "game")
    fig, axes = plt.subplots(1, len(envs), figsize=(4 * len(envs), 3), squeeze=False)
    lines = [
        "## Atari: the paper's settings, 10M frames",
        "",
        "![Atari](atari.png)",
        "",
        "Frame budget: 10M frames (2.5M agent steps at frame skip 4), a quarter of the paper's 40M. "
        f"*{ATARI_SETTING}* (`python -m baselines_tf2.reproduce atari`): the `--alg ppo` preset, the paper's "
        "Table 5 with the details of the code released with it (orthogonal init, c1 = 1 on a halved and clipped "
        "value loss, gradient norm clipped at 0.5, α falling over 40M frames), on `ALE/…-v5` ids with "
        "`--repeat_action_probability 0` (no sticky actions, as the paper's `NoFrameskip-v4`). "
        f"*{ATARI_TABLE5_SETTING}*: the preset before the ablation below (Table 5's values as written, PPO1's "
        "init, v5's sticky actions, α over the 10M frames). 8 actors, game score (all lives) of the last 100 "
        "episodes. At the same 10M frames: SB3 from rl-zoo3's training monitors (DLR-RM/rl-trained-agents, "
        "`ppo/<Game>NoFrameskip-v4_1`), CleanRL's `ppo_atari.py` read off its published plots (3 seeds, "
        "±2 on Pong, ±5 on Breakout); both on `NoFrameskip-v4`. Markers in the plot.",
        "",
        "| game | setting | seeds | ours (10M frames) | per seed | SB3 rl-zoo3 (10M frames) | CleanRL (10M frames) "
        "| paper PPO (40M frames) | Baselines ppo2 (10M steps = 40M frames) |",
        "|---|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    for ax, env in zip(axes.flat, envs):
        ref: dict[str, str] = {}
        for setting, label, style in _ATARI_ROWS:
            env_runs = sorted((r for r in chosen if r.env == env and r.setting == setting), key=lambda r: r.seed)
            if not env_runs:
                continue
            _plot_curves(ax, env_runs, setting, x_scale=FRAME_SKIP, **style)
            ref = refs.get(env_runs[0].task, {})
            scores = np.array([r.score for r in env_runs])
            per_seed = ", ".join(f"{x:.1f}" for x in scores)
            points = " | ".join(ref.get(col) or "–" for col, _, _ in _ATARI_POINTS)
            lines.append(
                f"| {env} | {label} | {len(scores)} | {scores.mean():.1f} | {per_seed} | {points} "
                f"| {ref.get('paper_ppo_40M_frames', '–')} | {ref.get('baselines_ppo2_10M_steps', '–')} |"
            )
        if ref.get("paper_ppo_40M_frames"):
            paper_score = float(ref["paper_ppo_40M_frames"])
            ax.axhline(paper_score, color="grey", linestyle="--", linewidth=0.9, label="paper (40M frames)")
        for col, label, marker in _ATARI_POINTS:
            if ref.get(col):
                ax.plot([10e6], [float(ref[col])], marker=marker, linestyle="none", color="grey", label=label)
        ax.set(title=env, xlabel="frames")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "atari.png", dpi=90)
    plt.close(fig)
    return [*lines, ""]


def _millions(frames: float | None) -> str:
    return "–" if frames is None else f"{frames / 1e6:.1f}M"


def _ablation(runs: list[Run], out: Path, plt) -> list[str]:
    lines: list[str] = []
    for task, arms in ablation_arms(runs).items():
        if task == "Pong":
            intro = [
                "## Atari ablation: why Pong learns late",
                "",
                "![Atari ablation](ablation.png)",
                "",
                "`python -m baselines_tf2.reproduce ablation`: Pong (`ALE/Pong-v5`), 4M frames (1M agent steps) per "
                "run, each arm the pre-ablation `--alg ppo` Atari preset (Table 5's values as written, PPO1's "
                "initialisation, v5's sticky actions; every value pinned by the arm's flags) with one thing changed; "
                "*flags* lists the change. The base (*alpha_10M*) lets α fall as in a 10M-frame run "
                "(`--schedule_timesteps 2500000`), so its 4M frames are the first 4M of the `table5_alpha_10M` runs. "
                "*paper_code* is today's preset. *Score*: mean game score of the last 100 games at the end; "
                "*frames to x*: the first iteration whose 100-game mean reaches x, per seed (– never). Arms without "
                "their second seed yet show one.",
            ]
            base, png = "alpha_10M", "ablation.png"
        else:
            env = next(iter(arms.values()))[0].env
            png = f"ablation_{task.lower()}.png"
            intro = [
                f"## Atari ablation: {task}, the environment backend",
                "",
                f"![Atari ablation, {task}]({png})",
                "",
                f"`python -m baselines_tf2.reproduce ablation --envs {env} --settings <arm>`: {task} (`{env}`), "
                f"4M frames per run, the same arms as Pong's. *{ATARI_SETTING}_4M* is the first 4M frames of the "
                f"`reproduce atari` runs (today's preset on the fast path: bfloat16 and ale_py's vector env, whose "
                f"game does not press FIRE after a lost life); *paper_code_bfloat16* is the same on gymnasium's "
                f"wrappers (FIRE pressed after every lost life, as Baselines, SB3 and CleanRL do).",
            ]
            base = f"{ATARI_SETTING}_4M"
        lines += _ablation_table(task, arms, base, intro, out / png, plt)
    return lines


def _ablation_table(task: str, arms: dict[str, list[Run]], base: str, intro: list[str], png: Path, plt) -> list[str]:
    thresholds = ABLATION_THRESHOLDS.get(task, ())
    header = " | ".join(f"frames to {t:+.0f}" for t in thresholds)
    lines = [*intro, "", f"| arm | flags | seeds | score per seed | mean | {header} |",
             "|---|---|---:|---|---:|" + "---|" * len(thresholds)]  # fmt: skip
    fig, ax = plt.subplots(figsize=(8, 4.2))
    for arm, arm_runs in arms.items():
        scores = np.array([r.score for r in arm_runs])
        reach = [", ".join(_millions(frames_to_reach(r, t)) for r in arm_runs) for t in thresholds]
        change = " ".join(changed_flags(ABLATION_SETTINGS[arm][1])) if arm in ABLATION_SETTINGS else ""
        flags = f"`{change}`" if change else "(the base)" if arm == base else "(today's preset, fast path)"
        lines.append(
            f"| {arm} | {flags} | {len(arm_runs)} | {', '.join(f'{x:.1f}' for x in scores)} "
            f"| {scores.mean():.1f} | " + " | ".join(reach) + " |"
        )
        n = min(len(r.timesteps) for r in arm_runs)
        frames = arm_runs[0].timesteps[:n] * FRAME_SKIP
        curves = np.stack([r.eprewmean[:n] for r in arm_runs])
        style = dict(color="black", linewidth=2.0) if arm == base else dict(linewidth=1.1)
        line = ax.plot(frames, _nanmean(curves), label=f"{arm} ({len(arm_runs)})", **style)[0]
        if len(arm_runs) > 1:
            ax.fill_between(
                frames, np.nanmin(curves, 0), np.nanmax(curves, 0), alpha=0.15, color=line.get_color(), linewidth=0
            )
    ax.set(
        xlabel="frames", ylabel="mean score, last 100 games", title=f"{task}: the Atari preset, one factor at a time"
    )
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(png, dpi=90)
    plt.close(fig)
    return [*lines, ""]


def build_report(out: Path) -> str:
    """Write ``out/README.md`` and its PNGs from ``out/data``; returns the markdown."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    data_dir = out / "data"
    runs = load_runs(data_dir)
    provenance = {
        p.with_suffix(""): json.loads(p.read_text()).get("commit") or "?" for p in data_dir.glob("*/*/seed*.json")
    }
    commits = sorted(set(provenance.values()))
    dirty = sorted(str(p.relative_to(data_dir)) for p, c in provenance.items() if c.endswith("-dirty"))
    lines = [
        "# Reproducing the PPO paper",
        "",
        "Made by `python -m baselines_tf2.reproduce report` from the curves in `data/` "
        "(one CSV per run, written by `python -m baselines_tf2.reproduce {mujoco,table1,atari}`; see the README). "
        f"{len(runs)} runs. A run's score is the mean return of its last 100 episodes at the end of training.",
        "",
    ]
    lines += _figure3(runs, out, plt) + _table1(runs, data_dir, out, plt) + _atari(runs, out, plt)
    lines += _ablation(runs, out, plt)
    notes = out / "notes.md"  # hand-written, its numbers {{placeholders}} filled from the data (figures.py)
    if notes.exists():
        figures = compute_figures(runs, data_dir, normalised_scores)
        lines += [render(notes.read_text().strip(), figures, "notes.md"), ""]
    if commits:
        counts = {c: sum(v == c for v in provenance.values()) for c in commits}
        versions = ", ".join(f"`{c}` ({counts[c]})" for c in commits)
        lines += [f"Code versions (git commits) that produced these runs, with their number of runs: {versions}.", ""]
    if dirty:
        lines += [
            f"**{len(dirty)} runs were recorded from a work tree with uncommitted changes** (`-dirty`: the "
            "code that made them is not known exactly; to be rerun): " + ", ".join(dirty) + ".",
            "",
        ]
    text = "\n".join(lines)
    (out / "README.md").write_text(text)
    return text


def readme_block(out: Path) -> str:
    """``out/summary.md`` rendered from the data: what the top-level README's Results section shows."""
    runs = load_runs(out / "data")
    figures = compute_figures(runs, out / "data", normalised_scores)
    return render((out / "summary.md").read_text(), figures, "summary.md")


def update_readme(readme: Path, out: Path) -> bool:
    """Rewrite the generated block of ``readme`` from ``out``'s data; ``False`` if it has no block or no summary."""
    from baselines_tf2.reproduce.figures import BEGIN  # noqa: PLC0415

    if not readme.exists() or not (out / "summary.md").exists() or BEGIN not in readme.read_text():
        return False
    readme.write_text(replace_block(readme.read_text(), readme_block(out)))
    return True
