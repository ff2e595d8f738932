"""The reproduction command: grid, statistics, and a tiny grid killed midway and restarted."""

import csv
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import REPO

from baselines_tf2.reproduce.grid import SETTINGS, build_grid
from baselines_tf2.reproduce.report import Run, bootstrap_ci, build_report, iqm, normalised_scores
from baselines_tf2.reproduce.runner import GridRunner


def test_grids_have_the_papers_shape():
    figure3 = build_grid("mujoco")
    assert len(figure3) == 84 and {s.seed for s in figure3} == {0, 1, 2}
    assert {s.setting: s.alg for s in figure3} == {
        "clip_0.2": "ppo",
        "pg_adaptive": "pg",
        "ppo1": "ppo1",
        "ppo2": "ppo2",
    }
    assert [s.seed for s in figure3[:28]] == [0] * 28  # seed-major: one whole seed first
    pg = next(s for s in figure3 if s.setting == "pg_adaptive")
    assert pg.command()[:2] == ["--alg", "pg"] and "--desired_kl" in pg.command()
    table1 = build_grid("table1")
    assert len(table1) == 77 and len(SETTINGS) == 11 and all(s.timesteps == 1_000_000 for s in table1)
    atari = build_grid("atari")
    assert [s.env for s in atari] == ["ALE/Pong-v5", "ALE/Breakout-v5"] * 3 and atari[0].timesteps == 2_500_000
    assert [s.seed for s in atari] == [0, 0, 1, 1, 2, 2]
    spec = next(s for s in table1 if s.setting == "adaptive_kl_0.003" and s.env == "Hopper-v5")
    assert spec.key == "Hopper-v5/adaptive_kl_0.003/seed0"
    assert spec.command()[-4:] == ["--loss", "adaptive_kl", "--kl_target", "0.003"]
    assert atari[0].key == "ALE_Pong-v5/paper_atari/seed0"
    with pytest.raises(ValueError, match="unknown setting"):
        build_grid("table1", settings=["clip_0.5"])


def test_iqm_and_bootstrap():
    assert iqm(np.arange(1.0, 9.0)) == 4.5  # mean of 3, 4, 5, 6
    assert iqm(np.array([0.0, 1.0, 2.0, 100.0])) == 1.5
    assert bootstrap_ci([np.full(3, 0.7), np.full(3, 0.7)]) == (pytest.approx(0.7), pytest.approx(0.7))
    # One run per task: stratified resampling always draws the same runs.
    assert bootstrap_ci([np.array([0.1]), np.array([0.5]), np.array([0.9]), np.array([0.3])]) == (
        pytest.approx(iqm(np.array([0.1, 0.5, 0.9, 0.3]))),
        pytest.approx(0.4),
    )
    lo, hi = bootstrap_ci([np.array([0.0, 1.0, 0.2, 0.8])])
    assert 0.0 <= lo < 0.5 < hi <= 1.0


def _run(env, setting, seed, score):
    return Run(env, setting, seed, np.array([1.0, 2.0]), np.array([0.0, score]))


def test_normalisation_random_zero_best_setting_one():
    runs = [
        _run("A", "clip_0.2", 0, 110.0),
        _run("A", "clip_0.2", 1, 90.0),
        _run("A", "none", 0, 55.0),
        _run("B", "clip_0.2", 0, -5.0),
        _run("B", "none", 0, -10.0),
    ]
    norm = normalised_scores(runs, {"A": 10.0, "B": -20.0})
    np.testing.assert_allclose(norm["clip_0.2"]["A"], [(110 - 10) / 90, (90 - 10) / 90])  # best: clip's mean 100
    np.testing.assert_allclose(norm["none"]["A"], [45 / 90])
    np.testing.assert_allclose(norm["clip_0.2"]["B"], [1.0])
    np.testing.assert_allclose(norm["none"]["B"], [10 / 15])


def _curves(out):
    return sorted((out / "data").glob("*/*/seed*.csv"))


def _unfinished_checkpoints(out, work):
    """Checkpoints of runs whose curve is not written yet (a finished run's folder may still hold its own)."""
    finished = {p.relative_to(out / "data").with_suffix("") for p in _curves(out)}
    return [p for p in work.glob("*/*/seed*/ckpt/checkpoint") if p.parent.parent.relative_to(work) not in finished]


