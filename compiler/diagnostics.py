"""Diagnostics: every problem rigorml reports is a value with a location, a code and a message.

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
from dataclasses import dataclass, field


class Severity(str, enum.Enum):
    """How serious a finding is. Validation problems are always ``error``."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "error": 2}[self.value]


@dataclass(frozen=True, slots=True)
class Span:
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
        return {
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "end_line": self.end_line,
            "end_col": self.end_col,
        }


@dataclass(frozen=True, slots=True)
class Diagnostic:
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
    path: tuple = field(default=())

    def sort_key(self) -> tuple:
        return (self.span.file, self.span.line, self.span.col, self.code, self.message)

    def format_text(self) -> str:
        """``path:line:col: CODE message`` (plus `` (hint)`` when there is one)."""
        text = f"{self.span.file}:{self.span.line}:{self.span.col}: {self.code} {self.message}"
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
        }


class RigormlError(Exception):
    """Raised at a pass boundary when a pass cannot continue; carries the diagnostics to report."""

    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__("\n".join(d.format_text() for d in diagnostics))
        self.diagnostics = diagnostics
