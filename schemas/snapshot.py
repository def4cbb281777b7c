"""Compile the spec model into a pydantic-core schema snapshot: ``schemas/spec-validator.json``.

Why: ``rigorml validate``/``lint`` run in pre-commit on every commit. Importing pydantic and building
the model's validator costs ~100 ms per call; the same validation compiled into a pydantic-core
schema starts in a few milliseconds (:mod:`.compiled`). The snapshot is generated from the models
(the single source of truth), committed like the JSON Schema, and a test fails when it drifts.

The file holds two JSON lines: the encoded core schema, then a header (formats, versions) with the
model key tree. The encoding uses three escapes:

* ``{"$fn": "name"}`` -- a function of :mod:`.checks` (the only code the snapshot may call);
* ``{"$model": "Name"}`` -- the class a model section is built as (a light ``SpecNode`` subclass);
* ``{"$tuple": [...]}`` -- a tuple default.

Default factories become constant defaults that are validated on use, so no model class is needed
to build a default. Beside the core schema, ``models`` describes each model's keys, their types and
tags, which is what the "did you mean" messages and dotted-path checks read.

Regenerate with ``python -m rigorml.schemas.snapshot --write``.
"""

import argparse
import copy
import inspect
import json
import re
import sys
import types
import typing
from pathlib import Path
from typing import Any, Literal, Union

import pydantic_core
from pydantic import BaseModel

from . import checks
from .spec import Spec

SNAPSHOT_PATH = Path(__file__).with_name("spec-validator.json")
FORMAT = 1
_REF_ID = re.compile(r":\d+$")


class SnapshotError(RuntimeError):
    """The model uses something the snapshot cannot express (e.g. a validator outside checks.py)."""


def _encode(value: Any, refs: dict[str, str], path: str) -> Any:
    if isinstance(value, dict):
        out: dict = {}
        for key, item in value.items():
            if key == "metadata":
                continue  # JSON-Schema hooks only; validation never reads them
            if key == "default_factory":
                default = item()
                if isinstance(default, BaseModel):
                    default = default.model_dump(mode="json", by_alias=True, exclude_unset=True)
                out["default"] = _encode(default, refs, f"{path}.default")
                out["validate_default"] = True
                continue
            if key in ("ref", "schema_ref") and isinstance(item, str):
                out[key] = refs.setdefault(item, _REF_ID.sub("", item))
                continue
            out[key] = _encode(item, refs, f"{path}.{key}")
        if "default" in out and "default_factory_takes_data" in out:
            del out["default_factory_takes_data"]
        return out
    if isinstance(value, (list,)):
        return [_encode(v, refs, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, tuple):
        return {"$tuple": [_encode(v, refs, f"{path}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, type) and issubclass(value, BaseModel):
        return {"$model": value.__name__}
    if isinstance(value, (types.FunctionType, types.BuiltinFunctionType)):
        if getattr(value, "__module__", None) != checks.__name__ or getattr(checks, value.__name__, None) is not value:
            raise SnapshotError(
                f"{path}: {value!r} is not a function of rigorml.schemas.checks; "
                "move the check there so the compiled validator can call it without pydantic"
            )
        return {"$fn": value.__name__}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise SnapshotError(f"{path}: cannot encode {type(value).__name__} {value!r}")


# --- the key tree ---------------------------------------------------------------------------------


def _type_descriptor(annotation) -> list[dict]:
    """What a field may hold, as JSON: models by name, lists/dicts of things, free-form, or scalars."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _type_descriptor(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        out: list[dict] = []
        for arg in typing.get_args(annotation):
            out.extend(_type_descriptor(arg))
        return out
    if annotation is Any:
        return [{"free": True}]
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return [{"model": annotation.__name__}]
    if origin is dict or annotation is dict:
        args = typing.get_args(annotation)
        if not args or args[1] is Any:
            return [{"free": True}]
        return [{"dict_of": _type_descriptor(args[1])}]
    if origin in (list, tuple):
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        items: list[dict] = []
        for arg in args:
            items.extend(d for d in _type_descriptor(arg) if d not in items)
        return [{"list_of": items}]
    return [{"scalar": True}]


def _models(root: type[BaseModel]) -> dict[str, dict]:
    found: dict[str, dict] = {}
    pending = [root]
    while pending:
        model = pending.pop()
        if model.__name__ in found:
            continue
        fields = {}
        for name, info in model.model_fields.items():
            key = info.alias or name
            entry: dict = {"types": _type_descriptor(info.annotation)}
            if info.default_factory is not None:
                default = info.default_factory()
                if isinstance(default, BaseModel):
                    default = default.model_dump(mode="json", by_alias=True, exclude_unset=True)
                entry["default"] = default
            elif not info.is_required():
                entry["default"] = info.default if not isinstance(info.default, tuple) else list(info.default)
            fields[key] = entry
            for annotation in _walk_models(info.annotation):
                pending.append(annotation)
        tags = []
        for key in ("name", "type", "distribution"):
            info = model.model_fields.get(key)
            if info is not None and typing.get_origin(info.annotation) is Literal:
                tags.extend(str(a) for a in typing.get_args(info.annotation))
        found[model.__name__] = {"fields": fields, "tags": tags}
    return dict(sorted(found.items()))


def _walk_models(annotation):
    origin = typing.get_origin(annotation)
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in typing.get_args(annotation) if origin is not None else ():
        if arg is not Ellipsis and not isinstance(arg, (str, int, float, bool)):
            yield from _walk_models(arg)


def build_snapshot() -> tuple[dict, dict]:
    """(core schema, header with the model key tree) as JSON-ready dicts; deterministic."""
    Spec.model_rebuild()
    refs: dict[str, str] = {}
    core = _encode(copy.copy(Spec.__pydantic_core_schema__), refs, "core_schema")
    if len(set(refs.values())) != len(refs):
        raise SnapshotError("two core-schema references collapse to one name")
    header = {
        "format": FORMAT,
        "pydantic_core": pydantic_core.__version__,
        "root": Spec.__name__,
        "models": _models(Spec),
    }
    return core, header


def snapshot_text() -> str:
    """The snapshot exactly as committed: line 1 the core schema, line 2 the header and key tree.

    Two compact JSON lines, so the validator parses only the first and the key tree only the
    second; ``python -m json.tool`` on either line shows it readably.
    """
    core, header = build_snapshot()
    compact = {"separators": (",", ":"), "ensure_ascii": False}
    return json.dumps(core, **compact) + "\n" + json.dumps(header, **compact) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {SNAPSHOT_PATH.name} next to this module")
    args = parser.parse_args(argv)
    text = snapshot_text()
    if args.write:
        SNAPSHOT_PATH.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
