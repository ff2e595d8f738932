"""MPI: the only package that imports mpi4py (``mpi_util``: collectives with a size-1 fallback). MpiAdam lives in ``common/``."""
