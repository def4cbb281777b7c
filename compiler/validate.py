"""Validation pass: plain spec data + its source map -> a ``Spec`` or located diagnostics.

Three layers, each run only when the one before succeeded for the part it reads:

1. the pydantic model (shapes, types, values, unknown keys);
2. cross-field references (:mod:`rigorml.schemas.references`);
3. every variant and every sweep parameter applied to the base spec and validated again, so a
   variant that sets ``training.precision: fp33`` is reported at the variant's line.

Before them, a section written in another tool's dialect (a W&B sweep) is translated into rigorml's
form (:mod:`.dialects`).
"""

from __future__ import annotations

import copy
import re
from typing import Any, NamedTuple

from ..schemas import compiled
from ..schemas.introspect import fields_of, fill_defaults_along, models_at, siblings_with_key
from ..schemas.references import check_path, did_you_mean, find_reference_problems
from .diagnostics import Diagnostic
from .dialects import translate_dialects
from .paths import set_path, split_path
from .source import SourceMap


SPEC_VERSION = 1


def model_validate(data: Any):
    """Validate with the compiled validator (no pydantic import) or, without one, the models.

    Both raise the same ``ValidationError``; the compiled one returns a ``SpecNode`` tree, the
    models a ``Spec``. Either is read by attribute.
    """
    validator = compiled.validator()
    if validator is not None:
        return validator.validate_python(data)
    from ..schemas.spec import Spec

    return Spec.model_validate(data)


class Validated(NamedTuple):
    """The outcome of validation: the spec (None when invalid) and every problem found.

    ``warnings`` do not make the spec invalid: what translating a section written in another
    dialect had to approximate (``HPO016``, reported by ``rigorml lint``).
    """

    spec: Any
    diagnostics: list[Diagnostic]
    warnings: tuple[Diagnostic, ...] = ()


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _dotted(path: tuple) -> str:
    return ".".join(str(p) for p in path) or "the spec"


def document_path(data: Any, loc: tuple, kind: str = "") -> tuple[tuple, bool]:
    """Map a pydantic error location onto the document.

    Segments that are not in the data (union tags such as ``sgd``, branch labels such as
    ``function-after[...]``) are skipped. For a missing or an unknown key the error's last segment is
    that key, so it is kept even though (for a missing key) it is not in the data.
    Returns (path, went_through_a_union_branch).
    """
    path: list = []
    current = data
    branched = False
    for i, segment in enumerate(loc):
        if isinstance(current, dict) and segment in current:
            current = current[segment]
            path.append(segment)
        elif isinstance(current, list) and isinstance(segment, int) and 0 <= segment < len(current):
            current = current[segment]
            path.append(segment)
        elif i == len(loc) - 1 and kind in ("missing", "extra_forbidden") and isinstance(current, dict):
            path.append(segment)
            current = None
        else:
            branched = True
    return tuple(path), branched


_EXPECTED = re.compile(r"'([^']*)'")

_TYPE_WORDS = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "str": "a string",
    "list": "a list",
    "dict": "a mapping",
    "tuple": "a list",
    "none": "null",
}


def _branch_word(label: Any) -> str:
    text = str(label)
    for key, word in _TYPE_WORDS.items():
        if text == key or text.startswith(key + "[") or f", {key}[" in text or f"[{key}[" in text:
            return word
    if text.startswith("literal["):
        return "one of " + ", ".join(_EXPECTED.findall(text)) if _EXPECTED.findall(text) else text
    return text


def _keys_at(data: Any, path: tuple) -> set:
    """The keys the mapping at ``path`` already has (a typo is not a key that is already set)."""
    for segment in path:
        if isinstance(data, dict):
            data = data.get(segment)
        elif isinstance(data, list) and isinstance(segment, int) and 0 <= segment < len(data):
            data = data[segment]
        else:
            return set()
    return set(data) if isinstance(data, dict) else set()


