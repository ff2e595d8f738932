"""Recording played episodes to MP4 (``run.py --play --video DIR``).

* :func:`select_mujoco_gl` picks MuJoCo's offscreen OpenGL before MuJoCo renders anything: the
  user's ``MUJOCO_GL`` if set, otherwise ``egl`` (a GPU's, or Mesa's software renderer), else
  ``osmesa``: the first that renders a test scene in a subprocess that, like ``run.py``, has
  TensorFlow loaded (a backend cannot be swapped inside a process once PyOpenGL has loaded one).
* TensorFlow's libraries export LLVM's symbols, and Mesa's software renderer (llvmpipe, behind
  both EGL and OSMesa on a machine without a GPU) links its own LLVM: once TensorFlow is loaded,
  Mesa's calls into LLVM land in TensorFlow's copy and the process dies with a segmentation fault
  at the first frame. :func:`preload_gl_libraries` loads Mesa's renderer with ``RTLD_DEEPBIND``
  first, so that it keeps to its own LLVM.
* :func:`select_sdl_driver` lets pygame (classic control, Box2D) render without a display and
  without SDL's complaints about one: ``SDL_VIDEODRIVER=dummy`` when no display is set.
* :func:`check_encoder` and :func:`check_rendering` render one frame of the environment in
  ``rgb_array`` mode, so that a missing renderer fails before training or playing, with one line.
* :func:`record_video` wraps an environment in gymnasium's ``RecordVideo``: one MP4 per episode,
  ``<prefix>-episode-<i>.mp4``, written by MoviePy (with the ffmpeg of ``imageio-ffmpeg``) when the
  episode ends, i.e. at the next reset or at ``close()``.

Every failure is a :class:`~baselines_tf2.errors.VideoError` whose message starts with
``cannot render video:``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
import signal
import subprocess
import sys
import sysconfig
from collections.abc import Callable, MutableMapping

import gymnasium as gym
import numpy as np

from baselines_tf2.errors import ConfigError, VideoError

__all__ = [
    "GL_BACKENDS",
    "check_encoder",
    "check_rendering",
    "check_video_dir",
    "preload_gl_libraries",
    "probe_gl",
    "record_video",
    "select_mujoco_gl",
    "select_sdl_driver",
    "video_prefix",
]

GL_BACKENDS = ("egl", "osmesa")
_PACKAGES = "install libegl1 and libgl1-mesa-dri (EGL) or libosmesa6 (OSMesa)"
_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_PROBE = """
import sys
from baselines_tf2.envs.video import preload_gl_libraries
preload_gl_libraries(sys.argv[1])
import mujoco  # fails at once for an invalid MUJOCO_GL
import tensorflow  # run.py renders with TensorFlow loaded: so does the probe
model = mujoco.MjModel.from_xml_string("<mujoco><worldbody><geom size='1'/></worldbody></mujoco>")
data = mujoco.MjData(model)
mujoco.mj_forward(model, data)
with mujoco.Renderer(model, 32, 32) as renderer:
    renderer.update_scene(data)
    assert renderer.render().shape == (32, 32, 3)
"""


def _mesa_libraries(backend: str) -> list[str]:
    """Mesa's libraries that run LLVM for ``backend``: the gallium DRI driver (EGL) or libOSMesa."""
    if backend == "osmesa":
        name = ctypes.util.find_library("OSMesa")
        return [name] if name else []
    if backend != "egl":
        return []
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    roots = [os.path.join(root, multiarch) for root in ("/usr/lib", "/lib") if multiarch] + ["/usr/lib64", "/usr/lib"]
    dri_dirs = [d for d in os.environ.get("LIBGL_DRIVERS_PATH", "").split(os.pathsep) if d]
    dri_dirs += [os.path.join(root, "dri") for root in roots]
    found = [os.path.join(d, "swrast_dri.so") for d in dri_dirs]
    for root in roots:  # Mesa >= 24.1 keeps every gallium driver in libgallium-<version>.so
        found += sorted(glob.glob(os.path.join(root, "libgallium*.so*")))
    unique = {os.path.realpath(f): f for f in found if os.path.exists(f)}  # /lib is often /usr/lib
    return list(unique.values())


def preload_gl_libraries(backend: str) -> list[str]:
    """Load Mesa's renderer for ``backend`` with ``RTLD_DEEPBIND`` (see the module docstring); returns the paths.

    Harmless when a GPU driver renders instead, or when nothing is found; does nothing off Linux.
    """
    deepbind = getattr(os, "RTLD_DEEPBIND", 0)
    if not deepbind:
        return []
    loaded = []
    for path in _mesa_libraries(backend):
        try:
            ctypes.CDLL(path, mode=os.RTLD_NOW | deepbind)
        except OSError:
            continue
        loaded.append(path)
    return loaded


