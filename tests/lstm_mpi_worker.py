"""Under ``mpirun -n 2`` (test_lstm_learn.py): a recurrent policy's epochs take the same steps on both MPI paths."""

import sys
from pathlib import Path

import numpy as np
import tensorflow as tf
from gymnasium import spaces

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baselines_tf2.common.lstm_policy import LstmPolicy
from baselines_tf2.common.mpi_adam import MpiAdam
from baselines_tf2.mpi import mpi_util
from baselines_tf2.ppo.recurrent_update import RecurrentPPOUpdater, recurrent_pi_old
from baselines_tf2.ppo.update import PPOBatch
from baselines_tf2.train.recurrent_rollout import RecurrentSegment

RANK, SIZE = mpi_util.rank(), mpi_util.size()
HORIZON = 6


def rank_segment(pi, num_env, rng):
    """A made-up segment of this rank's copies: random observations, states and episode starts."""
    shape = (HORIZON, num_env)
    starts = rng.random(shape) < 0.2
    starts[0] = rng.random(num_env) < 0.5
    zeros = np.zeros(shape, np.float32)
    seg = RecurrentSegment(
        obs=rng.normal(size=(*shape, 3)).astype(np.float32),
        actions=rng.integers(0, 2, shape),
        rewards=zeros,
        bootstrap=zeros,
        dones=np.zeros(shape, bool),
        vpreds=zeros,
        pdparams=np.zeros((*shape, 2), np.float32),
        last_vpreds=np.zeros(num_env, np.float32),
        rnn_states=rng.normal(size=(*shape, pi.state_size)).astype(np.float32),
        episode_starts=starts,
    )
    oldpdparam, oldvpred = recurrent_pi_old(pi, seg)
    n = HORIZON * num_env
    batch = PPOBatch(
        ob=seg.obs.reshape(n, 3),
        ac=seg.actions.reshape(n).astype(np.int32),
        atarg=rng.normal(size=n).astype(np.float32),
        vtarg=rng.normal(size=n).astype(np.float32),
        oldpdparam=oldpdparam,
        oldvpred=oldvpred,
    )
    return seg, batch


def main() -> None:
    tf.random.set_seed(0)
    pi = LstmPolicy(spaces.Box(-np.inf, np.inf, (3,)), spaces.Discrete(2), nlstm=8, hid_size=8, num_hid_layers=1)
    adam = MpiAdam(pi.trainable_variables)
    adam.sync()
    num_env = 4 if RANK == 0 else 2  # ranks of different sizes: the gathered layout must still line up
    rng = np.random.default_rng(RANK)
    seg, batch = rank_segment(pi, num_env, rng)
    start = adam.getflat()
    results = {}
    for mode in ("allreduce", "allgather"):
        adam.setfromflat(start)
        for var in (adam.m, adam.v):
            var.assign(tf.zeros_like(var))
        adam.t.assign(0)
        updater = RecurrentPPOUpdater(
            pi,
            adam,
            horizon=HORIZON,
            num_env=num_env,
            minibatch_size=HORIZON,
            entcoeff=0.01,
            vf_coef=1.0,
            vf_clip=False,
            mpi_update=mode,
            jit_compile=False,  # the paths, not XLA, are under test here (compiling costs seconds per rank)
        )
        assert updater.allgather == (mode == "allgather")
        updater.load_batch(batch)
        updater.load_sequences(seg)
        first = updater.evaluate(0.2)
        assert first["approxkl"] < 1e-7 and first["clipfrac"] == 0.0, first  # pi_old: the same sequences
        minibatch_rng = np.random.default_rng(7)
        perms = [updater.minibatches(minibatch_rng)[:2] for _ in range(2)]  # 2 minibatches a rank, as rank 1 has
        for perm in perms:
            updater.run_epoch(perm, 1e-3, 0.2)
        results[mode] = adam.getflat()
    adam.check_synced()
    np.testing.assert_allclose(results["allgather"], results["allreduce"], rtol=1e-5, atol=1e-6)
    assert np.abs(results["allgather"] - start).max() > 1e-4 and int(adam.t) == 4


if __name__ == "__main__":
    assert SIZE == 2, f"expected 2 ranks, got {SIZE}"
    main()
    print(f"rank {RANK}: OK", flush=True)
