"""run.py: typed flags, presets, training + play, and one-line errors for bad input."""

import dataclasses
import os
import re
import subprocess
import sys

import pytest
from conftest import REPO

from baselines_tf2.cli import main, parse_args, resolve_settings
from baselines_tf2.config import PolicyConfig, PPOConfig, RunConfig, TrackingConfig
from baselines_tf2.envs.make import env_type_of
from baselines_tf2.ppo.defaults import preset

FAST = ["--timesteps_per_actorbatch", "256", "--optim_epochs", "2", "--progress", "false"]


def test_flags_are_typed_by_their_config_fields():
    flags = ["--optim_epochs", "4", "--clip_param=0.1", "--vf_clip", "true", "--schedule", "linear"]
    args = parse_args(
        [*flags, "--optim_stepsize", "1e-4", "--max_iters", "1e3", "--hid_size", "32", "--num_timesteps", "2e6"]
    )
    algo, run_cfg, policy = resolve_settings(args, "mujoco")
    assert (algo.optim_epochs, algo.clip_param, algo.vf_clip, algo.schedule, algo.optim_stepsize) == (
        4,
        0.1,
        True,
        "linear",
        1e-4,
    )
    assert type(algo.optim_epochs) is int and type(algo.clip_param) is float
    assert (run_cfg.max_iters, run_cfg.max_timesteps, run_cfg.num_env, policy.hid_size) == (1000, 2_000_000, 1, 32)
    assert (algo.timesteps_per_actorbatch, algo.gamma) == (2048, 0.99)  # not given: the preset's
    atari, atari_run, atari_policy = resolve_settings(parse_args(["--init", "orthogonal"]), "atari")
    assert (atari.optim_epochs, atari_run.num_env, atari_policy.network, atari_policy.init) == (
        3,
        8,
        "cnn",
        "orthogonal",
    )


@pytest.mark.parametrize(
    "tokens, message",
    [
        (["--optim_epcohs", "3"], r"unknown flag\(s\) --optim_epcohs; did you mean --optim_epochs\?"),
        (["--optim_epochs", "three"], "argument --optim_epochs: expected an integer, got 'three'"),
        (["--optim_epochs", "2.5"], "argument --optim_epochs: expected a whole number, got '2.5'"),
        (["--vf_clip", "maybe"], "argument --vf_clip: expected true/false, got 'maybe'"),
        (["--gamma"], "argument --gamma: expected one argument"),
        (["stray"], r"unknown flag\(s\) stray"),
        (["--alg", "pg", "--optim_epochs", "3"], r"unknown flag\(s\) --optim_epochs"),
    ],
)
def test_bad_flags_are_one_line(tokens, message, capsys):
    assert main(tokens) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and re.search(message, err), err


def test_help_lists_every_setting_with_its_doc_without_tensorflow():
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "run.py", "--help"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0
    for cls in (RunConfig, PPOConfig, PolicyConfig, TrackingConfig):
        for f in dataclasses.fields(cls):
            if f.name != "max_timesteps":
                assert f"--{f.name}" in out.stdout, f.name
    assert "[c1] value-loss coefficient" in " ".join(out.stdout.split())
    imported = out.stderr  # -X importtime lists every import
    assert "tensorflow" not in imported and "gymnasium" not in imported and "wandb" not in imported
    pg = subprocess.run([sys.executable, "run.py", "--alg", "pg", "--help"], cwd=REPO, capture_output=True, text=True)
    assert "--pg_weight" in pg.stdout and "--clip_param" not in pg.stdout