def test_killed_midway_and_restarted_reruns_nothing_finished(tmp_path):
    out = tmp_path / "results"
    grid_flags = ["table1", "--envs", "CartPole-v1", "--settings", "clip_0.2", "none", "--seeds", "0", "1"]
    run_flags = ["--timesteps", "8192", "--save_interval", "1", "--jobs", "1", "--out", str(out), "--status_every", "1"]
    cmd = [sys.executable, "-m", "baselines_tf2.reproduce", *grid_flags, *run_flags, "--allow_dirty"]
    first = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    work = out / ".work"
    deadline = time.time() + 240
    # Stop once one run is finished and the next has a checkpoint but is not finished.
    while time.time() < deadline and first.poll() is None:
        if _curves(out) and _unfinished_checkpoints(out, work):
            first.send_signal(signal.SIGTERM)
            break
        time.sleep(0.05)
    first_out, _ = first.communicate(timeout=120)
    assert first.returncode == 128 + signal.SIGTERM, first_out
    assert "Run the same command again to continue" in first_out
    finished = {p: os.path.getmtime(p) for p in _curves(out)}
    assert 1 <= len(finished) < 4

    second = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stdout + second.stderr
    assert f"4 runs, {len(finished)} done" in second.stdout
    assert re.search(r"resumed at \d+ steps", second.stdout), second.stdout
    for path, mtime in finished.items():
        assert os.path.getmtime(path) == mtime
        key = str(path.relative_to(out / "data"))[: -len(".csv")]
        assert f"started  {key}" not in second.stdout
    curves = _curves(out)
    assert len(curves) == 4
    for path in curves:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        assert [int(r["iterations"]) for r in rows] == [1, 2, 3, 4]  # a resumed run's log is continued, not restarted
        assert [int(r["total_timesteps"]) for r in rows] == [2048, 4096, 6144, 8192]
    with open(out / "data" / "random_scores.csv", newline="") as f:
        random_score = float(next(csv.DictReader(f))["random_score"])
    assert 15 < random_score < 30  # CartPole under uniform random actions lasts ~22 steps
    report = (out / "README.md").read_text()
    assert "## Figure 3" in report and "## Table 1" in report and "| CartPole-v1 | 2 |" in report
    assert (out / "figure3.png").exists() and (out / "table1.png").exists()
    assert not list(work.glob("*/*/seed*"))  # finished runs leave no working folder behind


def test_report_includes_the_hand_written_notes(tmp_path):
    curve = tmp_path / "data" / "Hopper-v5" / "clip_0.2" / "seed0.csv"
    curve.parent.mkdir(parents=True)
    curve.write_text("total_timesteps,eprewmean\n2048,10.5\n4096,20.25\n")
    (tmp_path / "notes.md").write_text("## Notes\n\nHopper checked by hand.\n")
    text = build_report(tmp_path)
    assert "| Hopper-v5 | 1 | 20.2 ± 0.0 | 20.2 | 2316.2 | 2382.9 | 2410.4 |" in text
    assert text.rstrip().endswith("Hopper checked by hand.") and (tmp_path / "figure3.png").exists()


def test_start_until_starts_nothing_once_passed(tmp_path):
    lines = []
    runner = GridRunner(
        tmp_path, tmp_path / ".work", jobs=1, echo=lines.append, start_until=time.time() - 1, allow_dirty=True
    )
    assert runner.run(build_grid("mujoco", envs=["CartPole-v1"], settings=["clip_0.2"], seeds=[0])) == 0
    assert lines[-2:] == ["reproduce: --start_until reached; 1 run(s) not started", "reproduce: 0/1 runs done"]
    assert not list(tmp_path.glob("data/**/*.csv"))


