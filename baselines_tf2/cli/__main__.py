"""``python -m baselines_tf2.cli [flags]``: ``run.py`` without the script (how the reproduce runner starts runs)."""

from baselines_tf2.cli.entry import script

if __name__ == "__main__":
    script()
