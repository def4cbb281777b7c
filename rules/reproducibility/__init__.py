"""Lint rules: reproducibility."""