def _message(error: dict, path: tuple, data: Any = None) -> tuple[str, str, str | None, bool]:
    """(code, message, hint, on_key) for one pydantic error already mapped to ``path``."""
    kind, msg, ctx = error["type"], error["msg"], error.get("ctx") or {}
    where = f"`{_dotted(path)}`"
    got = error.get("input")
    loc = tuple(error["loc"])
    if kind == "extra_forbidden":
        key = path[-1]
        parent_loc = loc[:-1]
        root = compiled.root_model()
        models = models_at(root, parent_loc)
        allowed = sorted({k for m in models for k in fields_of(m)})
        owners = siblings_with_key(root, parent_loc, key)
        if owners:
            return (
                "SPC001",
                f"`{key}` is not allowed in `{_dotted(path[:-1])}` here; it applies only when the name/type is "
                + ", ".join(repr(o) for o in owners),
                None,
                True,
            )
        present = _keys_at(data, path[:-1])
        hint = did_you_mean(key, [k for k in allowed if k not in present])
        message = f"unknown key {key!r} in `{_dotted(path[:-1])}`"
        if hint:
            message += f"; {hint}"
        return "SPC001", message, f"allowed keys: {', '.join(allowed)}" if allowed and not hint else None, True
    if kind == "missing":
        return "SPC002", f"missing required key `{path[-1]}` in `{_dotted(path[:-1])}`", None, True
    if kind == "literal_error" and path == ("version",):
        if isinstance(got, str) and got.strip() == str(SPEC_VERSION):
            return "SPC006", f"`version` must be the number {SPEC_VERSION}, not the string {got!r}", "remove the quotes", False
        return "SPC006", f"unsupported spec version {_short(got)}; this rigorml reads version {SPEC_VERSION}", None, False
    if kind == "literal_error":
        expected = _EXPECTED.findall(ctx.get("expected", ""))
        hint = did_you_mean(got, expected) if isinstance(got, str) else None
        return (
            "SPC004",
            f"invalid value {_short(got)} for {where}; expected one of: {', '.join(expected)}" + (f"; {hint}" if hint else ""),
            None,
            False,
        )
    if kind == "union_tag_invalid":
        expected = _EXPECTED.findall(str(ctx.get("expected_tags", "")))
        tag = ctx.get("tag")
        hint = did_you_mean(tag, expected)
        return (
            "SPC004",
            f"invalid {ctx.get('discriminator', 'tag').strip(chr(39))} {tag!r} for {where}; expected one of: {', '.join(expected)}"
            + (f"; {hint}" if hint else ""),
            None,
            False,
        )
    if kind == "union_tag_not_found":
        return "SPC002", f"{where} needs `{ctx.get('discriminator', '').strip(chr(39))}`", None, False
    if kind == "missing_distribution":
        if isinstance(got, dict) and "distribution" in got:
            names = ["log_uniform", "uniform", "int", "int_log", "categorical", "constant"]
            hint = did_you_mean(got["distribution"], names)
            return (
                "SPC004",
                f"unknown distribution {_short(got['distribution'])} for {where}; expected one of: {', '.join(names)}"
                + (f"; {hint}" if hint else ""),
                None,
                False,
            )
        return "SPC002", f"{where}: {msg}", None, False
    if kind in ("value_error", "assertion_error"):
        text = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        return "SPC004", f"{where}: {text}", None, False
    text = f"{where} {msg.replace('Input should be', 'should be')}"
    text += f" ({_short(got)})" if ", got " in msg else f", got {_short(got)}"
    if kind.endswith("_type") or kind.endswith("_parsing") or kind in ("model_type", "model_attributes_type", "dict_type"):
        return "SPC003", text, None, False
    return "SPC004", text, None, False


def _is_type_error(error: dict) -> bool:
    kind = error["type"]
    return kind.endswith("_type") or kind.endswith("_parsing") or kind == "literal_error"


def _merge_union_errors(items: list[tuple[tuple, dict, bool]]) -> list[tuple[tuple, dict]]:
    """Errors from the branches of one union (``int | list[int]``) become one error.

    When some branch accepted the value's type but a check failed (a repeated seed in the list
    branch), that check's error is the one that matters; when every branch rejected the type, the
    errors merge into "should be X or Y".
    """
    by_path: dict[tuple, list] = {}
    for path, error, branched in items:
        by_path.setdefault(path, []).append((error, branched))
    merged = []
    for path, group in by_path.items():
        branch = [e for e, b in group if b]
        if len(branch) < 2:
            merged.extend((path, e) for e, _ in group)
            continue
        others = [e for e, b in group if not b]
        checks = [e for e in branch if not _is_type_error(e)]
        if checks:
            merged.extend((path, e) for e in others + checks)
            continue
        words = []
        for e in branch:
            label = next((seg for seg in e["loc"] if isinstance(seg, str) and ("[" in seg or seg in _TYPE_WORDS)), None)
            if e["type"] == "literal_error":
                words.append("one of " + ", ".join(_EXPECTED.findall(e.get("ctx", {}).get("expected", ""))))
            elif label is not None:
                words.append(_branch_word(label))
        combined = dict(branch[0])
        combined["type"] = "union_type"
        combined["msg"] = "Input should be " + " or ".join(dict.fromkeys(words))
        merged.extend((path, e) for e in others)
        merged.append((path, combined))
    return merged


