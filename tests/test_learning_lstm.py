"""A task that needs memory (marker ``slow``): an LSTM policy learns it, an MLP of the same size cannot.

ToyCue-v0 (tests/toy_envs.py) shows a cue at an episode's first step and asks for it four blank
steps later; the query looks the same whichever the cue, so a feed-forward policy scores 0.5 on
average at best. Both policies: one hidden layer of 32 (the LSTM policy adds 32 LSTM units),
ppo2's orthogonal init, the same PPO settings and seed.
"""

from functools import partial

import pytest
import toy_envs  # noqa: F401  (registers ToyCue-v0)

from baselines_tf2.common.policies import LstmPolicy, MlpPolicy
from baselines_tf2.ppo import learn

pytestmark = pytest.mark.slow

SETTINGS = dict(
    num_env=8,
    timesteps_per_actorbatch=48,
    optim_batchsize=96,  # 2 env copies' whole sequences per minibatch, 4 minibatches
    optim_epochs=4,
    optim_stepsize=1e-3,
    entcoeff=0.01,
    max_timesteps=30_000,
    seed=0,
    progress=False,
)


def eprewmeans(policy_fn) -> list[float]:
    """The mean return of the last 100 episodes after each iteration."""
    rows: list[float] = []
    learn("ToyCue-v0", policy_fn, callback=lambda info: rows.append(info.metrics["eprewmean"]) and None, **SETTINGS)
    return rows


def test_an_lstm_remembers_the_cue_an_mlp_cannot():
    lstm = eprewmeans(partial(LstmPolicy, nlstm=32, hid_size=32, num_hid_layers=1, init="orthogonal"))
    mlp = eprewmeans(partial(MlpPolicy, hid_size=32, num_hid_layers=1, init="orthogonal"))
    assert max(lstm) >= 0.95, f"LSTM: best mean return {max(lstm):.2f} (memory solves it: 1)"
    assert max(mlp) <= 0.75, f"MLP: best mean return {max(mlp):.2f} (without memory: 0.5 on average)"
