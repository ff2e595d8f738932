"""Action masking through training: pi and pi_old over the same masks, every update path, PG, the CLI, learning."""

from functools import partial

import gymnasium as gym
import numpy as np
import pytest
import tensorflow as tf
from conftest import run_mpi
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from toy_envs import MaskedChoiceEnv

from baselines_tf2.cli import main
from baselines_tf2.common.actors import make_actor
from baselines_tf2.common.mpi_adam import MpiAdam
from baselines_tf2.common.policies import LstmPolicy, MlpPolicy
from baselines_tf2.envs.monitor import Monitor
from baselines_tf2.pg import learn as learn_pg
from baselines_tf2.ppo import learn, pposgd
from baselines_tf2.ppo.pposgd import _prepare_batch
from baselines_tf2.ppo.update import PPOUpdater
from baselines_tf2.train.rollout import RolloutCollector

NVEC = {"Discrete": (8,), "MultiDiscrete": (4, 3, 5)}


def masked_batch(nvec, seed=0):
    """A real rollout of a masked env (2 copies x 128 steps) by a far-from-uniform MLP, prepared as PPO does."""
    tf.random.set_seed(seed)
    env = SyncVectorEnv(
        [lambda: Monitor(MaskedChoiceEnv(nvec)) for _ in range(2)], autoreset_mode=AutoresetMode.SAME_STEP, copy=False
    )
    pi = MlpPolicy(env.single_observation_space, env.single_action_space, hid_size=16)
    for v in pi.trainable_variables:
        v.assign_add(tf.random.normal(v.shape, stddev=0.5))
    seg = RolloutCollector(env, 128, 0.99, np.float32, seeds=[seed, seed + 1]).collect(
        make_actor(pi, np.random.default_rng(seed))
    )
    return pi, _prepare_batch(seg, pi, None, 0.99, 0.95)


@pytest.mark.parametrize("space", list(NVEC))
def test_ratio_is_exactly_one_before_the_first_step_with_masks(space):
    pi, batch = masked_batch(NVEC[space])
    assert batch.mask is not None and batch.mask.shape == (256, sum(NVEC[space])) and not batch.mask.all()
    updater = PPOUpdater(pi, MpiAdam(pi.trainable_variables), entcoeff=0.01, vf_coef=1.0, vf_clip=False, masked=True)
    updater.load_batch(batch)
    m = updater.evaluate(clip_param=0.2)
    assert m["approxkl"] == 0.0 and m["meankl"] == 0.0 and m["clipfrac"] == 0.0
    assert m["policy_loss"] == pytest.approx(-batch.atarg.mean(), abs=1e-6)
    pd, _ = pi(tf.constant(batch.ob), tf.constant(batch.mask))
    assert m["policy_entropy"] == pytest.approx(float(tf.reduce_mean(pd.entropy())), rel=1e-5)
    unmasked = float(tf.reduce_mean(pi(tf.constant(batch.ob))[0].entropy()))
    assert m["policy_entropy"] < unmasked - 0.5  # over the 2 valid actions (of each component), not all of them
    assert np.isfinite(pd.logp(tf.constant(batch.ac)).numpy()).all()


@pytest.mark.parametrize("jit_compile", [True, False])
def test_the_one_call_epoch_and_the_all_reduce_path_agree_with_masks(jit_compile):
    results = []
    for single_rank in (True, False):
        pi, batch = masked_batch(NVEC["MultiDiscrete"], seed=4)
        adam = MpiAdam(pi.trainable_variables)
        kwargs = dict(entcoeff=0.01, vf_coef=0.5, vf_clip=True, masked=True, jit_compile=jit_compile)
        updater = PPOUpdater(pi, adam, **kwargs)
        updater.single_rank = single_rank  # False: per-minibatch gradient, host all-reduce, compiled apply
        updater.load_batch(batch._asdict())
        perm = np.random.default_rng(1).permutation(256).reshape(4, 64)
        metrics = [updater.run_epoch(perm, 3e-3, 0.2) for _ in range(2)]
        results.append((adam.getflat(), metrics, updater.evaluate(0.2)))
    (flat_a, ma, ea), (flat_b, mb, eb) = results
    np.testing.assert_allclose(flat_a, flat_b, rtol=1e-4, atol=1e-6)
    for a, b in [*zip(ma, mb), (ea, eb)]:
        for key in a:
            assert a[key] == pytest.approx(b[key], rel=1e-4, abs=1e-6), key
    assert ea["approxkl"] > 0 and np.isfinite(list(ea.values())).all()


def test_a_batch_must_match_the_updater():
    pi, batch = masked_batch(NVEC["Discrete"])
    plain = PPOUpdater(pi, MpiAdam(pi.trainable_variables), entcoeff=0.0, vf_coef=1.0, vf_clip=False)
    with pytest.raises(ValueError, match="masked=False"):
        plain.load_batch(batch)
    masked = PPOUpdater(pi, MpiAdam(pi.trainable_variables), entcoeff=0.0, vf_coef=1.0, vf_clip=False, masked=True)
    with pytest.raises(ValueError, match="masked=True"):
        masked.load_batch(batch._replace(mask=None))