def probe_gl(backend: str, timeout: float = 180.0) -> str | None:
    """``None`` if MuJoCo renders with ``MUJOCO_GL=backend`` next to TensorFlow (in a subprocess), else why not."""
    env = {**os.environ, "MUJOCO_GL": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("PYOPENGL_PLATFORM", None)  # let mujoco set the one that matches the backend
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH")) if p)
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _PROBE, backend],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{type(exc).__name__}: {exc}"
    if proc.returncode == 0:
        return None
    if proc.returncode < 0:
        return f"the test render crashed ({signal.Signals(-proc.returncode).name})"
    lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else f"exit code {proc.returncode}"


def select_mujoco_gl(
    environ: MutableMapping[str, str] | None = None, probe: Callable[[str], str | None] | None = None
) -> str:
    """Set ``environ["MUJOCO_GL"]`` (default ``os.environ``) to a backend that works, preload it, return it.

    A value the user has set is the only one tried. Call before MuJoCo first renders. Raises
    :class:`VideoError` when no backend works.
    """
    environ = os.environ if environ is None else environ
    probe = probe or probe_gl
    chosen = environ.get("MUJOCO_GL")
    failures = []
    for backend in [chosen] if chosen else GL_BACKENDS:
        reason = probe(backend)
        if reason is None:
            environ["MUJOCO_GL"] = backend
            preload_gl_libraries(backend)
            return backend
        failures.append(f"{backend}: {reason}")
    if chosen:
        raise VideoError(
            f"cannot render video: MUJOCO_GL={chosen} does not work here ({failures[0]}); "
            f"unset it to try {' and '.join(GL_BACKENDS)}"
        )
    raise VideoError(f"cannot render video: no offscreen OpenGL for MuJoCo ({'; '.join(failures)}); {_PACKAGES}")


def select_sdl_driver(environ: MutableMapping[str, str] | None = None) -> None:
    """``SDL_VIDEODRIVER=dummy`` unless it is set or a display is (pygame draws offscreen in ``rgb_array`` mode)."""
    environ = os.environ if environ is None else environ
    if not any(environ.get(name) for name in ("SDL_VIDEODRIVER", "DISPLAY", "WAYLAND_DISPLAY")):
        environ["SDL_VIDEODRIVER"] = "dummy"


def check_encoder() -> None:
    """:class:`VideoError` unless MoviePy, which writes the MP4 files, can be imported."""
    try:
        import moviepy  # noqa: F401, PLC0415 (only needed when recording)
    except ImportError:
        raise VideoError("cannot render video: moviepy is not installed (pip install moviepy)") from None


def check_rendering(env_id: str, make: Callable[..., gym.Env] = gym.make, **kwargs: object) -> tuple[int, ...]:
    """Shape of one ``rgb_array`` frame of a fresh ``env_id``; :class:`VideoError` if it cannot render."""
    try:
        env = make(env_id, render_mode="rgb_array", **kwargs)
    except Exception as exc:  # noqa: BLE001 (any failure to build the rendering env is reported in one line)
        raise VideoError(f"cannot render video: {env_id} with render_mode='rgb_array': {_first_line(exc)}") from None
    try:
        modes = env.metadata.get("render_modes", [])
        if "rgb_array" not in modes:
            has = ", ".join(modes) or "none"
            raise VideoError(f"cannot render video: {env_id} has no 'rgb_array' render mode (it has: {has})")
        env.reset(seed=0)
        frame = env.render()
    except VideoError:
        raise
    except Exception as exc:  # noqa: BLE001 (OpenGL and pygame fail in many ways)
        gl = f" (MUJOCO_GL={os.environ['MUJOCO_GL']})" if "MUJOCO_GL" in os.environ else ""
        raise VideoError(f"cannot render video: {env_id} failed to render{gl}: {_first_line(exc)}") from None
    finally:
        env.close()
    if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[-1] != 3 or frame.dtype != np.uint8:
        got = f"shape {frame.shape}, dtype {frame.dtype}" if isinstance(frame, np.ndarray) else repr(frame)
        raise VideoError(f"cannot render video: {env_id}.render() returned {got}, not an RGB image")
    return tuple(frame.shape)


def check_video_dir(directory: str) -> None:
    """Refuse a folder that already holds files: the new videos would mix with (or replace) them."""
    if os.path.exists(directory) and not (os.path.isdir(directory) and not os.listdir(directory)):
        raise ConfigError(f"--video {directory} already exists and is not an empty folder; record into a new folder")


def video_prefix(env_id: str) -> str:
    """File-name prefix of an env's videos: ``ALE/Pong-v5`` -> ``ALE-Pong-v5``."""
    return env_id.replace("/", "-").replace(os.sep, "-")


def record_video(env: gym.Env, video_dir: str, name_prefix: str, fps: int | None = None) -> gym.Env:
    """``env`` (made with ``render_mode="rgb_array"``) recording every episode to ``video_dir``."""
    try:
        return gym.wrappers.RecordVideo(
            env, video_dir, episode_trigger=lambda _: True, name_prefix=name_prefix, fps=fps
        )
    except gym.error.DependencyNotInstalled:
        raise VideoError("cannot render video: moviepy is not installed (pip install moviepy)") from None
    except ValueError as exc:  # a render mode that gives no images
        raise VideoError(f"cannot render video: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__
