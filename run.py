"""Train or play a PPO agent: ``[mpirun -n N] python run.py --alg ppo --env Hopper-v5``.

See ``python run.py --help`` and the README; the logic lives in ``baselines_tf2.cli``.
"""

from baselines_tf2.cli import exit_process, main

if __name__ == "__main__":
    exit_process(main())
