"""Dict observations as one flat float32 vector: the layout of the keys, the packed space, packing.

Every compiled function, rollout buffer and batch takes ONE observation tensor. A ``Dict``
observation is therefore packed into one float32 vector where it leaves the environment
(:class:`~baselines_tf2.envs.dict_obs.PackDictObservation`) and cut back into its keys inside
the policy (:class:`~baselines_tf2.common.dict_policy.DictPolicy`).

The layout is gymnasium's ``spaces.flatten``: the keys in the Dict's order (gymnasium sorts the
keys of a plain ``dict``), each flattened in C order: a ``Box`` as its values, a ``Discrete`` as a
one-hot of ``n``, a ``MultiDiscrete`` as its components' one-hots side by side, a ``MultiBinary``
as its 0/1 values. float32 holds uint8 images, one-hots and integers up to 2**24 exactly; a
float64 ``Box`` is rounded to float32 (the networks compute in float32 anyway).

How the policy reads each key (its *kind*):

* ``image``: a uint8 ``Box`` ``[H, W, C]`` with bounds 0 and 255 (Stable-Baselines3's
  ``is_image_space``, channels last): a CNN on the pixels / 255;
* ``box``: any other ``Box``: its own running mean/std, clipped to +-5, flattened;
* ``onehot``: ``Discrete`` and ``MultiDiscrete`` (one-hot, as SB3), not normalised;
* ``binary``: ``MultiBinary``, its 0/1 values, not normalised.

Other subspaces (a nested ``Dict``, ``Tuple``, ``Text``, ``Graph``, ``Sequence``) are refused
with one line naming the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

from baselines_tf2.errors import ConfigError

__all__ = [
    "KeySlot",
    "PackedDictSpace",
    "as_dict_space",
    "dict_layout",
    "is_image_space",
    "pack",
    "pack_batch",
    "unpack",
]


@dataclass(frozen=True)
class KeySlot:
    """Where one key of a Dict observation lives in the packed vector, and how the policy reads it."""

    key: str
    space: spaces.Space
    kind: str  # "image", "box", "onehot" or "binary" (see the module docstring)
    offset: int  # first column of the key in the packed vector
    size: int  # columns: prod(shape) for Box and MultiBinary, n or sum(nvec) for one-hots

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of one observation of the key (``()`` for a ``Discrete``)."""
        return tuple(int(d) for d in self.space.shape or ())

    @property
    def stop(self) -> int:
        """One past the key's last column."""
        return self.offset + self.size


def is_image_space(space: spaces.Space) -> bool:
    """A uint8 ``Box`` ``[H, W, C]`` with every bound 0 and 255 (SB3's test; channels last)."""
    return (
        isinstance(space, spaces.Box)
        and len(space.shape) == 3
        and space.dtype == np.uint8
        and bool(np.all(space.low == 0))
        and bool(np.all(space.high == 255))
    )


def _kind(key: Any, space: spaces.Space) -> str:
    if isinstance(space, spaces.Box):
        return "image" if is_image_space(space) else "box"
    if isinstance(space, (spaces.Discrete, spaces.MultiDiscrete)):
        return "onehot"
    if isinstance(space, spaces.MultiBinary):
        return "binary"
    if isinstance(space, spaces.Dict):
        raise ConfigError(
            f"observation key {key!r} is a nested Dict, which is not supported; flatten it into the top level"
        )
    raise ConfigError(
        f"observation key {key!r} is a {type(space).__name__} space, which is not supported "
        "(Box, Discrete, MultiDiscrete and MultiBinary are)"
    )


def dict_layout(space: spaces.Dict) -> tuple[KeySlot, ...]:
    """The slot of every key of ``space``, in packing order; one-line errors for what cannot be packed."""
    if not space.spaces:
        raise ConfigError("the Dict observation space has no keys")
    slots, offset = [], 0
    for key, sub in space.spaces.items():
        if not isinstance(key, str):
            raise ConfigError(f"observation key {key!r} is not a string")
        kind = _kind(key, sub)
        size = int(spaces.flatdim(sub))
        slots.append(KeySlot(key, sub, kind, offset, size))
        offset += size
    return tuple(slots)


class PackedDictSpace(spaces.Box):
    """The float32 ``Box`` of packed observations of ``dict_space``, which it keeps (with its layout).

    Bounds are gymnasium's ``flatten_space`` bounds in float32. A policy given this space (what a
    vector env of packed copies reports) knows the Dict behind it: :func:`as_dict_space`.
    """

    def __init__(self, dict_space: spaces.Dict) -> None:
        self.dict_space = dict_space
        self.layout = dict_layout(dict_space)
        flat = spaces.flatten_space(dict_space)
        assert isinstance(flat, spaces.Box)  # a Dict of the supported spaces flattens to a Box
        super().__init__(np.asarray(flat.low, np.float32), np.asarray(flat.high, np.float32), dtype=np.float32)

    def __repr__(self) -> str:
        return f"PackedDictSpace({self.dict_space!r})"


def as_dict_space(space: spaces.Space) -> spaces.Dict | None:
    """The Dict behind ``space`` (a ``Dict``, or a :class:`PackedDictSpace`); ``None`` for any other space."""
    if isinstance(space, PackedDictSpace):
        return space.dict_space
    return space if isinstance(space, spaces.Dict) else None


def pack(space: spaces.Dict, ob: Mapping[str, Any]) -> np.ndarray:
    """One observation of ``space`` as its packed float32 vector (gymnasium's ``flatten``)."""
    return np.asarray(spaces.flatten(space, ob), dtype=np.float32)


def pack_batch(space: spaces.Dict, obs: Mapping[str, Any]) -> np.ndarray:
    """A batch (every key ``[n, *key_shape]``) as packed float32 rows ``[n, flatdim]``; row i is ``pack`` of
    observation i (tested), vectorised."""
    parts = []
    for slot in dict_layout(space):
        x = np.asarray(obs[slot.key])
        n = len(x)
        sub = slot.space
        if isinstance(sub, spaces.Discrete):
            parts.append(np.eye(int(sub.n), dtype=np.float32)[x.reshape(n) - int(sub.start)])
        elif isinstance(sub, spaces.MultiDiscrete):
            values = (x - sub.start).reshape(n, -1)
            nvec = np.asarray(sub.nvec).reshape(-1)
            parts += [np.eye(int(m), dtype=np.float32)[values[:, j]] for j, m in enumerate(nvec)]
        else:
            parts.append(x.reshape(n, -1).astype(np.float32))
    return np.concatenate(parts, axis=1)


def unpack(space: spaces.Dict, packed: np.ndarray) -> dict[str, Any]:
    """One packed vector back to its observation (gymnasium's ``unflatten``, in each key's dtype)."""
    return dict(spaces.unflatten(space, np.asarray(packed)))
