"""Checks run on every rank under ``mpirun -n 2`` (see test_mpi.py); any failure exits non-zero."""

import sys
from pathlib import Path

import numpy as np
import tensorflow as tf
from gymnasium import spaces

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_mpi_adam import NumpyAdam
from test_running_mean_std import expected_stats

from baselines_tf2.common.mpi_adam import MpiAdam, RanksOutOfSyncError
from baselines_tf2.common.policies import MlpPolicy
from baselines_tf2.common.running_mean_std import RunningMeanStd
from baselines_tf2.mpi import mpi_util

RANK, SIZE = mpi_util.rank(), mpi_util.size()


def rank_batches(rank: int) -> list[np.ndarray]:
    """Each rank's own data: different sizes and distributions per rank."""
    rng = np.random.default_rng(100 + rank)
    return [rng.normal(loc=rank * 3.0, scale=1.0 + rank, size=(n, 3)) for n in (5 + 7 * rank, 11)]


def check_running_mean_std() -> None:
    rms = RunningMeanStd(shape=(3,))
    for batch in rank_batches(RANK):
        rms.update(batch)
    everything = np.concatenate([b for r in range(SIZE) for b in rank_batches(r)])
    mean, var, count = expected_stats(everything, 1e-2)
    np.testing.assert_allclose(rms.mean, mean, rtol=1e-6)
    np.testing.assert_allclose(rms.var, var, rtol=1e-5)
    assert abs(float(rms.count) - count) < 1e-9
    stats = np.concatenate([rms.mean.numpy(), rms.std.numpy(), [float(rms.count)]])
    gathered = mpi_util.allgather_object(stats.tobytes())
    assert all(g == gathered[0] for g in gathered), "ranks disagree bit for bit"


def check_mpi_adam() -> None:
    var_list = [tf.Variable(np.linspace(-1, 1, 6, dtype=np.float32).reshape(3, 2)), tf.Variable(np.ones(4, np.float32))]
    adam = MpiAdam(var_list, check_every=1)
    ref = NumpyAdam(adam.getflat())
    rng = np.random.default_rng(0)  # same stream on every rank: each rank takes its own slice
    for step in range(20):
        all_grads = rng.normal(size=(SIZE, 10)).astype(np.float32)
        adam.update(all_grads[RANK], 1e-2 * (1 + step % 3))
        ref.update(all_grads.astype(np.float64).mean(axis=0), 1e-2 * (1 + step % 3))
    np.testing.assert_allclose(adam.getflat(), ref.theta, rtol=1e-5, atol=1e-6)
    gathered = mpi_util.allgather_object(adam.getflat().tobytes())
    assert all(g == gathered[0] for g in gathered), "ranks diverged"
    adam.check_synced()


def check_sync() -> None:
    tf.random.set_seed(RANK)  # every rank starts from different weights
    pi = MlpPolicy(spaces.Box(-1, 1, (4,)), spaces.Discrete(3))
    adam = MpiAdam(pi.trainable_variables)
    try:
        adam.check_synced()
    except RanksOutOfSyncError:
        pass
    else:
        raise AssertionError("check_synced did not notice ranks that differ")
    root = mpi_util.broadcast(adam.getflat())
    adam.sync()
    np.testing.assert_array_equal(adam.getflat(), root)
    adam.check_synced()


def check_learn() -> None:
    """Two ranks train together and end with bit-identical parameters and normalisers."""
    from baselines_tf2.ppo import learn  # noqa: PLC0415

    pi = learn(
        "CartPole-v1", MlpPolicy, max_timesteps=2048, timesteps_per_actorbatch=256, optim_epochs=2, progress=False
    )
    state = np.concatenate([v.numpy().ravel() for v in pi.variables]).tobytes()
    gathered = mpi_util.allgather_object(state)
    assert gathered[0] == gathered[1], "ranks ended with different parameters"


def check_stop() -> None:
    """A callback stopping rank 1 only, and a time limit read from each rank's clock, stop both ranks together."""
    import time  # noqa: PLC0415

    from baselines_tf2.ppo import learn  # noqa: PLC0415

    iterations = []
    learn(
        "CartPole-v1",
        MlpPolicy,
        max_timesteps=10**6,
        timesteps_per_actorbatch=256,
        optim_epochs=1,
        progress=False,
        callback=lambda info: iterations.append(info.iteration) or not (RANK == 1 and info.iteration == 2),
    )
    assert iterations == [1, 2], iterations
    if RANK == 1:
        time.sleep(1.0)  # rank 1 starts later, so its clock reads less elapsed time than rank 0's
    start = time.time()
    learn("CartPole-v1", MlpPolicy, max_seconds=4, timesteps_per_actorbatch=256, optim_epochs=1, progress=False)
    assert time.time() - start < 60


def check_fault() -> None:
    """A failure on rank 1 only must end the whole run.py job, with its message."""
    import gymnasium as gym  # noqa: PLC0415

    from baselines_tf2.cli import main  # noqa: PLC0415

    class FaultOnRank1(gym.Wrapper):
        def __init__(self, env):
            super().__init__(env)
            self.steps = 0

        def step(self, action):
            self.steps += 1
            if RANK == 1 and self.steps > 300:
                raise RuntimeError("injected fault on rank 1")
            return self.env.step(action)

    gym.register("FaultyCartPole-v0", entry_point=lambda: FaultOnRank1(gym.make("CartPole-v1")))
    task = ["--env", "FaultyCartPole-v0", "--env_type", "classic_control"]
    sys.exit(main([*task, "--num_timesteps", "100000", "--timesteps_per_actorbatch", "256", "--progress", "false"]))


