"""Sections written in another tool's dialect, translated into rigorml's own before validation.

Today one dialect: a W&B sweep configuration, ``sweep: {format: wandb, ...}``
(:mod:`rigorml.schemas.wandb_sweep` knows W&B's semantics). Translation replaces the section in the
document with its rigorml form and re-points the source map, so that validation, the lint rules,
``rigorml resolve``, compile and the Optuna study all see the rigorml section while every message
still points at what the author wrote. A converted value that means the same in both dialects
keeps its value span (a fix may rewrite it); a computed or renamed one (``exp(min)``, ``bayes`` ->
``tpe``) is located through the key table only, so no fix ever writes rigorml's vocabulary into a
W&B section.

Errors (the section cannot be converted) are validation errors; warnings (converted approximately,
or a W&B setting rigorml does not use) carry the code ``HPO016`` and are reported by the lint rule
of that code (``rules/sweeps/wandb_sweep_approximation.py``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..schemas.references import did_you_mean
from .diagnostics import Diagnostic, Severity
from .source import SourceMap

#: The dialects a ``sweep`` section may be written in (``format``). The W&B converter is imported
#: only for a section that needs it: most specs never do, and validation runs on every commit.
SWEEP_FORMATS = ("rigorml", "wandb")


class Translation(NamedTuple):
    """One section's translation: the rigorml section (None on errors), its source map, and what was said."""

    section: dict | None
    source_map: SourceMap
    errors: list[Diagnostic]
    warnings: list[Diagnostic]
    conversion: Any  # the schemas-level Conversion (notes for `rigorml import wandb-sweep`)


class Translated(NamedTuple):
    """What :func:`translate_dialects` did to a document: problems, and the sections it could not translate."""

    errors: list[Diagnostic]
    warnings: list[Diagnostic]
    untranslated: tuple[str, ...]


def translate_wandb_sweep(section: Any, source_map: SourceMap, prefix: tuple) -> Translation:
    """Convert the W&B sweep configuration at ``prefix`` of a document (``()`` for a W&B file).

    ``source_map`` is the document's; it is read, not changed. The returned map holds the converted
    section's locations under ``prefix`` (plus ``prefix`` itself), pointing into the W&B text.
    """
    from ..schemas import wandb_sweep

    conversion = wandb_sweep.convert(section)
    errors, warnings = [], []
    for problem in conversion.problems:
        where = prefix + problem.path
        diagnostic = Diagnostic(
            problem.code,
            problem.message,
            source_map.locate(where, prefer_key=problem.on_key),
            Severity.WARNING if problem.is_warning else Severity.ERROR,
            hint=problem.hint,
            path=where,
        )
        (warnings if problem.is_warning else errors).append(diagnostic)
    located = SourceMap(file=source_map.file)
    if conversion.section is not None:
        for converted, origin in conversion.origins.items():
            _place(located, source_map, prefix + converted, prefix + origin.path, origin)
    return Translation(conversion.section, located, errors, warnings, conversion)


def _place(target: SourceMap, source: SourceMap, path: tuple, origin_path: tuple, origin) -> None:
    if origin.verbatim:
        # The same text means the same thing: copy the value's spans, and everything below it.
        depth = len(origin_path)
        for table, into in ((source.values, target.values), (source.keys, target.keys)):
            for p, span in table.items():
                if p[:depth] == origin_path:
                    into[path + p[depth:]] = span
        return
    span = source.locate(origin_path, prefer_key=origin.on_key)
    # Key table only: `locate` finds it, `value_span` (what a fix edits) does not.
    target.keys[path] = span


def translate_dialects(data: Any, source_map: SourceMap) -> Translated:
    """Translate, in place, every section of ``data`` written in another dialect (``sweep.format``).

    On success the section is replaced by its rigorml form and ``source_map`` re-pointed; on errors
    the section is left as written and named in ``untranslated`` (validating it as rigorml's form
    would only repeat the errors). Never raises for bad input.
    """
    if not isinstance(data, dict) or not isinstance(data.get("sweep"), dict) or "format" not in data["sweep"]:
        return Translated([], [], ())
    dialect = data["sweep"]["format"]
    if dialect == "rigorml" or not isinstance(dialect, str):
        return Translated([], [], ())  # not a string: the model reports the type
    if dialect != "wandb":
        hint = did_you_mean(dialect, SWEEP_FORMATS)
        where = ("sweep", "format")
        message = f"unknown sweep format {dialect!r}; expected one of: {', '.join(SWEEP_FORMATS)}" + (f"; {hint}" if hint else "")
        return Translated([Diagnostic("SPC004", message, source_map.locate(where), path=where)], [], ("sweep",))
    translation = translate_wandb_sweep(data["sweep"], source_map, ("sweep",))
    if translation.section is None:
        return Translated(translation.errors, translation.warnings, ("sweep",))
    sweep_spans = (source_map.values.get(("sweep",)), source_map.keys.get(("sweep",)))
    source_map.drop(("sweep",))
    for table, span in zip((source_map.values, source_map.keys), sweep_spans):
        if span is not None:
            table[("sweep",)] = span
    source_map.update(translation.source_map)
    data["sweep"] = translation.section
    return Translated([], translation.warnings, ())
