"""The variants that change a training setting, so rules about a setting see every arm that runs.

Variants override by dotted path (``training.precision: bf16``); such a value is written at
``("variants", NAME, "overrides", "training.precision")``. A variant that overrides none of the
settings a rule reads runs with the base spec's values, which the rule checks already.
"""

from __future__ import annotations

from typing import Any, Iterator


def variant_overrides(ctx, *dotted: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(variant name, {dotted path: value})`` for every variant overriding at least one of ``dotted``."""
    variants = ctx.get(("variants",), {})
    if not isinstance(variants, dict):
        return
    for name, variant in variants.items():
        overrides = variant.get("overrides") if isinstance(variant, dict) else None
        if not isinstance(overrides, dict):
            continue
        found = {path: overrides[path] for path in dotted if path in overrides}
        if found:
            yield name, found


def override_path(variant: str, dotted: str) -> tuple:
    """Where variant ``variant`` writes its override of ``dotted``."""
    return ("variants", variant, "overrides", dotted)
