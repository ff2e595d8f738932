"""DictPolicy: per-key encoders against a hand computation, per-key normalisers, checkpoints, acting, training."""

import time

import numpy as np
import pytest
import tensorflow as tf
from conftest import run_mpi
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from test_running_mean_std import expected_stats
from toy_envs import DictQuadrantEnv

from baselines_tf2.common.dict_policy import DictPolicy
from baselines_tf2.common.dict_space import pack, pack_batch
from baselines_tf2.envs.monitor import Monitor
from baselines_tf2.mpi import mpi_util
from baselines_tf2.pg.vpg import learn as learn_pg
from baselines_tf2.ppo import learn, pposgd
from baselines_tf2.train.checkpoint import restore

SPACE = spaces.Dict(
    {
        "image": spaces.Box(0, 255, (24, 24, 2), np.uint8),
        "pos": spaces.Box(-np.inf, np.inf, (3,), np.float32),
        "flags": spaces.MultiBinary(2),
        "mode": spaces.Discrete(3),
    }
)


def observations(n, seed):
    rng = np.random.default_rng(seed)
    return {
        "image": rng.integers(0, 256, (n, 24, 24, 2), dtype=np.uint8),
        "pos": rng.normal([50.0, -3.0, 0.0], [10.0, 0.1, 1.0], (n, 3)).astype(np.float32),
        "flags": rng.integers(0, 2, (n, 2), dtype=np.int8),
        "mode": rng.integers(0, 3, n),
    }


def trained_looking(seed=0, ac_space=None):
    """A policy with weights away from their init and a normaliser that has seen data."""
    tf.random.set_seed(seed)
    pi = DictPolicy(SPACE, ac_space or spaces.Discrete(4), hid_size=16, cnn_kind="small")
    for v in pi.trainable_variables:
        v.assign_add(tf.random.normal(v.shape, stddev=0.1))
    seen = observations(300, seed)
    pi.ob_rms.update(pack_batch(SPACE, seen))
    return pi, seen


def conv_valid(x, w, b, stride):
    k = w.shape[0]
    oh, ow = (x.shape[1] - k) // stride + 1, (x.shape[2] - k) // stride + 1
    out = np.empty((len(x), oh, ow, w.shape[-1]))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * stride : i * stride + k, j * stride : j * stride + k, :]
            out[:, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [0, 1, 2])) + b
    return out


def hand_forward(pi, obs, seen):
    """Each key's encoder by hand in float64, concatenated in key order, then the two tanh networks."""
    relu = lambda x: np.maximum(x, 0.0)  # noqa: E731
    enc = pi.images["image"]
    x = obs["image"] / 255.0
    for conv in enc.convs:
        x = relu(conv_valid(x, conv.w.numpy(), conv.b.numpy(), conv.stride))
    image = relu(x.reshape(len(x), -1) @ enc.fc.w.numpy() + enc.fc.b.numpy())
    mean, var, _ = expected_stats(seen["pos"].astype(np.float64), 1e-2)
    pos = np.clip((obs["pos"] - mean) / np.sqrt(var), -5.0, 5.0)
    h = np.concatenate([obs["flags"], image, np.eye(3)[obs["mode"]], pos], axis=1)  # flags, image, mode, pos

    def mlp(x, layers):
        for layer in layers:
            x = np.tanh(x @ layer.w.numpy() + layer.b.numpy())
        return x

    vpred = (mlp(h, pi.vf_hidden) @ pi.vf_final.w.numpy() + pi.vf_final.b.numpy())[:, 0]
    logits = mlp(h, pi.pol_hidden) @ pi.pol_head.dense.w.numpy() + pi.pol_head.dense.b.numpy()
    return logits, vpred


