"""Acting with a recurrent policy: each env copy's state carried from step to step, reset where an episode ends.

The actor holds, per copy, the state before its next step and an ``episode_start`` flag (Baselines'
mask ``M``): set for every copy at the start and, through :meth:`RecurrentActor.end_episodes`, for
each copy whose episode ended at the last step; the policy's step then zeroes that copy's state
before reading the new episode's first observation. :meth:`RecurrentActor.carry` tells a rollout
which state and flags the next step acts with, so the learner can replay the segment from them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from baselines_tf2.common.actors import Actor

__all__ = ["RecurrentActor"]


class RecurrentActor(Actor):
    """One compiled step of a :class:`~baselines_tf2.common.lstm_policy.RecurrentPolicy` per call, sampling on the host.

    The batch of each call is the env copies (rows keep their order from call to call); a batch
    of another size starts every row afresh.
    """

    def __init__(self, policy: Any, rng: np.random.Generator) -> None:
        super().__init__(policy, rng)
        self.state = policy.initial_state(0)
        self.episode_start = np.ones(0, bool)

    def carry(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The state ``[n, state_size]`` and flags ``[n]`` the next step of ``n`` copies acts with."""
        if len(self.state) != n:
            self.state = self.policy.initial_state(n)
            self.episode_start = np.ones(n, bool)
        return self.state, self.episode_start

    def forward(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One step: distribution parameters and values; the copies' states move on."""
        state, start = self.carry(len(obs))
        flat, vpred, self.state = self.policy.step_numpy(obs, state, start)
        self.episode_start = np.zeros(len(obs), bool)
        return flat, vpred

    def value(self, obs: np.ndarray) -> np.ndarray:
        """``V`` of the copies' next observations, without moving their states."""
        state, start = self.carry(len(obs))
        return self.policy.step_numpy(obs, state, start)[1]

    def final_value(self, obs: np.ndarray, copies: list[int]) -> np.ndarray:
        """``V`` of the final observations of ``copies`` (cut by a time limit), each from its copy's state."""
        return self.policy.step_numpy(obs, self.state[copies], self.episode_start[copies])[1]

    def end_episodes(self, dones: np.ndarray) -> None:
        """Copies whose episode ended at the last step start their next step from a zero state."""
        dones = np.asarray(dones, bool)
        if len(dones) == len(self.episode_start):
            self.episode_start = self.episode_start | dones
