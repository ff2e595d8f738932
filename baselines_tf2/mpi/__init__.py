"""MPI: the only package that imports mpi4py (``mpi_util``), and MpiAdam, the optimizer that averages gradients over ranks."""
