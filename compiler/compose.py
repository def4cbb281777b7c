"""Composition: ``extends`` (deep-merge other specs underneath) and command-line overrides.

Overrides follow a subset of Hydra's grammar:

* ``key.path=value``   set a value the spec has, or one the spec model defines (defaults);
* ``+key.path=value``  add a value the spec does not have yet (an error if it is already set);
* ``++key.path=value`` set or add, whatever is there;
* ``~key.path``        delete a value (``~key.path=value`` only when it currently equals ``value``).

Values are YAML (``lr=1e-3`` is a float, ``tags=[a,b]`` a list). Every value keeps its source
location, so an error in a base file points into the base file and an error in an override names
the argument.
"""

from __future__ import annotations

import copy
import os
from typing import Any

from ..schemas import compiled
from ..schemas.introspect import fill_defaults_along, top_level_keys
from ..schemas.references import check_path
from .diagnostics import Diagnostic, Span
from .paths import delete_path, get_path, has_path, set_path, split_path
from .source import LoadLimits, SourceMap, load_yaml_file, parse_yaml



class Composed:
    """A spec document after ``extends`` and overrides: data, where each value came from, and the texts.

    ``texts`` maps each file read to its text (for showing source lines and fixing); ``files`` lists
    them, the top-level one first.
    """

    def __init__(self, data: Any, source_map: SourceMap):
        self.data = data
        self.source_map = source_map
        self.texts: dict[str, str] = {}
        self.files: list[str] = []
        self.diagnostics: list[Diagnostic] = []

    @property
    def ok(self) -> bool:
        return self.data is not None and not self.diagnostics


def _merge(base: dict, base_map: SourceMap, top: dict, path: tuple = ()) -> None:
    """Deep-merge ``top`` into ``base`` in place; mappings merge, anything else replaces."""
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], base_map, value, path + (key,))
        else:
            base_map.drop(path + (key,))
            base[key] = copy.deepcopy(value)


def _load_tree(
    path: str, limits: LoadLimits, stack: list[str], out: Composed, origin: Span | None, overlay: dict[str, str]
) -> tuple[Any, SourceMap] | None:
    real = os.path.realpath(path)
    if real in stack:
        chain = " -> ".join(os.path.basename(p) for p in stack[stack.index(real):] + [real])
        out.diagnostics.append(Diagnostic("CMP002", f"`extends` cycle: {chain}", origin or Span.point(path)))
        return None
    if path in overlay:
        document, problems = parse_yaml(overlay[path], path, limits)
    else:
        document, problems = load_yaml_file(path, limits)
    if document is None:
        if origin is not None and any(p.code == "YML013" for p in problems):
            reason = problems[0].message
            out.diagnostics.append(Diagnostic("CMP001", f"cannot extend {path!r}: {reason}", origin))
        else:
            out.diagnostics.extend(problems)
        return None
    out.texts[document.file] = document.text
    out.files.append(document.file)
    data, source_map = document.data, document.source_map
    extends = data.get("extends")
    if extends is None:
        return data, source_map
    entries = [extends] if isinstance(extends, str) else extends
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        out.diagnostics.append(
            Diagnostic("CMP003", "`extends` must be a file path or a list of file paths", source_map.locate(("extends",)))
        )
        return None
    merged: dict = {}
    merged_map = SourceMap()
    ok = True
    for i, entry in enumerate(entries):
        where = source_map.locate(("extends", i) if isinstance(extends, list) else ("extends",))
        target = entry if os.path.isabs(entry) else os.path.join(os.path.dirname(path), entry)
        loaded = _load_tree(target, limits, stack + [real], out, where, overlay)
        if loaded is None:
            ok = False
            continue
        base_data, base_map = loaded
        _merge(merged, merged_map, base_data)
        merged_map.update(base_map)
    if not ok:
        return None
    own = {k: v for k, v in data.items() if k != "extends"}
    merged.pop("extends", None)
    merged_map.drop(("extends",))
    _merge(merged, merged_map, own)
    merged_map.update(source_map)
    merged_map.drop(("extends",))
    return merged, merged_map


def _override_spans(name: str, arg: str, value_col: int, value_map: SourceMap, prefix: tuple) -> SourceMap:
    """Point every path of an override's value at the value's place in the argument."""
    spans = SourceMap()
    whole = Span(name, 1, value_col, 1, len(arg) + 1)
    key_span = Span(name, 1, 1, 1, max(value_col - 1, 2))
    for path in list(value_map.values):
        spans.values[prefix + path] = whole
    spans.values[prefix] = whole
    spans.keys[prefix] = key_span
    return spans


