"""On-policy training plumbing shared by the learners, free of any algorithm: rollouts, the run's set-up
and per-iteration bookkeeping (``training``), checkpoints and logging."""
