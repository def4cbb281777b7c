"""The compiled spec validator: pydantic-core and the snapshot, without importing pydantic.

:func:`validator` returns a ``pydantic_core.SchemaValidator`` built from ``spec-validator.json``
(see :mod:`.snapshot`). Validating with it gives exactly the errors the pydantic models give (same
types, locations and messages; a test checks it on the examples and on fuzzed inputs), and a valid
spec comes back as a tree of :class:`SpecNode` objects read by attribute, like the models.

When the installed pydantic-core differs from the one the snapshot was made with, or
``RIGORML_NO_COMPILED=1`` is set, :func:`validator` returns None and callers use the models.
"""

import copy
import json
import os
import sys
from functools import cache
from pathlib import Path

from . import checks

SNAPSHOT_PATH = Path(__file__).with_name("spec-validator.json")


class SpecNode:
    """A validated spec section built by the compiled validator; fields are attributes."""

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items())
        return f"{type(self).__name__}({fields})"

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other.__dict__ == self.__dict__

    __hash__ = None  # mutable-looking; never used as a key


def _constant(value):
    def factory():
        return copy.deepcopy(value)

    return factory


def _decoder(classes: dict):
    """A ``json`` object hook that rebuilds the escapes while the C parser runs (no second walk)."""

    def hook(obj: dict):
        if len(obj) == 1:
            if "$fn" in obj:
                return getattr(checks, obj["$fn"])
            if "$model" in obj:
                return classes[obj["$model"]]
            if "$tuple" in obj:
                return tuple(obj["$tuple"])
        if obj.get("type") == "default" and obj.get("validate_default") and "default" in obj:
            # A default section ({} -> all defaults) is rebuilt and validated on every use.
            obj["default_factory"] = _constant(obj.pop("default"))
        return obj

    return hook


@cache
def _texts() -> tuple[bytes, bytes]:
    """The snapshot's two parts: the core schema and the model key tree (see :mod:`.snapshot`)."""
    core, _, models = SNAPSHOT_PATH.read_bytes().partition(b"\n")
    return core, models


def _core_schema_text() -> bytes:
    return _texts()[0]


@cache
def snapshot() -> dict:
    """The snapshot's header and model key tree (the core schema is parsed only by :func:`validator`)."""
    return json.loads(_texts()[1])


@cache
def node_classes() -> dict[str, type]:
    """One light class per spec model, named like it (``Spec``, ``Training``...)."""
    return {name: type(name, (SpecNode,), {"__module__": __name__}) for name in snapshot()["models"]}


_EXTENSION = "pydantic_core._pydantic_core"


@cache
def core():
    """pydantic-core's compiled extension module (``SchemaValidator``, ``ValidationError``).

    ``import pydantic_core`` spends ~25 ms building the TypedDicts of ``pydantic_core.core_schema``,
    which only type checkers read, while validation lives entirely in the extension. On the
    pre-commit path that is a quarter of rigorml's start-up, so the extension is loaded directly and
    registered under its real name: a later ``import pydantic_core`` (pydantic, or the error path)
    finds and reuses this very module, so there is one ``ValidationError`` class. Anything
    unexpected falls back to the ordinary import.
    """
    loaded = sys.modules.get(_EXTENSION)
    if loaded is not None:
        return loaded
    try:
        import importlib.machinery
        import importlib.util

        package = importlib.util.find_spec("pydantic_core")
        for directory in package.submodule_search_locations or ():
            for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                path = os.path.join(directory, "_pydantic_core" + suffix)
                if os.path.exists(path):
                    loader = importlib.machinery.ExtensionFileLoader(_EXTENSION, path)
                    spec = importlib.util.spec_from_file_location(_EXTENSION, path, loader=loader)
                    module = importlib.util.module_from_spec(spec)
                    sys.modules[_EXTENSION] = module
                    loader.exec_module(module)
                    return module
    except Exception:  # an unusual install layout: the ordinary import still works
        sys.modules.pop(_EXTENSION, None)
    import pydantic_core

    return pydantic_core._pydantic_core


def validation_error() -> type:
    """The ``ValidationError`` class both the compiled validator and the models raise."""
    return core().ValidationError


@cache
def validator():
    """The compiled ``SchemaValidator``, or None when the models must be used instead."""
    if os.environ.get("RIGORML_NO_COMPILED"):
        return None
    module = core()
    if snapshot().get("pydantic_core") != module.__version__:
        return None
    schema = json.loads(_core_schema_text(), object_hook=_decoder(node_classes()))
    return module.SchemaValidator(schema)


def models() -> dict[str, dict]:
    """Each model's keys (with their type descriptors and defaults) and union tags."""
    return snapshot()["models"]


def root_model() -> str:
    return snapshot()["root"]
