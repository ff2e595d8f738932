"""Action masking under ``mpirun -n 2`` (see test_masked_training.py); any failure exits non-zero."""

import sys
from functools import partial
from pathlib import Path

import numpy as np
import tensorflow as tf

sys.path.insert(0, str(Path(__file__).resolve().parent))

from toy_envs import MaskedChoiceEnv

from baselines_tf2.common.mpi_adam import MpiAdam
from baselines_tf2.common.policies import MlpPolicy
from baselines_tf2.mpi import mpi_util
from baselines_tf2.ppo import learn
from baselines_tf2.ppo.update import PPOUpdater

RANK = mpi_util.rank()
NVEC = (6,)


def check_update_paths() -> None:
    """Both MPI update paths carry the masks: allgather (batches exchanged) equals allreduce (gradients averaged)."""
    tf.random.set_seed(0)
    env = MaskedChoiceEnv(NVEC)
    pi = MlpPolicy(env.observation_space, env.action_space, hid_size=16)
    for v in pi.trainable_variables:  # the same far-from-uniform policy on both ranks
        v.assign_add(tf.random.stateless_normal(v.shape, [1, 2], stddev=0.5))
    adam = MpiAdam(pi.trainable_variables)
    adam.sync()
    rng = np.random.default_rng(RANK)  # different data, masks and minibatch orders on each rank
    ob = rng.normal(size=(256, 1)).astype(np.float32)
    mask = np.concatenate([rng.random((256, n)) < 0.5 for n in NVEC], axis=1)
    for start, n in zip(np.cumsum((0, *NVEC[:-1])), NVEC):
        mask[np.arange(256), start + rng.integers(n, size=256)] = True  # at least one valid per component
    flat, vpred = pi.forward_numpy(ob)
    ac = pi.pdtype.sample_numpy(flat, rng, mask)
    batch = dict(
        ob=ob, ac=ac, atarg=rng.normal(size=256).astype(np.float32), vtarg=rng.normal(size=256).astype(np.float32)
    )
    batch.update(oldpdparam=flat, oldvpred=vpred, mask=mask)
    perms = [rng.permutation(256).reshape(4, 64) for _ in range(2)]
    start_params, results = adam.getflat(), {}
    for mode in ("allreduce", "allgather"):
        adam.setfromflat(start_params)
        for var in (adam.m, adam.v):
            var.assign(tf.zeros_like(var))
        adam.t.assign(0)
        updater = PPOUpdater(pi, adam, entcoeff=0.01, vf_coef=1.0, vf_clip=False, mpi_update=mode, masked=True)
        assert updater.allgather == (mode == "allgather")
        updater.load_batch(batch)
        first = updater.evaluate(0.2)
        assert first["approxkl"] == 0.0 and first["meankl"] == 0.0  # pi_old = pi over the same masks
        for perm in perms:
            updater.run_epoch(perm, 1e-3, 0.2)
        results[mode] = (adam.getflat(), np.array(list(updater.evaluate(0.2).values())))
    adam.check_synced()
    np.testing.assert_allclose(results["allgather"][0], results["allreduce"][0], rtol=1e-5, atol=1e-6)
    assert np.abs(results["allgather"][0] - start_params).max() > 1e-4
    np.testing.assert_allclose(
        results["allgather"][1], mpi_util.allreduce_mean(results["allreduce"][1]), rtol=1e-4, atol=1e-6
    )


def check_learn() -> None:
    """Two ranks train on a masked env (the masks in the exchanged batches): no forbidden action, ranks identical."""
    env = MaskedChoiceEnv()
    pi = learn(
        env,
        partial(MlpPolicy, hid_size=16),
        max_timesteps=2048,
        timesteps_per_actorbatch=256,
        optim_epochs=2,
        progress=False,
    )
    assert env.forbidden == 0, env.forbidden
    state = np.concatenate([v.numpy().ravel() for v in pi.variables]).tobytes()
    gathered = mpi_util.allgather_object(state)
    assert gathered[0] == gathered[1], "ranks ended with different parameters"


if __name__ == "__main__":
    assert mpi_util.size() == 2
    {"update_paths": check_update_paths, "learn": check_learn}[sys.argv[1]]()
    print(f"rank {RANK}: {sys.argv[1]} OK", flush=True)
