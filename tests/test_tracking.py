"""run.py --track: the settings and every progress.csv row go to a W&B run (offline here), resumes continue it."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import struct
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import REPO, mpi_env, mpirun_executable

from baselines_tf2.cli import main, parse_args, resolve_settings
from baselines_tf2.cli.flags import tracking_settings
from baselines_tf2.config import TrackingConfig
from baselines_tf2.errors import ConfigError, TrainingInterrupted
from baselines_tf2.train.tracking import WandbTracker

FAST = ["--env", "CartPole-v1", "--timesteps_per_actorbatch", "256", "--optim_epochs", "2", "--progress", "false"]


def test_track_is_a_switch_and_its_settings_need_it():
    args = parse_args(["--track", "--wandb_tags", "a, b", "--wandb_mode", "offline", "--vf_clip"])
    tracking = tracking_settings(args)
    assert (tracking.track, tracking.wandb_tags, tracking.wandb_mode) == (True, "a, b", "offline")
    algo, _, _ = resolve_settings(args, "classic_control")
    assert algo.vf_clip is True  # any boolean setting may stand alone; a value still works:
    assert tracking_settings(parse_args(["--track", "false"])).track is False
    assert tracking_settings(parse_args([])) == TrackingConfig()
    with pytest.raises(ConfigError, match="wandb_project is a setting of track; add --track"):
        tracking_settings(parse_args(["--wandb_project", "mine"]))
    with pytest.raises(ConfigError, match="wandb_mode must be one of online, offline"):
        TrackingConfig(track=True, wandb_mode="sometimes").validate()


@pytest.mark.parametrize(
    "tokens, message",
    [
        (["--num_timesteps", "256"], r'--track needs wandb: pip install "baselines_tf2\[wandb\]"'),
        (["--num_timesteps", "0", "--play", "--load_path", "x"], "--track records training"),
    ],
)
def test_track_errors_are_one_line(tokens, message, monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "wandb", None)  # as if the extra were not installed: import wandb fails
    code = main([*FAST, "--track", "--log_path", str(tmp_path / "logs"), *tokens])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and re.search(message, err), err
    assert not (tmp_path / "logs").exists()  # refused before anything was built


class _FakeRun:
    """What the tracker asks of a W&B run, recorded."""

    def __init__(self, **init):
        self.init, self.id, self.calls = init, init["id"] or "new1", []

    def __getattr__(self, method):
        return lambda *args, **kwargs: self.calls.append((method, args, kwargs))


def test_tracker_continues_a_run_sends_rows_and_marks_failures(monkeypatch, tmp_path):
    fake = SimpleNamespace(init=_FakeRun, errors=SimpleNamespace(Error=RuntimeError))
    monkeypatch.setitem(sys.modules, "wandb", fake)
    (tmp_path / "tb").mkdir()
    (tmp_path / "tb" / "events.out.tfevents.1").write_bytes(b"")
    settings = TrackingConfig(track=True, wandb_tags="a, b,", wandb_group="g")
    answers = iter([None, False])
    tracker = WandbTracker(
        settings, {"env": "X"}, run_id="abc", name="n", tb_dir=str(tmp_path / "tb"), callback=lambda info: next(answers)
    )
    run = tracker.run
    assert run.init == dict(
        project="baselines_tf2",
        entity=None,
        name="n",
        group="g",
        tags=["a", "b"],
        mode=None,
        id="abc",
        resume="allow",
        config={"env": "X"},
        save_code=True,
    )
    assert tracker.record_entry() == {"wandb_run_id": "abc"}
    rows = [{"total_timesteps": 256, "eprewmean": 20.0}, {"total_timesteps": 512, "eprewmean": 30.0}]
    assert [tracker(SimpleNamespace(metrics=row)) for row in rows] == [None, False]  # the callback's answers
    with pytest.raises(TrainingInterrupted), tracker:
        raise TrainingInterrupted(signal.SIGTERM, None, 2)
    assert [c[0] for c in run.calls] == ["define_metric", "define_metric", "log", "log", "save", "finish"]
    assert [c[1][0] for c in run.calls if c[0] == "log"] == rows
    assert run.calls[4][2] == {"base_path": str(tmp_path), "policy": "end"}
    assert run.calls[-1][2] == {"exit_code": 143}  # 128 + SIGTERM: W&B marks the run failed
    new = WandbTracker(TrackingConfig(track=True), {}).run.init
    assert (new["id"], new["resume"], new["name"], new["tags"]) == (None, None, None, None)


def test_a_disabled_tracker_is_a_callback_that_sends_nothing(monkeypatch):
    monkeypatch.setitem(sys.modules, "wandb", None)  # not even imported (ranks other than 0)
    tracker = WandbTracker(TrackingConfig(track=True), {}, callback=lambda info: False, enabled=False)
    assert tracker(SimpleNamespace(metrics={"total_timesteps": 1})) is False and tracker.run_id == ""
    with tracker:
        pass


def _wandb_records(path: Path) -> list:
    """The records of a W&B ``.wandb`` file (LevelDB's log format: 32 KiB blocks of chunks, each a
    7-byte header: CRC, length, type 1 full / 2 first / 3 middle / 4 last), parsed with W&B's protobuf."""
    from wandb.proto import wandb_internal_pb2  # noqa: PLC0415

    data, records, pending, pos = path.read_bytes(), [], b"", 7
    assert data[:4] == b":W&B"
    while pos + 7 <= len(data):
        room = 32768 - pos % 32768
        _, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        if room < 7 or (length, kind) == (0, 0):  # the padded end of a block
            pos += room
            continue
        pending += data[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if kind in (1, 4):
            records.append(wandb_internal_pb2.Record.FromString(pending))
            pending = b""
    return records


def _offline_run(folder: Path) -> dict:
    """What an offline run recorded: its id and settings, config, history rows and attached files."""
    (log,) = folder.glob("run-*.wandb")
    out: dict = {"history": [], "files": []}
    for record in _wandb_records(log):
        kind = record.WhichOneof("record_type")
        if kind == "run":
            run = record.run
            out.update(id=run.run_id, project=run.project, group=run.run_group, tags=list(run.tags))
            out["config"] = {u.key: json.loads(u.value_json) for u in run.config.update}
        elif kind == "history":
            out["history"].append(
                {"/".join(i.nested_key) or i.key: json.loads(i.value_json) for i in record.history.item}
            )
        elif kind == "metric" and record.metric.step_metric:
            out["step_metric"] = (record.metric.glob_name, record.metric.step_metric)
        elif kind == "files":
            out["files"] += [f.path for f in record.files.files]
    return out


def _train(tmp_path: Path, *args: str, nproc: int = 1) -> subprocess.CompletedProcess:
    """``run.py --track`` with W&B offline, all its files under ``tmp_path`` (under ``mpirun -n nproc`` if > 1)."""
    env = mpi_env() if nproc > 1 else dict(os.environ)
    env.update(WANDB_MODE="offline", WANDB_DIR=str(tmp_path), WANDB_SILENT="true", WANDB_ERROR_REPORTING="false")
    env.update(WANDB_CONFIG_DIR=str(tmp_path / "config"), WANDB_CACHE_DIR=str(tmp_path / "cache"))
    env.update(WANDB_DATA_DIR=str(tmp_path / "data"))
    mpirun = [mpirun_executable(), "-n", str(nproc)] if nproc > 1 else []
    cmd = [*mpirun, sys.executable, "run.py", *FAST, "--track", *args]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def test_track_offline_sends_settings_and_rows_and_a_resume_continues_the_run(tmp_path):
    pytest.importorskip("wandb")
    logs, ckpt = tmp_path / "logs", tmp_path / "ckpt"
    paths = ["--log_path", str(logs), "--save_path", str(ckpt)]
    first = _train(tmp_path, "--num_timesteps", "512", *paths, "--wandb_group", "g", "--wandb_tags", "a,b")
    assert first.returncode == 0, first.stderr
    (folder,) = (tmp_path / "wandb").glob("offline-run-*")
    run = _offline_run(folder)
    run_id = json.loads((ckpt / "run.json").read_text())["wandb_run_id"]
    assert run["id"] == run_id and folder.name.endswith(run_id)
    assert (run["project"], run["group"], run["tags"]) == ("baselines_tf2", "g", ["a", "b"])
    config = run["config"]
    assert (config["env"], config["alg"], config["network"], config["clip_param"]) == ("CartPole-v1", "ppo", "mlp", 0.2)
    assert (config["optim_epochs"], config["timesteps_per_actorbatch"], config["max_timesteps"]) == (2, 256, 512)
    assert run["step_metric"] == ("*", "total_timesteps")
    with open(logs / "progress.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(run["history"]) == len(rows) == 2
    for sent, row in zip(run["history"], rows):
        assert {k: sent[k] for k in row} == pytest.approx({k: float(v) for k, v in row.items()}, rel=1e-12, nan_ok=True)
    (events,) = [p for p in run["files"] if p.startswith("tb/events.out.tfevents")]
    assert (folder / "files" / events).resolve() == next((logs / "tb").iterdir()).resolve()

    resumed = _train(tmp_path, "--num_timesteps", "1024", *paths, "--load_path", str(ckpt))
    assert resumed.returncode == 0, resumed.stderr
    (later,) = set((tmp_path / "wandb").glob("offline-run-*")) - {folder}
    again = _offline_run(later)
    assert again["id"] == run_id and later.name.endswith(run_id)  # `wandb sync` appends it to the same run
    assert [r["total_timesteps"] for r in again["history"]] == [768, 1024]
    assert again["config"]["load_path"] == str(ckpt)


@pytest.mark.mpi
def test_under_mpi_rank_0_alone_sends_the_rows(tmp_path):
    pytest.importorskip("wandb")
    out = _train(tmp_path, "--num_timesteps", "1024", "--log_path", str(tmp_path / "logs"), nproc=2)
    assert out.returncode == 0, out.stderr  # every rank calls back, so the callbacks' all-reduce matches
    (folder,) = (tmp_path / "wandb").glob("offline-run-*")
    assert [r["total_timesteps"] for r in _offline_run(folder)["history"]] == [512, 1024]
