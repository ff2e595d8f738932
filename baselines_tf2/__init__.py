"""baselines_tf2: OpenAI Baselines' PPO (PPO1 ``pposgd_simple`` and PPO2) on TensorFlow 2."""

import os

# TensorFlow's C++ start-up chatter (CUDA probing on CPU-only machines) hides our own output;
# set TF_CPP_MIN_LOG_LEVEL=0 yourself to see it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from baselines_tf2 import _aliases
from baselines_tf2._version import __version__

_aliases.install()

__all__ = ["__version__"]
