"""run.py --play --video: one MP4 per played episode (CartPole via pygame, MuJoCo offscreen), and one-line errors."""

import os
import re
import subprocess
import sys
from typing import ClassVar

import gymnasium as gym
import imageio_ffmpeg
import pytest
from conftest import REPO
from gymnasium.envs.classic_control.cartpole import CartPoleEnv
from toy_envs import ConstantEnv

from baselines_tf2.cli import main
from baselines_tf2.common.policies import MlpPolicy
from baselines_tf2.envs import video
from baselines_tf2.errors import VideoError
from baselines_tf2.tools.evaluate import run_episodes

FAST = ["--timesteps_per_actorbatch", "256", "--optim_epochs", "2", "--progress", "false"]


class NoPixelsEnv(ConstantEnv):
    """Renders text only."""

    metadata: ClassVar[dict] = {"render_modes": ["ansi"]}

    def __init__(self, render_mode=None):
        self.render_mode = render_mode

    def render(self):
        return "text"


class TextFramesEnv(NoPixelsEnv):
    """Claims rgb_array rendering, returns text."""

    metadata: ClassVar[dict] = {"render_modes": ["rgb_array"]}


gym.register("ToyNoPixels-v0", entry_point=NoPixelsEnv, max_episode_steps=20)


def returns_in(out: str) -> list[float]:
    return [float(x) for x in re.findall(r"^episode \d+: return (\S+)$", out, re.MULTILINE)]


def frames(path) -> int:
    return imageio_ffmpeg.count_frames_and_secs(str(path))[0]


