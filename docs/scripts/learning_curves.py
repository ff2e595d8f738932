"""Documented learning runs: train with run.py, keep the raw progress.csv, plot, and write a table.

    python docs/scripts/learning_curves.py hopper     # Hopper-v5, the paper's settings, 1M steps, seed 0
    python docs/scripts/learning_curves.py pendulum   # Pendulum-v1, settings below, 3 seeds
    python docs/scripts/learning_curves.py report     # re-plot and rewrite docs/results.md from docs/data/

Raw data: ``docs/data/<run>_seed<k>.csv`` (progress.csv of each run). Plots: ``docs/<task>.png``.
The final score of a run is ``eprewmean`` at its last iteration: the mean return of the last 100
episodes, the paper's measure.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
DATA = DOCS / "data"
REFERENCE = REPO.parent / "shared" / "reference" / "mujoco_1m.csv"

RUNS = {
    "hopper": {
        "env": "Hopper-v5",
        "seeds": [0],
        "args": ["--alg", "ppo", "--num_timesteps", "1000000"],
        "note": "the paper's Table 3 settings (`--alg ppo`)",
    },
    "pendulum": {
        "env": "Pendulum-v1",
        "seeds": [0, 1, 2],
        # Pendulum's reward is dense and its episodes are a fixed 200 steps: a shorter effective
        # horizon (gamma 0.95), a larger step size annealed to 0 (PPO1's linear schedule, which
        # also anneals the clip range) and 4 actors learn it within 300k steps.
        "args": [
            "--alg",
            "ppo",
            "--num_timesteps",
            "300000",
            "--num_env",
            "4",
            "--timesteps_per_actorbatch",
            "512",
            "--gamma",
            "0.95",
            "--optim_stepsize",
            "1e-3",
            "--schedule",
            "linear",
        ],  # fmt: skip
        "note": "`--num_env 4 --timesteps_per_actorbatch 512 --gamma 0.95 --optim_stepsize 1e-3 --schedule linear`, "
        "otherwise `--alg ppo`",  # fmt: skip
    },
}


def train(name: str) -> None:
    spec = RUNS[name]
    DATA.mkdir(parents=True, exist_ok=True)
    for seed in spec["seeds"]:
        with tempfile.TemporaryDirectory() as log:
            cmd = [sys.executable, "run.py", "--env", spec["env"], "--seed", str(seed), "--log_path", log,
                   "--progress", "false", *spec["args"]]  # fmt: skip
            print("+", " ".join(cmd), flush=True)
            subprocess.run(cmd, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
            shutil.copy(Path(log) / "progress.csv", DATA / f"{name}_seed{seed}.csv")


def read_curve(path: Path) -> tuple[list[int], list[float]]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [int(r["total_timesteps"]) for r in rows], [float(r["eprewmean"]) for r in rows]


def reference_scores(task: str) -> dict[str, float]:
    """Published 1M-step scores for ``task`` (Baselines ppo2, CleanRL, RL-Zoo3), where given."""
    if not REFERENCE.exists():
        return {}
    with open(REFERENCE, newline="") as f:
        for row in csv.DictReader(f):
            if row["task"] == task:
                return {k: float(v) for k, v in row.items() if k not in ("task", "note") and v}
    return {}


def report() -> None:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    lines = ["# Learning results", "",
             "Produced by `python docs/scripts/learning_curves.py {hopper,pendulum,report}`; raw CSVs in `docs/data/`.",
             "A run's score is the mean return of its last 100 episodes at the end of training (the paper's measure).",
             "", "| task | settings | seeds | final score per seed | mean |", "|---|---|---|---|---:|"]  # fmt: skip
    for name, spec in RUNS.items():
        files = sorted(DATA.glob(f"{name}_seed*.csv"))
        if not files:
            continue
        fig, ax = plt.subplots(figsize=(6, 4))
        finals = []
        for path in files:
            steps, returns = read_curve(path)
            finals.append(returns[-1])
            ax.plot(steps, returns, label=path.stem.split("_")[-1])
        task = spec["env"].split("-")[0]
        styles = iter([(0, (4, 2)), (0, (1, 1)), (0, (6, 2, 1, 2))])
        for label, score in reference_scores(task).items():
            ax.axhline(score, linestyle=next(styles), linewidth=1, color="grey", label=f"{label}: {score:g}")
        ax.set(title=f"{spec['env']} (baselines_tf2 PPO)", xlabel="timesteps", ylabel="eprewmean (last 100 episodes)")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(DOCS / f"{name}.png", dpi=100)
        plt.close(fig)
        per_seed = ", ".join(f"{f:.1f}" for f in finals)
        lines.append(
            f"| {spec['env']} | {spec['note']} | {len(files)} | {per_seed} | {sum(finals) / len(finals):.1f} |"
        )
    lines += ["", "Curves: `docs/hopper.png`, `docs/pendulum.png` (dashed: published 1M-step results of other libraries",
              "on gym's `-v2`/`-v3`/`-v4` tasks, from `shared/reference/mujoco_1m.csv`; our runs use gymnasium `-v5`,",
              "whose dynamics and rewards differ in places, so compare shapes and magnitudes only).", ""]  # fmt: skip
    (DOCS / "results.md").write_text("\n".join(lines))
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=[*RUNS, "report"])
    args = parser.parse_args()
    if args.what != "report":
        train(args.what)
    report()


if __name__ == "__main__":
    main()
