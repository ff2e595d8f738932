"""Evaluation during training (eval_every, eval_episodes): log columns, the best checkpoint, MPI."""

import csv
import json
import os
import time

import gymnasium as gym
import numpy as np
import pytest
from conftest import run_mpi
from test_logger import _scalars
from toy_envs import CountdownEnv

from baselines_tf2.cli import main
from baselines_tf2.common.policies import MlpPolicy
from baselines_tf2.envs.make import make_env
from baselines_tf2.envs.monitor import Monitor
from baselines_tf2.errors import ConfigError
from baselines_tf2.ppo import learn
from baselines_tf2.tools.evaluate import episode_stats
from baselines_tf2.train.checkpoint import restore
from baselines_tf2.train.evaluation import EVAL_KEYS, EVAL_SEED_OFFSET, Evaluation, episode_share
from baselines_tf2.train.logger import Logger

FAST = dict(timesteps_per_actorbatch=256, optim_epochs=2, optim_batchsize=64, progress=False)
FAST_FLAGS = ["--timesteps_per_actorbatch", "256", "--optim_epochs", "2", "--progress", "false"]


def read_rows(log_dir):
    with open(os.path.join(log_dir, "progress.csv"), newline="") as f:
        return list(csv.DictReader(f))


def weights_of(pi):
    return [v.numpy().copy() for v in pi.variables]


def scripted_scores(monkeypatch, scores, seconds=0.0):
    """Each evaluation's episodes all return the next of ``scores`` (length 7), after ``seconds`` of sleep."""
    it = iter(scores)

    def play(self, first, count):
        time.sleep(seconds)
        score = next(it)
        return [(float(score), 7)] * count

    monkeypatch.setattr(Evaluation, "_play", play)


@pytest.mark.parametrize("episodes, size", [(1, 1), (5, 1), (3, 2), (10, 3), (2, 4)])
def test_episode_shares_are_contiguous_and_cover_every_episode_once(episodes, size):
    shares = [episode_share(episodes, r, size) for r in range(size)]
    assert [j for s in shares for j in s] == list(range(episodes))
    assert max(map(len, shares)) - min(map(len, shares)) <= 1


class CountResets(gym.Wrapper):
    def __init__(self, env):
        super().__init__(env)
        self.resets = []

    def reset(self, **kwargs):
        self.resets.append(kwargs)
        return super().reset(**kwargs)


def test_episode_stats_reseed_each_episode_and_leave_the_normaliser_alone():
    env = CountResets(Monitor(CountdownEnv(length=3)))
    pi = MlpPolicy(env.observation_space, env.action_space)
    pi.ob_rms.update(np.array([[2.0], [4.0]]))
    before = [v.numpy().copy() for v in pi.ob_rms.variables]
    assert episode_stats(pi, env, 3, seed=5, reseed=True) == [(3.0, 3)] * 3
    assert env.resets == [{"seed": 5}, {"seed": 6}, {"seed": 7}]
    assert all(np.array_equal(a, v.numpy()) for a, v in zip(before, pi.ob_rms.variables))
    bare = CountdownEnv(length=4)  # no Monitor: the rewards are summed and the steps counted
    assert episode_stats(pi, bare, 2) == [(4.0, 4)] * 2


def test_logger_declared_columns_are_there_from_the_first_row(tmp_path):
    logger = Logger(str(tmp_path), stdout=False)
    logger.declare(["eval/score"])
    logger.log(10, {"total_timesteps": 10, "loss": 1.0})
    logger.log(20, {"total_timesteps": 20, "loss": 2.0, "eval/score": 5.0})
    logger.close()
    with open(tmp_path / "progress.csv", newline="") as f:
        assert list(csv.reader(f)) == [
            ["total_timesteps", "loss", "eval/score"],
            ["10", "1.0", ""],
            ["20", "2.0", "5.0"],
        ]
    assert {k: v for k, v in _scalars(tmp_path / "tb").items() if k[0] == "eval/score"} == {("eval/score", 20): 5.0}
    resumed = Logger(str(tmp_path), stdout=False, resume_at=20)  # columns already in the file: no duplicates
    resumed.declare(["eval/score"])
    resumed.log(30, {"total_timesteps": 30, "loss": 3.0})
    resumed.close()
    with open(tmp_path / "progress.csv", newline="") as f:
        assert list(csv.reader(f))[0] == ["total_timesteps", "loss", "eval/score"]


