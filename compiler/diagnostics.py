"""Diagnostics: every problem rigorml reports is a value with a location, a code and a message.

The value types here are ``NamedTuple``s rather than dataclasses: they are created on the pre-commit
path, and a dataclass costs ~0.6 ms to define against ~0.08 ms for a named tuple.

A :class:`Diagnostic` is produced by the loader (YAML problems), the validator (schema problems),
composition (``extends`` and CLI overrides) and, later, the linter. Printing and exit codes live in
the CLI; passes only return lists of diagnostics.

Codes are stable and grouped by family:

* ``YML`` -- the file could not be read or parsed as a safe, single YAML mapping;
* ``SPC`` -- the document does not match the spec model (unknown keys, wrong types, bad values,
  cross-field references);
* ``CMP`` -- composition: ``extends`` and command-line overrides.
"""

from __future__ import annotations

import enum
from typing import NamedTuple

#: Every diagnostic code with a one-line summary; docs/diagnostics.md is generated from this table
#: and a test checks that every code the code base emits is listed here.
CODES: dict[str, str] = {
    "YML001": "YAML syntax error, undefined alias, duplicate anchor, or a character YAML forbids",
    "YML002": "duplicate mapping key (PyYAML would silently keep the last one)",
    "YML003": "a tag that is not plain data (`!!python/...`, custom tags), or a value its tag cannot build",
    "YML004": "a list or mapping used as a key, or a merge (`<<`) value that is not a mapping",
    "YML005": "too many values after alias expansion (billion laughs), or a recursive alias",
    "YML006": "nesting deeper than the limit (100 levels)",
    "YML007": "the file holds no YAML document",
    "YML008": "the document is not a mapping",
    "YML009": "more than one YAML document in the file",
    "YML010": "the file is larger than `--max-bytes` (default 4 MiB) [exit 2]",
    "YML011": "the file is not UTF-8 (e.g. UTF-16) [exit 2]",
    "YML012": "the file is binary, not YAML text [exit 2]",
    "YML013": "the file cannot be read (missing, a directory, permission denied) [exit 2]",
    "SPC001": "unknown key (with \"did you mean\"), or a key that belongs to another optimizer/pruner/distribution kind",
    "SPC002": "missing required key",
    "SPC003": "wrong type",
    "SPC004": "invalid value (out of range, not one of the allowed values, failed a check)",
    "SPC006": "unsupported spec version",
    "SPC010": "metric unknown, or not applicable to the task",
    "SPC011": "unknown arm (variant) in a comparison, baseline or gate",
    "SPC012": "statistical test that does not apply to the task (McNemar outside classification)",
    "SPC013": "variant or sweep path that does not exist in the spec",
    "SPC014": "sweep condition (`when`) on something that is not a categorical sweep parameter, or a bad flag",
    "SPC015": "CSV/Parquet data source without `data.target`",
    "SPC016": "`win_rate` used without an `llm_judge` section",
    "SPC017": "`stratify` on a task without class labels",
    "SPC018": "first deployment gated against a production model that does not exist",
    "SPC019": "W&B sweep setting rigorml cannot express (several metrics, `method: custom`, a grid over a continuous range, a metric name without a split, a non-integer `eta`)",
    "CMP001": "`extends` names a file that cannot be read",
    "CMP002": "`extends` cycle",
    "CMP003": "`extends` is not a path or a list of paths",
    "CMP004": "malformed command-line override",
    "CMP005": "override of a key that neither the spec nor the model has (use `+key=...` to add)",
    "CMP006": "`+key=...` for a key the spec already sets (use `key=...` or `++key=...`)",
    "CMP007": "`~key` for a key the spec does not set, or whose value differs",
}


