"""target_kl: an iteration stops after the first epoch whose mean approximate KL exceeds 1.5 target."""

import numpy as np
import pytest

from baselines_tf2.ppo.pposgd import run_epochs


class CraftedUpdater:
    """Reports a given approximate KL for each successive epoch, and records the epochs run."""

    def __init__(self, kls):
        self.kls = list(kls)
        self.perms = []

    def run_epoch(self, perm, stepsize, clip_param):
        self.perms.append(perm)
        return {"approxkl": self.kls[len(self.perms) - 1]}


@pytest.mark.parametrize(
    "kls, target, expected",
    [
        ([0.001, 0.01, 0.016, 0.03], 0.01, 3),  # 0.016 > 0.015: stop after epoch 3
        ([0.001, 0.015, 0.015, 0.015], 0.01, 4),  # exactly 1.5 target does not stop
        ([0.5, 0.5, 0.5, 0.5], 0.01, 1),
        ([0.5, 0.5, 0.5, 0.5], 0.0, 4),  # 0 turns early stopping off
    ],
)
def test_stops_at_the_right_epoch(kls, target, expected):
    updater = CraftedUpdater(kls)
    ran = run_epochs(updater, np.random.default_rng(0), 256, 64, 4, 3e-4, 0.2, target)
    assert ran == expected and len(updater.perms) == expected
    assert all(p.shape == (4, 64) and sorted(p.ravel()) == list(range(256)) for p in updater.perms)