def test_eval_rows_every_k_iterations_and_after_the_last(tmp_path):
    log = str(tmp_path / "log")
    pi = learn("CartPole-v1", MlpPolicy, max_iters=3, eval_every=2, eval_episodes=3, log_path=log, seed=3, **FAST)
    rows = read_rows(log)
    assert list(rows[0])[-3:] == list(EVAL_KEYS)  # columns from the first row on, after the others
    assert [r["eval/return_mean"] == "" for r in rows] == [True, False, False]  # iteration 2, and 3: the last
    env = make_env("CartPole-v1", train=False)
    episodes = episode_stats(pi, env, 3, seed=3 + EVAL_SEED_OFFSET, reseed=True)  # the final policy, as evaluated
    returns, lengths = np.array(episodes).T
    assert float(rows[2]["eval/return_mean"]) == returns.mean() and float(rows[2]["eval/return_std"]) == returns.std()
    assert float(rows[2]["eval/length_mean"]) == lengths.mean()
    tags = {(tag, step) for tag, step in _scalars(os.path.join(log, "tb")) if tag.startswith("eval/")}
    assert tags == {(key, steps) for key in EVAL_KEYS for steps in (512, 768)}  # TensorBoard: evaluated rows only


def test_evaluation_does_not_change_training(tmp_path):
    """Normaliser frozen, the training generator untouched: the same run with and without evaluation."""
    runs = []
    for every in (0, 1):
        log = str(tmp_path / f"log{every}")
        pi = learn("Pendulum-v1", MlpPolicy, max_iters=2, eval_every=every, eval_episodes=2, log_path=log, **FAST)
        runs.append((weights_of(pi), read_rows(log)))
    (w0, rows0), (w1, rows1) = runs
    assert all(np.array_equal(a, b) for a, b in zip(w0, w1))  # includes ob_rms's sums and count
    timing = {"fps", "time_elapsed"}
    assert [{k: v for k, v in r.items() if k not in timing} for r in rows0] == [
        {k: v for k, v in r.items() if k not in timing and not k.startswith("eval/")} for r in rows1
    ]


def test_evaluation_time_is_not_in_fps(monkeypatch, tmp_path):
    scripted_scores(monkeypatch, [1.0], seconds=2.0)
    log = str(tmp_path / "log")
    learn("CartPole-v1", MlpPolicy, max_iters=2, eval_every=2, eval_episodes=1, log_path=log, **FAST)
    row = read_rows(log)[1]
    assert float(row["eval/return_mean"]) == 1.0
    assert float(row["fps"]) > 256 / 2.0  # 256 steps in well under the evaluation's 2 s


