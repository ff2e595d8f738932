"""The network ``run.py`` builds (in Python, pass a ``policy_fn`` instead)."""

from __future__ import annotations

from dataclasses import dataclass

from baselines_tf2.config.fields import INITS, NETWORKS, PRECISIONS, RECURRENT_NETWORKS, setting
from baselines_tf2.config.validation import non_negative, one_of, positive_int
from baselines_tf2.errors import ConfigError


@dataclass
class PolicyConfig:
    """The network ``run.py`` builds (in Python, pass a ``policy_fn`` instead)."""

    network: str = setting(
        "mlp",
        "mlp (separate tanh networks for pi and V), cnn (Nature CNN), cnn_small (A3C's), multi_input (Dict "
        "observations: each key through its own encoder, images a CNN, other Box keys their own normaliser, "
        "Discrete one-hot; concatenated, then mlp's separate pi and V networks), or the recurrent lstm (tanh MLP "
        "trunk, then an LSTM shared by pi and V) and cnn_lstm (Nature CNN, then the LSTM). A Dict observation space "
        "always gets multi_input (recurrent networks refuse it); there cnn_small gives its image keys A3C's CNN "
        "instead of the Nature CNN. Recurrent policies train on minibatches of whole env sequences: "
        "optim_batchsize = timesteps_per_actorbatch x a divisor of num_env",
        NETWORKS,
    )
    hid_size: int = setting(64, "width of the MLP's hidden layers")
    num_hid_layers: int = setting(
        2, "hidden layers of each MLP (lstm: of the trunk before the LSTM; 0 feeds it the observation, as Baselines)"
    )
    nlstm: int = setting(128, "LSTM units of the recurrent networks lstm and cnn_lstm (Baselines' nlstm)")
    precision: str = setting(
        "float32",
        "compute dtype of a CNN: bfloat16 is mixed precision (float32 weights, Adam, heads and loss), faster on "
        "CPUs with AMX or AVX512-BF16",
        PRECISIONS,
    )
    init: str = setting(
        "ppo1",
        "initialisation: ppo1 (normalised columns, Glorot convolutions) or orthogonal (Baselines ppo2's mlp and "
        "nature_cnn: sqrt(2) hidden, 0.01 policy head, 1 value head)",
        INITS,
    )

    def validate(self) -> None:
        """Raise ConfigError for a network that cannot be built."""
        one_of("network", self.network, NETWORKS)
        one_of("precision", self.precision, PRECISIONS)
        one_of("init", self.init, INITS)
        positive_int("hid_size", self.hid_size)
        positive_int("nlstm", self.nlstm)
        if self.network == "lstm":
            non_negative("num_hid_layers", self.num_hid_layers)
        else:
            positive_int("num_hid_layers", self.num_hid_layers)
        if self.network == "mlp" and self.precision != "float32":
            raise ConfigError(
                f"precision {self.precision} is for CNN policies; the MLP acts in NumPy and trains in float32"
            )
        if self.network == "multi_input" and self.precision != "float32":
            raise ConfigError(f"precision {self.precision} is for CNN policies; multi_input computes in float32")
        if self.network in RECURRENT_NETWORKS and self.precision != "float32":
            raise ConfigError(
                f"precision {self.precision} is for the cnn and cnn_small networks; {self.network} is float32"
            )
