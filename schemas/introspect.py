"""Walk the spec model by document path: which keys are allowed where, and which paths exist.

Reads the model key tree of the compiled snapshot (:mod:`.compiled`), so it needs no pydantic. The
validator uses it to answer an unknown key with "did you mean", and to explain a key that is
allowed only in another member of a tagged union (``betas`` exists for Adam, not for SGD). Variant,
sweep and override paths are checked with it before anything runs.

A *descriptor* says what a field may hold: ``{"model": "Training"}``, ``{"list_of": [...]}``,
``{"dict_of": [...]}``, ``{"free": true}`` (a free-form mapping such as ``model.params``) or
``{"scalar": true}``.
"""

import copy
from typing import Any

from . import compiled


def _name(model) -> str:
    return model if isinstance(model, str) else model.__name__


def fields_of(model) -> dict[str, dict]:
    """YAML key -> {"types": [descriptors], "default": ...} for a model (by name or class)."""
    return compiled.models()[_name(model)]["fields"]


def tags_of(model) -> set[str]:
    """The literal values of a model's discriminator-like fields (``name``, ``type``, ``distribution``)."""
    return set(compiled.models()[_name(model)]["tags"])


def top_level_keys() -> tuple[str, ...]:
    return tuple(fields_of(compiled.root_model()))


def _models_in(descriptors: list[dict]) -> list[str]:
    return [d["model"] for d in descriptors if "model" in d]


def step(descriptors: list[dict], segment) -> tuple[list[dict], list[str], bool]:
    """Follow one document segment from ``descriptors``.

    Returns (descriptors reached, keys that were allowed here, free_form). ``free_form`` is True
    when the segment falls inside a free-form mapping, where any key is allowed.
    """
    reached: list[dict] = []
    known: list[str] = []
    for descriptor in descriptors:
        if descriptor.get("free"):
            return [{"free": True}], [], True
        if "dict_of" in descriptor:
            reached.extend(descriptor["dict_of"])
        elif "list_of" in descriptor and isinstance(segment, int):
            reached.extend(descriptor["list_of"])
        elif "model" in descriptor:
            fields = fields_of(descriptor["model"])
            known.extend(fields)
            if segment in fields:
                reached.extend(fields[segment]["types"])
    return reached, known, False


def models_at(root, loc: tuple, *, narrow: bool = True) -> list[str]:
    """Names of the models that could hold the mapping at pydantic error location ``loc``.

    ``loc`` may contain union tags (``("training", "optimizer", "sgd")``): a segment that matches a
    member's tag narrows the union to that member (unless ``narrow`` is False). Other segments that
    lead nowhere (branch labels such as ``function-after[...]``) are skipped.
    """
    current: list[dict] = [{"model": _name(root)}]
    for segment in loc:
        models = _models_in(current)
        tagged = [m for m in models if isinstance(segment, str) and segment in tags_of(m)]
        if tagged and not any(segment in fields_of(m) for m in models):
            if narrow:
                current = [{"model": m} for m in tagged]
            continue
        reached, _, free = step(current, segment)
        if free:
            return []
        if reached:
            current = reached
    return _models_in(current)


def siblings_with_key(root, container_loc: tuple, key: str) -> list[str]:
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


def fill_defaults_along(root, data: dict, segments: tuple) -> None:
    """Fill, in place, the mappings on the way to ``segments`` that ``data`` omits, with their defaults.

    ``training.optimizer.lr`` on a spec that writes no optimizer first fills ``training`` and then
    ``training.optimizer`` with what the default sets explicitly (``{"name": "adamw"}``), so setting
    ``lr`` lands on the default optimizer instead of creating an optimizer without a name. Only what
    a default sets explicitly is filled, so a later ``name: sgd`` does not collide with Adam-only
    defaults nobody wrote. Stops at the first segment that is not a model field or whose default is
    not a mapping; the caller's setter reports what cannot be set.
    """
    current: Any = data
    models = [_name(root)]
    for segment in segments[:-1]:
        if not isinstance(current, dict):
            return
        model = next((m for m in models if isinstance(segment, str) and segment in fields_of(m)), None)
        if model is None:
            return
        entry = fields_of(model)[segment]
        if current.get(segment) is None:
            default = entry.get("default")
            if not isinstance(default, dict):
                return
            current[segment] = copy.deepcopy(default)
        current = current[segment]
        candidates = _models_in(entry["types"])
        if isinstance(current, dict):
            tagged = [m for m in candidates if any(str(current.get(k)) in tags_of(m) for k in ("name", "type", "distribution"))]
            candidates = tagged or candidates
        models = candidates
