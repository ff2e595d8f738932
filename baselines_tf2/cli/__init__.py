"""``run.py``: Baselines' command line, typed. Parse flags -> preset for (alg, env type) -> learn().

Every setting of :mod:`baselines_tf2.config` is a flag, generated from its field: its type, its
allowed values and its documentation (``--help``) come from there, so nothing is guessed from a
default and no flag is handled by hand. A setting not given on the command line takes the value of
the ``--alg`` preset for the env's type (printed at start). Parsing imports neither TensorFlow nor
gymnasium: ``--help`` answers at once. Errors in the user's input end the program with one line on
stderr and a non-zero exit code (``--debug`` shows the traceback); under ``mpirun`` an error on any
rank aborts the whole job.

``flags`` parses (the flags, the presets), ``commands`` checks and trains (``networks``: the policy
class of ``--network``; ``play_export``: restore, play, export), ``entry`` is the
process (TensorFlow's import, the one-line errors, the exit). ``run.py``, ``python -m baselines_tf2``,
``python -m baselines_tf2.cli`` and the ``baselines-tf2`` console script all run :func:`script`.
"""

from baselines_tf2.cli.commands import export, play, run, train
from baselines_tf2.cli.entry import exit_process, import_tensorflow, main, script
from baselines_tf2.cli.flags import build_parser, parse_args, resolve_settings

__all__ = [
    "build_parser",
    "exit_process",
    "export",
    "import_tensorflow",
    "main",
    "parse_args",
    "play",
    "resolve_settings",
    "run",
    "script",
    "train",
]
