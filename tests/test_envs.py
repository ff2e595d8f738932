"""Environment construction: type detection, wrappers, Atari preprocessing, the monitor file."""

import numpy as np
import pytest
from gymnasium import spaces

from baselines_tf2.envs.make import env_seeds, env_type_of, make_env, make_vec_env
from baselines_tf2.envs.monitor import read_monitor_csv
from baselines_tf2.errors import ConfigError


@pytest.mark.parametrize(
    "env_id, kind",
    [
        ("Hopper-v5", "mujoco"),
        ("CartPole-v1", "classic_control"),
        ("Pendulum-v1", "classic_control"),
        ("ALE/Pong-v5", "atari"),
        ("BreakoutNoFrameskip-v4", "atari"),
        ("LunarLander-v3", "box2d"),
    ],
)
def test_env_type_detection(env_id, kind):
    assert env_type_of(env_id) == kind


def test_unknown_env_id_is_a_config_error_with_a_suggestion():
    with pytest.raises(ConfigError, match=r"unknown environment id 'Hoper-v5'; did you mean Hopper-v5"):
        env_type_of("Hoper-v5")
    with pytest.raises(ConfigError, match="unknown environment id 'qwertyuiop'$"):
        make_env("qwertyuiop")


def test_seeds_follow_baselines():
    assert env_seeds(7, 2, 3) == [20007, 20008, 20009]


def test_box_actions_are_clipped_before_the_env_and_monitor_writes_baselines_csv(tmp_path):
    env = make_vec_env("Pendulum-v1", 2, rank=1, log_dir=str(tmp_path))
    env.reset(seed=env_seeds(0, 1, 2))
    for _ in range(200):  # Pendulum truncates at 200 steps
        _, reward, _, truncated, _ = env.step(np.full((2, 1), 100.0, np.float32))
    assert truncated.all()
    env.close()
    header, rows = read_monitor_csv(str(tmp_path / "1.0.monitor.csv"))
    assert header["env_id"] == "Pendulum-v1" and "t_start" in header
    assert len(rows) == 1 and rows[0][1] == 200
    assert rows[0][0] > -200 * 16.3  # finite torques: the 100.0 actions were clipped to 2.0
    assert (tmp_path / "1.1.monitor.csv").exists()


def test_atari_training_stack_matches_the_paper():
    env = make_env("ALE/Breakout-v5", train=True)
    assert env.observation_space == spaces.Box(0, 255, (84, 84, 4), np.uint8)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (84, 84, 4) and obs.dtype == np.uint8
    rng = np.random.default_rng(0)
    life_ends, games, clipped = 0, [], set()
    while len(games) < 2:
        obs, reward, terminated, truncated, info = env.step(int(rng.integers(4)))
        clipped.add(reward)
        if terminated or truncated:
            life_ends += 1
            if "episode" in info:
                games.append(info["episode"])
            env.reset()
    assert clipped <= {-1.0, 0.0, 1.0}
    assert life_ends == 10  # Breakout: 5 lives per game, each loss ends a training episode
    assert all(g["l"] > 50 for g in games)  # a monitored episode is a whole game


def test_atari_eval_stack_reports_whole_games_with_true_scores():
    env = make_env("ALE/Breakout-v5", train=False)
    env.reset(seed=1)
    rng = np.random.default_rng(1)
    while True:
        _, reward, terminated, truncated, info = env.step(int(rng.integers(4)))
        if terminated or truncated:
            break
    assert "episode" in info  # the first episode end is the game's end: no life-loss episodes


@pytest.mark.parametrize(
    "env_id, value, expected",
    [
        ("ALE/Pong-v5", None, 0.25),
        ("ALE/Pong-v5", 0.0, 0.0),
        ("PongNoFrameskip-v4", None, 0.0),
        ("PongNoFrameskip-v4", 0.25, 0.25),
    ],
)
def test_sticky_actions_for_any_atari_id(env_id, value, expected):
    env = make_env(env_id, repeat_action_probability=value)
    assert env.unwrapped.ale.getFloat("repeat_action_probability") == pytest.approx(expected)
    assert env.unwrapped._frameskip == 1 and env.observation_space.shape == (84, 84, 4)  # the wrappers skip 4
    env.close()
    vec = make_vec_env(env_id, 2, repeat_action_probability=value)
    assert all(e.unwrapped.ale.getFloat("repeat_action_probability") == pytest.approx(expected) for e in vec.envs)
    vec.close()


def test_sticky_actions_are_checked():
    with pytest.raises(ConfigError, match="repeat_action_probability is an Atari setting"):
        make_vec_env("CartPole-v1", 1, repeat_action_probability=0.0)
    with pytest.raises(ConfigError, match=r"must be in \[0, 1\], got -0.1"):
        make_env("ALE/Pong-v5", repeat_action_probability=-0.1)
