"""The environment alone: ``gymnasium.make(ENV)`` stepped with random actions (benchmark baseline).

Prints one line: ``steps=<n> seconds=<wall time of the stepping loop>``. This is the ceiling a
learner's steps/s is compared with: everything a learner adds (acting, bookkeeping, updates)
shows as the gap between the two.
"""

import argparse
import time

import gymnasium as gym

parser = argparse.ArgumentParser()
parser.add_argument("--env", default="Hopper-v5")
parser.add_argument("--num_timesteps", type=int, default=100_000)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

env = gym.make(args.env)
env.reset(seed=args.seed)
env.action_space.seed(args.seed)
start = time.perf_counter()
for _ in range(args.num_timesteps):
    _, _, terminated, truncated, _ = env.step(env.action_space.sample())
    if terminated or truncated:
        env.reset()
print(f"steps={args.num_timesteps} seconds={time.perf_counter() - start:.3f}")
