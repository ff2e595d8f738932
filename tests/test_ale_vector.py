"""--env_backend ale_vector: ale_py's C++ vector Atari behind the same interface as the gymnasium stack."""

import os

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

from baselines_tf2.cli import main
from baselines_tf2.common.actors import make_actor
from baselines_tf2.common.mpi_adam import MpiAdam
from baselines_tf2.common.policies import CnnPolicy
from baselines_tf2.envs.ale_vector import AleVectorEnv
from baselines_tf2.envs.make import check_vec_env, make_vec_env
from baselines_tf2.envs.monitor import read_monitor_csv
from baselines_tf2.errors import ConfigError
from baselines_tf2.ppo.pposgd import _prepare_batch
from baselines_tf2.ppo.update import PPOUpdater
from baselines_tf2.train.rollout import RolloutCollector


def play(env, steps: int, seed: int = 0):
    """Random actions; per step the signed rewards, dones, and the games the env reported finished."""
    rng = np.random.default_rng(seed)
    rewards, dones, games = [], [], []
    for _ in range(steps):
        _, reward, terminated, truncated, info = env.step(rng.integers(0, env.single_action_space.n, env.num_envs))
        rewards.append(reward)
        dones.append(terminated | truncated)
        if "final_info" in info:
            final = info["final_info"]
            games += [
                (i, final["episode"]["r"][i], final["episode"]["l"][i]) for i in np.flatnonzero(final["_episode"])
            ]
    return np.array(rewards), np.array(dones), games


def test_spaces_layout_and_autoreset_match_the_gymnasium_stack():
    ale = make_vec_env("ALE/Pong-v5", 3, backend="ale_vector")
    gym_env = make_vec_env("ALE/Pong-v5", 3)
    check_vec_env(ale)  # SAME_STEP, Box observations
    assert ale.single_observation_space == gym_env.single_observation_space  # Box(0, 255, (84, 84, 4), uint8)
    assert ale.single_action_space == gym_env.single_action_space
    obs, _ = ale.reset(seed=[0, 1, 2])
    assert obs.shape == (3, 84, 84, 4) and obs.dtype == np.uint8
    # channels-last stack, oldest frame first: each step shifts it by one (ALE pads the start with zeros)
    assert not obs[..., :3].any() and obs[..., 3].any(axis=(1, 2)).all()
    nxt = ale.step(np.zeros(3, np.int64))[0]
    np.testing.assert_array_equal(nxt[..., :3], obs[..., 1:])
    ale.close()
    gym_env.close()


def test_seeded_copies_repeat_and_differ():
    def first_steps(seeds):
        env = make_vec_env("ALE/Breakout-v5", 2, backend="ale_vector")
        obs, _ = env.reset(seed=seeds)
        frames = [obs]
        for a in ([1, 1], [2, 3], [3, 2]) * 20:
            frames.append(env.step(np.array(a))[0])
        env.close()
        return np.array(frames)

    a, b, c = first_steps([0, 1]), first_steps([0, 1]), first_steps([5, 6])
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_lives_end_training_episodes_games_end_monitor_episodes(tmp_path):
    """Breakout: 5 lives per game. Training rewards are signs; the monitor has whole games' raw scores."""
    env = make_vec_env("ALE/Breakout-v5", 2, backend="ale_vector", log_dir=str(tmp_path), reward_scale=2.0)
    env.reset(seed=[0, 1])
    rewards, dones, games = play(env, 2500)
    env.close()
    assert set(np.unique(rewards)) <= {0.0, 2.0} and rewards.max() == 2.0  # sign(r) * reward_scale
    assert len(games) >= 10
    for i in range(2):
        ends = np.flatnonzero(dones[:, i])
        copy_games = [(r, n) for j, r, n in games if j == i]
        assert len(ends) >= 4 * len(copy_games)  # a lost life ends a training episode, the game goes on
        # each game's length is the number of steps since the previous game ended; its score is at
        # least the number of its rewarded steps (Breakout's bricks are worth 1, 4 or 7)
        lengths = np.array([n for _, n in copy_games])
        game_ends = np.cumsum(lengths) - 1
        assert set(game_ends) <= set(ends)
        starts = np.concatenate([[0], game_ends[:-1] + 1])
        for (score, _), s, e in zip(copy_games, starts, game_ends):
            assert score >= np.count_nonzero(rewards[s : e + 1, i])
        header, rows = read_monitor_csv(os.path.join(tmp_path, f"0.{i}.monitor.csv"))
        assert header["env_id"] == "ALE/Breakout-v5"
        assert [(r, n) for r, n, _ in rows] == [(float(r), int(n)) for r, n in copy_games]


