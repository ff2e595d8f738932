"""python -m baselines_tf2.plot: curve loading (progress.csv, monitor files), seed grouping, mean/band, errors, PNG."""

import json
import os
import subprocess
import sys

import matplotlib.image
import numpy as np
import pytest
from conftest import REPO

from baselines_tf2.plot import aggregate, build_series, group_paths, main, smooth
from baselines_tf2.tools.curves import CurveError, load_curve


def write_progress(path, timesteps, eprewmean, time_elapsed=None, extra_row=False):
    """A progress.csv (a folder gets ``progress.csv``; a ``.csv`` path is written as is)."""
    path = str(path)
    if not path.endswith(".csv"):
        os.makedirs(path, exist_ok=True)
        path = os.path.join(path, "progress.csv")
    time_elapsed = time_elapsed if time_elapsed is not None else [0.5 * (i + 1) for i in range(len(timesteps))]
    lines = ["iterations,total_timesteps,episodes,eprewmean,time_elapsed"]
    for i, (t, r, s) in enumerate(zip(timesteps, eprewmean, time_elapsed)):
        lines.append(f"{i + 1},{t},{2 * (i + 1)},{r},{s}")
    if extra_row:
        lines.append(f"{len(timesteps) + 1},{timesteps[-1] + 1},0,,1")  # no episode yet: empty eprewmean
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def write_monitor(path, t_start, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("#" + json.dumps({"t_start": t_start, "env_id": "Toy-v0"}) + "\n")
        f.write("r,l,t\n")
        f.writelines(f"{r},{n},{t}\n" for r, n, t in rows)


def test_runs_differing_only_by_a_trailing_seed_are_grouped(tmp_path):
    names = ("hopper_seed0", "hopper_seed1", "walker/seed0", "walker/seed1", "walker/seed2", "ant-seed3", "other")
    paths = [str(tmp_path / p) for p in (*names, "hopper_seed0")]  # hopper_seed0 given twice
    for p in paths:
        write_progress(p, [1, 2], [0.0, 1.0])
    groups = group_paths(paths)
    assert groups == {
        str(tmp_path / "hopper"): [paths[0], paths[1]],
        str(tmp_path / "walker"): [paths[2], paths[3], paths[4]],
        str(tmp_path / "ant"): [paths[5]],
        str(tmp_path / "other"): [paths[6]],
    }
    # CSV files group by their name without the extension; "seedling" is not a seed part
    files = [write_progress(tmp_path / f"pendulum_seed{k}.csv", [1, 2], [0.0, 1.0]) for k in range(3)]
    lone = write_progress(tmp_path / "seedling.csv", [1, 2], [0.0, 1.0])
    assert group_paths([*files, lone]) == {str(tmp_path / "pendulum"): files, str(tmp_path / "seedling"): [lone]}
    series = build_series([*paths, *files])
    assert [(s.label, s.runs, s.low is None) for s in series] == [
        ("hopper", 2, False),
        ("walker", 3, False),
        ("ant-seed3", 1, True),
        ("other", 1, True),
        ("pendulum", 3, False),
    ]


def test_group_mean_and_band_are_interpolated_on_the_common_x_range(tmp_path):
    a = write_progress(tmp_path / "run_seed0", [0, 10, 20, 30, 40], [0.0, 10.0, 5.0, 20.0, 0.0])
    b = write_progress(tmp_path / "run_seed1", [5, 15, 25, 35], [1.0, 3.0, 2.0, 7.0])
    c = write_progress(tmp_path / "run_seed2", [2, 12, 32, 52, 60, 70], [4.0, -4.0, 8.0, 8.0, 1.0, 2.0])
    grid = np.linspace(5, 35, 6)  # overlap [5, 35], as many points as the longest run
    expected = np.stack(
        [
            np.interp(grid, [0, 10, 20, 30, 40], [0, 10, 5, 20, 0]),
            np.interp(grid, [5, 15, 25, 35], [1, 3, 2, 7]),
            np.interp(grid, [2, 12, 32, 52, 60, 70], [4, -4, 8, 8, 1, 2]),
        ]
    )
    curves = [load_curve(p) for p in (a, b, c)]
    x, mean, low, high = aggregate(curves, "minmax")
    np.testing.assert_allclose(x, grid)
    np.testing.assert_allclose(mean, expected.mean(0))
    np.testing.assert_allclose(low, expected.min(0))
    np.testing.assert_allclose(high, expected.max(0))
    assert mean[1] == pytest.approx((9.5 + 2.2 - 3.2) / 3)  # x = 11 by hand: 10 - 5/10, 1 + 2*6/10, 4 - 8*9/10
    _, _, low_s, high_s = aggregate(curves, "std")
    np.testing.assert_allclose(low_s, expected.mean(0) - expected.std(0))
    np.testing.assert_allclose(high_s, expected.mean(0) + expected.std(0))
    [series] = build_series([a, b, c], smooth_k=2)
    smoothed = [np.interp(grid, cv.x, smooth(cv.y, 2)) for cv in curves]
    np.testing.assert_allclose(series.y, np.mean(smoothed, axis=0))
    with pytest.raises(CurveError, match="do not overlap"):
        aggregate([load_curve(a), load_curve(write_progress(tmp_path / "late_seed1", [50, 60], [0.0, 1.0]))])


def test_hand_computed_group_values(tmp_path):
    a = write_progress(tmp_path / "h_seed0", [0, 10], [0.0, 10.0])
    b = write_progress(tmp_path / "h_seed1", [0, 10], [4.0, 4.0])
    x, mean, low, high = aggregate([load_curve(a), load_curve(b)])
    assert x.tolist() == [0.0, 10.0]
    assert mean.tolist() == [2.0, 7.0] and low.tolist() == [0.0, 4.0] and high.tolist() == [4.0, 10.0]


def test_smooth_is_a_trailing_mean():
    y = np.array([1.0, 2.0, 6.0, 3.0, 8.0])
    np.testing.assert_allclose(smooth(y, 3), [1.0, 1.5, 3.0, 11 / 3, 17 / 3])
    np.testing.assert_allclose(smooth(y, 1), y)
    np.testing.assert_allclose(smooth(y, 100), np.cumsum(y) / np.arange(1, 6))


def test_progress_axes_and_empty_values(tmp_path):
    p = write_progress(tmp_path / "r", [100, 200, 300], [1.0, "nan", 3.0], time_elapsed=[1.5, 2.5, 3.5], extra_row=True)
    curve = load_curve(os.path.dirname(p), "timesteps")
    assert curve.source == "progress" and curve.x.tolist() == [100, 300] and curve.y.tolist() == [1.0, 3.0]
    assert load_curve(p, "episodes").x.tolist() == [2, 6]
    assert load_curve(p, "time").x.tolist() == [1.5, 3.5]
    with pytest.raises(CurveError, match="has no column 'policy_loss'; columns: iterations, total_timesteps"):
        load_curve(p, y="policy_loss")


def test_monitor_files_are_merged_in_time_order(tmp_path):
    run = tmp_path / "mon"
    write_monitor(str(run / "monitor" / "0.0.monitor.csv"), 1000.0, [(10.0, 5, 1.0), (30.0, 7, 4.0)])
    write_monitor(str(run / "monitor" / "0.1.monitor.csv"), 1001.0, [(20.0, 3, 1.5), (40.0, 2, 4.5)])
    # end times: 1001 (r 10, l 5), 1002.5 (r 20, l 3), 1004 (r 30, l 7), 1005.5 (r 40, l 2)
    curve = load_curve(str(run), "timesteps")
    assert curve.source == "monitor"
    assert curve.x.tolist() == [5, 8, 15, 17] and curve.y.tolist() == [10, 20, 30, 40]
    assert load_curve(str(run), "episodes").x.tolist() == [1, 2, 3, 4]
    assert load_curve(str(run), "time").x.tolist() == [1.0, 2.5, 4.0, 5.5]
    assert load_curve(str(run), "timesteps", "eplenmean").y.tolist() == [5, 3, 7, 2]
    flat = tmp_path / "flat"  # monitor files directly in the folder, as Baselines writes them
    write_monitor(str(flat / "0.monitor.csv"), 5.0, [(1.0, 4, 2.0), (2.0, 6, 3.0)])
    assert load_curve(str(flat)).x.tolist() == [4, 10]
    assert load_curve(str(flat / "0.monitor.csv"), "time").x.tolist() == [2.0, 3.0]
    with pytest.raises(CurveError, match="--y policy_loss needs a progress.csv"):
        load_curve(str(run), y="policy_loss")
    # progress.csv wins over monitor files
    write_progress(run, [1, 2], [7.0, 8.0])
    assert load_curve(str(run)).y.tolist() == [7.0, 8.0]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["{tmp}/missing"], "plot: error: no such file or folder: {tmp}/missing"),
        (["{tmp}/empty"], "plot: error: {tmp}/empty has no progress.csv and no monitor files"),
        (["{tmp}/ok", "--x", "steps"], "plot: error: argument --x: invalid choice: 'steps'"),
        (["{tmp}/ok", "--y", "nope"], "plot: error: {tmp}/ok/progress.csv has no column 'nope'"),
        (["{tmp}/ok", "--smooth", "0"], "plot: error: --smooth must be >= 1, got 0"),
        (["{tmp}/nodata"], "plot: error: {tmp}/nodata has no data points"),
    ],
)
def test_errors_are_one_line_and_exit_2(tmp_path, capsys, argv, message):
    (tmp_path / "empty").mkdir()
    write_progress(tmp_path / "ok", [1, 2], [0.0, 1.0])
    write_progress(tmp_path / "nodata", [1], ["nan"])
    code = exit_code([a.format(tmp=tmp_path) for a in argv])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith(message.format(tmp=tmp_path)), err
    assert not (tmp_path / "plot.png").exists()


def exit_code(argv):
    """main()'s return value, or the code argparse exits with."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


def test_png_is_written_and_its_path_printed(tmp_path, capsys):
    runs = [write_progress(tmp_path / f"cheetah_seed{k}", [0, 50, 100], [0.0, 10.0 * k, 20.0]) for k in range(2)]
    write_monitor(str(tmp_path / "mon" / "0.monitor.csv"), 0.0, [(1.0, 40, 1.0), (5.0, 40, 2.0)])
    out = tmp_path / "figs" / "curves.png"
    assert main([*runs, str(tmp_path / "mon"), "--out", str(out), "--title", "Toy", "--band", "std"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    assert matplotlib.image.imread(str(out)).shape[:2] == (400, 640)


def run_module(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "baselines_tf2.plot", *args],
        check=False,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_module_runs_with_python_m(tmp_path):
    run = write_progress(tmp_path / "a", [1, 2, 3], [0.0, 1.0, 2.0])
    proc = run_module(run, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "plot.png" and (tmp_path / "plot.png").stat().st_size > 0
    proc = run_module(str(tmp_path / "none"), cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr == f"plot: error: no such file or folder: {tmp_path / 'none'}\n"
