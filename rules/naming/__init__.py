"""Lint rules: naming."""
