"""Minibatches of whole env sequences (recurrent policies): whole columns, env-major, every copy once per epoch."""

import numpy as np
import pytest

from baselines_tf2.errors import ConfigError
from baselines_tf2.ppo.sequences import env_major_rows, envs_per_minibatch, sequence_minibatches


def test_minibatches_are_whole_env_columns_listed_env_major():
    horizon, num_env, envs = 5, 6, 2
    batch = np.arange(horizon * num_env).reshape(horizon, num_env)  # time-major rows t * N + e
    perm = sequence_minibatches(np.random.default_rng(0), horizon, num_env, envs)
    assert perm.shape == (3, envs * horizon)
    seen = []
    for row in perm:
        for sequence in row.reshape(envs, horizon):  # env-major: one copy's T steps after another's
            copy = sequence[0] % num_env
            np.testing.assert_array_equal(sequence, batch[:, copy])  # its whole column, in time order
            seen.append(copy)
    assert sorted(seen) == list(range(num_env))  # every copy once per epoch
    orders = {tuple(sequence_minibatches(np.random.default_rng(s), horizon, num_env, envs)[:, 0]) for s in range(20)}
    assert len(orders) > 1  # shuffled from epoch to epoch


def test_env_major_rows_list_every_row_once():
    rows = env_major_rows(3, 2)
    np.testing.assert_array_equal(rows, [0, 2, 4, 1, 3, 5])


@pytest.mark.parametrize(
    "horizon, num_env, minibatch_size, expected", [(128, 8, 256, 2), (128, 8, 1024, 8), (5, 1, 5, 1), (64, 4, 128, 2)]
)
def test_envs_per_minibatch(horizon, num_env, minibatch_size, expected):
    assert envs_per_minibatch(horizon, num_env, minibatch_size) == expected


@pytest.mark.parametrize(
    "horizon, num_env, minibatch_size, suggestion",
    [(2048, 1, 64, 2048), (128, 8, 200, 128), (128, 8, 384, 256), (128, 3, 256, 128), (64, 6, 512, 384)],
)
def test_minibatches_that_split_sequences_are_refused_with_one_line(horizon, num_env, minibatch_size, suggestion):
    with pytest.raises(ConfigError) as info:
        envs_per_minibatch(horizon, num_env, minibatch_size)
    message = str(info.value)
    assert "\n" not in message and f"optim_batchsize {minibatch_size} must be" in message
    assert message.endswith(f"(e.g. optim_batchsize {suggestion})")
