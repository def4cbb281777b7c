"""Lint rules: llm (the LLM-as-judge protocol).

``REQUIRES``: the family only has something to say when the spec has one of these sections, so the
linter does not even import it otherwise (pre-commit start-up).
"""

PREFIX = "LLM"
REQUIRES = ("llm_judge",)
