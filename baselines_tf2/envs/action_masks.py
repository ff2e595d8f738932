"""Where environments say which actions are valid: reading invalid-action masks (``action_masking``).

An env provides masks in one of two ways, looked for in this order:

1. an ``action_masks()`` method (SB3-contrib MaskablePPO's convention), returning the mask of the
   current state: of a vector env itself (``[num_envs, m]``), or of each copy, found through its
   wrappers (gymnasium's ``get_wrapper_attr``; vector envs other than ``SyncVectorEnv`` through
   ``env.call("action_masks")``, e.g. ``AsyncVectorEnv``);
2. ``info["action_mask"]``, returned by ``reset`` and ``step`` for the state they lead to
   (gymnasium's convention, e.g. Taxi).

The layout is :mod:`baselines_tf2.common.masking`'s (``[n]`` for ``Discrete(n)``, ``[sum(nvec)]``
for ``MultiDiscrete``), checked at every read. ``action_masking``: ``auto`` uses masks when the env
provides them, ``on`` requires them, ``off`` ignores them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from baselines_tf2.common.masking import check_action_masks, mask_sizes
from baselines_tf2.config import ACTION_MASKING
from baselines_tf2.errors import ActionMaskError, ConfigError

__all__ = ["MASK_INFO_KEY", "MASK_METHOD", "ActionMasks", "env_masks", "vector_env_masks"]

MASK_METHOD = "action_masks"
MASK_INFO_KEY = "action_mask"


class ActionMasks:
    """The current action masks of an env's copies, ``[num_envs, m]`` bool, read where the env provides them.

    Args:
        sizes: the mask's components (:func:`~baselines_tf2.common.masking.mask_sizes`).
        num_envs: copies.
        fetch: returns every copy's mask (an ``action_masks()`` method); ``None`` to read them from
            the infos given to :meth:`update_copy` / :meth:`update_batched`.
        source: how the masks are read, for messages.
    """

    def __init__(self, sizes: list[int], num_envs: int, fetch: Callable[[], Any] | None, source: str) -> None:
        self.sizes, self.fetch, self.source = sizes, fetch, source
        self.reads_infos = fetch is None
        self._rows: list[Any] = [None] * num_envs

    def update_copy(self, i: int, info: dict) -> None:
        """Copy ``i``'s info from its last ``reset`` or ``step`` (read only by the info source)."""
        if self.reads_infos:
            if MASK_INFO_KEY not in info:
                raise ActionMaskError(f"env copy {i} returned an info without {MASK_INFO_KEY!r}")
            self._rows[i] = info[MASK_INFO_KEY]

    def update_batched(self, infos: dict) -> None:
        """A vector env's infos from ``reset`` or ``step`` (read only by the info source)."""
        if self.reads_infos:
            present = np.asarray(infos.get("_" + MASK_INFO_KEY, np.zeros(len(self._rows), bool)))
            if not present.all():
                i = int(np.flatnonzero(~present)[0])
                raise ActionMaskError(f"env copy {i} returned an info without {MASK_INFO_KEY!r}")
            self._rows = list(infos[MASK_INFO_KEY])

    def current(self) -> np.ndarray:
        """Every copy's mask of its current state, checked (:class:`ActionMaskError` names a bad one)."""
        raw = self.fetch() if self.fetch is not None else self._rows
        return check_action_masks(
            np.stack([np.asarray(r) for r in raw]), self.sizes, f"the action mask from {self.source}"
        )


def vector_env_masks(env: gym.vector.VectorEnv, mode: str, reset_infos: dict) -> ActionMasks | None:
    """The masks of a vector env's copies, or ``None`` when there are none to apply (see the module docstring).

    Args:
        env: the vector env, just reset.
        mode: ``auto``, ``on`` or ``off``.
        reset_infos: what that reset returned as infos.

    Raises:
        ConfigError: masking ``on`` and the env provides no masks, or masks for actions that
            cannot be masked (``Box``, ``MultiBinary``).
    """
    fetch, source = None, f"info[{MASK_INFO_KEY!r}]"
    if mode != "off":
        if callable(getattr(env, MASK_METHOD, None)):
            fetch, source = getattr(env, MASK_METHOD), f"the vector env's {MASK_METHOD}()"
        elif isinstance(env, gym.vector.SyncVectorEnv):
            if all(copy.has_wrapper_attr(MASK_METHOD) for copy in env.envs):
                methods = [copy.get_wrapper_attr(MASK_METHOD) for copy in env.envs]
                fetch, source = (lambda: [method() for method in methods]), f"the env copies' {MASK_METHOD}()"
        elif (call := _call_if_copies_have_method(env)) is not None:
            fetch, source = (lambda: call(MASK_METHOD)), f"the env copies' {MASK_METHOD}()"
    found = fetch is not None or MASK_INFO_KEY in reset_infos
    masks = _resolve(env.single_action_space, mode, found, fetch, source, env.num_envs)
    if masks is not None:
        masks.update_batched(reset_infos)
    return masks


def env_masks(env: gym.Env, mode: str, reset_info: dict) -> ActionMasks | None:
    """The masks of one env (``--play``), as :func:`vector_env_masks` (one row)."""
    fetch, source = None, f"info[{MASK_INFO_KEY!r}]"
    if mode != "off" and env.has_wrapper_attr(MASK_METHOD):
        method = env.get_wrapper_attr(MASK_METHOD)
        fetch, source = (lambda: [method()]), f"the env's {MASK_METHOD}()"
    found = fetch is not None or MASK_INFO_KEY in reset_info
    masks = _resolve(env.action_space, mode, found, fetch, source, 1)
    if masks is not None:
        masks.update_copy(0, reset_info)
    return masks


def _call_if_copies_have_method(env: gym.vector.VectorEnv) -> Callable[..., Any] | None:
    """A vector env's ``call`` (other than ``SyncVectorEnv``'s) if every copy has the method, asked without calling it."""
    call = getattr(env, "call", None)
    if not callable(call):
        return None
    try:
        return call if all(call("has_wrapper_attr", MASK_METHOD)) else None
    except Exception:  # noqa: BLE001 (vector envs that cannot answer have no masks to read)
        return None


def _resolve(
    space: gym.Space, mode: str, found: bool, fetch: Callable[[], Any] | None, source: str, num_envs: int
) -> ActionMasks | None:
    if mode not in ACTION_MASKING:
        raise ConfigError(f"action_masking must be one of {', '.join(ACTION_MASKING)}, got {mode!r}")
    if mode == "off" or (mode == "auto" and not found):
        return None
    sizes = mask_sizes(space)
    if sizes is None:
        why = "the env provides action masks, but" if found else "action_masking is on, but"
        raise ConfigError(
            f"{why} {space} actions cannot be masked (only Discrete and MultiDiscrete); set action_masking off"
        )
    if not found:
        raise ConfigError(
            f"action_masking is on, but the env provides no action masks: give it an {MASK_METHOD}() method "
            f"or return info[{MASK_INFO_KEY!r}] from reset and step"
        )
    return ActionMasks(sizes, num_envs, fetch, source)