def codes_markdown() -> str:
    """docs/diagnostics.md, generated from :data:`CODES`."""
    families = {"YML": "Loading (the file as YAML)", "SPC": "The spec model", "CMP": "Composition and overrides"}
    lines = [
        "# Diagnostic codes",
        "",
        "Generated from `rigorml.compiler.diagnostics.CODES`; do not edit by hand "
        "(`python -c \"from rigorml.compiler.diagnostics import codes_markdown; print(codes_markdown(), end='')\" > docs/diagnostics.md`).",
        "",
        "Every diagnostic prints as `path:line:col: CODE message`. Codes marked [exit 2] mean rigorml could not "
        "read the file at all; every other code is an error in the spec (exit 1).",
    ]
    for prefix, title in families.items():
        lines += ["", f"## {prefix}: {title}", "", "| code | meaning |", "|---|---|"]
        lines += [f"| `{code}` | {text} |" for code, text in CODES.items() if code.startswith(prefix)]
    return "\n".join(lines) + "\n"


class Severity(str, enum.Enum):
    """How serious a finding is. Validation problems are always ``error``."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "error": 2}[self.value]


class Span(NamedTuple):
    """A region of a source: 1-based line and column of its start, and of the position just past it.

    ``file`` is the path as the user gave it, or a pseudo-file such as ``<override 2>`` for a
    command-line override.
    """

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    @classmethod
    def point(cls, file: str, line: int = 1, col: int = 1) -> "Span":
        return cls(file, line, col, line, col + 1)

    def to_json(self) -> dict:
        return self._asdict()


class TextEdit(NamedTuple):
    """Replace the text of one file between two positions (1-based line and column, end exclusive).

    Fixes are exact text edits on located ranges, so comments and formatting around them survive.
    """

    file: str
    line: int
    col: int
    end_line: int
    end_col: int
    text: str

    @classmethod
    def replace(cls, span: Span, text: str) -> "TextEdit":
        return cls(span.file, span.line, span.col, span.end_line, span.end_col, text)

    @classmethod
    def insert(cls, file: str, line: int, col: int, text: str) -> "TextEdit":
        return cls(file, line, col, line, col, text)

    def to_json(self) -> dict:
        return self._asdict()


class Fix(NamedTuple):
    """A change that resolves a finding. ``safe`` fixes keep the meaning the author intended;
    unsafe ones change behaviour (``--unsafe-fixes`` applies them)."""

    description: str
    edits: tuple[TextEdit, ...]
    safe: bool = True

    def to_json(self) -> dict:
        return {"description": self.description, "safe": self.safe, "edits": [e.to_json() for e in self.edits]}


class Diagnostic(NamedTuple):
    """One problem found in one place.

    ``fatal`` marks problems that stop rigorml from doing its job at all (an unreadable path, a file
    that is not text): the CLI exits with 2 for those and with 1 for ordinary errors in a spec.
    ``path`` is the location inside the spec document (keys and list indices) when known.
    """

    code: str
    message: str
    span: Span
    severity: Severity = Severity.ERROR
    hint: str | None = None
    fatal: bool = False
    path: tuple = ()
    fix: Fix | None = None

    def sort_key(self) -> tuple:
        return (self.span.file, self.span.line, self.span.col, self.code, self.message)

    def format_text(self, *, show_severity: bool = False) -> str:
        """``path:line:col: CODE message`` (``CODE [severity] message`` for lint findings), plus the hint."""
        severity = f" [{self.severity.value}]" if show_severity else ""
        text = f"{self.span.file}:{self.span.line}:{self.span.col}: {self.code}{severity} {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text

    def to_json(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "hint": self.hint,
            "fatal": self.fatal,
            "location": self.span.to_json(),
            "path": [p if isinstance(p, (int, str)) else str(p) for p in self.path],
            "fix": self.fix.to_json() if self.fix else None,
        }


class RigormlError(Exception):
    """Raised at a pass boundary when a pass cannot continue; carries the diagnostics to report."""

    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__("\n".join(d.format_text() for d in diagnostics))
        self.diagnostics = diagnostics