def test_forward_equals_a_hand_computation_of_the_per_key_encoders():
    pi, seen = trained_looking()
    obs = observations(16, 1)
    obs["pos"][:2] = [[1e4, 0, 0], [-1e4, 0, 0]]  # clipped at +-5
    logits, vpred = hand_forward(pi, obs, seen)
    flat, value = pi.forward_numpy(pack_batch(SPACE, obs))
    assert np.abs(vpred).max() > 0.1 and np.ptp(logits, axis=0).max() > 0.1  # not a comparison of constants
    np.testing.assert_allclose(flat, logits, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(value, vpred, rtol=1e-4, atol=1e-5)


def test_per_key_normalisers_take_their_own_columns_in_one_all_reduce(monkeypatch):
    space = spaces.Dict(
        {
            "a": spaces.Box(-np.inf, np.inf, (2,), np.float64),
            "b": spaces.Box(0, 10, (2, 3), np.int32),
            "c": spaces.Discrete(5),
            "d": spaces.Box(0, 255, (20, 20, 1), np.uint8),
        }
    )
    pi = DictPolicy(space, spaces.Discrete(2), cnn_kind="small")
    assert list(pi.ob_rms) == ["a", "b"]  # images and one-hots are not normalised
    calls = []
    monkeypatch.setattr(mpi_util, "allreduce_sum", lambda x, comm=None: calls.append(len(x)) or x)
    rng = np.random.default_rng(0)
    batches = [
        {
            "a": rng.normal([3.0, -7.0], [2.0, 0.5], (n, 2)),
            "b": rng.integers(0, 11, (n, 2, 3)).astype(np.int32),
            "c": rng.integers(0, 5, n),
            "d": rng.integers(0, 256, (n, 20, 20, 1), dtype=np.uint8),
        }
        for n in (7, 30)
    ]
    for batch in batches:
        pi.ob_rms.update(pack_batch(space, batch))
    assert calls == [(2 * 2 + 1) + (2 * 6 + 1)] * 2  # both keys' sums and counts, one all-reduce per update
    for key in ("a", "b"):
        mean, var, count = expected_stats(np.concatenate([b[key] for b in batches]).astype(np.float64), 1e-2)
        np.testing.assert_allclose(pi.ob_rms[key].mean, mean, rtol=1e-6)
        np.testing.assert_allclose(pi.ob_rms[key].var, var, rtol=1e-5)
        assert float(pi.ob_rms[key].count) == pytest.approx(count)


def test_normalisers_are_checkpointed_and_restored_by_key(tmp_path):
    pi, _ = trained_looking(seed=0)
    prefix = tf.train.Checkpoint(policy=pi).save(str(tmp_path / "ckpt"))
    names = [name for name, _ in tf.train.list_variables(prefix)]
    for var in ("_sum", "_sumsq", "_count"):
        assert f"policy/ob_rms/by_key/pos/{var}/.ATTRIBUTES/VARIABLE_VALUE" in names
    assert any(name.startswith("policy/images/image/convs/0/w/") for name in names)
    fresh, _ = trained_looking(seed=5)
    obs = pack_batch(SPACE, observations(8, 2))
    assert not np.allclose(fresh.forward_numpy(obs)[1], pi.forward_numpy(obs)[1])
    restore(str(tmp_path), policy=fresh)
    np.testing.assert_array_equal(fresh.ob_rms["pos"].mean.numpy(), pi.ob_rms["pos"].mean.numpy())
    np.testing.assert_array_equal(fresh.forward_numpy(obs)[1], pi.forward_numpy(obs)[1])


def test_act_takes_one_dict_observation_or_a_batch_of_them():
    pi, _ = trained_looking(ac_space=spaces.Box(-1, 1, (2,), np.float32))
    batch = observations(5, 3)
    flat, vpred = pi.forward_numpy(pack_batch(SPACE, batch))
    for i in range(5):
        ob = {key: value[i] for key, value in batch.items()}
        action, value = pi.act(False, ob)
        assert action.shape == (2,) and isinstance(value, float)
        np.testing.assert_allclose(action, flat[i, :2], rtol=1e-6)
        assert value == pytest.approx(float(vpred[i]), rel=1e-6)
        np.testing.assert_array_equal(pi.act(False, pack(SPACE, ob))[0], action)
    actions, values = pi.act_batch(False, batch)
    np.testing.assert_allclose(actions, flat[:, :2], rtol=1e-6)
    pi.rng = np.random.default_rng(0)
    sampled = pi.act_batch(True, batch)[0]
    assert sampled.shape == (5, 2) and not np.allclose(sampled, actions)


def dict_vec_env(n):
    return SyncVectorEnv([lambda: Monitor(DictQuadrantEnv()) for _ in range(n)], autoreset_mode=AutoresetMode.SAME_STEP)


TINY = dict(timesteps_per_actorbatch=32, optim_epochs=2, optim_batchsize=32, optim_stepsize=1e-3, progress=False)


def test_pi_old_after_the_per_key_normaliser_update_gives_ratio_one(monkeypatch):
    """Before the first gradient step of every iteration (the vector key's normaliser has just moved): KL 0."""
    seen = []
    original = pposgd.run_epochs

    def spy(updater, *args, **kwargs):
        seen.append(updater.evaluate(0.2))
        return original(updater, *args, **kwargs)

    monkeypatch.setattr(pposgd, "run_epochs", spy)
    pi = learn(dict_vec_env(2), lambda o, a: DictPolicy(o, a, cnn_kind="small"), max_timesteps=192, seed=0, **TINY)
    assert len(seen) == 3 and float(pi.ob_rms["vector"].count) == pytest.approx(192 + 1e-2)
    for metrics in seen:
        assert metrics["approxkl"] == 0.0 and metrics["meankl"] == pytest.approx(0.0, abs=1e-7)
        assert metrics["clipfrac"] == 0.0


def test_the_policy_gradient_trains_a_dict_policy():
    rows = []
    pi = learn_pg(
        dict_vec_env(2),
        lambda o, a: DictPolicy(o, a, cnn_kind="small", hid_size=16),
        max_iters=2,
        batch_size=64,
        pg_weight="gae",
        progress=False,
        callback=lambda info: rows.append(info.metrics),
    )
    assert len(rows) == 2 and all(np.isfinite(row["policy_loss"]) for row in rows)
    assert float(pi.ob_rms["vector"].count) >= 128


@pytest.mark.mpi
def test_two_ranks_share_the_per_key_statistics_and_stay_identical():
    proc = run_mpi(["tests/mpi_dict_worker.py"])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for check in ("rms", "learn images (allreduce)", "learn vector only (allgather)"):
        assert f"rank 0: {check} OK" in proc.stdout and f"rank 1: {check} OK" in proc.stdout, check


@pytest.mark.slow
def test_learns_a_task_that_needs_both_the_image_and_the_vector():
    """Random play scores 2 of 8, the image alone at best 4, the vector alone 2: 7+ needs both keys."""
    scores = []
    start = time.time()
    learn(
        dict_vec_env(8),
        lambda o, a: DictPolicy(o, a, cnn_kind="small"),
        max_timesteps=20_480,
        num_env=8,
        timesteps_per_actorbatch=32,
        optim_epochs=4,
        optim_batchsize=64,
        optim_stepsize=1e-3,
        entcoeff=0.01,
        seed=0,
        progress=False,
        callback=lambda info: scores.append(info.metrics["eprewmean"]),
    )
    print(f"dict quadrant: first {scores[:3]}, last {scores[-5:]}, {time.time() - start:.0f} s")
    assert scores[0] < 3.0, scores[:3]
    assert np.mean(scores[-5:]) >= 7.0, scores[-10:]
