"""``[mpirun -n N] python -m baselines_tf2 [flags]``: ``run.py`` of an installed package (``baselines-tf2`` too)."""

from baselines_tf2.cli.entry import script

if __name__ == "__main__":
    script()
