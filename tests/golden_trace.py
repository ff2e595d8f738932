"""Seeded short trainings whose logged metrics are pinned in ``tests/golden/traces.json``.

Shared by ``test_golden.py`` (one rank) and ``golden_worker.py`` (``mpirun -n 2``). A trace is the
``progress.csv`` columns of :data:`COLUMNS` per iteration plus the sum and sum of squares of the
final weights: enough that a change in the loss, a schedule, the sampler, the normaliser, the
optimizer or the MPI reduction moves some number.
"""

from __future__ import annotations

import csv
import json
import os
from functools import partial
from pathlib import Path

import numpy as np
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from baselines_tf2.common.policies import CnnPolicy, MlpPolicy
from baselines_tf2.envs.monitor import Monitor
from baselines_tf2.schedules import LinearAnneal

GOLDEN = Path(__file__).resolve().parent / "golden" / "traces.json"
COLUMNS = (
    "total_timesteps",
    "eprewmean",
    "total_loss",
    "policy_loss",
    "value_loss",
    "policy_entropy",
    "approxkl",
    "meankl",
    "clipfrac",
    "explained_variance",
    "stepsize",
    "clip_param",
    "kl_beta",
)

# A step size large enough that clipping binds (clip and none then differ).
_CARTPOLE = dict(
    env="CartPole-v1",
    timesteps_per_actorbatch=256,
    optim_epochs=4,
    optim_batchsize=64,
    max_timesteps=768,
    optim_stepsize=3e-3,
    clip_param=0.1,
    entcoeff=0.01,
    schedule="linear",
    seed=3,
)

# case name -> learn() keywords (the env and policy given by name, so MPI workers can build them too).
CASES: dict[str, dict] = {
    "cartpole_clip": dict(_CARTPOLE, loss="clip"),
    "cartpole_none": dict(_CARTPOLE, loss="none"),
    "cartpole_fixed_kl": dict(_CARTPOLE, loss="fixed_kl", kl_beta=3.0),
    "cartpole_adaptive_kl": dict(_CARTPOLE, loss="adaptive_kl", kl_beta=1.0, kl_target=0.001),
    "pendulum_ppo2": dict(
        env="Pendulum-v1",
        num_env=2,
        timesteps_per_actorbatch=200,
        optim_epochs=3,
        optim_batchsize=100,
        max_timesteps=1200,
        optim_stepsize=LinearAnneal(3e-4),
        clip_param=LinearAnneal(0.2),
        vf_coef=0.25,
        vf_clip=True,
        max_grad_norm=0.5,
        normalize_rewards=True,
        policy="mlp_orthogonal",
        seed=5,
    ),
    "quadrant_cnn": dict(
        env="quadrant",
        num_env=4,
        timesteps_per_actorbatch=32,
        optim_epochs=2,
        optim_batchsize=32,
        max_timesteps=384,
        entcoeff=0.01,
        policy="cnn_small",
        seed=7,
    ),
    "mpi2_cartpole": dict(_CARTPOLE, max_timesteps=1536),  # run by golden_worker.py on 2 ranks
}


def _quadrant_env(num_env: int):
    from toy_envs import QuadrantEnv  # noqa: PLC0415 (tests/ is on the path when this runs)

    return SyncVectorEnv(
        [lambda: Monitor(QuadrantEnv()) for _ in range(num_env)], autoreset_mode=AutoresetMode.SAME_STEP
    )


_POLICIES = {
    "mlp": MlpPolicy,
    "mlp_orthogonal": partial(MlpPolicy, init="orthogonal"),
    "cnn_small": partial(CnnPolicy, kind="small"),
}


def run_case(name: str, log_dir: str, **overrides) -> dict:
    """Train case ``name`` (logging into ``log_dir``); returns its trace (rank 0's, under MPI)."""
    from baselines_tf2.ppo import learn  # noqa: PLC0415

    kwargs = dict(CASES[name], **overrides)
    env, policy = kwargs.pop("env"), _POLICIES[kwargs.pop("policy", "mlp")]
    if env == "quadrant":
        env = _quadrant_env(kwargs["num_env"])
    pi = learn(env, policy, log_path=log_dir, progress=False, **kwargs)
    from baselines_tf2.mpi import mpi_util  # noqa: PLC0415

    return trace_of(log_dir, pi) if mpi_util.rank() == 0 else {}


def trace_of(log_dir: str, pi) -> dict:
    """The logged :data:`COLUMNS` per iteration and a checksum of ``pi``'s weights."""
    with open(os.path.join(log_dir, "progress.csv"), newline="") as f:
        rows = [[float(r[c]) if r[c] else float("nan") for c in COLUMNS] for r in csv.DictReader(f)]
    flat = np.concatenate([v.numpy().ravel() for v in pi.trainable_variables]).astype(np.float64)
    return {"rows": rows, "weights": [float(flat.sum()), float(np.square(flat).sum())]}


def load_golden() -> dict:
    return json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}


def save_golden(name: str, trace: dict) -> None:
    """Record ``trace`` as case ``name``'s golden numbers (``BASELINES_TF2_UPDATE_GOLDEN=1``)."""
    golden = load_golden()
    golden[name] = trace
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")


def assert_matches(name: str, trace: dict) -> None:
    """``trace`` equals the golden one to float32 round-off (rtol 1e-4); records it when asked to."""
    if os.environ.get("BASELINES_TF2_UPDATE_GOLDEN") == "1":
        save_golden(name, trace)
        return
    golden = load_golden()
    assert name in golden, f"no golden trace for {name}; run with BASELINES_TF2_UPDATE_GOLDEN=1 to record it"
    expected = golden[name]
    assert np.array(trace["rows"]).shape == np.array(expected["rows"]).shape, name
    for i, (got, want) in enumerate(zip(trace["rows"], expected["rows"])):
        np.testing.assert_allclose(
            got, want, rtol=1e-4, atol=1e-7, equal_nan=True, err_msg=f"{name}, iteration {i + 1}, columns {COLUMNS}"
        )
    np.testing.assert_allclose(trace["weights"], expected["weights"], rtol=1e-4, err_msg=f"{name}: final weights")
