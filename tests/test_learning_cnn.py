"""A CNN learns to see, in float32 and in mixed bfloat16 (seeded, ~10 s each; not behind ``slow``)."""

from functools import partial

import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from toy_envs import QuadrantEnv

from baselines_tf2.common.policies import CnnPolicy
from baselines_tf2.envs.monitor import Monitor
from baselines_tf2.ppo import learn


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_small_cnn_learns_where_the_square_is(precision):
    """Random guessing scores 2 of 8 per episode; the square moves every step, so 7+ needs the convolutions."""
    env = SyncVectorEnv([lambda: Monitor(QuadrantEnv()) for _ in range(8)], autoreset_mode=AutoresetMode.SAME_STEP)
    scores = []

    def callback(info):
        scores.append(info.metrics["eprewmean"])
        return True

    learn(
        env,
        partial(CnnPolicy, kind="small", precision=precision),
        max_timesteps=10_240,
        num_env=8,
        timesteps_per_actorbatch=32,
        optim_epochs=4,
        optim_batchsize=64,
        optim_stepsize=1e-3,
        entcoeff=0.01,
        seed=0,
        progress=False,
        callback=callback,
    )
    assert scores[0] < 3.0, scores[:3]
    assert np.mean(scores[-5:]) >= 7.0, scores[-10:]
