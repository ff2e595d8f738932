"""Train or play a PPO agent: ``[mpirun -n N] python run.py --alg ppo --env Hopper-v5``.

See ``python run.py --help`` and the README; the logic lives in ``baselines_tf2.cli``.
"""

import sys

from baselines_tf2.cli import main

if __name__ == "__main__":
    sys.exit(main())