def test_partial_table1_says_its_rows_are_not_comparable_yet(tmp_path):
    def curve(env, setting, score):
        path = tmp_path / "data" / env / setting / "seed0.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"total_timesteps,eprewmean\n2048,{score}\n")

    for env in ("Hopper-v5", "Swimmer-v5"):
        curve(env, "clip_0.2", 10.0)
    (tmp_path / "data" / "random_scores.csv").write_text("env,episodes,random_score\nHopper-v5,1,0\nSwimmer-v5,1,0\n")
    curve("Hopper-v5", "none", 5.0)
    assert "cannot be compared with each other" in build_report(tmp_path)
    curve("Swimmer-v5", "none", 20.0)  # every setting on every task: no warning
    text = build_report(tmp_path)
    assert "cannot be compared" not in text
    assert "| No clipping or penalty | 2 | 2 | 0.75 | 0.75 |" in text  # (0.5 + 1.0) / 2: Swimmer's best is "none"
    assert "0.75 one run per task: no interval |" in text  # a stratified bootstrap of single runs is degenerate
    # A second clip seed on Hopper moves the all-seeds average (its best is now the seed mean 15) but not seed 0's
    path = tmp_path / "data" / "Hopper-v5" / "clip_0.2" / "seed1.csv"
    path.write_text("total_timesteps,eprewmean\n2048,20.0\n")
    text = build_report(tmp_path)
    assert "| No clipping or penalty | 2 | 2 | 0.67 | 0.75 |" in text  # (5/15 + 1.0) / 2 against (0.5 + 1.0) / 2
    assert "| Clipping, ε = 0.2 | 2 | 3 | 0.83 | 0.75 |" in text  # (10/15 + 20/15 + 0.5) / 3; seed 0: (1 + 0.5) / 2


def _resolved(flags: list[str]) -> dict:
    """Every setting ``run.py --alg ppo --env ALE/Pong-v5 <flags>`` trains with, as one flat dict."""
    import dataclasses  # noqa: PLC0415

    from baselines_tf2.cli import parse_args, resolve_settings  # noqa: PLC0415

    args = parse_args(["--alg", "ppo", "--env", "ALE/Pong-v5", "--num_timesteps", "1000000", *flags])
    algo, run_cfg, policy = resolve_settings(args, "atari")
    return {
        **dataclasses.asdict(algo),
        **dataclasses.asdict(run_cfg),
        **dataclasses.asdict(policy),
        "repeat_action_probability": args.repeat_action_probability,
        "env_backend": args.env_backend,
    }


def test_the_pg_adaptive_setting_is_hw4s_on_the_papers_network():
    from baselines_tf2.cli import parse_args, resolve_settings  # noqa: PLC0415
    from baselines_tf2.reproduce.grid import ALG_SETTINGS  # noqa: PLC0415

    _, alg, flags = ALG_SETTINGS["pg_adaptive"]
    algo, _, policy = resolve_settings(parse_args(["--alg", alg, "--env", "Hopper-v5", *flags]), "mujoco")
    hw4 = (2e-3, 1e-3, "gae", 0.99, 0.95, 2048)
    assert (algo.desired_kl, algo.optim_stepsize, algo.pg_weight, algo.gamma, algo.lam, algo.batch_size) == hw4
    assert (policy.network, policy.hid_size, policy.num_hid_layers) == ("mlp", 64, 2)


def test_ablation_changes_one_factor_at_a_time():
    from baselines_tf2.reproduce.grid import ABLATION_SETTINGS, ATARI_SETTINGS, ATARI_TABLE5_SETTING  # noqa: PLC0415

    grid = build_grid("ablation")
    assert {s.env for s in grid} == {"ALE/Pong-v5"} and {s.seed for s in grid} == {0, 1}
    assert len(grid) == 2 * len(ABLATION_SETTINGS) and all(s.timesteps == 1_000_000 for s in grid)
    assert [s.setting for s in grid[:2]] == ["alpha_10M", "paper_code"]  # the base and the combination first
    arms = {name: _resolved(flags) for name, (_, flags) in ABLATION_SETTINGS.items()}
    base = arms["alpha_10M"]
    # The base is the pre-ablation preset (the old `reproduce atari` runs), its alpha falling over 10M frames.
    assert base == _resolved(ATARI_SETTINGS[ATARI_TABLE5_SETTING][1])
    pre_ablation = dict(
        schedule_timesteps=2_500_000,
        init="ppo1",
        vf_coef=1.0,
        vf_clip=False,
        max_grad_norm=0.0,
        repeat_action_probability=0.25,
        optim_epochs=3,
    )
    assert {k: base[k] for k in pre_ablation} == pre_ablation
    changed = {name: {k for k in base if arm[k] != base[k]} for name, arm in arms.items()}
    singles = {
        "alpha_40M": "schedule_timesteps",
        "init_orthogonal": "init",
        "no_sticky": "repeat_action_probability",
        "vf_coef_0.5": "vf_coef",
        "vf_coef_0.25": "vf_coef",
        "grad_clip_0.5": "max_grad_norm",
        "epochs_4": "optim_epochs",
        "vf_clip": "vf_clip",
    }
    for name, field in singles.items():
        assert changed[name] == {field}, name
    paper_code = {"schedule_timesteps", "init", "repeat_action_probability", "vf_coef", "vf_clip", "max_grad_norm"}
    assert changed["paper_code"] == paper_code and changed["paper_code_epochs_4"] == paper_code | {"optim_epochs"}
    assert changed["paper_code_fast"] == paper_code | {"precision", "env_backend"}
    assert changed["paper_code_ale_vector"] == paper_code | {"env_backend"}
    assert changed["paper_code_bfloat16"] == paper_code | {"precision"}
    assert changed["paper_code_fast_epochs_4"] == paper_code | {"precision", "env_backend", "optim_epochs"}
    # The combination is today's `--alg ppo` preset on the paper's emulator setting: `reproduce atari`'s runs (on
    # the fast path).
    assert arms["paper_code_fast"] == _resolved(ATARI_SETTINGS["paper_atari"][1])
    # and today's preset differs from paper_code only by the id's sticky actions (v5: 0.25), which it leaves alone.
    preset = _resolved([])
    assert {k for k in base if arms["paper_code"][k] != preset[k]} == {"repeat_action_probability"}


