"""Dict observations under ``mpirun -n 2`` (see test_dict_policy.py); any failure exits non-zero."""

import sys
from pathlib import Path

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from gymnasium.wrappers import FilterObservation

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_running_mean_std import expected_stats
from toy_envs import DictQuadrantEnv

from baselines_tf2.common.dict_normaliser import DictRunningMeanStd
from baselines_tf2.common.dict_policy import DictPolicy
from baselines_tf2.common.dict_space import dict_layout, pack_batch
from baselines_tf2.envs.monitor import Monitor
from baselines_tf2.mpi import mpi_util
from baselines_tf2.ppo import learn

RANK, SIZE = mpi_util.rank(), mpi_util.size()
SPACE = spaces.Dict({"a": spaces.Box(-np.inf, np.inf, (3,)), "b": spaces.Box(-5, 5, (2, 2)), "c": spaces.Discrete(3)})


def rank_batch(rank: int, n: int) -> dict:
    rng = np.random.default_rng(10 + rank)
    a = rng.normal(3.0 * rank, 1.0 + rank, (n, 3))
    return {"a": a, "b": rng.uniform(-5, 5, (n, 2, 2)), "c": rng.integers(0, 3, n)}


def check_rms() -> None:
    """Each key's statistics are those of every rank's rows of that key, identical on both ranks."""
    rms = DictRunningMeanStd([slot for slot in dict_layout(SPACE) if slot.kind == "box"])
    sizes = [5 + 9 * RANK, 0, 11]  # an empty batch on rank 0 too: every rank calls update equally often
    for n in sizes:
        rms.update(pack_batch(SPACE, rank_batch(RANK, n)) if n else np.zeros((0, 3 + 4 + 3), np.float32))
    for key in ("a", "b"):
        everything = np.concatenate([rank_batch(r, n)[key] for r in range(SIZE) for n in [5 + 9 * r, 11]])
        mean, var, count = expected_stats(everything, 1e-2)
        np.testing.assert_allclose(rms[key].mean, mean, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(rms[key].var, var, rtol=1e-5)
        assert abs(float(rms[key].count) - count) < 1e-9
    state = np.concatenate([v.numpy().ravel() for v in rms.variables]).tobytes()
    assert len(set(mpi_util.allgather_object(state))) == 1, "ranks disagree bit for bit"


def check_learn(keys: list[str] | None) -> None:
    """Two ranks train a Dict policy together: identical weights and per-key statistics of both ranks' steps."""

    def copy():
        env = DictQuadrantEnv()
        return Monitor(FilterObservation(env, keys) if keys else env)

    env = SyncVectorEnv([copy, copy], autoreset_mode=AutoresetMode.SAME_STEP)
    settings = dict(timesteps_per_actorbatch=32, optim_epochs=1, optim_batchsize=32, progress=False)
    pi = learn(env, lambda o, a: DictPolicy(o, a, hid_size=16, cnn_kind="small"), max_timesteps=128, **settings)
    assert pi.jit_compile == (keys is not None)  # no image: the allgather path (XLA); images: all-reduce
    assert abs(float(pi.ob_rms["vector"].count) - (128 + 1e-2)) < 1e-9  # 2 ranks x 2 copies x 32 steps
    state = np.concatenate([v.numpy().ravel() for v in pi.variables]).tobytes()
    assert len(set(mpi_util.allgather_object(state))) == 1, "ranks ended with different parameters or statistics"


if __name__ == "__main__":
    assert SIZE == 2, f"expected 2 ranks, got {SIZE}"
    check_rms()
    print(f"rank {RANK}: rms OK", flush=True)
    check_learn(None)
    print(f"rank {RANK}: learn images (allreduce) OK", flush=True)
    check_learn(["vector"])
    print(f"rank {RANK}: learn vector only (allgather) OK", flush=True)
