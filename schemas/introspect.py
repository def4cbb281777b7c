"""Walk the spec model by document path: which keys are allowed where, and which paths exist.

The validator uses it to answer an unknown key with "did you mean", and to explain a key that is
allowed only in another member of a tagged union (``betas`` exists for Adam, not for SGD). Variant
and sweep paths are checked with it before anything runs.
"""

from __future__ import annotations

import inspect
import types
import typing
from typing import Any, Literal, Union

from pydantic import BaseModel


def members(annotation) -> list:
    """The concrete types an annotation admits (unwrapping Annotated, Optional and unions)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return members(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        out: list = []
        for arg in typing.get_args(annotation):
            out.extend(members(arg))
        return out
    return [annotation]


def fields_of(model: type[BaseModel]) -> dict[str, Any]:
    """YAML key -> annotation for a model (aliases where set)."""
    return {(info.alias or name): info.annotation for name, info in model.model_fields.items()}


def tags_of(model: type[BaseModel]) -> set[str]:
    """The literal values of a model's discriminator-like fields (``name``, ``type``, ``distribution``)."""
    tags: set[str] = set()
    for key in ("name", "type", "distribution"):
        info = model.model_fields.get(key)
        if info is not None and typing.get_origin(info.annotation) is Literal:
            tags.update(str(a) for a in typing.get_args(info.annotation))
    return tags


def is_free_form(annotation) -> bool:
    return annotation is Any or annotation is dict or typing.get_origin(annotation) is dict and (
        typing.get_args(annotation)[1:2] == (Any,)
    )


def step(candidates: list, segment) -> tuple[list, list[str], bool]:
    """Follow one document segment from the types in ``candidates``.

    Returns (types reached, keys that were allowed here, free_form). ``free_form`` is True when the
    segment falls inside a free-form mapping (``model.params``), where any key is allowed.
    """
    reached: list = []
    known: list[str] = []
    for candidate in candidates:
        for member in members(candidate):
            if is_free_form(member):
                return [Any], [], True
            origin = typing.get_origin(member)
            if origin is dict:
                reached.append(typing.get_args(member)[1])
            elif origin in (list, tuple) and isinstance(segment, int):
                reached.extend(a for a in typing.get_args(member) if a is not Ellipsis)
            elif inspect.isclass(member) and issubclass(member, BaseModel):
                fields = fields_of(member)
                known.extend(fields)
                if segment in fields:
                    reached.append(fields[segment])
    return reached, known, False


def models_at(root: type[BaseModel], loc: tuple, *, narrow: bool = True) -> list[type[BaseModel]]:
    """The model classes that could hold the mapping at pydantic error location ``loc``.

    ``loc`` may contain union tags (``("training", "optimizer", "sgd")``): a segment that matches a
    member's tag narrows the union to that member.
    """
    current: list = [root]
    for segment in loc:
        models = [m for c in current for m in members(c) if inspect.isclass(m) and issubclass(m, BaseModel)]
        tagged = [m for m in models if isinstance(segment, str) and segment in tags_of(m)]
        if tagged and not any(segment in fields_of(m) for m in models):
            if narrow:
                current = tagged
            continue
        reached, _, free = step(current, segment)
        if free:
            return []
        if not reached:
            # A union-branch label such as 'function-after[...]' or 'int': stay where we are.
            continue
        current = reached
    return [m for c in current for m in members(c) if inspect.isclass(m) and issubclass(m, BaseModel)]


def siblings_with_key(root: type[BaseModel], container_loc: tuple, key: str) -> list[str]:
    """Tags of the union members at ``container_loc`` that allow ``key`` when the member in use does not.

    For ``betas`` under an SGD optimiser this returns the Adam-family names.
    """
    chosen = models_at(root, container_loc)
    if any(key in fields_of(m) for m in chosen):
        return []
    everyone = models_at(root, container_loc, narrow=False)
    if len(everyone) <= len(chosen):
        return []
    return sorted({t for m in everyone if key in fields_of(m) for t in tags_of(m)})
