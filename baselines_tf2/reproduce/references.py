"""The published numbers the report compares against: ``reference/*.csv`` (the paper's Table 1, other libraries' scores)."""

from __future__ import annotations

import csv
from pathlib import Path

__all__ = ["REFERENCE", "paper_table1", "read_reference"]

REFERENCE = Path(__file__).resolve().parent / "reference"
_PAPER_NAMES = {  # paper_table1.csv (variant, setting) -> our setting name
    ("no clipping or penalty", ""): "none",
    ("clipping", "epsilon=0.1"): "clip_0.1",
    ("clipping", "epsilon=0.2"): "clip_0.2",
    ("clipping", "epsilon=0.3"): "clip_0.3",
    ("adaptive KL", "d_targ=0.003"): "adaptive_kl_0.003",
    ("adaptive KL", "d_targ=0.01"): "adaptive_kl_0.01",
    ("adaptive KL", "d_targ=0.03"): "adaptive_kl_0.03",
    ("fixed KL", "beta=0.3"): "fixed_kl_0.3",
    ("fixed KL", "beta=1"): "fixed_kl_1",
    ("fixed KL", "beta=3"): "fixed_kl_3",
    ("fixed KL", "beta=10"): "fixed_kl_10",
}


def read_reference(name: str, key: str) -> dict[str, dict[str, str]]:
    """The rows of ``reference/<name>`` keyed by their ``key`` column."""
    with open(REFERENCE / name, newline="") as f:
        return {row[key]: row for row in csv.DictReader(f)}


def paper_table1() -> dict[str, float]:
    """The paper's Table 1 average normalised score per setting (``reference/paper_table1.csv``)."""
    with open(REFERENCE / "paper_table1.csv", newline="") as f:
        return {_PAPER_NAMES[(r["variant"], r["setting"])]: float(r["avg_normalized_score"]) for r in csv.DictReader(f)}
