"""learn(): logging, checkpoints, resuming, stopping, NaN handling and input validation."""

import csv
import os

import gymnasium as gym
import numpy as np
import pytest
import tensorflow as tf

from baselines_tf2.common.policies import MlpPolicy
from baselines_tf2.envs.monitor import Monitor, read_monitor_csv
from baselines_tf2.errors import CheckpointError, ConfigError, TrainingDivergedError
from baselines_tf2.ppo import learn
from baselines_tf2.ppo.state import PPOState
from baselines_tf2.train.checkpoint import TrainState, restore, restore_state

FAST = dict(timesteps_per_actorbatch=256, optim_epochs=2, optim_batchsize=64, progress=False)
REQUIRED_KEYS = {
    "total_timesteps",
    "eprewmean",
    "eplenmean",
    "fps",
    "approxkl",
    "clipfrac",
    "policy_entropy",
    "policy_loss",
    "value_loss",
    "explained_variance",
    "time_elapsed",
}


def read_progress(log_dir):
    with open(os.path.join(log_dir, "progress.csv"), newline="") as f:
        return list(csv.DictReader(f))


def test_logs_monitors_and_checkpoints(tmp_path):
    log, ckpt = str(tmp_path / "log"), str(tmp_path / "ckpt")
    pi = learn(
        "CartPole-v1", MlpPolicy, max_timesteps=768, num_env=2, log_path=log, save_path=ckpt, save_interval=1, **FAST
    )
    assert isinstance(pi, MlpPolicy)
    rows = read_progress(log)
    assert len(rows) == 2 and set(rows[0]) >= REQUIRED_KEYS
    assert [int(r["total_timesteps"]) for r in rows] == [512, 1024]
    assert all(np.isfinite(float(r["eprewmean"])) for r in rows)
    _, episodes = read_monitor_csv(os.path.join(log, "monitor", "0.1.monitor.csv"))
    assert episodes and all(length == int(ret) for ret, length, _ in episodes)  # CartPole: reward 1 per step
    assert os.listdir(os.path.join(log, "tb"))
    assert tf.train.latest_checkpoint(ckpt).endswith("ckpt-2")


def test_resume_continues_counters_and_weights(tmp_path):
    ckpt, log2 = str(tmp_path / "ckpt"), str(tmp_path / "log2")
    first = learn("CartPole-v1", MlpPolicy, max_timesteps=512, save_path=ckpt, seed=1, **FAST)
    weights = [v.numpy() for v in first.trainable_variables]
    # Restoring into a fresh policy gives the saved weights and counters.
    fresh = MlpPolicy(first.ob_space, first.ac_space)
    state = TrainState()
    restore(ckpt, policy=fresh, state=state)
    for a, b in zip(weights, fresh.trainable_variables):
        np.testing.assert_array_equal(a, b.numpy())
    assert int(state.iters) == 2 and int(state.timesteps) == 512
    rng_states = __import__("json").loads(state.rng_states.numpy().decode())
    assert len(rng_states) == 1 and rng_states[0]["bit_generator"] == "PCG64"  # one rank's generator
    episodes = __import__("json").loads(state.recent_episodes.numpy().decode())
    assert 0 < len(episodes) <= 100 and sum(length for _, length in episodes) <= 512
    learn("CartPole-v1", MlpPolicy, max_timesteps=1024, load_path=ckpt, save_path=ckpt, log_path=log2, seed=1, **FAST)
    rows = read_progress(log2)
    assert [int(r["iterations"]) for r in rows] == [3, 4]
    # eprewmean continues over the restored episodes: the last 100 of (restored + this iteration's).
    _, new = read_monitor_csv(os.path.join(log2, "monitor", "0.0.monitor.csv"))
    window = [r for r, _ in episodes] + [r for r, _, _ in new[: int(rows[0]["episodes_this_iter"])]]
    assert float(rows[0]["eprewmean"]) == pytest.approx(np.mean(window[-100:]))
    assert [int(r["total_timesteps"]) for r in rows] == [768, 1024]
    # Resuming a finished run trains nothing and rewrites no checkpoint.
    files = {name: os.path.getmtime(os.path.join(ckpt, name)) for name in os.listdir(ckpt)}
    learn("CartPole-v1", MlpPolicy, max_timesteps=1024, load_path=ckpt, save_path=ckpt, seed=1, **FAST)
    assert {name: os.path.getmtime(os.path.join(ckpt, name)) for name in os.listdir(ckpt)} == files