def _field_path(error: dict, path: tuple, data: Any) -> tuple:
    """Point a model-level check that names its field (``checks.FieldError``) at that field."""
    field_name = getattr((error.get("ctx") or {}).get("error"), "field", None)
    if field_name is not None and field_name in _keys_at(data, path):
        return path + (field_name,)
    return path


def _tag_path(error: dict, path: tuple, data: Any) -> tuple:
    """Point a wrong union tag (``name: adamm``, ``distribution: loguniform``) at the tag's value."""
    kind = error["type"]
    if kind == "union_tag_invalid":
        tag_key = str((error.get("ctx") or {}).get("discriminator", "")).strip("'")
    elif kind == "missing_distribution":
        tag_key = "distribution"
    else:
        return path
    got = error.get("input")
    return path + (tag_key,) if isinstance(got, dict) and tag_key in got else path


def diagnostics_from_error(exc, data: Any, source_map: SourceMap, *, prefix: str = "") -> list[Diagnostic]:
    """Turn a pydantic ValidationError into located diagnostics (one per distinct problem)."""
    mapped = []
    for error in exc.errors(include_url=False):
        path, branched = document_path(data, tuple(error["loc"]), error["type"])
        mapped.append((path, error, branched))
    out = []
    for path, error in _merge_union_errors(mapped):
        code, message, hint, on_key = _message(error, path, data)
        path = _field_path(error, _tag_path(error, path, data), data)
        if code == "SPC002":
            span = source_map.locate(path[:-1] if error["type"] == "missing" else path, prefer_key=True)
        else:
            span = source_map.locate(path, prefer_key=on_key)
        out.append(Diagnostic(code, prefix + message, span, hint=hint, path=path))
    return out


def _copy_along(data: dict, paths: list[tuple]) -> dict:
    """A copy of ``data`` that can be changed along ``paths`` without touching ``data``.

    Only the mappings and lists on the way down each path are copied; everything else is shared.
    Deep-copying the whole spec for every variant and sweep value was a third of ``rigorml lint``'s
    time on large batches of specs.
    """
    root = dict(data)
    for path in paths:
        current: Any = root
        for segment in path[:-1]:
            if isinstance(current, dict):
                child = current.get(segment)
            elif isinstance(current, list) and isinstance(segment, int) and 0 <= segment < len(current):
                child = current[segment]
            else:
                break
            if isinstance(child, dict):
                child = dict(child)
            elif isinstance(child, list):
                child = list(child)
            else:
                break
            current[segment] = child
            current = child
    return root


def _set_with_defaults(data: dict, segments: tuple, value: Any) -> None:
    fill_defaults_along(compiled.root_model(), data, segments)
    set_path(data, segments, value)


def _override_arms(data: dict, base: dict) -> list[tuple[tuple, dict, list, str]]:
    """(anchor, ``base`` with the change applied, [(anchor path, segments)], label) per variant and sweep value.

    A path into a section the spec leaves at its defaults (``training.optimizer.lr`` with no
    optimizer written) lands on that section's default (see :func:`_materialize`). Paths that do not
    exist are skipped: the reference check reports them.
    """
    cases = []
    for name, variant in (data.get("variants") or {}).items():
        overrides = (variant or {}).get("overrides") or {}
        applied = _copy_along(base, [split_path(str(key)) for key in overrides])
        anchors = []
        try:
            for key, value in overrides.items():
                if check_path(str(key)) is not None:
                    continue
                _set_with_defaults(applied, split_path(str(key)), copy.deepcopy(value))
                anchors.append((("variants", name, "overrides", key), split_path(str(key))))
        except ValueError:
            continue  # reported by the reference check as a path problem
        if not anchors:
            continue
        cases.append((("variants", name), applied, anchors, f"variant {name!r}"))
    sweep = data.get("sweep") or {}
    for key, param in (sweep.get("parameters") or {}).items():
        if not isinstance(param, dict) or check_path(str(key)) is not None:
            continue
        kind = param.get("distribution") or ("categorical" if "values" in param else "constant")
        if kind == "categorical":
            samples = [(("sweep", "parameters", key, "values", i), v) for i, v in enumerate(param.get("values") or [])]
        elif kind == "constant":
            samples = [(("sweep", "parameters", key, "value"), param.get("value"))]
        else:
            samples = [(("sweep", "parameters", key, bound), param.get(bound)) for bound in ("low", "high")]
            if kind in ("uniform", "log_uniform"):
                samples = [(p, float(v)) if isinstance(v, int) and not isinstance(v, bool) else (p, v) for p, v in samples]
        for condition in _condition_cases(param.get("when"), sweep.get("parameters") or {}):
            if condition is None:
                break  # a condition no trial can meet: the reference check reports it
            for anchor, value in samples:
                applied = _copy_along(base, [segments for segments, _ in condition] + [split_path(str(key))])
                try:
                    for segments, chosen in condition:
                        _set_with_defaults(applied, segments, copy.deepcopy(chosen))
                    _set_with_defaults(applied, split_path(str(key)), copy.deepcopy(value))
                except ValueError:
                    continue
                label = f"sweep parameter `{key}`"
                if condition:
                    label += " (when " + ", ".join(f"{'.'.join(map(str, p))}={v!r}" for p, v in condition) + ")"
                cases.append((anchor, applied, [(anchor, split_path(str(key)))], label))
    return cases


