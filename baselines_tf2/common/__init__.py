"""Pieces shared by every algorithm: distributions, policies, normalisation, MPI and its optimizer."""
