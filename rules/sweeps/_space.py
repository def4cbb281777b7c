"""Reading a sweep for the HPO rules: where its parameters are written and what they search.

Parameters are keyed by the dotted spec path they set (``training.optimizer.lr``); the rules match
them by that path's last segment (``lr``, ``weight_decay``, ``batch_size``...). ``flag.NAME``
parameters set nothing: they only switch ``when`` conditions.
"""

from __future__ import annotations

from ...schemas.references import FLAG_PREFIX

OPTIMIZER_NAME = "training.optimizer.name"


def parameter_path(key: str, *rest) -> tuple:
    """The document path of sweep parameter ``key`` (and of a field below it)."""
    return ("sweep", "parameters", key, *rest)


def leaf(key: str) -> str:
    """The last segment of a dotted parameter path: ``training.optimizer.lr`` -> ``lr``."""
    return key.rsplit(".", 1)[-1]


def is_flag(key: str) -> bool:
    return key.startswith(FLAG_PREFIX)


def searched(sweep) -> list[str]:
    """The parameters the search actually explores: neither constants nor ``flag.*`` switches."""
    return [key for key, p in sweep.parameters.items() if p.distribution != "constant" and not is_flag(key)]


def at_value_or_key(rule, ctx, path: tuple, message: str, **kwargs):
    """A finding at the value written at ``path``; when the spec leaves ``path`` at its default, at
    the key of the nearest written ancestor (the section that should say it)."""
    return rule.at(ctx, path, message, key=not ctx.written(path), **kwargs)


def is_power_of_two(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0 and value & (value - 1) == 0


def is_tpe(method: str) -> bool:
    """TPE, under its own name or the W&B alias ``bayes``."""
    return method in ("tpe", "bayes")
