"""Lint rules: pipeline (stages, registry, deployment).

``REQUIRES``: the family only has something to say when the spec has one of these sections, so the
linter does not even import it otherwise (pre-commit start-up).
"""

PREFIX = "PIP"
REQUIRES = ("pipeline", "registry", "deployment")
