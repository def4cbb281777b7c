"""Finding the rules: every ``Rule`` subclass in the family packages, keyed by its stable code.

A rule is registered by existing: drop a module with a rule class into ``rules/<family>/`` and it is
found, documented (``rigorml rules``, docs/rules.md) and tested (its VALID/INVALID examples).
Spec rules are imported only when a spec is linted, Python rules only when Python is.
"""

from __future__ import annotations

import importlib
import os
from functools import cache

from .base import PythonRule, Rule, SpecRule

SPEC_FAMILIES = (
    "reproducibility",
    "statistics",
    "metrics",
    "naming",
    "sweeps",
    "tracking",
    "llm",
    "pipeline",
    "environment",
)
PYTHON_FAMILIES = ("python",)


def _rules_in(package: str) -> list[type[Rule]]:
    module = importlib.import_module(f"{__package__}.{package}")
    found: list[type[Rule]] = []
    for directory in module.__path__:
        for entry in sorted(os.listdir(directory)):
            if not entry.endswith(".py") or entry.startswith("_") or entry == "context.py":
                continue
            submodule = importlib.import_module(f"{module.__name__}.{entry[:-3]}")
            for value in vars(submodule).values():
                if (
                    isinstance(value, type)
                    and issubclass(value, Rule)
                    and value.__module__ == submodule.__name__
                    and "code" in vars(value)
                ):
                    found.append(value)
    return found


def _index(families) -> dict[str, type[Rule]]:
    rules: dict[str, type[Rule]] = {}
    for family in families:
        for rule in _rules_in(family):
            if rule.code in rules:
                raise RuntimeError(f"rule code {rule.code} is used by {rules[rule.code].__name__} and {rule.__name__}")
            rules[rule.code] = rule
    return dict(sorted(rules.items()))


@cache
def spec_rules() -> dict[str, type[SpecRule]]:
    """Code -> rule class for every spec rule."""
    return _index(SPEC_FAMILIES)  # type: ignore[return-value]


@cache
def _family_rules(family: str) -> dict[str, type[SpecRule]]:
    return _index((family,))  # type: ignore[return-value]


def spec_rules_for(data: dict) -> tuple[dict[str, type[SpecRule]], tuple[str, ...]]:
    """The spec rules that can say something about ``data``, and the code prefixes left out.

    A family whose package declares ``REQUIRES`` (sections it is about) is not imported when the
    spec has none of them: a typical spec has no ``llm_judge`` or ``deployment``, and every module
    imported costs start-up time on every commit.
    """
    rules: dict[str, type[SpecRule]] = {}
    skipped: list[str] = []
    for family in SPEC_FAMILIES:
        package = importlib.import_module(f"{__package__}.{family}")
        requires = getattr(package, "REQUIRES", ())
        if requires and not any(section in data for section in requires):
            skipped.append(package.PREFIX)
            continue
        rules.update(_family_rules(family))
    return dict(sorted(rules.items())), tuple(skipped)


@cache
def python_rules() -> dict[str, type[PythonRule]]:
    """Code -> rule class for every Python-source rule."""
    return _index(PYTHON_FAMILIES)  # type: ignore[return-value]


def all_rules() -> dict[str, type[Rule]]:
    """Every rule, spec and Python, sorted by code."""
    from .suppression import UnusedSuppression

    merged = {**spec_rules(), **python_rules(), UnusedSuppression.code: UnusedSuppression}
    return dict(sorted(merged.items()))