def test_cartpole_records_one_video_per_episode(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")  # what --video sets without a display; undone after the test
    out_dir = tmp_path / "videos"
    play = ["--play", "--play_episodes", "3", "--video", str(out_dir)]
    code = main(["--env", "CartPole-v1", "--num_timesteps", "512", *FAST, *play])
    assert code == 0
    out = capsys.readouterr().out
    returns = returns_in(out)
    assert len(returns) == 3
    assert sorted(os.listdir(out_dir)) == [f"CartPole-v1-episode-{i}.mp4" for i in range(3)]
    assert f"video of episode 3: {out_dir}/CartPole-v1-episode-2.mp4\n" in out
    for i, ret in enumerate(returns):
        # CartPole pays 1 per step: the reset frame plus one frame per step
        assert frames(out_dir / f"CartPole-v1-episode-{i}.mp4") == int(ret) + 1


def test_mujoco_records_offscreen_next_to_tensorflow(tmp_path):
    """A fresh run.py, MUJOCO_GL unset: the backend is chosen, and rendering beside TensorFlow does not crash."""
    out_dir = tmp_path / "videos"
    env = {k: v for k, v in os.environ.items() if k not in ("MUJOCO_GL", "PYOPENGL_PLATFORM")}
    play = ["--play", "--play_episodes", "2", "--video", str(out_dir)]
    cmd = [sys.executable, "run.py", "--env", "InvertedPendulum-v5", "--num_timesteps", "512", *FAST, *play]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    returns = returns_in(proc.stdout)
    assert len(returns) == 2
    assert sorted(os.listdir(out_dir)) == [f"InvertedPendulum-v5-episode-{i}.mp4" for i in range(2)]
    for i, ret in enumerate(returns):
        # reward 1 per step except 0 on the terminating step (v5): reset frame + (return + 1) steps
        assert frames(out_dir / f"InvertedPendulum-v5-episode-{i}.mp4") == int(ret) + 2


class CountResets(gym.Wrapper):
    def __init__(self, env):
        super().__init__(env)
        self.resets = []

    def reset(self, **kwargs):
        self.resets.append(kwargs)
        return super().reset(**kwargs)


def test_play_resets_once_per_episode():
    env = CountResets(gym.wrappers.TimeLimit(ConstantEnv(), max_episode_steps=4))
    pi = MlpPolicy(env.observation_space, env.action_space)
    assert run_episodes(pi, env, 3, seed=5) == [4.0, 4.0, 4.0]
    assert env.resets == [{"seed": 5}, {}, {}]  # no reset after the last episode: no empty extra video


def test_mujoco_gl_selection():
    tried = []

    def probe(failing):
        return lambda backend: tried.append(backend) or (f"{backend} broken" if backend in failing else None)

    environ = {}
    assert video.select_mujoco_gl(environ, probe({"egl"})) == "osmesa"
    assert environ == {"MUJOCO_GL": "osmesa"} and tried == ["egl", "osmesa"]
    tried.clear()
    environ = {}
    assert video.select_mujoco_gl(environ, probe(set())) == "egl" and tried == ["egl"]
    tried.clear()
    environ = {"MUJOCO_GL": "osmesa"}
    assert video.select_mujoco_gl(environ, probe(set())) == "osmesa" and tried == ["osmesa"]  # the user's choice
    with pytest.raises(VideoError, match=r"^cannot render video: MUJOCO_GL=glfw does not work here \(glfw: glfw bro"):
        video.select_mujoco_gl({"MUJOCO_GL": "glfw"}, probe({"glfw"}))
    environ = {}
    with pytest.raises(VideoError) as info:
        video.select_mujoco_gl(environ, probe({"egl", "osmesa"}))
    assert str(info.value) == (
        "cannot render video: no offscreen OpenGL for MuJoCo (egl: egl broken; osmesa: osmesa "
        "broken); install libegl1 and libgl1-mesa-dri (EGL) or libosmesa6 (OSMesa)"
    )
    assert environ == {}
    assert video.preload_gl_libraries("glfw") == []  # only Mesa's software renderers are preloaded


def test_probe_reports_why_a_backend_fails():
    assert "invalid value for environment variable MUJOCO_GL: nonsense" in video.probe_gl("nonsense")


def test_sdl_driver_is_dummy_only_without_a_display():
    environ = {}
    video.select_sdl_driver(environ)
    assert environ == {"SDL_VIDEODRIVER": "dummy"}
    for set_by_user in ({"DISPLAY": ":0"}, {"SDL_VIDEODRIVER": "x11"}):
        environ = dict(set_by_user)
        video.select_sdl_driver(environ)
        assert environ == set_by_user


def test_record_video_without_moviepy(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "moviepy", None)  # import moviepy now raises ImportError
    with pytest.raises(VideoError, match=r"^cannot render video: moviepy is not installed \(pip install moviepy\)$"):
        video.check_encoder()
    with pytest.raises(VideoError, match="moviepy is not installed"):
        video.record_video(gym.make("CartPole-v1", render_mode="rgb_array"), str(tmp_path / "v"), "x")


def broken_render(self):
    raise RuntimeError("no display\nmore detail")


@pytest.mark.parametrize(
    "argv, code, message",
    [
        (["--env", "CartPole-v1", "--video", "{tmp}/v"], 2, "--video records the --play episodes; add --play"),
        (
            ["--env", "CartPole-v1", "--play", "--video", "{tmp}"],
            2,
            "--video {tmp} already exists and is not an empty folder; record into a new folder",
        ),
        (
            ["--env", "ToyNoPixels-v0", "--play", "--video", "{tmp}/v"],
            1,
            "cannot render video: ToyNoPixels-v0 has no 'rgb_array' render mode (it has: ansi)",
        ),
        (
            ["--env", "CartPole-v1", "--play", "--video", "{tmp}/v", "broken"],
            1,
            "cannot render video: CartPole-v1 failed to render: RuntimeError: no display",
        ),
        (
            ["--env", "InvertedPendulum-v5", "--play", "--video", "{tmp}/v", "no_gl"],
            1,
            (
                "cannot render video: no offscreen OpenGL for MuJoCo (egl: libEGL missing; osmesa: libOSMesa missing); "
                "install libegl1 and libgl1-mesa-dri (EGL) or libosmesa6 (OSMesa)"
            ),
        ),
    ],
)
@pytest.mark.filterwarnings("ignore:.*not in the possible render_modes")
def test_video_errors_are_one_line_before_training(tmp_path, capsys, monkeypatch, argv, code, message):
    (tmp_path / "old.mp4").write_text("")
    if argv[-1] == "broken":
        monkeypatch.setattr(CartPoleEnv, "render", broken_render)
    if argv[-1] == "no_gl":
        monkeypatch.setenv("MUJOCO_GL", "")  # unset for the test, restored afterwards
        reasons = {"egl": "libEGL missing", "osmesa": "libOSMesa missing"}
        monkeypatch.setattr(video, "probe_gl", reasons.get)
    argv = [a.format(tmp=tmp_path) for a in argv if a not in ("broken", "no_gl")]
    assert main(["--num_timesteps", "256", *FAST, *argv]) == code
    captured = capsys.readouterr()
    assert captured.err == f"run.py: error: {message.format(tmp=tmp_path)}\n"
    assert "baselines_tf2: --alg" not in captured.out  # failed before training started
    assert not (tmp_path / "v").exists()


def test_frames_of_a_checked_env_are_rgb_images():
    assert video.check_rendering("CartPole-v1") == (400, 600, 3)
    with pytest.raises(VideoError, match=r"render\(\) returned 'text', not an RGB image"):
        video.check_rendering("ToyText-v0", make=lambda env_id, render_mode: TextFramesEnv(render_mode))
    assert video.video_prefix("ALE/Pong-v5") == "ALE-Pong-v5"
