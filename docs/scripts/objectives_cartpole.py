"""A short CartPole-v1 run of every objective variant and of the vanilla policy gradient.

    python docs/scripts/objectives_cartpole.py [--steps 100000] [--seed 0]

Each variant is ``run.py --env CartPole-v1`` with the paper's settings plus its own flags; the
vanilla PG uses its seed-001 defaults (``--alg pg``). Writes every run's final row to
``docs/data/objectives_cartpole.csv`` and a table to ``docs/objectives.md``. One seed and a short
budget: a smoke test of each objective, not Table 1 (which needs MuJoCo, 3 seeds and 1M steps).
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "docs" / "data" / "objectives_cartpole.csv"
REPORT = REPO / "docs" / "objectives.md"

VARIANTS = [
    ("clip, eps 0.2", ["--loss", "clip", "--clip_param", "0.2"]),
    ("no clipping or penalty", ["--loss", "none"]),
    ("fixed KL, beta 1", ["--loss", "fixed_kl", "--kl_beta", "1"]),
    ("adaptive KL, d_targ 0.01", ["--loss", "adaptive_kl", "--kl_target", "0.01"]),
    ("clip + early stop, target_kl 0.002", ["--loss", "clip", "--target_kl", "0.002"]),
    ("vanilla PG, reward-to-go", ["--alg", "pg", "--pg_weight", "reward_to_go"]),
    ("vanilla PG, R(tau)", ["--alg", "pg", "--pg_weight", "return"]),
    ("vanilla PG, GAE", ["--alg", "pg", "--pg_weight", "gae", "--gamma", "0.99"]),
]
KEYS = ("total_timesteps", "eprewmean", "approxkl", "meankl", "clipfrac", "kl_beta", "epochs_run")


def run(flags: list[str], steps: int, seed: int) -> dict[str, str]:
    with tempfile.TemporaryDirectory() as log:
        cmd = [sys.executable, "run.py", "--env", "CartPole-v1", "--num_timesteps", str(steps), "--seed", str(seed),
               "--log_path", log, "--progress", "false", *flags]  # fmt: skip
        print("+", " ".join(cmd), flush=True)
        subprocess.run(cmd, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        with open(Path(log) / "progress.csv", newline="") as f:
            return list(csv.DictReader(f))[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rows = []
    for name, flags in VARIANTS:
        last = run(flags, args.steps, args.seed)
        rows.append({"variant": name, "flags": " ".join(flags), **{k: last.get(k, "") for k in KEYS}})
        print(f"{name:40s} eprewmean {float(last['eprewmean']):7.1f}", flush=True)
    DATA.parent.mkdir(parents=True, exist_ok=True)
    with open(DATA, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["variant", "flags", *KEYS])
        writer.writeheader()
        writer.writerows(rows)

    def num(value: str, fmt: str) -> str:
        return format(float(value), fmt) if value not in ("", None) else "–"

    lines = [
        "# Objectives on CartPole-v1",
        "",
        f"Produced by `python docs/scripts/objectives_cartpole.py --steps {args.steps} --seed {args.seed}`",
        "(raw: `docs/data/objectives_cartpole.csv`). One seed, a short budget: each variant runs end to end and",
        "learns; it is not the paper's Table 1. Values are from the last iteration; `eprewmean` is the mean",
        "return of the last 100 episodes (500 is the maximum).",
        "",
        "| variant | flags | steps | eprewmean | approxkl | meankl | clipfrac | kl_beta | epochs_run |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['variant']} | `{r['flags']}` | {int(r['total_timesteps']):,} | {num(r['eprewmean'], '.1f')} | "
                     f"{num(r['approxkl'], '.4f')} | {num(r['meankl'], '.4f')} | {num(r['clipfrac'], '.3f')} | "
                     f"{num(r['kl_beta'], 'g')} | {num(r['epochs_run'], '.0f')} |")  # fmt: skip
    lines.append("")
    REPORT.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
