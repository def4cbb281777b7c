"""Lint rules: pipeline."""