def test_paper_presets():
    mujoco = preset("ppo", "mujoco")
    paper_mujoco = dict(
        timesteps_per_actorbatch=2048,
        optim_stepsize=3e-4,
        optim_epochs=10,
        optim_batchsize=64,
        gamma=0.99,
        lam=0.95,
        clip_param=0.2,
        entcoeff=0.0,
    )
    assert {k: mujoco[k] for k in paper_mujoco} == paper_mujoco
    assert preset("ppo", "classic_control") == mujoco
    atari = preset("ppo", "atari")
    paper_atari = dict(
        num_env=8,
        timesteps_per_actorbatch=128,
        optim_epochs=3,
        optim_batchsize=256,
        optim_stepsize=2.5e-4,
        clip_param=0.1,
        vf_coef=0.5,
        entcoeff=0.01,
        schedule="linear",
        network="cnn",
    )
    assert {k: atari[k] for k in paper_atari} == paper_atari
    # From the code released with the paper: c1 = 1 on a halved, clipped value loss (vf_coef 0.5 on our
    # plain squared error), gradient norm clipped at 0.5, orthogonal init; alpha over 40M frames.
    released_code = dict(vf_clip=True, max_grad_norm=0.5, init="orthogonal", schedule_timesteps=10_000_000)
    assert {k: atari[k] for k in released_code} == released_code
    assert preset("ppo", "mujoco")["schedule_timesteps"] == 0 == preset("ppo2", "atari")["schedule_timesteps"]
    ppo2 = preset("ppo2", "mujoco")
    assert ppo2["optim_stepsize"](0.5) == pytest.approx(1.5e-4) and ppo2["max_grad_norm"] == 0.5 and ppo2["vf_clip"]
    # Baselines ppo2: vf_coef 0.5 on 0.5 * squared error; orthogonal init for mlp and cnn.
    assert ppo2["vf_coef"] == 0.25 and ppo2["init"] == "orthogonal" == preset("ppo2", "atari")["init"]
    assert preset("ppo2", "atari")["vf_coef"] == 0.25
    assert preset("ppo1", "mujoco")["schedule"] == "linear"


@pytest.mark.parametrize(
    ("argv", "horizon"),
    [
        (["--env", "ALE/Pong-v5", "--num_timesteps", "2500000"], 10_000_000),  # 10M frames on the 40M-frame alpha
        (["--env", "ALE/Pong-v5", "--num_timesteps", "20000000"], 0),  # longer than the paper's: anneal over itself
        (["--env", "ALE/Pong-v5", "--num_timesteps", "2500000", "--schedule_timesteps", "5000000"], 5_000_000),
        (["--env", "ALE/Pong-v5", "--alg", "ppo2", "--num_timesteps", "2500000"], 0),
        (["--env", "Hopper-v5", "--num_timesteps", "2500000"], 0),
    ],
)
def test_the_presets_annealing_horizon(argv, horizon):
    args = parse_args(argv)
    _, run_cfg, _ = resolve_settings(args, env_type_of(args.env))
    assert run_cfg.schedule_timesteps == horizon