def _write_curve(out, key, steps, returns):
    path = out / "data" / f"{key}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = ["total_timesteps,eprewmean"] + [f"{t},{'' if np.isnan(r) else r}" for t, r in zip(steps, returns)]
    path.write_text("\n".join(rows) + "\n")


def test_ablation_report_frames_to_reach_and_scores(tmp_path):
    from baselines_tf2.reproduce.report import frames_to_reach  # noqa: PLC0415

    steps = [250_000, 500_000, 750_000, 1_000_000]
    _write_curve(tmp_path, "ALE_Pong-v5/alpha_10M/seed0", steps, [np.nan, -20.5, -19.5, -18.0])
    _write_curve(tmp_path, "ALE_Pong-v5/alpha_10M/seed1", steps, [-21.0, -19.0, -12.0, -9.0])
    _write_curve(tmp_path, "ALE_Pong-v5/paper_code/seed0", steps, [-20.0, -5.0, 12.0, 18.0])
    run = load_runs_from(tmp_path, "paper_code")
    assert [frames_to_reach(run, t) for t in (-19, -10, 10, 19)] == [2_000_000, 2_000_000, 3_000_000, None]
    text = build_report(tmp_path)
    assert "## Atari ablation" in text and (tmp_path / "ablation.png").exists()
    assert "| alpha_10M | (the base) | 2 | -18.0, -9.0 | -13.5 | 4.0M, 2.0M | –, 4.0M | –, – |" in text
    assert "| paper_code |" in text and "| 1 | 18.0 | 18.0 | 2.0M | 2.0M | 3.0M |" in text


def test_breakout_ablation_sits_apart_from_pong_beside_the_full_runs_first_4m_frames(tmp_path):
    """Another game's arms get their own section and keys, with the full runs cut at the arms' length."""
    from baselines_tf2.reproduce.figures import compute_figures  # noqa: PLC0415
    from baselines_tf2.reproduce.report import load_runs  # noqa: PLC0415

    steps = [250_000, 500_000, 750_000, 1_000_000]
    _write_curve(tmp_path, "ALE_Pong-v5/paper_code_bfloat16/seed0", steps, [-20.0, -15.0, -5.0, 5.0])
    _write_curve(tmp_path, "ALE_Breakout-v5/paper_code_bfloat16/seed0", steps, [2.0, 6.0, 12.0, 25.0])
    full = [*steps, 1_250_000, 2_500_000]
    _write_curve(tmp_path, "ALE_Breakout-v5/paper_atari/seed0", full, [1.0, 4.0, 8.0, 15.0, 20.0, 50.0])
    text = build_report(tmp_path)
    assert "## Atari ablation: Breakout" in text and (tmp_path / "ablation_breakout.png").exists()
    # Breakout's thresholds (5, 10, 20); the arm's flags are its change from Pong's base.
    assert "--precision bfloat16` | 1 | 25.0 | 25.0 | 2.0M | 3.0M | 4.0M |" in text
    assert "| paper_atari_4M | (the base) | 1 | 15.0 | 15.0 | 3.0M | 4.0M | – |" in text
    figures = compute_figures(load_runs(tmp_path / "data"), tmp_path / "data", normalised_scores)
    assert figures["ablation.paper_code_bfloat16.finals"] == "5.0" and figures["ablation.runs"] == "1"
    assert figures["ablation_breakout.paper_code_bfloat16.finals"] == "25.0"
    assert figures["ablation_breakout.paper_atari_4M.finals"] == "15.0"
    assert figures["ablation_breakout.paper_atari_4M.frames_to_5"] == "3.0M frames"


