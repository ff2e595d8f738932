"""RunningMeanStd against NumPy on the concatenated batches (PPO1 semantics, one process)."""

import numpy as np
import pytest
import tensorflow as tf

from baselines_tf2.common.running_mean_std import VAR_FLOOR, RunningMeanStd


def expected_stats(x: np.ndarray, epsilon: float) -> tuple[np.ndarray, np.ndarray, float]:
    """PPO1's formulas over all data seen, with the (0, epsilon, epsilon) prior."""
    count = len(x) + epsilon
    mean = x.sum(0) / count
    var = np.maximum((x**2).sum(0) / count + epsilon / count - mean**2, VAR_FLOOR)
    return mean, var, count


@pytest.mark.parametrize("shape", [(), (3,), (2, 2)])
def test_matches_numpy_on_concatenated_batches(shape):
    rng = np.random.default_rng(0)
    batches = [rng.normal(loc=2.0, scale=3.0, size=(n, *shape)) for n in (7, 1, 30)]
    rms = RunningMeanStd(shape=shape)
    for batch in batches:
        rms.update(batch)
    mean, var, count = expected_stats(np.concatenate(batches), 1e-2)
    np.testing.assert_allclose(rms.mean, mean, rtol=1e-6)
    np.testing.assert_allclose(rms.var, var, rtol=1e-5)
    np.testing.assert_allclose(rms.std, np.sqrt(var), rtol=1e-5)
    assert float(rms.count) == pytest.approx(count)


def test_large_sample_approaches_plain_numpy_mean_and_var():
    x = np.random.default_rng(1).normal(loc=-1.0, scale=2.0, size=(20_000, 2))
    rms = RunningMeanStd(shape=(2,))
    rms.update(x[:5000])
    rms.update(x[5000:])
    np.testing.assert_allclose(rms.mean, x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(rms.var, x.var(0), rtol=1e-4)


def test_std_floor_for_constant_features():
    rms = RunningMeanStd(shape=(2,))
    rms.update(np.tile([5.0, -3.0], (100, 1)))
    np.testing.assert_allclose(rms.mean, [5.0 * 100 / 100.01, -3.0 * 100 / 100.01], rtol=1e-6)
    np.testing.assert_allclose(rms.std, [np.sqrt(VAR_FLOOR)] * 2, rtol=1e-6)


def test_initial_state_and_empty_update():
    rms = RunningMeanStd(shape=(3,), epsilon=1e-2)
    np.testing.assert_allclose(rms.mean, 0.0)
    np.testing.assert_allclose(rms.var, 1.0, rtol=1e-6)  # sumsq/count = 1 before any data
    rms.update(np.zeros((0, 3)))
    assert float(rms.count) == pytest.approx(1e-2)


def test_statistics_are_checkpointed(tmp_path):
    rms = RunningMeanStd(shape=(2,))
    rms.update(np.random.default_rng(2).normal(size=(50, 2)))
    path = tf.train.Checkpoint(rms=rms).save(str(tmp_path / "rms"))
    restored = RunningMeanStd(shape=(2,))
    assert not rms.trainable_variables
    tf.train.Checkpoint(rms=restored).restore(path).assert_consumed()
    np.testing.assert_array_equal(restored.mean, rms.mean)
    np.testing.assert_array_equal(restored.std, rms.std)
    assert float(restored.count) == float(rms.count)
