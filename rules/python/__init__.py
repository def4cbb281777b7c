"""Lint rules: python."""
