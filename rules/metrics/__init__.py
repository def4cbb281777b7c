"""Lint rules: metrics."""