def test_train_save_then_play_from_the_checkpoint(tmp_path, capsys):
    ckpt, log = str(tmp_path / "ckpt"), str(tmp_path / "log")
    code = main(["--env", "CartPole-v1", "--num_timesteps", "512", "--save_path", ckpt, "--log_path", log, *FAST])
    assert code == 0
    out = capsys.readouterr().out
    assert "--alg ppo on CartPole-v1 (classic_control), network mlp 2x64, 1 rank(s) x 1 env(s)" in out
    assert "optim_epochs" in out
    assert os.path.exists(os.path.join(ckpt, "run.json")) and os.path.exists(os.path.join(log, "progress.csv"))
    code = main(["--env", "CartPole-v1", "--num_timesteps", "0", "--load_path", ckpt, "--play", "--play_episodes", "2"])
    assert code == 0
    out = capsys.readouterr().out
    assert "episode 2: return" in out and "mean return over 2 episodes" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--env", "Hoper-v5"], "unknown environment id 'Hoper-v5'; did you mean Hopper-v5"),
        (["--optim_batchsize", "0"], "optim_batchsize must be a positive integer"),
        (["--timesteps_per_actorbatch", "-5"], "timesteps_per_actorbatch must be a positive integer"),
        (["--optim_batchsize", "4096"], "optim_batchsize 4096 is larger than the batch"),
        (["--clip_param", "0"], "clip_param must be > 0"),
        (["--gamma", "1.01"], r"gamma must be in \[0, 1\]"),
        (["--lam", "-1"], r"lam must be in \[0, 1\]"),
        (["--num_env", "0"], "num_env must be a positive integer, got 0"),
        (["--num_timesteps", "0"], "--num_timesteps 0 trains nothing"),
        (["--num_timesteps", "0", "--play"], "--play with --num_timesteps 0 needs --load_path"),
        (["--load_path", "/nonexistent/ckpt"], "no checkpoint at /nonexistent/ckpt"),
        (["--no_such_flag", "1"], r"unknown flag\(s\) --no_such_flag"),
        (["--play", "--play_episodes", "0"], "--play_episodes must be > 0"),
        (["--loss", "clipped"], "argument --loss: invalid choice: 'clipped'"),
        (["--mpi_update", "ring"], "argument --mpi_update: invalid choice: 'ring'"),
        (["--precision", "float16"], "argument --precision: invalid choice: 'float16'"),
        (["--precision", "bfloat16"], "precision bfloat16 is for CNN policies"),
        (["--init", "xavier"], "argument --init: invalid choice: 'xavier'"),
        (["--repeat_action_probability", "0"], "repeat_action_probability is an Atari setting"),
        (["--env", "ALE/Pong-v5", "--repeat_action_probability", "1.5"], r"must be in \[0, 1\], got 1.5"),
        (["--schedule_timesteps", "100"], "schedule_timesteps 100 is below max_timesteps 256"),
    ],
)
def test_bad_input_is_one_line_and_non_zero(argv, message, capsys):
    code = main(["--num_timesteps", "256", *argv])
    err = capsys.readouterr().err
    assert code != 0
    assert err.count("\n") == 1 and err.startswith("run.py: error: ")
    assert __import__("re").search(message, err), err


def test_checkpoint_from_another_env_is_refused_by_name(tmp_path, capsys):
    ckpt = str(tmp_path / "ckpt")
    assert main(["--env", "CartPole-v1", "--num_timesteps", "256", "--save_path", ckpt, *FAST]) == 0
    before = sorted(os.listdir(ckpt))
    capsys.readouterr()
    code = main(["--env", "Acrobot-v1", "--num_timesteps", "256", "--load_path", ckpt, "--save_path", ckpt, *FAST])
    assert code == 1
    assert "was trained with env='CartPole-v1', not 'Acrobot-v1'" in capsys.readouterr().err
    assert sorted(os.listdir(ckpt)) == before
    run_json = (tmp_path / "ckpt" / "run.json").read_text()
    code = main(["--env", "Acrobot-v1", "--num_timesteps", "256", "--save_path", ckpt, *FAST])
    assert code == 2 and "already holds checkpoints" in capsys.readouterr().err
    assert (tmp_path / "ckpt" / "run.json").read_text() == run_json and sorted(os.listdir(ckpt)) == before


def run_cli(*args):
    return subprocess.run([sys.executable, "run.py", *args], cwd=REPO, capture_output=True, text=True, timeout=300)