def apply_overrides(composed: Composed, overrides: list[str], limits: LoadLimits = LoadLimits()) -> None:
    """Apply command-line overrides in order, in place; problems are added to ``composed.diagnostics``."""
    data, source_map = composed.data, composed.source_map
    for index, arg in enumerate(overrides, start=1):
        name = f"<override {index}: {arg}>"
        at = Span(name, 1, 1, 1, len(arg) + 1)
        mode = "set"
        text = arg
        if text.startswith("++"):
            mode, text = "force", text[2:]
        elif text.startswith("+"):
            mode, text = "add", text[1:]
        elif text.startswith("~"):
            mode, text = "delete", text[1:]
        key, sep, raw_value = text.partition("=")
        key = key.strip()
        if not key or (not sep and mode != "delete") or any(not s for s in key.split(".")):
            composed.diagnostics.append(
                Diagnostic(
                    "CMP004",
                    f"override {arg!r} must look like key.path=value, +key.path=value, ++key.path=value or ~key.path",
                    at,
                )
            )
            continue
        path = split_path(key)
        if path[0] == "extends":
            # The bases are merged before any override is applied; changing the list afterwards
            # would silently do nothing.
            composed.diagnostics.append(
                Diagnostic("CMP005", "`extends` cannot be overridden: base files are merged before overrides apply", at)
            )
            continue
        value_col = len(arg) - len(raw_value) + 1
        value = None
        value_map = SourceMap()
        if sep:
            document, problems = parse_yaml(raw_value if raw_value.strip() else "null", name, limits, require_mapping=False)
            if document is None:
                for problem in problems:
                    composed.diagnostics.append(
                        Diagnostic(problem.code, f"in override value: {problem.message}", Span(name, 1, value_col, 1, len(arg) + 1))
                    )
                continue
            value, value_map = document.data, document.source_map

        present = has_path(data, path)
        if mode == "delete":
            if not present:
                composed.diagnostics.append(Diagnostic("CMP007", f"cannot delete `{key}`: the spec does not set it", at))
                continue
            if sep and get_path(data, path) != value:
                composed.diagnostics.append(
                    Diagnostic("CMP007", f"cannot delete `{key}`: its value is {get_path(data, path)!r}, not {value!r}", at)
                )
                continue
            delete_path(data, path)
            source_map.drop(path)
            continue
        if mode == "add" and present:
            composed.diagnostics.append(
                Diagnostic("CMP006", f"cannot add `{key}`: the spec already sets it; use `{key}=...` or `++{key}=...`", at)
            )
            continue
        if mode == "set" and not present:
            top_level = top_level_keys()
            reason = check_path(key, sections=top_level)
            if reason is not None and not (len(path) == 1 and path[0] in top_level):
                # check_path's reason already carries the "did you mean" for the misspelt segment.
                composed.diagnostics.append(
                    Diagnostic(
                        "CMP005",
                        f"cannot override `{key}`: {reason}",
                        at,
                        hint=f"to add a key that is not in the spec model's free-form sections, use +{key}=...",
                    )
                )
                continue
        # An index (`tags.0`) needs the list to exist; otherwise `{0: ...}` would replace it.
        unset = next((path[:i] for i, s in enumerate(path) if isinstance(s, int) and not has_path(data, path[:i])), None)
        if unset is not None:
            where = ".".join(map(str, unset))
            message = f"cannot override `{key}`: `{where}` is not set, so it has no item {path[len(unset)]}"
            composed.diagnostics.append(Diagnostic("CMP005", message, at, hint=f"set the whole list: {where}=[...]"))
            continue
        try:
            if not present:
                # `training.optimizer.lr=...` on a spec that leaves the optimizer at its default
                # sets the default optimizer's lr, as a variant override does.
                fill_defaults_along(compiled.root_model(), data, path)
            set_path(data, path, value)
        except ValueError as exc:
            composed.diagnostics.append(Diagnostic("CMP005", f"cannot override `{key}`: {exc}", at))
            continue
        source_map.drop(path)
        source_map.update(_override_spans(name, arg, value_col, value_map, path))


def compose(
    path: str, overrides: list[str] = (), limits: LoadLimits = LoadLimits(), overlay: dict[str, str] | None = None
) -> Composed:
    """Load ``path`` with everything it ``extends``, then apply ``overrides``.

    ``overlay`` maps file paths to texts used instead of the files on disk (the fixer re-lints
    edited texts before writing anything).
    """
    out = Composed(data=None, source_map=SourceMap())
    loaded = _load_tree(str(path), limits, [], out, None, overlay or {})
    if loaded is None:
        return out
    out.data, out.source_map = loaded
    if overrides:
        apply_overrides(out, list(overrides), limits)
    if out.diagnostics:
        out.diagnostics.sort(key=Diagnostic.sort_key)
    return out
