"""Time the pieces of one Pong iteration of ours, one by one (the "where the time goes" of the benchmark page).

Per precision: the Nature CNN's acting forward pass on 8 frames, one PPO gradient step of 256
frames (the paper's minibatch), the full-batch loss evaluation of 1,024 frames; and the
gymnasium Atari stack's step (``make_env("ALE/Pong-v5")``, one copy, one thread). Medians of
repeated calls after a warm-up. Writes ``docs/data/cnn_pieces.csv``; nothing else may run meanwhile.

    python docs/scripts/profile_cnn.py
"""

from __future__ import annotations

import csv
import statistics
import time
from pathlib import Path

import numpy as np

from baselines_tf2.tools.quiet import import_tensorflow_quietly

import_tensorflow_quietly()

from gymnasium import spaces  # noqa: E402

from baselines_tf2.common.mpi_adam import MpiAdam  # noqa: E402
from baselines_tf2.common.policies import CnnPolicy  # noqa: E402
from baselines_tf2.envs.make import make_env  # noqa: E402
from baselines_tf2.ppo.update import PPOUpdater  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / "docs" / "data" / "cnn_pieces.csv"


def median_ms(fn, repeats: int, per_call: int = 1) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3 / per_call)
    return statistics.median(times)


def network_pieces(precision: str) -> dict[str, float]:
    pi = CnnPolicy(spaces.Box(0, 255, (84, 84, 4), np.uint8), spaces.Discrete(6), precision=precision)
    updater = PPOUpdater(pi, MpiAdam(pi.trainable_variables, epsilon=1e-5), entcoeff=0.01, vf_coef=1.0, vf_clip=False)
    rng = np.random.default_rng(0)
    n = 1024
    ob = rng.integers(0, 256, size=(n, 84, 84, 4), dtype=np.uint8)
    flat, vpred = pi.forward_numpy(ob)
    updater.load_batch({"ob": ob, "ac": rng.integers(0, 6, n).astype(np.int64),
                        "atarg": rng.normal(size=n).astype(np.float32), "vtarg": rng.normal(size=n).astype(np.float32),
                        "oldpdparam": flat.astype(np.float32), "oldvpred": vpred.astype(np.float32)})  # fmt: skip
    return {
        "act_forward_8": median_ms(lambda: pi.forward_numpy(ob[:8]), 200),
        "grad_step_256": median_ms(lambda: updater.run_epoch(rng.permutation(n).reshape(4, 256), 2.5e-4, 0.1), 10, 4),
        "evaluate_1024": median_ms(lambda: updater.evaluate(0.1), 10),
    }


def env_step_ms() -> float:
    env = make_env("ALE/Pong-v5")
    env.reset(seed=0)
    rng = np.random.default_rng(0)

    def steps():
        for _ in range(200):
            _, _, terminated, truncated, _ = env.step(int(rng.integers(6)))
            if terminated or truncated:
                env.reset()

    return median_ms(steps, 10, 200)


def main() -> None:
    rows = [{"piece": piece, "precision": precision, "ms": round(ms, 3)}
            for precision in ("float32", "bfloat16") for piece, ms in network_pieces(precision).items()]  # fmt: skip
    rows.append({"piece": "gymnasium_env_step", "precision": "", "ms": round(env_step_ms(), 3)})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["piece", "precision", "ms"])
        writer.writeheader()
        writer.writerows(rows)
    for row in rows:
        print(f"{row['piece']:20s} {row['precision']:9s} {row['ms']:8.2f} ms")


if __name__ == "__main__":
    main()
