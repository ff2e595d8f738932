"""Train or play a PPO agent: ``[mpirun -n N] python run.py --alg ppo --env Hopper-v5``.

The checkout's entry point; an installed package runs the same as ``python -m baselines_tf2`` or
``baselines-tf2``. See ``python run.py --help`` and the README; the logic lives in ``baselines_tf2.cli``.
"""

from baselines_tf2.cli import script

if __name__ == "__main__":
    script()
