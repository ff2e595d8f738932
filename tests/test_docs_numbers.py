"""No quoted number can go stale: the README's Results figures are checked against the data behind them.

The reproduction's paragraph is generated (``reproduce report`` renders ``docs/results/summary.md``
into the README); the other bullets quote numbers that the benchmark and learning-curve CSVs give.
"""

import csv
import re
import sys

from conftest import REPO

from baselines_tf2.reproduce.figures import BEGIN, END
from baselines_tf2.reproduce.report import readme_block

README = (REPO / "README.md").read_text()
RESULTS = README[README.index("## Results") :]


def _bullet(start: str) -> str:
    """The README Results bullet that starts with ``start``, to the next bullet."""
    i = RESULTS.index(start)
    j = RESULTS.find("\n- ", i + 1)
    return RESULTS[i : j if j > 0 else None]


def test_the_generated_results_block_matches_the_committed_data():
    block = README[README.index(BEGIN) + len(BEGIN) : README.index(END)].strip()
    expected = readme_block(REPO / "docs" / "results").strip()
    assert block == expected, "README's Results block is stale: run `python -m baselines_tf2.reproduce report`"


def _final(path):
    with open(path, newline="") as f:
        return float(list(csv.DictReader(f))[-1]["eprewmean"])


def test_learning_curve_numbers_match_their_csvs():
    text = _bullet("- [docs/results.md]")
    hopper = _final(REPO / "docs/data/hopper_seed0.csv")
    assert f"final `eprewmean` {hopper:.0f}" in text
    pendulum = ", ".join(f"−{-_final(REPO / f'docs/data/pendulum_seed{s}.csv'):.0f}" for s in range(3))
    assert f"Pendulum-v1, 3 seeds: {pendulum} after" in text


def test_benchmark_ratios_match_the_lockstep_and_process_runs():
    sys.path.insert(0, str(REPO / "docs" / "scripts"))
    import bench_throughput as bench  # noqa: PLC0415

    generated = "\n".join(
        [
            *bench.lockstep_lines("mujoco"),
            *bench.lockstep_lines("atari"),
            *bench.mujoco_section(bench.read_rows("mujoco")),
            *bench.atari_section(bench.read_rows("atari")),
        ]
    )
    text = _bullet("- [docs/benchmarks.md]")
    quoted = re.findall(r"\d+\.\d+(?:x|%)", text)
    assert len(quoted) >= 6, quoted
    # Elsewhere in the README, every paragraph that cites the benchmarks quotes only their figures.
    citing = [par for par in README[: README.index("## Results")].split("\n\n") if "](docs/benchmarks.md)" in par]
    quoted_elsewhere = [n for par in citing for n in re.findall(r"\d+\.\d+(?:x|%)", par)]
    assert len(quoted_elsewhere) >= 5, quoted_elsewhere
    for number in quoted + quoted_elsewhere:
        assert number in generated, f"README quotes {number}, which the benchmark data no longer gives"
