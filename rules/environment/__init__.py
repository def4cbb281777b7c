"""Lint rules: environment."""