def load_runs_from(out, setting):
    from baselines_tf2.reproduce.report import load_runs  # noqa: PLC0415

    return next(r for r in load_runs(out / "data") if r.setting == setting)


def test_atari_table_lists_seeds_beside_the_10m_frame_references(tmp_path):
    steps = [1_250_000, 2_500_000]
    _write_curve(tmp_path, "ALE_Pong-v5/paper_atari/seed0", steps, [-20.0, -16.25])
    _write_curve(tmp_path, "ALE_Pong-v5/paper_atari/seed1", steps, [-19.0, 2.75])
    _write_curve(tmp_path, "ALE_Pong-v5/table5_alpha_10M/seed0", steps, [-20.5, -18.5])
    text = build_report(tmp_path)
    assert (
        "| ALE/Pong-v5 | `reproduce atari`: the paper's settings | 2 | -6.8 | -16.2, 2.8 | 19.3 | 16 | 20.7 | 13.68 |"
        in text
    )
    assert "| ALE/Pong-v5 | before the ablation: Table 5 as written | 1 | -18.5 | -18.5 | 19.3 |" in text
    assert (tmp_path / "atari.png").exists()
    from baselines_tf2.reproduce.figures import compute_figures  # noqa: PLC0415
    from baselines_tf2.reproduce.report import load_runs  # noqa: PLC0415

    figures = compute_figures(load_runs(tmp_path / "data"), tmp_path / "data", normalised_scores)
    # The notes' Atari figures: the seeds' mean, its signed distance from SB3's 19.3, the references' 10M scores.
    assert figures["atari.Pong.mean"] == "-6.8" and figures["atari.Pong.seeds"] == "2"
    assert figures["atari.Pong.sb3_gap"] == "-26.1" and figures["atari_table5.Pong.sb3_gap"] == "-37.8"
    assert figures["sb3.Pong.10M"] == "19.3" and figures["cleanrl.Breakout.10M"] == "62.0"


def test_runner_refuses_uncommitted_code_and_the_report_flags_dirty_runs(tmp_path, monkeypatch):
    from baselines_tf2.reproduce import runner  # noqa: PLC0415

    monkeypatch.setattr(runner, "git_commit", lambda: "0123abc-dirty")
    with pytest.raises(RuntimeError, match="has uncommitted changes .*--allow_dirty"):
        GridRunner(tmp_path, tmp_path / ".work", 1).run(build_grid("atari"))
    assert not (tmp_path / ".work").exists()
    _write_curve(tmp_path, "ALE_Pong-v5/paper_atari/seed0", [1, 2], [-21.0, -20.0])
    (tmp_path / "data/ALE_Pong-v5/paper_atari/seed0.json").write_text('{"commit": "' + "a" * 40 + '-dirty"}')
    _write_curve(tmp_path, "ALE_Pong-v5/paper_atari/seed1", [1, 2], [-21.0, -20.0])
    (tmp_path / "data/ALE_Pong-v5/paper_atari/seed1.json").write_text('{"commit": "' + "b" * 40 + '"}')
    text = build_report(tmp_path)
    assert f"`{'a' * 40}-dirty` (1), `{'b' * 40}` (1)" in text
    assert "**1 runs were recorded from a work tree with uncommitted changes**" in text
    assert "ALE_Pong-v5/paper_atari/seed0." in text


def test_git_commit_is_the_full_id():
    from baselines_tf2.reproduce.runner import git_commit  # noqa: PLC0415

    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    assert git_commit() in (head, head + "-dirty") and len(head) == 40


