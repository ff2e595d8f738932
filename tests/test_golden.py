"""Golden traces: seeded short trainings pinned to committed numbers (``tests/golden/traces.json``).

They make every refactor show that it changed nothing, and they check what no other test reads:
each ``--loss`` variant through the real updater, the linear schedules as ``learn()`` applies them,
same seed -> same run, and the MLP path's "pi_old after the normaliser update: ratio exactly 1".
Re-record (after a change that must move them, saying why in the commit) with
``BASELINES_TF2_UPDATE_GOLDEN=1 pytest tests/test_golden.py``.
"""

import json

import numpy as np
import pytest
from conftest import run_mpi
from golden_trace import COLUMNS, assert_matches, run_case

from baselines_tf2.ppo import pposgd

ONE_RANK = [
    "cartpole_clip",
    "cartpole_none",
    "cartpole_fixed_kl",
    "cartpole_adaptive_kl",
    "pendulum_ppo2",
    "quadrant_cnn",
]


@pytest.fixture(scope="module")
def traces(tmp_path_factory):
    """Every one-rank case, trained once for the module."""
    return {name: run_case(name, str(tmp_path_factory.mktemp(name))) for name in ONE_RANK}


@pytest.mark.parametrize("name", ONE_RANK)
def test_one_rank_traces_match_the_golden_numbers(traces, name):
    assert_matches(name, traces[name])


def test_mpirun_2_trace_matches_the_golden_numbers(tmp_path):
    out = tmp_path / "trace.json"
    proc = run_mpi(["tests/golden_worker.py", str(tmp_path / "log"), str(out)], timeout=400)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert_matches("mpi2_cartpole", json.loads(out.read_text()))


def _column(trace, name):
    return np.array([row[COLUMNS.index(name)] for row in trace["rows"]])


def test_each_loss_variant_reaches_the_updater(traces):
    # Same seed, same first rollout: the variants differ from the first update on.
    losses = {name: _column(traces[name], "policy_loss") for name in ONE_RANK if name.startswith("cartpole")}
    names = list(losses)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not np.allclose(losses[a], losses[b]), (a, b)
    # Adaptive beta moves by the paper's rule (KL far above 1.5 * 0.001: doubled after each update); fixed stays.
    assert list(_column(traces["cartpole_adaptive_kl"], "kl_beta")) == [1.0, 2.0, 4.0]
    assert list(_column(traces["cartpole_fixed_kl"], "kl_beta")) == [3.0, 3.0, 3.0]


def test_linear_schedules_as_learn_applies_them(traces):
    # CartPole: PPO1's alpha, linear over the 768-step limit, on Adam's 3e-3 and clip 0.1 (logged before each update).
    alpha = 1 - np.array([0, 256, 512]) / 768
    np.testing.assert_allclose(_column(traces["cartpole_clip"], "stepsize"), 3e-3 * alpha, rtol=1e-6)
    np.testing.assert_allclose(_column(traces["cartpole_clip"], "clip_param"), 0.1 * alpha, rtol=1e-6)
    assert _column(traces["cartpole_clip"], "clipfrac").min() > 0  # the clip binds in every iteration
    # Pendulum: ppo2's callables of the fraction left, 400 steps an iteration over 1200.
    frac = 1 - np.array([0, 400, 800]) / 1200
    np.testing.assert_allclose(_column(traces["pendulum_ppo2"], "stepsize"), 3e-4 * frac, rtol=1e-6)
    np.testing.assert_allclose(_column(traces["pendulum_ppo2"], "clip_param"), 0.2 * frac, rtol=1e-6)


def test_same_seed_same_run(traces, tmp_path):
    again = run_case("cartpole_clip", str(tmp_path))
    assert again["weights"] == traces["cartpole_clip"]["weights"]
    np.testing.assert_array_equal(np.array(again["rows"]), np.array(traces["cartpole_clip"]["rows"]))


def test_mlp_pi_old_after_the_normaliser_update_gives_ratio_one(monkeypatch, tmp_path):
    """Before the first gradient step of every iteration (the normaliser has just moved): KL 0, nothing clipped."""
    seen = []
    original = pposgd.run_epochs

    def spy(updater, rng, batch_size, minibatch_size, epochs, stepsize, clip_param, target_kl, comm=None):
        seen.append(updater.evaluate(clip_param))
        return original(updater, rng, batch_size, minibatch_size, epochs, stepsize, clip_param, target_kl, comm)

    monkeypatch.setattr(pposgd, "run_epochs", spy)
    run_case("pendulum_ppo2", str(tmp_path))
    assert len(seen) == 3
    for metrics in seen:
        assert metrics["approxkl"] == 0.0 and metrics["meankl"] == pytest.approx(0.0, abs=1e-7)
        assert metrics["clipfrac"] == 0.0
