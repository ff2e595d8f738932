"""Building environments: env-type detection, single envs with their wrappers, vector envs per rank.

* :func:`env_type_of` tells MuJoCo, classic control, Box2D and Atari apart from the registered
  entry point (``ALE/...-v5`` and ``...NoFrameskip-v4`` are both Atari).
* :func:`make_env` builds one copy: a :class:`~baselines_tf2.envs.monitor.Monitor` where the
  true episode return is visible, Atari preprocessing for Atari ids, an optional constant reward
  multiplier (Baselines' ``--reward_scale``), and ``ClipAction`` for ``Box`` actions (the Gaussian
  policy's samples are unbounded; the sample, not the clipped action, is what is trained on).
  Dict observations are packed into one float32 vector (:mod:`~baselines_tf2.envs.dict_obs`).
  With ``video_dir`` the bare env renders ``rgb_array`` frames and records every episode, below
  all other wrappers (Atari: the raw 210x160 colour frames, every emulator frame, at 60 fps).
* :func:`make_vec_env` puts ``num_env`` copies in a gymnasium ``SyncVectorEnv`` (or, for Atari
  training with ``backend="ale_vector"``, ale_py's C++ vector env) with
  ``AutoresetMode.SAME_STEP``: the step that ends an episode returns the next episode's first
  observation and puts the last one in ``info["final_obs"]`` (needed to bootstrap truncations).
  Copy ``i`` of rank ``r`` is seeded ``seed + 10000 * r + i``.

Atari ids take ``repeat_action_probability`` (sticky actions: with that probability the emulator
repeats the previous action instead of the chosen one, at every emulator frame). ``None`` keeps the
id's own: 0.25 for ``ALE/...-v5`` (Machado et al. 2018), 0 for ``...NoFrameskip-v4``, the ids the
PPO paper and Baselines used.
"""

from __future__ import annotations

import difflib
import importlib
import os
from collections.abc import Callable
from typing import Any

import gymnasium as gym
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from baselines_tf2.config import ENV_BACKENDS, ENV_TYPES
from baselines_tf2.envs.atari_wrappers import wrap_atari
from baselines_tf2.envs.dict_obs import pack_dict_env, pack_dict_vec_env
from baselines_tf2.envs.monitor import Monitor, has_monitor
from baselines_tf2.envs.video import record_video, video_prefix
from baselines_tf2.errors import ConfigError

__all__ = [
    "as_vec_env",
    "ENV_BACKENDS",
    "ENV_TYPES",
    "check_env_backend",
    "check_repeat_action_probability",
    "check_vec_env",
    "env_seeds",
    "env_type_of",
    "import_packages",
    "make_base_env",
    "make_env",
    "make_vec_env",
    "rank_seed",
    "single_env_as_vec",
]

ATARI_FPS = 60  # the emulator's frame rate: a video of the frameskip=1 env plays in real time

_registered_ale = False


def _register_atari() -> None:
    """Register the ALE ids with gymnasium (ale-py ships the ROMs)."""
    global _registered_ale
    if not _registered_ale:
        import ale_py  # noqa: PLC0415 (only needed for Atari; registers its envs)

        gym.register_envs(ale_py)
        _registered_ale = True