def test_best_checkpoint_written_when_the_score_improves_and_kept_on_resume(monkeypatch, tmp_path):
    ckpt, log = str(tmp_path / "ckpt"), str(tmp_path / "log")
    best = os.path.join(ckpt, "best")
    seen = {}

    def callback(info):  # runs after the iteration's evaluation
        with open(os.path.join(best, "eval.json")) as f:
            seen[info.iteration] = (json.load(f)["iteration"], weights_of(info.policy))

    scripted_scores(monkeypatch, [1, 3, 2, 5])
    settings = dict(eval_every=1, eval_episodes=2, save_path=ckpt, log_path=log, callback=callback, **FAST)
    learn("CartPole-v1", MlpPolicy, max_iters=4, **settings)
    assert [float(r["eval/return_mean"]) for r in read_rows(log)] == [1, 3, 2, 5]
    assert {i: s[0] for i, s in seen.items()} == {1: 1, 2: 2, 3: 2, 4: 4}  # not rewritten at 3: 2 < 3
    with open(os.path.join(best, "eval.json")) as f:
        summary = json.load(f)
    expected = dict(iteration=4, timesteps=1024, score=5.0, return_std=0.0, length_mean=7.0, episodes=2)
    assert summary == {**expected, "checkpoint": "ckpt-4"}
    assert sorted(n for n in os.listdir(best) if n.startswith("ckpt-")) == [
        "ckpt-4.data-00000-of-00001",
        "ckpt-4.index",
    ]
    fresh = MlpPolicy(gym.spaces.Box(-np.inf, np.inf, (4,)), gym.spaces.Discrete(2))
    restore(best, policy=fresh)  # weights and ob_rms of iteration 4
    assert all(np.array_equal(a, b) for a, b in zip(weights_of(fresh), seen[4][1]))

    scripted_scores(monkeypatch, [4, 6])  # resumed: 4 does not beat the saved 5, 6 does
    seen.clear()
    learn("CartPole-v1", MlpPolicy, max_iters=6, load_path=ckpt, **settings)
    assert {i: s[0] for i, s in seen.items()} == {5: 4, 6: 6}


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--eval_every", "-1"], "eval_every must be an integer >= 0, got -1"),
        (["--eval_every", "1", "--eval_episodes", "0"], "eval_episodes must be a positive integer, got 0"),
        (["--eval_every", "1.5"], "argument --eval_every: expected a whole number, got '1.5'"),
    ],
)
def test_bad_settings_are_one_line_errors(flags, message, capsys):
    assert main(["--num_timesteps", "256", *flags]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("run.py: error: ") and message in err, err


def test_an_env_object_needs_a_fitting_eval_env():
    env = gym.make("CartPole-v1")
    with pytest.raises(ConfigError, match="eval_every needs eval_env="):
        learn(env, MlpPolicy, max_iters=1, eval_every=1, **FAST)
    with pytest.raises(ConfigError, match="evaluation env's spaces"):
        learn(env, MlpPolicy, max_iters=1, eval_every=1, eval_env=lambda: gym.make("Acrobot-v1"), **FAST)
    pi = learn(env, MlpPolicy, max_iters=1, eval_every=1, eval_episodes=1, eval_env=gym.make("CartPole-v1"), **FAST)
    assert isinstance(pi, MlpPolicy)


def test_cli_logs_eval_columns_and_plays_the_best_checkpoint(tmp_path, capsys):
    ckpt, log = str(tmp_path / "ckpt"), str(tmp_path / "log")
    train = ["--env", "CartPole-v1", "--num_timesteps", "512", "--eval_every", "1", "--eval_episodes", "2"]
    assert main([*train, "--save_path", ckpt, "--log_path", log, *FAST_FLAGS]) == 0
    rows = read_rows(log)
    assert len(rows) == 2 and all(float(r[key]) > 0 for r in rows for key in EVAL_KEYS)
    best = os.path.join(ckpt, "best")
    assert sorted(os.listdir(best))[-2:] == ["eval.json", "run.json"]
    capsys.readouterr()
    code = main(["--env", "CartPole-v1", "--num_timesteps", "0", "--load_path", best, "--play", "--play_episodes", "2"])
    assert code == 0
    assert "mean return over 2 episodes" in capsys.readouterr().out
    export = str(tmp_path / "export")
    assert main(["--env", "CartPole-v1", "--num_timesteps", "0", "--load_path", best, "--export", export]) == 0
    assert os.path.exists(os.path.join(export, "saved_model.pb"))
    code = main(["--env", "Acrobot-v1", "--num_timesteps", "0", "--load_path", best, "--play"])
    assert code == 1 and "was trained with env='CartPole-v1', not 'Acrobot-v1'" in capsys.readouterr().err
    code = main(["--env", "CartPole-v1", "--num_timesteps", "768", "--load_path", best, *FAST_FLAGS])
    assert code == 1 and "it is the best evaluated policy" in capsys.readouterr().err  # it plays, it does not resume


@pytest.mark.mpi
def test_two_ranks_share_the_episodes_and_agree_on_the_best(tmp_path):
    """Rank 0 plays episodes 0-1, rank 1 episode 2; the gathered score is the one-process score of best/."""
    ckpt, log = tmp_path / "ckpt", tmp_path / "log"
    train = ["run.py", "--env", "Pendulum-v1", "--num_timesteps", "1024", "--timesteps_per_actorbatch", "256"]
    evals = ["--optim_epochs", "1", "--eval_every", "1", "--eval_episodes", "3", "--seed", "7"]
    proc = run_mpi([*train, *evals, "--log_path", str(log), "--save_path", str(ckpt), "--progress", "false"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = read_rows(log)
    assert len(rows) == 2 and all(r["eval/return_mean"] for r in rows)
    with open(ckpt / "best" / "eval.json") as f:
        summary = json.load(f)
    best_row = rows[summary["iteration"] - 1]
    assert summary["score"] == float(best_row["eval/return_mean"]) == max(float(r["eval/return_mean"]) for r in rows)
    env = make_env("Pendulum-v1", train=False)
    pi = MlpPolicy(env.observation_space, env.action_space)
    restore(str(ckpt / "best"), policy=pi)
    returns = [r for r, _ in episode_stats(pi, env, 3, seed=7 + EVAL_SEED_OFFSET, reseed=True)]
    assert np.mean(returns) == pytest.approx(summary["score"], rel=1e-6)
