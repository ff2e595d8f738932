"""One side of the lockstep benchmark (``bench_throughput.py lockstep``): trains or steps on command.

The coordinator starts one worker per implementation and lets them run one at a time, one
block each in turn: an iteration of ours (``run.py``'s own code path), a rollout-and-update of
Stable-Baselines3's PPO, or 2048 steps of the bare environment. Only one worker computes at any
moment, and blocks are ~0.3-3 s long, so the machine's slow and fast phases (this shared machine
swings ~30% over tens of seconds) fall on all implementations alike.

Protocol on the worker's stdout (everything else it prints goes to stderr): ``ready <package
folder>`` once imported (ours: where ``baselines_tf2`` was imported from, so the coordinator can
check that it measures the commit it records); then each ``go`` line on stdin is answered by
``block <steps> <seconds>``, or, once training is over, by ``finish <seconds> <waited seconds>
<CPU seconds while waiting>`` (the tail after the last block, the total time spent waiting for
``go``, and the process's CPU time meanwhile, which shows whether it really stayed idle), after
which the worker exits.

    python lockstep_worker.py ours --env Hopper-v5 --num_timesteps 100352 [-- run.py flags]
    .bench-venv/bin/python lockstep_worker.py sb3 --env Hopper-v5 --num_timesteps 100352 [--atari]
    python lockstep_worker.py bare --env Hopper-v5 --num_timesteps 100000
"""

import argparse
import os
import sys
import time

BARE_BLOCK = 2048  # bare-environment steps per block (one Hopper iteration's worth)


class Lockstep:
    """Waits for ``go`` before each block and reports each block's steps and seconds."""

    def __init__(self) -> None:
        self.out = os.fdopen(os.dup(1), "w", buffering=1)
        os.dup2(2, 1)  # everything else printed goes to stderr
        self.waited = 0.0
        self.idle_cpu = 0.0
        self.start = 0.0
        self.steps = 0

    def ready(self, package: str = "-") -> None:
        """Imports are done: say so (and where ``package`` came from) and wait for the first ``go``."""
        self.send(f"ready {package}")
        self.wait()

    def send(self, line: str) -> None:
        """One protocol line to the coordinator."""
        self.out.write(line + "\n")

    def wait(self) -> None:
        """Block until the coordinator says ``go``; the wait's wall and CPU time are added up."""
        t, cpu = time.perf_counter(), time.process_time()
        if sys.stdin.readline().strip() != "go":
            sys.exit("lockstep_worker: expected 'go'")
        self.start = time.perf_counter()
        self.waited += self.start - t
        self.idle_cpu += time.process_time() - cpu

    def block_done(self, steps: int) -> None:
        """End the current block at ``steps`` steps in all; then wait for the next ``go``."""
        self.send(f"block {steps - self.steps} {time.perf_counter() - self.start:.6f}")
        self.steps = steps
        self.wait()

    def finish(self) -> None:
        """Training is over: report the tail since the last block and the waits."""
        self.send(f"finish {time.perf_counter() - self.start:.6f} {self.waited:.6f} {self.idle_cpu:.6f}")


def run_ours(args: argparse.Namespace, flags: list[str], lock: Lockstep) -> None:
    """``run.py --alg ppo`` through the CLI, with a callback ending a block after every iteration."""
    from baselines_tf2 import cli  # noqa: PLC0415

    cli.import_tensorflow(flags)  # as run.py starts; then the learner, so all imports come before ``ready``
    import baselines_tf2.ppo.pposgd  # noqa: F401, PLC0415

    lock.ready(os.path.dirname(os.path.abspath(cli.__file__)))
    argv = ["--alg", "ppo", "--env", args.env, "--num_timesteps", str(args.num_timesteps), "--progress", "false"]
    code = cli.main([*argv, *flags], callback=lambda info: lock.block_done(info.timesteps))
    if code != 0:
        sys.exit(f"lockstep_worker: run.py exited with {code}")


def run_sb3(args: argparse.Namespace, lock: Lockstep) -> None:
    """SB3's PPO as ``sb3_ppo.py`` builds it; a block ends at the start of every rollout but the first."""
    from sb3_ppo import make_model  # noqa: PLC0415 (this script's folder is on sys.path)
    from stable_baselines3.common.callbacks import BaseCallback  # noqa: PLC0415

    class Blocks(BaseCallback):
        """Ends a block when the next rollout starts: block k is rollout k and the update after it."""

        def _on_rollout_start(self) -> None:
            if self.model.num_timesteps > 0:
                lock.block_done(self.model.num_timesteps)

        def _on_step(self) -> bool:
            return True

    lock.ready()
    model = make_model(args.env, args.atari, args.seed)
    model.learn(args.num_timesteps, callback=Blocks())
    lock.block_done(model.num_timesteps)


def run_bare(args: argparse.Namespace, lock: Lockstep) -> None:
    """``gymnasium.make(env)`` with random actions, as ``bare_env.py``, in blocks of 2048 steps."""
    import gymnasium as gym  # noqa: PLC0415

    lock.ready()
    env = gym.make(args.env)
    env.reset(seed=args.seed)
    env.action_space.seed(args.seed)
    done = 0
    while done < args.num_timesteps:
        for _ in range(BARE_BLOCK):
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            if terminated or truncated:
                env.reset()
        done += BARE_BLOCK
        lock.block_done(done)


def main() -> None:
    """Parse ``impl`` and its flags (``--`` then run.py flags for ours), then serve blocks until done."""
    argv = sys.argv[1:]
    flags = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser()
    parser.add_argument("impl", choices=["ours", "sb3", "bare"])
    parser.add_argument("--env", default="Hopper-v5")
    parser.add_argument("--num_timesteps", type=int, default=100_352)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--atari", action="store_true")
    args = parser.parse_args(argv)
    lock = Lockstep()
    if args.impl == "ours":
        run_ours(args, flags, lock)
    elif args.impl == "sb3":
        run_sb3(args, lock)
    else:
        run_bare(args, lock)
    lock.finish()
    if args.impl == "ours":
        from baselines_tf2.cli import exit_process  # noqa: PLC0415

        exit_process(0)  # as run.py ends


if __name__ == "__main__":
    main()
