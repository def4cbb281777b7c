"""The resolved spec as the runtime reads it: one arm's configuration, its hash, the callables it names.

Runtime functions receive the resolved spec as plain JSON data (``config.resolved.json``). An arm is
a variant name, or ``base`` (the spec as written). :func:`arm_config` applies the variant's dotted-path
overrides so that everything downstream reads one plain dict; :func:`spec_hash` identifies a
configuration exactly as the compiler does; :func:`resolve_callable` imports the
``module.path:function`` references a spec uses for data sources and model factories.
"""

from __future__ import annotations

import copy
import importlib
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable

from ..schemas import hashing

#: The arm that is the spec without overrides (the only arm when a spec declares no variants).
BASE_ARM = "base"


def arm_config(resolved: dict, arm: str) -> dict:
    """The resolved spec of one arm: a deep copy with the variant's ``overrides`` applied.

    Inputs: ``resolved``, the resolved spec as JSON data; ``arm``, a variant name, or ``base``.
    ``base`` is the spec without overrides: the only arm when there are no variants, and still
    accepted when there are (a sweep tunes the base spec). A variant named ``base`` wins over it.

    Overrides are keyed by dotted path (``model.params.hidden_sizes``, ``training.optimizer.lr``);
    integer segments index lists (``model.params.hidden_sizes.0``). A missing or null mapping on the
    way is created, so an override can fill a section the base spec leaves null.

    Output: a new dict; ``resolved`` is never modified.
    Errors: ValueError for an unknown arm (naming the arms there are) or an override path that
    cannot be applied (indexing a scalar, a list index out of range).
    """
    variants = resolved.get("variants") or {}
    if arm in variants:
        overrides = variants[arm].get("overrides") or {}
    elif arm == BASE_ARM:
        overrides = {}
    else:
        arms = sorted(variants) or [BASE_ARM]
        raise ValueError(f"unknown arm {arm!r}; this spec's arms are: {', '.join(arms)}")
    config = copy.deepcopy(resolved)
    # Sorted so that overlapping paths ("model.params" then "model.params.dropout") apply the
    # same way whatever order the JSON kept.
    for path in sorted(overrides):
        _set_dotted(config, path, copy.deepcopy(overrides[path]))
    return config


def _set_dotted(config: dict, path: str, value: Any) -> None:
    segments = path.split(".")
    if not path or any(segment == "" for segment in segments):
        raise ValueError(f"override {path!r} is not a dotted path (e.g. `training.optimizer.lr`)")
    node: Any = config
    for depth, segment in enumerate(segments):
        last = depth == len(segments) - 1
        where = ".".join(segments[: depth + 1])
        if isinstance(node, list):
            # The spec addresses list items by ASCII digits only (not "²"), like the validator.
            if not (segment.isascii() and segment.isdigit()) or int(segment) >= len(node):
                raise ValueError(f"override {path!r}: `{where}` is not an item of a list of {len(node)}")
            index = int(segment)
            if last:
                node[index] = value
            else:
                node = node[index]
        elif isinstance(node, dict):
            if last:
                node[segment] = value
            else:
                if node.get(segment) is None:
                    node[segment] = {}
                node = node[segment]
        else:
            parent = ".".join(segments[:depth]) or "the spec"
            raise ValueError(f"override {path!r}: `{parent}` is a {type(node).__name__}, not a mapping or list")


def spec_hash(resolved: dict) -> str:
    """sha256 (hex) of the canonical JSON of a resolved spec (or of one arm's configuration): the
    hash ``rigorml resolve`` prints (one definition, :mod:`rigorml.schemas.hashing`)."""
    return hashing.spec_hash(resolved)


@contextmanager
def importable_from(base_dir: str | Path | None):
    """Context manager: ``base_dir`` first on ``sys.path`` for its duration, then removed again.

    Use it around calling a callable from :func:`resolve_callable` when that callable imports
    modules next to the spec lazily. ``None`` changes nothing.
    """
    # The spec's directory goes first on sys.path only while importing and calling, so a user's
    # `mydata.py` next to the spec is found without leaving the process's import path changed.
    if base_dir is None:
        yield
        return
    entry = str(Path(base_dir).resolve())
    added = entry not in sys.path
    if added:
        sys.path.insert(0, entry)
    importlib.invalidate_caches()  # a module written moments ago (tests, generated code) is found
    try:
        yield
    finally:
        if added and entry in sys.path:
            sys.path.remove(entry)


def resolve_callable(reference: str, base_dir: str | Path | None = None) -> Callable[..., Any]:
    """Import the callable a ``module.path:function`` reference names.

    Inputs: ``reference`` (``package.module:function``; the part after the colon may be dotted,
    ``module:Class.build``); ``base_dir``, a directory searched before ``sys.path`` (the spec's
    directory), or None for ``sys.path`` alone.
    Output: the callable.
    Errors: ValueError for a malformed reference; ImportError when the module cannot be imported
    (the message names the module and where it was looked for); AttributeError when the module
    lacks the name; TypeError when the name is not callable.
    """
    module_name, sep, attribute = reference.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"{reference!r} is not a `module.path:function` reference")
    with importable_from(base_dir):
        try:
            target: Any = importlib.import_module(module_name)
        except ImportError as error:
            where = f" (looked in {Path(base_dir).resolve()} and sys.path)" if base_dir is not None else ""
            raise ImportError(f"cannot import module {module_name!r} of {reference!r}{where}: {error}") from error
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise AttributeError(f"{reference!r}: {module_name!r} has no attribute {attribute!r}")
        target = getattr(target, part)
    if not callable(target):
        raise TypeError(f"{reference!r} names a {type(target).__name__}, not a function")
    return target