@pytest.mark.parametrize("alg", ["ppo", "pg"])
def test_learners_never_take_a_forbidden_action(alg):
    env = MaskedChoiceEnv(NVEC["MultiDiscrete"])
    rows = []
    common = dict(seed=1, progress=False, callback=lambda info: rows.append(info.metrics))
    if alg == "ppo":
        learn(env, partial(MlpPolicy, hid_size=16), max_timesteps=1024, timesteps_per_actorbatch=256, **common)
    else:
        learn_pg(env, partial(MlpPolicy, hid_size=16), max_iters=3, batch_size=200, **common)
    assert env.forbidden == 0 and len(rows) >= 3
    assert all(np.isfinite([r["policy_loss"], r["policy_entropy"], r["meankl"]]).all() for r in rows)
    assert all(r["eplenmean"] == 10 for r in rows)  # no episode ended early on a forbidden choice


class UncompiledLstm(LstmPolicy):
    jit_compile = False  # the plumbing is under test; XLA would cost seconds


def test_recurrent_ppo_trains_on_whole_sequences_with_their_masks(monkeypatch):
    """An LSTM on a masked env: pi_old replayed over the recorded masks gives ratio 1 before every iteration's first
    step, and no forbidden action is ever taken (the masks ride along in the whole-sequence minibatches)."""
    seen, original = [], pposgd.run_epochs

    def spy(updater, *args, **kwargs):
        assert updater.masked
        seen.append(updater.evaluate(args[5]))
        return original(updater, *args, **kwargs)

    monkeypatch.setattr(pposgd, "run_epochs", spy)
    env = SyncVectorEnv(
        [lambda: Monitor(MaskedChoiceEnv(NVEC["MultiDiscrete"])) for _ in range(2)],
        autoreset_mode=AutoresetMode.SAME_STEP,
        copy=False,
    )
    policy_fn = partial(UncompiledLstm, nlstm=8, hid_size=16, num_hid_layers=1)
    learn(env, policy_fn, max_iters=3, timesteps_per_actorbatch=16, optim_batchsize=16, optim_epochs=2, progress=False)
    assert len(seen) == 3 and sum(copy.unwrapped.forbidden for copy in env.envs) == 0
    for metrics in seen:
        assert metrics["approxkl"] == 0.0 and metrics["meankl"] == pytest.approx(0.0, abs=1e-7)


def test_masking_flags_from_the_cli(capsys):
    train = ["--env", "ToyMaskedChoice-v0", "--env_type", "classic_control", "--num_timesteps", "512"]
    fast = [*train, "--timesteps_per_actorbatch", "256", "--optim_epochs", "1", "--progress", "false"]
    assert main([*fast, "--play", "--play_episodes", "3"]) == 0
    out = capsys.readouterr().out
    returns = [float(line.split("return")[1]) for line in out.splitlines() if line.startswith("episode ")]
    assert len(returns) == 3 and min(returns) >= 0  # played with the env's masks: never a forbidden choice
    code = main(["--env", "CartPole-v1", "--num_timesteps", "512", "--action_masking", "on", "--progress", "false"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("run.py: error: action_masking is on, but the env provides no action masks")
    assert main(["--action_masking", "maybe"]) == 2
    assert "--action_masking: invalid choice: 'maybe'" in capsys.readouterr().err


class NoValidAction(MaskedChoiceEnv):
    def action_masks(self):
        return np.zeros(8, bool) if self.t >= 3 else super().action_masks()


def test_a_bad_mask_during_training_is_one_line_from_the_cli(capsys):
    if "ToyNoValidAction-v0" not in gym.registry:
        gym.register("ToyNoValidAction-v0", entry_point=NoValidAction)
    argv = ["--env", "ToyNoValidAction-v0", "--env_type", "classic_control", "--num_timesteps", "512"]
    assert main([*argv, "--timesteps_per_actorbatch", "256", "--progress", "false"]) == 1
    err = capsys.readouterr().err
    assert err == (
        "run.py: error: ActionMaskError: the action mask from the env copies' action_masks() allows no action "
        "for env copy 0: every state needs a valid action\n"
    )


def test_ppo_with_masks_learns_what_ppo_without_cannot():
    """MaskedChoiceEnv: 8 actions, 2 allowed per step and not observed; the lowest allowed pays 1, a forbidden
    choice -1 and ends the episode. A random masked policy scores 5 per 10-step episode, the best 10; no
    unmasked policy can average above 0. Same budget for both: 10k steps (~8 s each here)."""
    finals = {}
    for mode in ("auto", "off"):
        returns = []
        learn(
            MaskedChoiceEnv(),
            MlpPolicy,
            max_timesteps=10_240,
            timesteps_per_actorbatch=512,
            optim_epochs=4,
            seed=0,
            progress=False,
            action_masking=mode,
            callback=lambda info, returns=returns: returns.append(info.metrics["eprewmean"]),
        )
        finals[mode] = returns
    assert 4 < finals["auto"][0] < 6.5, finals["auto"]  # starts near random
    assert finals["auto"][-1] > 8.5, finals["auto"]
    assert max(finals["off"]) < 0, finals["off"]


@pytest.mark.mpi
@pytest.mark.parametrize("check", ["update_paths", "learn"])
def test_masks_under_mpirun_two_ranks(check):
    proc = run_mpi(["tests/mpi_masking_worker.py", check])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"rank 0: {check} OK" in proc.stdout and f"rank 1: {check} OK" in proc.stdout