def _condition_cases(when: Any, parameters: dict) -> list:
    """Each assignment of the conditioning parameters a conditional parameter is sampled under.

    Every allowed value of every condition is tried (the others at their first allowed value), so a
    parameter allowed for both ``sgd`` and ``adamw`` is checked against both. Values that are not
    among the conditioning parameter's own ``values`` are dropped (the reference check reports
    them); ``[None]`` means no trial can meet the condition. ``flag.*`` conditions set nothing.
    """
    if not isinstance(when, dict) or not when:
        return [[]]
    options = []
    for other, allowed in when.items():
        if check_path(str(other)) is not None:
            continue  # a flag, or a path the reference check reports
        choices = (parameters.get(other) or {}).get("values") if isinstance(parameters.get(other), dict) else None
        valid = [v for v in (allowed if isinstance(allowed, list) else []) if choices is None or v in choices]
        if not valid:
            return [None]
        options.append((split_path(str(other)), valid))
    if not options:
        return [[]]
    cases = []
    for i, (segments, valid) in enumerate(options):
        for value in valid if i == 0 else valid[1:]:
            cases.append([(s, value if j == i else v[0]) for j, (s, v) in enumerate(options)])
    return cases


def _check_overrides(data: dict, source_map: SourceMap) -> list[Diagnostic]:
    if not data.get("variants") and not data.get("sweep"):
        return []
    base = {k: v for k, v in data.items() if k not in ("variants", "sweep")}
    out: list[Diagnostic] = []
    for anchor, applied, anchors, label in _override_arms(data, base):
        try:
            model_validate(applied)
        except compiled.validation_error() as exc:
            for error in exc.errors(include_url=False):
                path, _ = document_path(applied, tuple(error["loc"]), error["type"])
                # Point at the override that shares the longest prefix with the error.
                best, best_len = anchors[0][0], -1
                for anchor_path, segments in anchors:
                    common = 0
                    for a, b in zip(segments, path):
                        if a != b:
                            break
                        common += 1
                    if common > best_len:
                        best, best_len = anchor_path, common
                code, message, hint, _ = _message(error, path, applied)
                out.append(
                    Diagnostic(
                        code,
                        f"with {label} applied: {message}",
                        source_map.locate(best),
                        hint=hint,
                        path=best,
                    )
                )
    return out


def validate_data(data: Any, source_map: SourceMap) -> Validated:
    """Validate plain spec data; returns the resolved spec or the located problems (sorted).

    A section written in another tool's dialect (``sweep: {format: wandb}``) is first translated
    into rigorml's form, in place in ``data`` and ``source_map`` (:mod:`.dialects`), so that every
    later pass reads the rigorml section. When it cannot be translated, its errors are reported
    with those of the rest of the spec, which is validated without it.
    """
    translated = translate_dialects(data, source_map)
    if translated.untranslated:
        rest = validate_data({k: v for k, v in data.items() if k not in translated.untranslated}, source_map)
        problems = sorted(set(translated.errors + rest.diagnostics), key=Diagnostic.sort_key)
        return Validated(None, problems, tuple(sorted(translated.warnings, key=Diagnostic.sort_key)))
    validated = _validate_translated(data, source_map)
    return validated._replace(warnings=tuple(sorted(translated.warnings, key=Diagnostic.sort_key)))


def _validate_translated(data: Any, source_map: SourceMap) -> Validated:
    """The three layers of the module docstring, on a document in rigorml's own vocabulary."""
    try:
        spec = model_validate(data)
    except compiled.validation_error() as exc:
        return Validated(None, sorted(diagnostics_from_error(exc, data, source_map), key=Diagnostic.sort_key))

    diagnostics = [
        Diagnostic(p.code, p.message, source_map.locate(p.path, prefer_key=p.on_key), hint=p.hint, path=p.path)
        for p in find_reference_problems(spec)
    ]
    diagnostics += _check_overrides(data, source_map)
    if diagnostics:
        return Validated(None, sorted(set(diagnostics), key=Diagnostic.sort_key))
    return Validated(spec, [])

