"""Stable-Baselines3's PPO with the settings of our ``--alg ppo`` presets (benchmark only).

Runs in the separate benchmark environment (``.bench-venv``); SB3 is never a dependency of
baselines_tf2. Prints one line: ``steps=<n> seconds=<learn() wall time>``.

* MuJoCo (default): Hopper-v5, 1 env, T=2048, minibatch 64, 10 epochs, separate 64-64 tanh nets.
* ``--atari``: e.g. ALE/Pong-v5 with SB3's own Atari wrappers (``make_atari_env``: no-op reset,
  frame skip 4 with max-pooling, 84x84 grey, life loss, FIRE reset, reward clipping) and a 4-frame
  stack; the paper's Table 5 settings as in our preset: 8 envs, T=128, 3 epochs, minibatch 256,
  Adam 2.5e-4 and clip 0.1 annealed linearly, c1 = 1, c2 = 0.01, Nature CNN.
"""

import argparse
import time

import gymnasium as gym
import torch
from stable_baselines3 import PPO


def make_model(env_id: str | None, atari: bool, seed: int) -> PPO:
    """SB3's PPO with the settings above (shared with ``lockstep_worker.py``)."""
    # Both presets: gamma, GAE lambda, c1 = 1 on the value loss, no gradient clipping, CPU.
    common = dict(gamma=0.99, gae_lambda=0.95, vf_coef=1.0, max_grad_norm=1e9, seed=seed, device="cpu", verbose=0)
    if atari:
        import ale_py  # noqa: PLC0415 (Atari only)
        from stable_baselines3.common.env_util import make_atari_env  # noqa: PLC0415
        from stable_baselines3.common.vec_env import VecFrameStack  # noqa: PLC0415

        gym.register_envs(ale_py)
        # frameskip=1: SB3's wrapper does the skipping (v5's default would skip 4 x 4 frames); sticky actions stay at v5's 0.25.
        env = VecFrameStack(
            make_atari_env(env_id or "ALE/Pong-v5", n_envs=8, seed=seed, env_kwargs={"frameskip": 1}), 4
        )
        return PPO(
            "CnnPolicy",
            env,
            n_steps=128,
            batch_size=256,
            n_epochs=3,
            learning_rate=lambda f: 2.5e-4 * f,
            clip_range=lambda f: 0.1 * f,
            ent_coef=0.01,
            **common,
        )
    return PPO(
        "MlpPolicy",
        gym.make(env_id or "Hopper-v5"),
        n_steps=2048,
        batch_size=64,
        n_epochs=10,
        learning_rate=3e-4,
        clip_range=0.2,
        ent_coef=0.0,
        **common,
        policy_kwargs=dict(net_arch=dict(pi=[64, 64], vf=[64, 64]), activation_fn=torch.nn.Tanh),
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--env", default=None)
    parser.add_argument("--atari", action="store_true")
    parser.add_argument("--num_timesteps", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    model = make_model(args.env, args.atari, args.seed)
    start = time.perf_counter()
    model.learn(args.num_timesteps)
    print(f"steps={model.num_timesteps} seconds={time.perf_counter() - start:.3f}")
