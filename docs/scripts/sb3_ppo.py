"""Stable-Baselines3's PPO with the settings of our ``--alg ppo`` MuJoCo preset (benchmark only).

Runs in the separate benchmark environment (``.bench-venv``); SB3 is never a dependency of
baselines_tf2. Prints one line: ``steps=<n> seconds=<learn() wall time>``.
"""

import argparse
import time

import gymnasium as gym
import torch
from stable_baselines3 import PPO

parser = argparse.ArgumentParser()
parser.add_argument("--env", default="Hopper-v5")
parser.add_argument("--num_timesteps", type=int, default=100_000)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

env = gym.make(args.env)
model = PPO(
    "MlpPolicy", env, n_steps=2048, batch_size=64, n_epochs=10, learning_rate=3e-4, gamma=0.99, gae_lambda=0.95,
    clip_range=0.2, ent_coef=0.0, vf_coef=1.0, max_grad_norm=1e9, seed=args.seed, device="cpu", verbose=0,
    policy_kwargs=dict(net_arch=dict(pi=[64, 64], vf=[64, 64]), activation_fn=torch.nn.Tanh),
)
start = time.perf_counter()
model.learn(args.num_timesteps)
print(f"steps={model.num_timesteps} seconds={time.perf_counter() - start:.3f}")