class NanAfter(gym.Wrapper):
    """After ``steps`` steps, the reward (or observation feature 2, with ``obs=True``) turns NaN."""

    def __init__(self, env, steps, obs=False):
        super().__init__(env)
        self.left, self.obs = steps, obs

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.left -= 1
        if self.left < 0 and self.obs:
            obs = obs.copy()
            obs[2] = np.nan
        elif self.left < 0:
            reward = float("nan")
        return obs, reward, terminated, truncated, info


def test_nan_stops_training_and_keeps_the_last_good_checkpoint(tmp_path):
    ckpt = str(tmp_path / "ckpt")
    learn(gym.make("CartPole-v1"), MlpPolicy, max_timesteps=256, save_path=ckpt, **FAST)
    files = {name: os.path.getmtime(os.path.join(ckpt, name)) for name in os.listdir(ckpt)}
    # NanAfter(300): the 301st step of the resumed run, step 44 of its second iteration (iteration 3 overall).
    with pytest.raises(
        TrainingDivergedError, match=r"^non-finite rewards \(nan\) in env copy 0 at step 44 of iteration 3; stopped"
    ):
        learn(
            NanAfter(gym.make("CartPole-v1"), 300),
            MlpPolicy,
            max_timesteps=2048,
            load_path=ckpt,
            save_path=ckpt,
            **FAST,
        )
    assert {name: os.path.getmtime(os.path.join(ckpt, name)) for name in os.listdir(ckpt)} == files


def test_non_finite_observations_are_named_with_copy_and_step():
    env = gym.vector.SyncVectorEnv(
        [lambda: Monitor(gym.make("Pendulum-v1")), lambda: Monitor(NanAfter(gym.make("Pendulum-v1"), 100, obs=True))],
        autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,
    )
    with pytest.raises(
        TrainingDivergedError, match=r"^non-finite observations \(nan\) in env copy 1 at step 101 of iteration 1"
    ):
        learn(env, MlpPolicy, max_timesteps=2048, **FAST)


def test_callback_can_stop_and_sees_the_iteration():
    seen = []

    def callback(info):
        seen.append((info.iteration, info.timesteps, "eprewmean" in info.metrics))
        return False

    learn("CartPole-v1", MlpPolicy, max_timesteps=10_000, callback=callback, **FAST)
    assert seen == [(1, 256, True)]


def test_max_iters_and_a_plain_env():
    calls = []
    learn(gym.make("Pendulum-v1"), MlpPolicy, max_iters=2, callback=lambda info: calls.append(info.iteration), **FAST)
    assert calls == [1, 2]


def test_next_step_vector_envs_are_rejected():
    env = gym.make_vec("CartPole-v1", 2, vectorization_mode="sync")
    with pytest.raises(ConfigError, match="SAME_STEP"):
        learn(env, MlpPolicy, max_timesteps=256, **FAST)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(timesteps_per_actorbatch=0), "timesteps_per_actorbatch must be a positive integer"),
        (dict(optim_batchsize=-1), "optim_batchsize must be a positive integer"),
        (dict(optim_epochs=0), "optim_epochs must be a positive integer"),
        (dict(optim_batchsize=512), "optim_batchsize 512 is larger than the batch"),
        (dict(clip_param=0.0), "clip_param must be > 0"),
        (dict(clip_param=-0.1), "clip_param must be > 0"),
        (dict(gamma=1.5), r"gamma must be in \[0, 1\]"),
        (dict(lam=-0.1), r"lam must be in \[0, 1\]"),
        (dict(optim_stepsize=0.0), "optim_stepsize must be > 0"),
        (dict(schedule="cosine"), "schedule must be one of constant, linear, got 'cosine'"),
        (dict(max_timesteps=0), "set at least one of"),
    ],
)
def test_invalid_settings_are_config_errors(kwargs, message):
    settings = dict(FAST, max_timesteps=256)
    settings.update(kwargs)
    with pytest.raises(ConfigError, match=message):
        learn("CartPole-v1", MlpPolicy, **settings)


