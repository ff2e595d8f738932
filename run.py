"""Command-line entry point (Baselines' ``run.py``); training lands with the pposgd learner."""

import sys

USAGE = """usage: [mpirun -n N] python run.py --alg ppo --env ENV_ID [options]

The PPO learner is not merged yet; the core library (baselines_tf2.common) is importable.
"""

if __name__ == "__main__":
    sys.stderr.write(USAGE)
    sys.exit(2)
