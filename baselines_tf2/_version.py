"""The package's version, its one home: ``baselines_tf2.__version__``, setup.py and ``--version`` read it.

A module of its own with nothing to import, so setup.py can read it without importing the package.
"""

__version__ = "0.1.0"
