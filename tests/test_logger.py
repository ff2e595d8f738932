"""Logger (stdout table, progress.csv, TensorBoard) and schedules."""

import csv
import re

import pytest

from baselines_tf2.common.schedules import LinearAnneal, lr_multiplier, value_at
from baselines_tf2.train.logger import Logger, format_table


def test_table_and_csv_with_a_key_added_later(tmp_path, capsys):
    logger = Logger(str(tmp_path))
    logger.log(100, {"total_timesteps": 100, "eprewmean": 1.5})
    logger.log(200, {"total_timesteps": 200, "eprewmean": 2.5, "approxkl": 0.001234})
    logger.close()
    out = capsys.readouterr().out
    assert re.search(r"^\| eprewmean +\| +2\.5 \|$", out, re.MULTILINE)
    assert re.search(r"^\| approxkl +\| +0\.001234 \|$", out, re.MULTILINE)
    with open(tmp_path / "progress.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows == [
        {"total_timesteps": "100", "eprewmean": "1.5", "approxkl": ""},
        {"total_timesteps": "200", "eprewmean": "2.5", "approxkl": "0.001234"},
    ]
    events = _scalars(tmp_path / "tb")
    assert events == {
        ("total_timesteps", 100): 100.0,
        ("eprewmean", 100): 1.5,
        ("total_timesteps", 200): 200.0,
        ("eprewmean", 200): 2.5,
        ("approxkl", 200): pytest.approx(0.001234),
    }


def _scalars(folder):
    """``(tag, step) -> value`` of every scalar in a TensorBoard folder, read as TensorBoard reads it."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: PLC0415

    acc = EventAccumulator(str(folder))
    acc.Reload()
    return {(tag, e.step): e.value for tag in acc.Tags()["scalars"] for e in acc.Scalars(tag)}


def test_disabled_logger_writes_nothing(tmp_path, capsys):
    logger = Logger(str(tmp_path / "log"), enabled=False)
    logger.log(1, {"a": 1.0})
    assert capsys.readouterr().out == "" and not (tmp_path / "log").exists()


def test_format_table_aligns_columns():
    assert format_table({"a": 1.0, "longer_key": 123456789.0, "n": 3}).splitlines() == [
        "-------------------------",
        "| a          |        1 |",
        "| longer_key | 1.23e+08 |",
        "| n          |        3 |",
        "-------------------------",
    ]


def test_schedules():
    assert lr_multiplier("constant")(0.3) == 1.0
    assert lr_multiplier("linear")(0.3) == 0.3 and lr_multiplier("linear")(-0.1) == 0.0
    assert value_at(LinearAnneal(3e-4), 0.5) == pytest.approx(1.5e-4) and value_at(0.2, 0.1) == 0.2
    assert repr(LinearAnneal(2.5e-4)) == "0.00025*frac"
    with pytest.raises(ValueError, match="unknown schedule 'cosine'"):
        lr_multiplier("cosine")


def test_echo_replaces_stdout_for_the_table(tmp_path, capsys):
    lines = []
    logger = Logger(None, echo=lines.append)
    logger.log(1, {"a": 1.0})
    assert capsys.readouterr().out == "" and lines == [format_table({"a": 1.0})]


def test_resumed_logger_keeps_rows_up_to_the_checkpoint_and_appends(tmp_path):
    logger = Logger(str(tmp_path), stdout=False)
    for step in (100, 200, 300):
        logger.log(step, {"total_timesteps": step, "eprewmean": step / 100})
    logger.close()
    # The run died after logging 300 but its last checkpoint was at 200: row 300 is redone.
    resumed = Logger(str(tmp_path), stdout=False, resume_at=200)
    resumed.log(300, {"total_timesteps": 300, "eprewmean": 30.0})
    resumed.log(400, {"total_timesteps": 400, "eprewmean": 40.0, "approxkl": 0.5})
    resumed.close()
    with open(tmp_path / "progress.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["total_timesteps"], r["eprewmean"], r["approxkl"]) for r in rows] == [
        ("100", "1.0", ""),
        ("200", "2.0", ""),
        ("300", "30.0", ""),
        ("400", "40.0", "0.5"),
    ]
