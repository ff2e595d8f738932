"""Using a policy after (or instead of) training: restore it from a checkpoint, play episodes, export it.

Each function imports what it needs when it runs, so that importing this module imports no TensorFlow.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from functools import partial
from typing import Any

__all__ = ["export", "play", "prepare_video", "restored_policy"]


def restored_policy(args: argparse.Namespace, env_type: str, policy_fn: Callable[..., Any], load_path: str) -> Any:
    """The policy of a checkpoint, for ``--num_timesteps 0`` (play or export only)."""
    from baselines_tf2.envs.make import make_env  # noqa: PLC0415
    from baselines_tf2.train.checkpoint import restore  # noqa: PLC0415

    env = make_env(args.env, train=False, env_type=env_type, repeat_action_probability=args.repeat_action_probability)
    pi = policy_fn(env.observation_space, env.action_space)
    env.close()
    restore(load_path, policy=pi)
    return pi


def export(pi: Any, folder: str, tflite: bool, onnx: bool = False) -> None:
    """Write the SavedModel (and the TFLite and ONNX models) and say where."""
    from baselines_tf2.tools.export import ONNX_FILE, TFLITE_FILE, export_saved_model  # noqa: PLC0415

    export_saved_model(pi, folder, tflite=tflite, onnx=onnx)
    extras = [os.path.join(folder, name) for name, wanted in ((TFLITE_FILE, tflite), (ONNX_FILE, onnx)) if wanted]
    with open(os.path.join(folder, "export.json"), encoding="utf-8") as f:
        names = ", ".join(json.load(f)["signatures"])
    print(f"exported SavedModel to {' and '.join([folder, *extras])} (signatures: {names})")


def play(pi: Any, args: argparse.Namespace, env_type: str, seed: int, action_masking: str = "auto") -> None:
    """Run ``--play_episodes`` deterministic episodes (recording them with ``--video``, acting with the env's
    action masks as ``--action_masking`` says) and print their returns."""
    from baselines_tf2.envs.make import make_env  # noqa: PLC0415
    from baselines_tf2.envs.video import video_prefix  # noqa: PLC0415
    from baselines_tf2.tools.evaluate import run_episodes  # noqa: PLC0415

    sticky = args.repeat_action_probability
    env = make_env(args.env, train=False, env_type=env_type, video_dir=args.video, repeat_action_probability=sticky)
    returns = run_episodes(pi, env, args.play_episodes, seed=seed + 12345, action_masking=action_masking)
    env.close()  # writes the last episode's video
    for i, ret in enumerate(returns):
        print(f"episode {i + 1}: return {ret:.2f}")
    print(f"mean return over {len(returns)} episodes: {sum(returns) / len(returns):.2f}")
    for i in range(len(returns) if args.video else 0):
        print(f"video of episode {i + 1}: {os.path.join(args.video, video_prefix(args.env))}-episode-{i}.mp4")


def prepare_video(env_id: str, env_type: str, video_dir: str) -> None:
    """Before any env is built: an empty target, an encoder, offscreen rendering, one rendered frame."""
    from baselines_tf2.envs import video  # noqa: PLC0415
    from baselines_tf2.envs.make import make_base_env  # noqa: PLC0415

    video.check_video_dir(video_dir)
    video.check_encoder()
    video.select_sdl_driver()
    if env_type == "mujoco":
        video.select_mujoco_gl()
    video.check_rendering(env_id, make=partial(make_base_env, env_type=env_type))
