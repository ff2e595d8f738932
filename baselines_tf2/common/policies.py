"""Actor-critic policies of Baselines PPO1: ``MlpPolicy`` and ``CnnPolicy``.

A policy maps a batch of observations to an action distribution (``Pd``) and a value estimate
``vpred``. Both are ``tf.Module``s made only of ``tf.Module`` layers, so ``trainable_variables``
lists every weight and ``tf.train.Checkpoint(policy=pi)`` saves them with the observation
normaliser ``ob_rms``.

* ``MlpPolicy`` (PPO1 ``mlp_policy``): observations normalised by ``ob_rms`` and clipped to +-5;
  separate tanh networks for the policy and the value (no shared weights, as in the paper's MuJoCo
  runs); for ``Box`` actions a state-independent learned log-std.
* ``CnnPolicy`` (PPO1 ``cnn_policy``): pixels scaled to [0, 1] (no running normalisation, so its
  ``ob_rms`` is ``None``), a shared convolutional trunk, policy and value heads on top. With
  ``precision="bfloat16"`` (opt-in) the network computes in bfloat16 from float32 weights, for
  CPUs whose AMX / AVX512-BF16 units run it faster; distributions and losses stay float32.
* ``LstmPolicy``, ``CnnLstmPolicy`` (Baselines ppo2's ``lstm``, ``cnn_lstm``): the MLP or CNN trunk,
  then an LSTM whose state each env copy carries from step to step (``RecurrentPolicy``; see
  :mod:`baselines_tf2.common.lstm_policy`).
* ``DictPolicy`` (alias ``MultiInputPolicy``, Stable-Baselines3's name): ``Dict`` observations,
  each key through its own encoder (images a CNN, other ``Box`` keys their own ``ob_rms[key]``,
  ``Discrete`` one-hot), concatenated, then ``MlpPolicy``'s separate pi and V networks
  (:mod:`~baselines_tf2.common.dict_policy`).

Initialisation (``init``): ``"ppo1"`` (the default) is PPO1's: normalised-column dense weights of
scale 0.01 for the policy head (near-uniform first actions), 1.0 elsewhere, Glorot-uniform
convolutions. ``"orthogonal"`` is Baselines ppo2's (its ``mlp`` and ``nature_cnn``, also A2C's,
SB3's and CleanRL's): orthogonal weights of scale sqrt(2) in every hidden layer and convolution,
0.01 in the policy head, 1.0 in the value head. Zero biases and log-std 0 either way.
"""

from __future__ import annotations

from baselines_tf2.common.cnn_policy import CnnPolicy
from baselines_tf2.common.dict_policy import DictPolicy, MultiInputPolicy
from baselines_tf2.common.layers import INITS
from baselines_tf2.common.lstm_policy import CnnLstmPolicy, LstmPolicy, RecurrentPolicy
from baselines_tf2.common.mlp_policy import MlpPolicy
from baselines_tf2.common.policy_base import OBS_CLIP, Policy, bfloat16_is_fast
from baselines_tf2.config import PRECISIONS

__all__ = [
    "CnnLstmPolicy",
    "CnnPolicy",
    "DictPolicy",
    "INITS",
    "LstmPolicy",
    "MlpPolicy",
    "MultiInputPolicy",
    "OBS_CLIP",
    "PRECISIONS",
    "Policy",
    "RecurrentPolicy",
    "bfloat16_is_fast",
]
