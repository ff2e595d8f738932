"""Invalid-action masks: their layout, their checks, and masked logits on the host (SB3-contrib's convention).

A mask says which actions are valid in a state: a boolean array with the layout of the flat logits,
``[batch, n]`` for ``Discrete(n)`` and ``[batch, sum(nvec)]`` for ``MultiDiscrete(nvec)`` (each
component's mask concatenated in ``nvec`` order, as SB3-contrib's ``MaskableMultiCategorical``),
``True`` for a valid action. Each row needs at least one valid action (in every component).

A masked logit is replaced by :data:`MASKED_LOGIT` (-1e8, SB3-contrib's value). Finite, so
log-probabilities, entropies, KLs and their gradients stay finite; and so far below any logit a
network produces that ``exp(MASKED_LOGIT - max)`` is exactly 0 in float32: the probabilities and
log-probabilities of the valid actions are exactly those of the distribution renormalised over
them, and tfp's entropy and KL drop the zero-probability terms, so both are over the valid actions
only (tested against closed forms). The TF side is :meth:`PdType.mask_logits
<baselines_tf2.common.pdtype.PdType.mask_logits>`; this module imports no TensorFlow.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from baselines_tf2.errors import ActionMaskError

__all__ = ["MASKED_LOGIT", "check_action_masks", "mask_logits_numpy", "mask_sizes"]

MASKED_LOGIT = -1e8


def mask_sizes(space: spaces.Space) -> list[int] | None:
    """The sizes of a mask's components: ``[n]`` for ``Discrete(n)``, ``nvec`` for ``MultiDiscrete``; ``None``
    for spaces that cannot be masked (``Box``, ``MultiBinary``)."""
    if isinstance(space, spaces.Discrete):
        return [int(space.n)]
    if isinstance(space, spaces.MultiDiscrete) and len(space.nvec.shape) == 1:
        return [int(n) for n in space.nvec]
    return None


def check_action_masks(masks: Any, sizes: list[int], source: str = "action mask") -> np.ndarray:
    """``masks`` as a bool array ``[batch, sum(sizes)]``, or :class:`ActionMaskError` naming the problem.

    Accepts any array-like of bools or 0/1 integers (Taxi's ``info["action_mask"]`` is int8).

    Raises:
        ActionMaskError: a mask of the wrong shape, or a row (a component of a row) with no valid action.
    """
    arr = np.asarray(masks)
    width = sum(sizes)
    if arr.ndim != 2 or arr.shape[1] != width or arr.dtype.kind not in "biu":
        layout = f"{width} bools" if len(sizes) == 1 else f"{width} bools (components {sizes} concatenated)"
        raise ActionMaskError(f"{source} has shape {arr.shape} and dtype {arr.dtype}; expected {layout} per env copy")
    arr = arr.astype(bool, copy=False)
    valid = arr.any(axis=1, keepdims=True) if len(sizes) == 1 else np.logical_or.reduceat(arr, _starts(sizes), axis=1)
    if not valid.all():
        row, component = np.argwhere(~valid)[0]
        where = f" in component {component} (of {sizes})" if len(sizes) > 1 else ""
        raise ActionMaskError(f"{source} allows no action{where} for env copy {row}: every state needs a valid action")
    return arr


def mask_logits_numpy(flat: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``flat`` with the logits of invalid actions replaced by :data:`MASKED_LOGIT` (as ``PdType.mask_logits``)."""
    return np.where(mask, flat, np.float32(MASKED_LOGIT))


def _starts(sizes: list[int]) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.intp)