def check_variants() -> None:
    """Every objective, early stopping and the vanilla PG run from the CLI on 2 ranks, ranks in sync."""
    from baselines_tf2.cli import main  # noqa: PLC0415

    task = ["--env", "CartPole-v1", "--num_timesteps", "2048"]
    fast = [*task, "--timesteps_per_actorbatch", "256", "--optim_epochs", "3", "--progress", "false"]
    variants = [
        ["--loss", "clip"],
        ["--loss", "none"],
        ["--loss", "fixed_kl", "--kl_beta", "0.3"],
        ["--loss", "adaptive_kl", "--kl_target", "0.003"],
        ["--target_kl", "0.0001"],
    ]
    for extra in variants:
        assert main([*fast, *extra]) == 0, extra
        print(f"rank {RANK}: {' '.join(extra)} OK", flush=True)
    pg = [
        "--alg",
        "pg",
        "--env",
        "CartPole-v1",
        "--num_timesteps",
        "2000",
        "--batch_size",
        "500",
        "--progress",
        "false",
    ]
    assert main(pg) == 0
    print(f"rank {RANK}: --alg pg OK", flush=True)


def check_split_comm() -> None:
    """learn(comm=...) keeps everything to that communicator: with one group per rank, nothing is averaged."""
    from baselines_tf2.ppo import learn  # noqa: PLC0415

    alone = mpi_util.get_comm().Split(RANK, 0)  # a size-1 communicator per rank
    pi = learn(
        "CartPole-v1",
        MlpPolicy,
        max_timesteps=1024,
        timesteps_per_actorbatch=256,
        optim_epochs=2,
        progress=False,
        comm=alone,
        seed=100 * RANK,
    )
    assert pi.ob_rms.comm is alone and abs(float(pi.ob_rms.count) - (1024 + 1e-2)) < 1e-6  # this rank's steps only
    means = mpi_util.allgather_object(pi.ob_rms.mean.numpy())
    params = mpi_util.allgather_object(np.concatenate([v.numpy().ravel() for v in pi.trainable_variables]))
    assert not np.allclose(means[0], means[1]) and not np.allclose(params[0], params[1])


def check_local_size() -> None:
    """Both ranks run on this machine; a one-rank communicator has itself alone."""
    assert mpi_util.local_size() == 2
    assert mpi_util.local_size(mpi_util.get_comm().Split(RANK, 0)) == 1


def check_allgather_update() -> None:
    """Exchanging the batches and stepping on the union of the ranks' minibatches = all-reducing each gradient."""
    from baselines_tf2.ppo.update import PPOUpdater  # noqa: PLC0415

    tf.random.set_seed(0)
    pi = MlpPolicy(spaces.Box(-np.inf, np.inf, (5,)), spaces.Box(-1, 1, (2,)))
    adam = MpiAdam(pi.trainable_variables)
    adam.sync()
    rng = np.random.default_rng(RANK)  # different data and minibatch orders on each rank
    ob = rng.normal(size=(256, 5)).astype(np.float32)
    flat, vpred = pi.forward_numpy(ob)
    batch = dict(
        ob=ob,
        ac=rng.normal(size=(256, 2)).astype(np.float32),
        atarg=rng.normal(size=256).astype(np.float32),
        vtarg=rng.normal(size=256).astype(np.float32),
        oldpdparam=flat,
        oldvpred=vpred,
    )
    perms = [rng.permutation(256).reshape(4, 64) for _ in range(2)]
    start = adam.getflat()
    results = {}
    for mode in ("allreduce", "allgather"):
        adam.setfromflat(start)
        for var in (adam.m, adam.v):
            var.assign(tf.zeros_like(var))
        adam.t.assign(0)
        updater = PPOUpdater(pi, adam, entcoeff=0.01, vf_coef=1.0, vf_clip=False, mpi_update=mode)
        assert updater.allgather == (mode == "allgather")
        updater.load_batch(batch)
        metrics = [list(updater.run_epoch(perm, 1e-3, 0.2).values()) for perm in perms]
        results[mode] = (adam.getflat(), np.array(metrics), np.array(list(updater.evaluate(0.2).values())))
    adam.check_synced()
    gathered, reduced = results["allgather"], results["allreduce"]
    np.testing.assert_allclose(gathered[0], reduced[0], rtol=1e-5, atol=1e-6)
    assert np.abs(gathered[0] - start).max() > 1e-4 and int(adam.t) == 8
    # all-reduce metrics are this rank's; allgather's are the union's: the mean over ranks (equal sizes)
    for mine, union in ((reduced[1], gathered[1]), (reduced[2], gathered[2])):
        np.testing.assert_allclose(union, mpi_util.allreduce_mean(mine), rtol=1e-4, atol=1e-6)
    assert mpi_util.allgather_object(gathered[2].tolist())[0] == gathered[2].tolist()  # the same on every rank


CHECKS = {
    "rms": check_running_mean_std,
    "adam": check_mpi_adam,
    "sync": check_sync,
    "learn": check_learn,
    "stop": check_stop,
    "fault": check_fault,
    "variants": check_variants,
    "split": check_split_comm,
    "local": check_local_size,
    "allgather": check_allgather_update,
}

if __name__ == "__main__":
    assert SIZE == 2, f"expected 2 ranks, got {SIZE}"
    CHECKS[sys.argv[1]]()
    print(f"rank {RANK}: {sys.argv[1]} OK", flush=True)
