"""Lint rules: sweeps."""
