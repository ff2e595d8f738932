"""``learn()``'s keywords sorted into config objects (re-exported by :mod:`baselines_tf2.config`).

Kept apart from the config classes, which hold settings only. Imports no TensorFlow.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from baselines_tf2.errors import ConfigError

__all__ = ["split_settings"]


def split_settings(
    settings: Mapping[str, Any], *classes_and_bases: tuple[Any, Any], where: str = "learn()"
) -> list[Any]:
    """Sort keyword settings into config objects: ``(cls, base)`` pairs -> ``replace(base or cls(), ...)``.

    A name that no class has is an error naming the valid ones, as a misspelled keyword should be.
    """
    names = [{f.name for f in dataclasses.fields(cls)} for cls, _ in classes_and_bases]
    unknown = sorted(set(settings) - set().union(*names))
    if unknown:
        valid = ", ".join(sorted(set().union(*names)))
        raise ConfigError(f"{where} got unknown setting(s) {', '.join(unknown)}; valid: {valid}")
    out = []
    for (cls, base), fields_of in zip(classes_and_bases, names):
        mine = {k: v for k, v in settings.items() if k in fields_of}
        out.append(dataclasses.replace(base if base is not None else cls(), **mine))
    return out