def test_only_for_atari_training():
    with pytest.raises(ConfigError, match="ale_vector is for training on Atari ids"):
        make_vec_env("CartPole-v1", 2, backend="ale_vector")
    with pytest.raises(ConfigError, match="env_backend must be one of gymnasium, ale_vector"):
        make_vec_env("ALE/Pong-v5", 2, backend="envpool")


def test_cli_trains_on_it_and_rejects_it_elsewhere(tmp_path, capsys):
    train = ["--env", "ALE/Pong-v5", "--num_timesteps", "1024", "--optim_epochs", "1", "--env_backend", "ale_vector"]
    code = main([*train, "--log_path", str(tmp_path), "--progress", "false"])
    assert code == 0
    out = capsys.readouterr().out
    assert "1 rank(s) x 8 env(s) (ale_vector)" in out and "total_timesteps" in out
    assert sorted(os.listdir(tmp_path / "monitor")) == [f"0.{i}.monitor.csv" for i in range(8)]
    code = main(["--env", "CartPole-v1", "--num_timesteps", "256", "--env_backend", "ale_vector"])
    err = capsys.readouterr().err
    assert code != 0 and err.count("\n") == 1 and "ale_vector is for training on Atari ids, not CartPole-v1" in err


def test_building_it_leaves_gymnasiums_vector_metadata_alone():
    """ale_py writes its autoreset mode into ``self.metadata``; that must not become every VectorEnv's."""
    before = dict(gym.vector.VectorEnv.metadata)
    env = make_vec_env("ALE/Pong-v5", 1, backend="ale_vector")
    assert env.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    assert gym.vector.VectorEnv.metadata == before and "autoreset_mode" not in before
    env.close()


def test_rollout_bootstraps_frame_limit_truncations():
    """A game cut at the frame limit is a truncation: bootstrapped with V(its last stack), not a death."""
    env = AleVectorEnv("ALE/Pong-v5", 2, max_frames=200)  # 50 agent steps per game
    pi = CnnPolicy(env.single_observation_space, env.single_action_space, kind="small")
    seg = RolloutCollector(env, 120, 0.99, np.uint8, seeds=[0, 1]).collect(make_actor(pi, np.random.default_rng(0)))
    env.close()
    assert seg.episodes and {length for _, length in seg.episodes} == {50}
    assert seg.dones.sum() == 4 and np.count_nonzero(seg.bootstrap) == 4  # two truncated games per copy
    np.testing.assert_array_equal(seg.bootstrap != 0, seg.dones)
    np.testing.assert_array_equal(np.flatnonzero(seg.dones[:, 0]), [49, 99])


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_nature_cnn_pi_old_is_the_acting_network_on_real_frames(precision):
    """8 copies acting one frame each, the update evaluating all 256 at once: ratio 1, nothing clipped."""
    env = make_vec_env("ALE/Pong-v5", 8, backend="ale_vector")
    pi = CnnPolicy(env.single_observation_space, env.single_action_space, precision=precision)
    for v in pi.trainable_variables:  # a head far from uniform, so that a mismatch would show
        v.assign(v + np.random.default_rng(0).normal(0, 0.02, v.shape).astype(np.float32))
    seg = RolloutCollector(env, 32, 0.99, np.uint8, seeds=list(range(8))).collect(
        make_actor(pi, np.random.default_rng(1))
    )
    env.close()
    batch = _prepare_batch(seg, pi, None, 0.99, 0.95)
    assert np.abs(batch.oldpdparam).max() > 0.05
    updater = PPOUpdater(pi, MpiAdam(pi.trainable_variables), entcoeff=0.01, vf_coef=1.0, vf_clip=False)
    updater.load_batch(batch)
    m = updater.evaluate(clip_param=0.1)
    assert m["approxkl"] == pytest.approx(0.0, abs=1e-9) and m["clipfrac"] == 0.0
