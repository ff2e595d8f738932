"""``--network`` and its settings (a :class:`PolicyConfig`) to a ``policy_fn(ob_space, ac_space)``.

TensorFlow and the policy classes are imported when a policy is built, not when this module is.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from baselines_tf2.config import RECURRENT_NETWORKS, PolicyConfig
from baselines_tf2.errors import ConfigError

__all__ = ["box_policy_fn", "policy_fn_for"]


def policy_fn_for(policy: PolicyConfig) -> Callable[[Any, Any], Any]:
    """``policy_fn(ob_space, ac_space)``: a Dict observation space gets the multi-input policy, others ``--network``'s."""
    box_fn = box_policy_fn(policy)

    def policy_fn(ob_space: Any, ac_space: Any) -> Any:
        from baselines_tf2.common.dict_space import as_dict_space  # noqa: PLC0415
        from baselines_tf2.common.policies import DictPolicy  # noqa: PLC0415
        from baselines_tf2.mpi import mpi_util  # noqa: PLC0415

        if as_dict_space(ob_space) is None:
            if policy.network == "multi_input":
                raise ConfigError(f"--network multi_input needs a Dict observation space, not {ob_space}")
            return box_fn(ob_space, ac_space)
        if policy.network in RECURRENT_NETWORKS:
            raise ConfigError(f"--network {policy.network} takes Box observations; Dict observations get multi_input")
        if policy.precision != "float32":
            raise ConfigError(f"precision {policy.precision} is for CNN policies; Dict observations take float32")
        cnn_kind = "small" if policy.network == "cnn_small" else "large"
        layers, width, init = policy.num_hid_layers, policy.hid_size, policy.init
        pi = DictPolicy(ob_space, ac_space, hid_size=width, num_hid_layers=layers, init=init, cnn_kind=cnn_kind)
        if mpi_util.rank() == 0:
            keys = ", ".join(f"{slot.key} ({slot.kind})" for slot in pi.layout)
            cnn = f"; images through the {'A3C' if cnn_kind == 'small' else 'Nature'} CNN" if pi.images else ""
            print(f"network multi_input for Dict observations: keys {keys}{cnn}; pi and V {layers}x{width}")
        return pi

    return policy_fn


def box_policy_fn(policy: PolicyConfig) -> Callable[..., Any]:
    """The policy class of ``--network`` for Box observations, its settings bound (``policy_fn(ob_space, ac_space)``)."""
    from baselines_tf2.common.policies import CnnLstmPolicy, CnnPolicy, LstmPolicy, MlpPolicy, bfloat16_is_fast  # noqa: PLC0415
    from baselines_tf2.mpi import mpi_util  # noqa: PLC0415

    if policy.network in ("mlp", "multi_input"):
        return partial(MlpPolicy, hid_size=policy.hid_size, num_hid_layers=policy.num_hid_layers, init=policy.init)
    if policy.network == "lstm":
        trunk = partial(LstmPolicy, hid_size=policy.hid_size, num_hid_layers=policy.num_hid_layers)
        return partial(trunk, nlstm=policy.nlstm, init=policy.init)
    if policy.network == "cnn_lstm":
        return partial(CnnLstmPolicy, nlstm=policy.nlstm, init=policy.init)
    if policy.precision == "bfloat16" and not bfloat16_is_fast() and mpi_util.rank() == 0:
        print("note: this CPU has no AMX/AVX512-BF16 units; --precision bfloat16 will be slower than float32")
    kind = "large" if policy.network == "cnn" else "small"
    return partial(CnnPolicy, kind=kind, precision=policy.precision, init=policy.init)
