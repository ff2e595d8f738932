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


class QuadrantEnv(gym.Env):
    """A bright square in one of four quadrants of a ``uint8`` image ``[24, 24, 1]``; reward 1 for
    naming that quadrant (action 0-3), 0 otherwise; episodes of 8 steps. Random policy: 2 per
    episode; a policy that sees the square: 8. The square moves every step, so only vision helps."""

    observation_space = spaces.Box(0, 255, (24, 24, 1), np.uint8)
    action_space = spaces.Discrete(4)

    def _observe(self):
        self.quadrant = int(self.np_random.integers(4))
        obs = self.np_random.integers(0, 60, (24, 24, 1), dtype=np.uint8)
        row, col = divmod(self.quadrant, 2)
        obs[12 * row : 12 * row + 12, 12 * col : 12 * col + 12] = 255
        return obs

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self._observe(), {}

    def step(self, action):
        self.t += 1
        reward = float(int(action) == self.quadrant)
        return self._observe(), reward, self.t >= 8, False, {}


class CueEnv(gym.Env):
    """A memory task: a cue (0 or 1, one-hot) is shown at the first step only, then ``delay`` blank steps, then a
    query (observation ``[0, 0, 1]``) whose action must name the cue: reward 1 if it does, else 0 (the other
    actions do nothing). Episodes of ``delay + 2`` steps. What the query step shows is the same for both cues, so a
    feed-forward policy scores 0.5 on average at best; a policy that remembers the cue scores 1."""

    observation_space = spaces.Box(0, 1, (3,), np.float32)
    action_space = spaces.Discrete(2)

    def __init__(self, delay: int = 4):
        self.delay = delay

    def _observe(self):
        obs = np.zeros(3, np.float32)
        if self.t == 0:
            obs[self.cue] = 1.0
        elif self.t == self.delay + 1:
            obs[2] = 1.0
        return obs

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t, self.cue = 0, int(self.np_random.integers(2))
        return self._observe(), {}

    def step(self, action):
        done = self.t == self.delay + 1
        reward = float(done and int(action) == self.cue)
        self.t += 1
        return (np.zeros(3, np.float32) if done else self._observe()), reward, done, False, {}


if "ToyCue-v0" not in gym.registry:  # test_cli imports this module afresh
    gym.register("ToyCue-v0", entry_point=CueEnv, max_episode_steps=None)


class DictQuadrantEnv(gym.Env):
    """Dict observations: ``image``, a square in one of four quadrants (as :class:`QuadrantEnv`), and
    ``vector``, ``[100 + 10 b, noise]`` with a coin ``b``; reward 1 for action ``(quadrant + 2 b) % 4``,
    episodes of 8 steps. Random: 2 per episode; the image alone: 4; the vector alone: 2; both: 8. The
    vector's scale (mean 105, std 5) needs its normaliser."""

    observation_space = spaces.Dict(
        {
            "image": spaces.Box(0, 255, (24, 24, 1), np.uint8),
            "vector": spaces.Box(-np.inf, np.inf, (2,), np.float32),
        }
    )
    action_space = spaces.Discrete(4)

    def _observe(self):
        self.quadrant = int(self.np_random.integers(4))
        self.coin = int(self.np_random.integers(2))
        image = self.np_random.integers(0, 60, (24, 24, 1), dtype=np.uint8)
        row, col = divmod(self.quadrant, 2)
        image[12 * row : 12 * row + 12, 12 * col : 12 * col + 12] = 255
        vector = np.array([100.0 + 10.0 * self.coin, self.np_random.normal()], np.float32)
        return {"image": image, "vector": vector}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self._observe(), {}

    def step(self, action):
        self.t += 1
        reward = float(int(action) == (self.quadrant + 2 * self.coin) % 4)
        return self._observe(), reward, self.t >= 8, False, {}


if "ToyDictQuadrant-v0" not in gym.registry:  # test_cli imports this module again
    gym.register("ToyDictQuadrant-v0", entry_point=DictQuadrantEnv, max_episode_steps=None)


class _ChoiceEnv(gym.Env):
    """Each step, ``valid`` random actions of each component are allowed (not observed: the observation is
    constant). Choosing the lowest allowed one in every component pays 1, other allowed choices 0; a
    forbidden choice pays -1 and ends the episode. Episodes of ``length`` steps.

    ``Discrete(n)`` (``nvec=[n]``) or ``MultiDiscrete(nvec)``. With masks a random policy scores
    ``length / valid`` (one component) and the best ``length``; without, no policy can score above 0
    on average once forbidden choices are likely (``n = 8``, ``valid = 2``: about -0.7). ``forbidden``
    counts the forbidden choices made.
    """

    observation_space = spaces.Box(-np.inf, np.inf, (1,), np.float32)

    def __init__(self, nvec=(8,), valid: int = 2, length: int = 10):
        self.nvec = [int(n) for n in nvec]
        self.action_space = spaces.Discrete(self.nvec[0]) if len(self.nvec) == 1 else spaces.MultiDiscrete(self.nvec)
        self.valid_count, self.length = valid, length
        self.forbidden = 0

    def _draw(self):
        parts = []
        for n in self.nvec:
            allowed = np.zeros(n, bool)
            allowed[self.np_random.choice(n, min(self.valid_count, n), replace=False)] = True
            parts.append(allowed)
        self.allowed = parts
        return np.ones(1, np.float32), self._info()

    def _info(self):
        return {}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self._draw()

    def step(self, action):
        choice = np.atleast_1d(np.asarray(action))
        self.t += 1
        if not all(allowed[c] for allowed, c in zip(self.allowed, choice)):
            self.forbidden += 1
            return np.ones(1, np.float32), -1.0, True, False, self._info()
        best = all(int(c) == int(np.flatnonzero(allowed)[0]) for allowed, c in zip(self.allowed, choice))
        obs, info = self._draw()
        return obs, float(best), False, self.t >= self.length, info


class MaskedChoiceEnv(_ChoiceEnv):
    """:class:`_ChoiceEnv` with SB3-contrib's ``action_masks()`` method."""

    def action_masks(self):
        return np.concatenate(self.allowed)


class InfoMaskedChoiceEnv(_ChoiceEnv):
    """:class:`_ChoiceEnv` giving its mask in ``info["action_mask"]`` (gymnasium's convention, as Taxi), as int8."""

    def _info(self):
        return {"action_mask": np.concatenate(self.allowed).astype(np.int8)}


if "ToyMaskedChoice-v0" not in gym.registry:  # tests/test_cli.py imports this module afresh
    gym.register("ToyMaskedChoice-v0", entry_point=MaskedChoiceEnv, max_episode_steps=None)
