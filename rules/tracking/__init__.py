"""Lint rules: tracking."""
