"""Lint rules: llm."""
