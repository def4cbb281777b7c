"""Inline suppressions, ruff-style, and the rule that reports the ones that suppress nothing.

* ``# rigorml: ignore[REP001]`` on the line of a finding, or alone on the line above it;
* ``# rigorml: ignore[REP001, STA002]`` for several codes; a code prefix (``STA``) covers a family;
* ``# rigorml: ignore-file[REP001]`` anywhere in a file, for the whole file.

A suppression that matches no finding is itself reported (``SUP001``), so stale ones do not pile up --
but only for codes whose rules ran: ``--select STA001`` must not call every other suppression stale
(and ``--fix`` must not delete them). A code that names no rule at all is reported as unknown.
The same comments work in YAML specs and in Python files (both use ``#``).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from ..compiler.diagnostics import Diagnostic, Severity, Span, TextEdit, Fix
from .base import BASE, Invalid, Rule, RuleDoc

_COMMENT = re.compile(r"#\s*rigorml:\s*(ignore-file|ignore)\s*\[([^\]]*)\]")


class Suppression(NamedTuple):
    """One suppression comment; ``used`` collects the codes that suppressed something."""

    file: str
    line: int  # 1-based line of the comment
    col: int
    end_col: int
    codes: tuple[str, ...]
    whole_file: bool
    own_line: bool  # the comment is alone on its line: it covers the next line
    used: set

    def covers(self, finding: Diagnostic) -> bool:
        if finding.span.file != self.file:
            return False
        if not self.whole_file:
            lines = {self.line + 1} if self.own_line else {self.line}
            if finding.span.line not in lines:
                return False
        return any(finding.code.startswith(code) for code in self.codes)


def _python_comment_starts(text: str) -> set[tuple[int, int]] | None:
    """(line, col) of every real comment in Python source (None if it does not tokenize)."""
    import io
    import tokenize

    try:
        return {
            (token.start[0], token.start[1] + 1)
            for token in tokenize.generate_tokens(io.StringIO(text).readline)
            if token.type == tokenize.COMMENT
        }
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None


def parse_suppressions(file: str, text: str, in_string=None) -> list[Suppression]:
    """Every ``# rigorml: ignore[...]`` / ``ignore-file[...]`` comment in ``text``.

    Text that only looks like one -- inside a quoted or block YAML string (``in_string(line, col)``
    says so), or inside a Python string -- is not a suppression.
    """
    if "rigorml:" not in text:
        return []
    python_comments = _python_comment_starts(text) if file.endswith(".py") else None
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if "rigorml:" not in line:
            continue
        for match in _COMMENT.finditer(line):
            col = match.start() + 1
            if python_comments is not None and not any(
                (number, c) in python_comments for c in range(1, col + 1)
            ):
                continue
            if in_string is not None and in_string(file, number, col):
                continue
            codes = tuple(c.strip() for c in match[2].split(",") if c.strip())
            found.append(
                Suppression(
                    file,
                    number,
                    match.start() + 1,
                    match.end() + 1,
                    codes,
                    match[1] == "ignore-file",
                    line[: match.start()].strip() == "",
                    set(),
                )
            )
    return found


def apply_suppressions(
    findings: list[Diagnostic],
    texts: dict[str, str],
    *,
    report_unused: bool,
    ran=lambda code: True,
    known=lambda code: True,
    in_string=None,
) -> list[Diagnostic]:
    """Drop suppressed findings; add a ``SUP001`` finding for every suppression code nothing used.

    ``ran(code)`` says whether a rule matching the code (or prefix) ran on this file; ``known(code)``
    whether any rule matches it at all.
    """
    suppressions = [s for file, text in texts.items() for s in parse_suppressions(file, text, in_string)]
    if not suppressions:
        return findings
    kept = []
    for finding in findings:
        covering = [s for s in suppressions if s.covers(finding)]
        for s in covering:
            s.used.update(code for code in s.codes if finding.code.startswith(code))
        if not covering:
            kept.append(finding)
    if report_unused:
        for s in suppressions:
            unknown = [code for code in s.codes if not known(code)]
            unused = [code for code in s.codes if code not in s.used and known(code) and ran(code)]
            if unknown or unused:
                kept.append(UnusedSuppression.for_comment(s, unused, unknown, texts.get(s.file, "")))
    return kept


class UnusedSuppression(Rule):
    """A suppression comment that suppresses nothing."""

    code = "SUP001"
    name = "unused-suppression"
    severity = Severity.WARNING
    message = "unused suppression"
    kind = "any"
    doc = RuleDoc(
        what="Reports `# rigorml: ignore[CODE]` comments whose codes suppress no finding.",
        why="A suppression outlives the problem it hid; left in place it would silently hide the next, real "
        "finding on that line.",
        example="seeds:\n  replicates: 10  # rigorml: ignore[STA001]",
        instead="seeds:\n  replicates: 10",
        reference="ruff's RUF100 (unused noqa); rigorml's suppression comments",
        fix="safe",
    )
    VALID = (
        BASE + "seeds:\n  replicates: 10\n",
        # STA001 does not run when only SUP001 is selected: the suppression cannot be judged stale.
        BASE + "seeds:\n  replicates: 3  # rigorml: ignore[STA001]\n",
    )
    INVALID = (
        Invalid(
            BASE + "seeds:\n  replicates: 10  # rigorml: ignore[XYZ999]\n",
            10,
            19,
            fixed=BASE + "seeds:\n  replicates: 10\n",
            message="XYZ999 is not a rule code",
        ),
        Invalid(
            BASE + "# rigorml: ignore[SUP9]\nseeds:\n  replicates: 10\n",
            9,
            1,
            fixed=BASE + "seeds:\n  replicates: 10\n",
        ),
    )

    def check(self, ctx):  # reported by apply_suppressions, which sees every other rule's findings
        return iter(())

    @classmethod
    def for_comment(cls, s: Suppression, unused: list[str], unknown: list[str], text: str) -> Diagnostic:
        span = Span(s.file, s.line, s.col, s.line, s.end_col)
        fix = None
        if len(unused) + len(unknown) == len(s.codes):
            line_text = text.splitlines()[s.line - 1] if text else ""
            if s.own_line:
                edit = TextEdit(s.file, s.line, 1, s.line + 1, 1, "")
            else:
                start = len(line_text[: s.col - 1].rstrip()) + 1
                edit = TextEdit(s.file, s.line, start, s.line, s.end_col, "")
            fix = Fix("remove the unused suppression", (edit,), True)
        parts = []
        if unused:
            parts.append(f"{', '.join(unused)} suppresses nothing here")
        if unknown:
            parts.append(f"{', '.join(unknown)} is not a rule code (see `rigorml rules`)")
        return Diagnostic(
            cls.code,
            "unused suppression: " + "; ".join(parts),
            span,
            cls.severity,
            fix=fix,
        )
