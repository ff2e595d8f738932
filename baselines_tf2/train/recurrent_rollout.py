"""Rollouts of recurrent policies: a :class:`RolloutCollector` that also records what the policy's state was.

Per step and env copy the segment keeps the state the policy acted with (before the step's
reset) and the ``episode_start`` flag (the copy's episode began at that step: Baselines' mask,
its runner's ``dones`` of the step before). The first step's flags are those left by the previous
segment (all set at the very start), so a segment that begins mid-episode is replayed from the
state the copy really had. After every step the actor is told which episodes ended, and resets
those copies' states before their next step.

A resumed run starts every copy in a new episode (the env copies are reset, see
:mod:`~baselines_tf2.train.rollout`), so its actor starts from zero states with every flag set:
exactly what the uninterrupted run does after a segment that ends on episode boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from baselines_tf2.common.actors import Actor
from baselines_tf2.common.recurrent_actor import RecurrentActor
from baselines_tf2.train.rollout import RolloutCollector, Segment, _Step

__all__ = ["RecurrentCollector", "RecurrentSegment"]


@dataclass
class RecurrentSegment(Segment):
    """A :class:`Segment` with the recurrent policy's inputs of each step."""

    rnn_states: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0), np.float32))  # [T, N, state_size]
    episode_starts: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), bool))  # bool [T, N]


class RecurrentCollector(RolloutCollector):
    """:meth:`collect` returns a :class:`RecurrentSegment`; acts through a :class:`RecurrentActor`."""

    _trace: list[tuple[np.ndarray, np.ndarray]]

    def _step(self, actor: Actor) -> _Step:
        assert isinstance(actor, RecurrentActor), "a recurrent policy acts through its RecurrentActor"
        state, start = actor.carry(self.num_env)
        step = super()._step(actor)
        actor.end_episodes(step.dones)
        self._trace.append((state, start))
        return step

    def collect(self, actor: Actor) -> RecurrentSegment:
        """``horizon`` steps, as :meth:`RolloutCollector.collect`, with each step's state and start flags."""
        self._trace = []
        seg = super().collect(actor)
        states, starts = zip(*self._trace)
        return RecurrentSegment(**vars(seg), rnn_states=np.stack(states), episode_starts=np.stack(starts))

    def collect_episodes(self, actor: Actor, min_steps: int) -> Segment:
        raise NotImplementedError("recurrent policies are trained on fixed-horizon segments (PPO), not whole episodes")