def test_missing_and_corrupt_checkpoints(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint"):
        learn("CartPole-v1", MlpPolicy, max_timesteps=256, load_path=str(tmp_path / "nothing"), **FAST)
    ckpt = str(tmp_path / "ckpt")
    learn("CartPole-v1", MlpPolicy, max_timesteps=256, save_path=ckpt, **FAST)
    data = [os.path.join(ckpt, f) for f in os.listdir(ckpt) if ".data-" in f][0]
    with open(data, "r+b") as f:
        f.truncate(100)
    with pytest.raises(CheckpointError, match="cannot restore"):
        learn("CartPole-v1", MlpPolicy, max_timesteps=256, load_path=ckpt, **FAST)


def test_checkpoint_of_another_env_does_not_fit(tmp_path):
    ckpt = str(tmp_path / "ckpt")
    learn("CartPole-v1", MlpPolicy, max_timesteps=256, save_path=ckpt, **FAST)
    with pytest.raises(CheckpointError, match="cannot restore"):
        learn("Pendulum-v1", MlpPolicy, max_timesteps=256, load_path=ckpt, **FAST)


def test_a_new_run_does_not_overwrite_another_runs_checkpoints(tmp_path):
    ckpt = str(tmp_path / "ckpt")
    learn("CartPole-v1", MlpPolicy, max_timesteps=256, save_path=ckpt, **FAST)
    before = {name: os.path.getmtime(os.path.join(ckpt, name)) for name in os.listdir(ckpt)}
    with pytest.raises(ConfigError, match="already holds checkpoints; resume with --load_path"):
        learn("CartPole-v1", MlpPolicy, max_timesteps=256, save_path=ckpt, **FAST)
    assert {name: os.path.getmtime(os.path.join(ckpt, name)) for name in os.listdir(ckpt)} == before


def test_adaptive_kl_beta_changes_is_logged_and_resumes(tmp_path):
    ckpt, log1, log2 = str(tmp_path / "ckpt"), str(tmp_path / "log1"), str(tmp_path / "log2")
    settings = dict(FAST, loss="adaptive_kl", kl_beta=1.0, kl_target=1e-6)  # KL far above target: beta doubles
    learn("CartPole-v1", MlpPolicy, max_timesteps=768, save_path=ckpt, log_path=log1, **settings)
    assert [float(r["kl_beta"]) for r in read_progress(log1)] == [1.0, 2.0, 4.0]
    state = PPOState(1.0)
    restore_state(ckpt, "algo_state", state)
    assert float(state.kl_beta) == 8.0
    learn("CartPole-v1", MlpPolicy, max_timesteps=1024, load_path=ckpt, save_path=ckpt, log_path=log2, **settings)
    assert [float(r["kl_beta"]) for r in read_progress(log2)] == [8.0]


def test_fixed_kl_keeps_beta_and_target_kl_logs_epochs(tmp_path):
    learn(
        "CartPole-v1",
        MlpPolicy,
        max_timesteps=512,
        log_path=str(tmp_path),
        loss="fixed_kl",
        kl_beta=3.0,
        target_kl=1e-9,
        **FAST,
    )
    rows = read_progress(str(tmp_path))
    assert [float(r["kl_beta"]) for r in rows] == [3.0, 3.0]
    assert [int(r["epochs_run"]) for r in rows] == [1, 1]  # any KL exceeds 1.5e-9: stop after the first epoch


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(loss="kl"), "loss must be one of clip, none, fixed_kl, adaptive_kl"),
        (dict(loss="adaptive_kl", kl_target=0.0), "adaptive_kl needs kl_target > 0"),
        (dict(target_kl=-1.0), "target_kl must be >= 0"),
        (dict(kl_beta=-1.0), "kl_beta must be >= 0"),
    ],
)
def test_invalid_objective_settings(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        learn("CartPole-v1", MlpPolicy, max_timesteps=256, **dict(FAST, **kwargs))


def test_ppo2_reward_scaling_statistics_are_checkpointed(tmp_path):
    ckpt = str(tmp_path / "ckpt")
    learn(
        "Pendulum-v1",
        MlpPolicy,
        max_timesteps=512,
        save_path=ckpt,
        normalize_rewards=True,
        vf_clip=True,
        max_grad_norm=0.5,
        **FAST,
    )
    from baselines_tf2.common.reward_scaler import RewardScaler  # noqa: PLC0415

    scaler = RewardScaler(1, 0.99)
    restore(ckpt, reward_scaler=scaler)
    assert float(scaler.ret_rms.count) == pytest.approx(512 + 1e-2)
    assert float(scaler.ret_rms.std) > 1.0  # Pendulum's returns are in the hundreds
    learn("Pendulum-v1", MlpPolicy, max_timesteps=768, load_path=ckpt, save_path=ckpt, normalize_rewards=True, **FAST)


def test_schedule_timesteps_sets_alphas_horizon_and_survives_a_resume(tmp_path):
    ckpt, log1, log2 = str(tmp_path / "ckpt"), str(tmp_path / "log1"), str(tmp_path / "log2")
    kw = dict(FAST, schedule="linear", optim_stepsize=1e-3, clip_param=0.2, seed=2)
    learn("CartPole-v1", MlpPolicy, max_timesteps=512, schedule_timesteps=2048, save_path=ckpt, log_path=log1, **kw)
    # Resumed without the keyword: the checkpoint's horizon, not the new stop limit, sets alpha.
    learn("CartPole-v1", MlpPolicy, max_timesteps=1024, load_path=ckpt, save_path=ckpt, log_path=log2, **kw)
    rows = read_progress(log1) + read_progress(log2)
    done_before = [0, 256, 512, 768]
    for row, t in zip(rows, done_before, strict=True):
        alpha = 1 - t / 2048
        assert float(row["stepsize"]) == pytest.approx(1e-3 * alpha)
        assert float(row["clip_param"]) == pytest.approx(0.2 * alpha)
    # Without it, alpha falls over the stop limit.
    learn("CartPole-v1", MlpPolicy, max_timesteps=512, log_path=str(tmp_path / "log3"), **kw)
    assert [float(r["stepsize"]) for r in read_progress(str(tmp_path / "log3"))] == pytest.approx([1e-3, 5e-4])


def test_schedule_timesteps_below_the_limit_is_refused():
    with pytest.raises(ConfigError, match="schedule_timesteps 100 is below max_timesteps 512"):
        learn("CartPole-v1", MlpPolicy, max_timesteps=512, schedule_timesteps=100, **FAST)
    with pytest.raises(ConfigError, match="schedule_timesteps must be an integer >= 0"):
        learn("CartPole-v1", MlpPolicy, max_timesteps=512, schedule_timesteps=-1, **FAST)


def test_nan_in_the_parameters_stops_with_one_line_and_keeps_the_checkpoint(monkeypatch, tmp_path, capsys):
    from baselines_tf2.cli import main  # noqa: PLC0415
    from baselines_tf2.ppo import pposgd  # noqa: PLC0415

    ckpt = str(tmp_path / "ckpt")
    flags = ["--env", "CartPole-v1", "--timesteps_per_actorbatch", "256", "--optim_epochs", "1", "--progress", "false"]
    assert main([*flags, "--num_timesteps", "256", "--save_path", ckpt]) == 0

    def checkpoint_files():  # run.json is rewritten (same content) at every start
        return {name: os.path.getmtime(os.path.join(ckpt, name)) for name in os.listdir(ckpt) if name != "run.json"}

    saved = checkpoint_files()
    original = pposgd.run_epochs

    def poisoned(updater, *args, **kwargs):
        epochs = original(updater, *args, **kwargs)
        updater.var_list[0].assign(updater.var_list[0] * np.nan)  # as a diverged update would leave them
        return epochs

    monkeypatch.setattr(pposgd, "run_epochs", poisoned)
    capsys.readouterr()
    code = main([*flags, "--num_timesteps", "512", "--load_path", ckpt, "--save_path", ckpt])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert err == "run.py: error: NaN/Inf in the loss at iteration 2; stopped without saving this state\n"
    assert checkpoint_files() == saved and "ckpt-1.index" in saved


def _rows_without_clock(log):
    return [{k: v for k, v in row.items() if k not in ("fps", "time_elapsed")} for row in read_progress(log)]


@pytest.mark.parametrize("num_env", [1, 2])
def test_resume_at_episode_boundaries_equals_the_uninterrupted_run(tmp_path, num_env):
    """Pendulum's episodes are 200 steps: 400-step iterations end every copy's episode, so resuming is exact."""
    kw = dict(
        timesteps_per_actorbatch=400,
        optim_epochs=2,
        optim_batchsize=100,
        num_env=num_env,
        seed=4,
        progress=False,
        max_timesteps=1600 * num_env,
    )
    straight = learn("Pendulum-v1", MlpPolicy, log_path=str(tmp_path / "straight"), **kw)
    ckpt = str(tmp_path / "ckpt")
    learn(
        "Pendulum-v1", MlpPolicy, **dict(kw, max_timesteps=800 * num_env), save_path=ckpt, log_path=str(tmp_path / "a")
    )
    resumed = learn("Pendulum-v1", MlpPolicy, load_path=ckpt, log_path=str(tmp_path / "b"), **kw)
    assert _rows_without_clock(tmp_path / "b") == _rows_without_clock(tmp_path / "straight")[2:]
    for a, b in zip(straight.trainable_variables, resumed.trainable_variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_fraction_left_is_a_pure_function_of_the_counters():
    from baselines_tf2.config import RunConfig  # noqa: PLC0415
    from baselines_tf2.train.training import fraction_left  # noqa: PLC0415

    cfg = RunConfig(max_timesteps=1000, max_iters=10)
    assert fraction_left(cfg, 250, 0, 2, 0.0) == pytest.approx(0.75)  # the larger share used decides
    assert fraction_left(cfg, 250, 0, 5, 0.0) == pytest.approx(0.5)
    assert fraction_left(cfg, 1000, 0, 5, 0.0) is None and fraction_left(cfg, 0, 0, 10, 0.0) is None
    assert fraction_left(cfg, 250, 0, 2, 0.0, schedule_timesteps=4000) == pytest.approx(0.9375)  # the horizon's
    assert fraction_left(RunConfig(max_seconds=60.0), 0, 0, 0, 45.0) == pytest.approx(0.25)


def test_checkpoints_of_older_versions_resume_their_state(tmp_path):
    import tensorflow as tf  # noqa: PLC0415

    class OldTrainState(tf.Module):  # an older layout: beta in the run's state, no env_states yet
        def __init__(self) -> None:
            super().__init__()
            self.timesteps = tf.Variable(4096, dtype=tf.int64)
            self.kl_beta = tf.Variable(8.0)

    prefix = tf.train.Checkpoint(state=OldTrainState()).write(str(tmp_path / "ckpt"))
    state, ppo = TrainState(), PPOState(1.0)
    restore_state(prefix, "state", state)
    restore_state(prefix, "algo_state", ppo, PPOState.legacy)
    assert int(state.timesteps) == 4096 and state.env_states.numpy() == b"" and float(ppo.kl_beta) == 8.0
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        restore_state(str(tmp_path / "nothing-here"), "state", state)