def test_figures_fill_templates_and_refuse_unknown_keys():
    from baselines_tf2.reproduce.figures import render, replace_block, training_seconds  # noqa: PLC0415

    assert training_seconds(np.array([10.0, 20.0, 5.0, 15.0])) == 35.0  # resumed once after 20 s
    figures = {"fig3.Hopper.mean": "2080", "fig3.Hopper.std": "161"}
    assert render("Hopper {{ fig3.Hopper.mean }} ± {{fig3.Hopper.std}}", figures) == "Hopper 2080 ± 161"
    with pytest.raises(KeyError, match=r"notes.md quotes \{\{fig3.Hoper.mean\}\}"):
        render("{{fig3.Hoper.mean}}", {}, "notes.md")
    text = "a\n<!-- results:begin -->\nold\n<!-- results:end -->\nb"
    assert replace_block(text, "new") == "a\n<!-- results:begin -->\nnew\n<!-- results:end -->\nb"


def test_report_command_names_a_figure_the_data_does_not_give(tmp_path):
    _write_curve(tmp_path, "ALE_Pong-v5/paper_atari/seed0", [1, 2], [-21.0, -20.0])
    (tmp_path / "notes.md").write_text("Breakout ends at {{atari.Breakout.mean}}.\n")
    out = subprocess.run(
        [sys.executable, "-m", "baselines_tf2.reproduce", "report", "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2
    assert out.stderr.strip().endswith("notes.md quotes {{atari.Breakout.mean}}, which the data does not give")


def test_probability_of_improvement_is_rliables():
    from baselines_tf2.reproduce.report import probability_of_improvement  # noqa: PLC0415

    x = {"A": np.array([3.0, 4.0]), "B": np.array([1.0])}
    y = {"A": np.array([1.0, 4.0]), "B": np.array([2.0]), "C": np.array([9.0])}
    # A: pairs (3>1, 3<4, 4>1, 4=4) -> (1 + 0 + 1 + 0.5) / 4 = 0.625; B: 0; C only in y: ignored.
    p, lo, hi = probability_of_improvement(x, y)
    assert p == pytest.approx(0.3125) and lo <= p <= hi
    assert probability_of_improvement({"A": np.array([5.0])}, {"A": np.array([1.0])}) == (1.0, 1.0, 1.0)


def test_figure3_columns_side_by_side_and_ppo2_against_its_published_means(tmp_path):
    from baselines_tf2.reproduce.figures import compute_figures  # noqa: PLC0415
    from baselines_tf2.reproduce.report import load_runs  # noqa: PLC0415

    steps = [500_000, 1_000_000]
    _write_curve(tmp_path, "Hopper-v5/clip_0.2/seed0", steps, [100.0, 2000.0])
    _write_curve(tmp_path, "Hopper-v5/ppo2/seed0", steps, [100.0, 2400.0])
    _write_curve(tmp_path, "Hopper-v5/ppo2/seed1", steps, [100.0, 2300.0])
    _write_curve(tmp_path, "Walker2d-v5/clip_0.2/seed0", steps, [100.0, 3000.0])
    _write_curve(tmp_path, "Walker2d-v5/ppo2/seed0", steps, [100.0, 3000.0])
    _write_curve(tmp_path, "Walker2d-v5/pg_adaptive/seed0", steps, [10.0, 500.0])
    text = build_report(tmp_path)
    assert "### Figure 3's columns" in text
    assert "| Hopper-v5 | 2000.0 ± 0.0 (1) | – | 2350.0 ± 50.0 (2) | 2316.16 |" in text
    assert "| Walker2d-v5 | 3000.0 ± 0.0 (1) | 500.0 ± 0.0 (1) | 3000.0 ± 0.0 (1) | 3424.95 |" in text
    figures = compute_figures(load_runs(tmp_path / "data"), tmp_path / "data", normalised_scores)
    assert figures["fig3.ppo2.Hopper.mean"] == "2350" and figures["fig3.ppo2.at_or_above_ppo2"] == "Hopper"
    assert figures["fig3.ppo2.at_or_above_ppo2_count"] == "1" and figures["fig3.ppo2.tasks"] == "2"
    assert figures["fig3.pg_adaptive.tasks"] == "1" and "fig3.ppo1.tasks" not in figures