def import_packages(packages: list[str]) -> None:
    """Import packages that register environments (``--gym_packages``, as RL-Zoo's flag)."""
    for name in packages:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 (any failure of the user's module is one line)
            raise ConfigError(f"cannot import {name!r}: {type(exc).__name__}: {exc}") from None


def _spec(env_id: str) -> gym.envs.registration.EnvSpec:
    """The registered spec of ``env_id``; ``module:EnvId`` imports ``module`` first, as ``gymnasium.make`` does."""
    _register_atari()
    module, _, name = env_id.rpartition(":")
    if module:
        import_packages([module])
        env_id = name
    try:
        return gym.spec(env_id)
    except gym.error.Error:
        close = difflib.get_close_matches(env_id, list(gym.registry), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ConfigError(f"unknown environment id {env_id!r}{hint}") from None


def env_type_of(env_id: str) -> str:
    """One of :data:`ENV_TYPES`, from the module that implements ``env_id``."""
    entry_point = _spec(env_id).entry_point
    module = entry_point if isinstance(entry_point, str) else getattr(entry_point, "__module__", "")
    for marker, kind in (
        ("mujoco", "mujoco"),
        ("classic_control", "classic_control"),
        ("box2d", "box2d"),
        ("ale_py", "atari"),
    ):
        if marker in module:
            return kind
    return "other"


def rank_seed(seed: int, rank: int) -> int:
    """Baselines' per-rank seed ``seed + 10000 * rank`` (policy init and the rank's sampling generator)."""
    return seed + 10000 * rank


def env_seeds(seed: int, rank: int, num_env: int) -> list[int]:
    """Baselines' per-copy seeds: ``seed + 10000 * rank + subrank``."""
    return [rank_seed(seed, rank) + i for i in range(num_env)]


def check_repeat_action_probability(value: float | None, env_id: str, env_type: str) -> None:
    """Sticky actions are an Atari setting, a probability."""
    if value is None:
        return
    if env_type != "atari":
        raise ConfigError(f"repeat_action_probability is an Atari setting, not one of {env_id} ({env_type})")
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"repeat_action_probability must be in [0, 1], got {value}")


def make_base_env(
    env_id: str,
    *,
    env_type: str | None = None,
    render_mode: str | None = None,
    repeat_action_probability: float | None = None,
) -> gym.Env:
    """The bare ``gym.make(env_id)`` that :func:`make_env` wraps (Atari: ``frameskip=1``, the wrappers skip)."""
    kind = env_type or env_type_of(env_id)
    check_repeat_action_probability(repeat_action_probability, env_id, kind)
    kwargs: dict = {} if render_mode is None else {"render_mode": render_mode}
    if kind == "atari":
        _register_atari()
        if repeat_action_probability is not None:
            kwargs["repeat_action_probability"] = float(repeat_action_probability)
        return gym.make(env_id, frameskip=1, **kwargs)
    return gym.make(env_id, **kwargs)


def make_env(
    env_id: str,
    *,
    train: bool = True,
    monitor_file: str | None = None,
    reward_scale: float = 1.0,
    env_type: str | None = None,
    video_dir: str | None = None,
    repeat_action_probability: float | None = None,
) -> gym.Env:
    """One environment copy with the wrappers described in the module docstring.

    Args:
        env_id: a registered gymnasium id.
        train: for Atari, add the training-only wrappers (life loss ends an episode, reward sign).
        monitor_file: where the Monitor writes its CSV (``None``: in memory only).
        reward_scale: constant multiplier of the training reward (after the Monitor, so the
            recorded score is the true one).
        env_type: overrides :func:`env_type_of`.
        video_dir: record every episode there as ``<env id>-episode-<i>.mp4`` (see
            :mod:`~baselines_tf2.envs.video`; MuJoCo needs ``MUJOCO_GL``, set by
            :func:`~baselines_tf2.envs.video.select_mujoco_gl`).
        repeat_action_probability: Atari sticky actions (``None``: the id's default; see the module docstring).
    """
    kind = env_type or env_type_of(env_id)
    if kind not in ENV_TYPES:
        raise ConfigError(f"unknown env_type {kind!r}; choose from {', '.join(ENV_TYPES)}")

    def monitor(env: gym.Env) -> gym.Env:
        return Monitor(env, monitor_file)

    try:
        env = make_base_env(
            env_id,
            env_type=kind,
            render_mode="rgb_array" if video_dir else None,
            repeat_action_probability=repeat_action_probability,
        )
        if video_dir:
            env = record_video(env, video_dir, video_prefix(env_id), fps=ATARI_FPS if kind == "atari" else None)
        env = wrap_atari(env, train=train, monitor=monitor) if kind == "atari" else monitor(env)
    except gym.error.DependencyNotInstalled as exc:
        raise ConfigError(f"{env_id} needs an extra package: {exc}") from None
    if reward_scale != 1.0:
        env = gym.wrappers.TransformReward(env, lambda r: float(r) * reward_scale)
    if isinstance(env.action_space, gym.spaces.Box):
        env = gym.wrappers.ClipAction(env)
    return pack_dict_env(env)  # Dict observations: one packed float32 vector (envs/dict_obs.py)


def check_env_backend(backend: str, env_id: str, env_type: str, train: bool = True) -> None:
    """Reject a backend ``make_vec_env`` cannot use for ``env_id`` (of type ``env_type``)."""
    if backend not in ENV_BACKENDS:
        raise ConfigError(f"env_backend must be one of {', '.join(ENV_BACKENDS)}, got {backend!r}")
    if backend == "ale_vector" and (env_type != "atari" or not train):
        raise ConfigError(f"--env_backend ale_vector is for training on Atari ids, not {env_id} ({env_type})")


def make_vec_env(
    env_id: str,
    num_env: int,
    *,
    rank: int = 0,
    train: bool = True,
    log_dir: str | None = None,
    reward_scale: float = 1.0,
    env_type: str | None = None,
    backend: str = "gymnasium",
    threads: int = 0,
    repeat_action_probability: float | None = None,
) -> gym.vector.VectorEnv:
    """``num_env`` copies of ``env_id`` for one MPI rank, auto-resetting in the same step.

    Monitor files go to ``{log_dir}/{rank}.{i}.monitor.csv`` when ``log_dir`` is given. Seed the
    copies with ``env.reset(seed=env_seeds(seed, rank, num_env))``. ``backend="ale_vector"``
    (Atari training only) steps the copies in ale_py's C++ vector env on ``threads`` threads
    (0: one per copy, up to the cores) instead of a gymnasium ``SyncVectorEnv``; see
    :mod:`~baselines_tf2.envs.ale_vector`. ``repeat_action_probability``: Atari sticky actions
    (``None``: the id's default).
    """
    if num_env < 1:
        raise ConfigError(f"num_env must be >= 1, got {num_env}")
    kind = env_type or env_type_of(env_id)
    check_env_backend(backend, env_id, kind, train)
    check_repeat_action_probability(repeat_action_probability, env_id, kind)
    paths = [os.path.join(log_dir, f"{rank}.{i}") if log_dir else None for i in range(num_env)]
    if backend == "ale_vector":
        from baselines_tf2.envs.ale_vector import AleVectorEnv  # noqa: PLC0415

        return AleVectorEnv(
            _spec(env_id).id,
            num_env,
            num_threads=threads,
            monitor_files=paths,
            reward_scale=reward_scale,
            repeat_action_probability=repeat_action_probability,
        )

    def thunk(i: int) -> Callable[[], gym.Env]:
        return lambda: make_env(
            env_id,
            train=train,
            monitor_file=paths[i],
            reward_scale=reward_scale,
            env_type=kind,
            repeat_action_probability=repeat_action_probability,
        )

    return SyncVectorEnv([thunk(i) for i in range(num_env)], autoreset_mode=AutoresetMode.SAME_STEP, copy=False)


def single_env_as_vec(env: gym.Env) -> SyncVectorEnv:
    """Wrap a user's single env as a one-copy vector env (adding a Monitor if it has none)."""
    wrapped = pack_dict_env(env if has_monitor(env) else Monitor(env))
    return SyncVectorEnv([lambda: wrapped], autoreset_mode=AutoresetMode.SAME_STEP, copy=False)


def check_vec_env(env: gym.vector.VectorEnv) -> None:
    """Reject vector envs whose autoreset mode the rollout cannot use."""
    mode = env.metadata.get("autoreset_mode")
    if mode != AutoresetMode.SAME_STEP:
        raise ConfigError(
            f"vector env autoreset mode is {mode}; build it with autoreset_mode=gymnasium.vector.AutoresetMode.SAME_STEP "
            "(make_vec_env does) so that every step is a real transition and final observations are in info"
        )
    if not isinstance(env.single_observation_space, gym.spaces.Box):
        raise ConfigError(f"observation space {env.single_observation_space} is not supported (need a Box)")


def as_vec_env(env: Any, num_env: int, rank: int, log_path: str | None) -> gym.vector.VectorEnv:
    """A learner's ``env`` argument as a checked vector env: an id (``num_env`` copies, monitor files
    under ``log_path/monitor``), a vector env, or one env wrapped as a vector of one."""
    if isinstance(env, str):
        return make_vec_env(env, num_env, rank=rank, log_dir=os.path.join(log_path, "monitor") if log_path else None)
    if isinstance(env, gym.vector.VectorEnv):
        env = pack_dict_vec_env(env)
        check_vec_env(env)
        return env
    if isinstance(env, gym.Env):
        vec = single_env_as_vec(env)
        check_vec_env(vec)
        return vec
    raise ConfigError(f"env must be a gymnasium Env, VectorEnv or env id, got {type(env).__name__}")