def test_process_exit_codes_and_no_traceback(tmp_path):
    proc = run_cli("--env", "NotAnEnv-v9")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("run.py: error: unknown environment id 'NotAnEnv-v9'")
    bad = tmp_path / "ckpt"
    bad.mkdir()
    (bad / "checkpoint").write_text('model_checkpoint_path: "ckpt-1"\n')
    (bad / "ckpt-1.index").write_bytes(b"garbage")
    proc = run_cli("--env", "CartPole-v1", "--num_timesteps", "0", "--play", "--load_path", str(bad))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "run.py: error: cannot restore" in proc.stderr
    proc = run_cli("--alg", "ppo3")
    assert proc.returncode == 2 and "invalid choice: 'ppo3'" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "how",
    [["--env", "toy_envs:ToyTruncatedConstant-v0"], ["--gym_packages", "toy_envs", "--env", "ToyTruncatedConstant-v0"]],
)
def test_custom_environments_by_module_or_package(tmp_path, capsys, how):
    sys.modules.pop("toy_envs", None)
    gym_registry = __import__("gymnasium").envs.registry
    gym_registry.pop("ToyTruncatedConstant-v0", None)  # registered only by importing toy_envs
    code = main([*how, "--env_type", "classic_control", "--num_timesteps", "512", "--log_path", str(tmp_path), *FAST])
    assert code == 0, capsys.readouterr().err
    with open(tmp_path / "progress.csv") as f:
        assert f.read().count("\n") == 3  # header + 2 iterations of 256 steps


def test_unknown_module_or_package_is_one_line(capsys):
    assert main(["--env", "no_such_module_xyz:Env-v0", "--num_timesteps", "256"]) == 2
    assert (
        capsys.readouterr().err
        == "run.py: error: cannot import 'no_such_module_xyz': ModuleNotFoundError: No module named 'no_such_module_xyz'\n"
    )
    assert main(["--gym_packages", "no_such_pkg_xyz", "--num_timesteps", "256"]) == 2


def test_start_is_quiet_unless_verbose():
    help_run = subprocess.run(
        [sys.executable, "run.py", "--help"], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert help_run.returncode == 0 and "--gym_packages" in help_run.stdout and help_run.stderr == ""
    train = subprocess.run(
        [sys.executable, "run.py", "--env", "CartPole-v1", "--num_timesteps", "256", *FAST],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert train.returncode == 0 and train.stderr == "", train.stderr


KERAS_PROBE = (
    "import os, sys; from baselines_tf2 import cli; cli.import_tensorflow([]); import baselines_tf2.ppo.pposgd; "
    "print(os.environ['TF_USE_LEGACY_KERAS'], 'keras.src' in sys.modules, 'matplotlib' in sys.modules)"
)


@pytest.mark.parametrize(("preset_value", "expected"), [(None, "1 False False"), ("0", "0 True True")])
def test_import_tensorflow_skips_keras_3(preset_value, expected):
    """run.py's TensorFlow import (cli.import_tensorflow) skips Keras 3, unless the user chose otherwise.

    With ``TF_USE_LEGACY_KERAS=0`` TensorFlow loads Keras 3, which imports matplotlib (Keras 3.x).
    """
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    if preset_value is not None:
        env["TF_USE_LEGACY_KERAS"] = preset_value
    out = subprocess.run(
        [sys.executable, "-c", KERAS_PROBE], cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.split("\n")[-2] == expected


def test_exit_process_runs_exit_handlers_and_flushes():
    """run.py ends through exit_process: the code, buffered output and at-exit handlers survive.

    (Its MPI_Finalize is exercised by every ``mpirun`` test in test_mpi.py: a rank exiting unfinalised fails the job.)
    """
    code = (
        "import atexit, sys; from baselines_tf2.cli import exit_process; "
        "atexit.register(lambda: print('handler ran')); print('buffered', end=''); "
        "sys.stderr.write('to stderr'); exit_process(3)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stdout, out.stderr) == (3, "bufferedhandler ran\n", "to stderr")


def test_exit_process_keeps_its_exit_code_when_stdout_is_closed():
    """``run.py | head``: flushing into a closed pipe must not turn the exit into a traceback."""
    code = (
        "import io, sys, time; from baselines_tf2.cli import exit_process; "
        "sys.stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, 'w', closefd=False))); "  # block-buffered
        "print('x' * 100); time.sleep(1.0); exit_process(3)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader goes away before the child flushes
    _, err = proc.communicate(timeout=60)
    assert (proc.returncode, err) == (3, b"")
