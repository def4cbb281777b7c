"""``rigorml import wandb-sweep FILE``: a W&B sweep configuration, written as rigorml's ``sweep`` section.

FILE is a W&B sweep configuration (what ``wandb sweep FILE`` takes), or a spec whose ``sweep`` is one
(``format: wandb``). The file is read with W&B's semantics (:mod:`rigorml.schemas.wandb_sweep`), converted, and checked
as a rigorml sweep section (the model, and that every parameter path exists in the spec model);
the section is printed (or written with ``-o``) as YAML with a comment above each value saying what
it was in W&B and what was approximated. Nothing is written when the file cannot be converted: the
errors are printed at ``FILE:line:col`` and the exit code is 2. Warnings (code ``HPO016``) go to
standard error as well as into the comments.
"""

from __future__ import annotations

import sys
import textwrap

from .cli import EXIT_OK, EXIT_UNUSABLE
from .diagnostics import Diagnostic
from .source import LoadLimits, SourceMap, dump_yaml, load_yaml_file

#: The smallest valid spec: the converted section is validated inside it (only its own problems count).
_HOST = {
    "version": 1,
    "experiment": {"name": "imported", "task": "classification"},
    "data": {"source": "builtin:digits"},
    "model": {"source": "builtin:mlp"},
}
_WIDTH = 100


def cmd_import(args) -> int:
    """Convert ``args.file`` (a W&B sweep configuration) and print or write the rigorml section.

    Exit codes: 0 converted (warnings are printed); 2 the file cannot be read or converted.
    """
    from .dialects import translate_wandb_sweep

    document, problems = load_yaml_file(args.file, LoadLimits(max_bytes=args.max_bytes))
    if document is None:
        _report(problems)
        return EXIT_UNUSABLE
    data = document.data
    if "experiment" in data and isinstance(data.get("sweep"), dict):
        # A spec holding `sweep: {format: wandb, ...}`: convert that section.
        section, source_map = data["sweep"], document.source_map
    else:
        # A W&B configuration file: place it where a spec's sweep sits, so it is checked as one.
        section, source_map = data, document.source_map.with_prefix(("sweep",))
    translation = translate_wandb_sweep(section, source_map, ("sweep",))
    errors = list(translation.errors)
    if translation.section is not None:
        errors += section_problems(translation.section, translation.source_map)
    _report(errors + translation.warnings)
    if errors:
        noun = "error" if len(errors) == 1 else "errors"
        print(f"rigorml: {args.file} was not converted: {len(errors)} {noun}", file=sys.stderr)
        return EXIT_UNUSABLE
    text = render_section(translation.conversion, args.file)
    if args.output:
        from ..runtime.files import write_atomic

        write_atomic(args.output, text)
        print(f"wrote {args.output}: the rigorml sweep section of {args.file}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def section_problems(section: dict, source_map: SourceMap) -> list[Diagnostic]:
    """The converted section's own problems as a rigorml sweep: the model, and paths that do not exist.

    It is validated inside a minimal spec; only problems under ``sweep`` are kept. Values are not
    applied to a base configuration: which optimizer a ``momentum`` suits is the real spec's matter.
    """
    from ..schemas import compiled
    from ..schemas.references import find_reference_problems
    from .validate import diagnostics_from_error, model_validate

    data = {**_HOST, "sweep": section}
    try:
        spec = model_validate(data)
    except compiled.validation_error() as exc:
        return [d for d in diagnostics_from_error(exc, data, source_map) if d.path[:1] == ("sweep",)]
    return [
        Diagnostic(p.code, p.message, source_map.locate(p.path, prefer_key=p.on_key), hint=p.hint, path=p.path)
        for p in find_reference_problems(spec)
        if p.path[:1] == ("sweep",)
    ]


def render_section(conversion, source: str) -> str:
    """The converted section as YAML (``sweep:`` at the top), a comment above each converted value.

    The comments are the conversion's notes (what the value was in W&B) and its warnings.
    """
    comments: dict[tuple, list[str]] = {}
    for path, notes in conversion.notes.items():
        comments.setdefault(path, []).extend(notes)
    for warning in conversion.warnings:
        where = warning.converted if warning.converted is not None and _has(conversion.section, warning.converted) else ()
        text = f"{warning.code} warning: {warning.message}" + (f" ({warning.hint})" if warning.hint else "")
        comments.setdefault(where, []).append(text)
    lines = [
        f"# rigorml sweep section converted from {source} by `rigorml import wandb-sweep`.",
        "# W&B's semantics and what each setting became: docs/wandb-sweeps.md.",
    ]
    lines += _comment_lines(comments.get((), []), "")
    lines.append("sweep:")
    _emit(conversion.section, 1, (), comments, lines)
    return "\n".join(lines) + "\n"


def _has(section: dict, path: tuple) -> bool:
    current = section
    for segment in path:
        if not isinstance(current, dict) or segment not in current:
            return False
        current = current[segment]
    return True


def _comment_lines(texts: list[str], pad: str) -> list[str]:
    out = []
    for text in texts:
        for line in textwrap.wrap(text, width=max(40, _WIDTH - len(pad) - 2), break_long_words=False, break_on_hyphens=False):
            out.append(f"{pad}# {line}")
    return out


def _emit(mapping: dict, depth: int, path: tuple, comments: dict, lines: list[str]) -> None:
    pad = "  " * depth
    for key, value in mapping.items():
        here = path + (key,)
        lines += _comment_lines(comments.get(here, []), pad)
        if isinstance(value, dict) and value:
            lines.append(pad + _key(key) + ":")
            _emit(value, depth + 1, here, comments, lines)
        else:
            # dump_yaml writes text rigorml's loader reads back as exactly this value.
            lines += [pad + line for line in dump_yaml({key: value}).splitlines()]


def _key(key) -> str:
    return dump_yaml({key: 0}).rsplit(":", 1)[0]


def _report(diagnostics: list[Diagnostic]) -> None:
    for d in sorted(diagnostics, key=Diagnostic.sort_key):
        print(d.format_text(show_severity=d.code.startswith("HPO")), file=sys.stderr)
