"""Lint rules: statistics."""
