"""Tiny environments with known answers, for rollout and learning tests."""

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class ConstantEnv(gym.Env):
    """Observation always [1.0], reward 1 per step, never terminates (wrap in TimeLimit to truncate)."""

    observation_space = spaces.Box(-np.inf, np.inf, (1,), np.float32)
    action_space = spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.ones(1, np.float32), {}

    def step(self, action):
        return np.ones(1, np.float32), 1.0, False, False, {}


class CountdownEnv(gym.Env):
    """Observation = steps taken so far; terminates (a death) after ``length`` steps with reward 1 each."""

    observation_space = spaces.Box(0, np.inf, (1,), np.float32)
    action_space = spaces.Box(-1, 1, (1,), np.float32)

    def __init__(self, length: int = 3):
        self.length = length
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([0.0], np.float32), {}

    def step(self, action):
        self.t += 1
        return np.array([float(self.t)], np.float32), 1.0, self.t >= self.length, False, {}


def truncated_constant_env(limit: int = 50) -> gym.Env:
    return gym.wrappers.TimeLimit(ConstantEnv(), max_episode_steps=limit)


gym.register("ToyTruncatedConstant-v0", entry_point=truncated_constant_env, max_episode_steps=None)


class NoiseImageEnv(gym.Env):
    """Random ``uint8`` images ``[24, 24, 2]``, 4 actions, reward = action, episodes of 7 steps."""

    observation_space = spaces.Box(0, 255, (24, 24, 2), np.uint8)
    action_space = spaces.Discrete(4)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self.np_random.integers(0, 256, (24, 24, 2), dtype=np.uint8), {}

    def step(self, action):
        self.t += 1
        obs = self.np_random.integers(0, 256, (24, 24, 2), dtype=np.uint8)
        return obs, float(action), self.t >= 7, False, {}
