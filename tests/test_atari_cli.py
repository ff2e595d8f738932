"""An Atari run from the command line: CNN policy, 8 actors, checkpoint, play (a few seconds)."""

import os
import re

import pytest

from baselines_tf2.cli import main


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_pong_trains_one_iteration_and_plays(tmp_path, capsys, precision):
    """Trained in either precision, the checkpoint plays with the default float32 network."""
    ckpt = str(tmp_path / "ckpt")
    train = ["--env", "ALE/Pong-v5", "--num_timesteps", "1024", "--optim_epochs", "1", "--save_path", ckpt]
    code = main([*train, "--log_path", str(tmp_path / "log"), "--progress", "false", "--precision", precision])
    assert code == 0
    out = capsys.readouterr().out
    assert f"network cnn ({precision}), 1 rank(s) x 8 env(s)" in out
    assert re.search(r"\| total_timesteps +\| +1024 \|", out)
    assert re.search(r"\| approxkl +\| +[0-9.e-]+ \|", out)
    assert len(os.listdir(tmp_path / "log" / "monitor")) == 8
    code = main(["--env", "ALE/Pong-v5", "--num_timesteps", "0", "--load_path", ckpt, "--play", "--play_episodes", "1"])
    assert code == 0
    line = [x for x in capsys.readouterr().out.splitlines() if x.startswith("episode 1: return")][0]
    assert -21.0 <= float(line.split()[-1]) <= 21.0  # a whole game of Pong, unclipped score
