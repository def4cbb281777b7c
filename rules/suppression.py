"""Inline suppressions, ruff-style, and the rule that reports the ones that suppress nothing.

* ``# rigorml: ignore[REP001]`` on the line of a finding, or alone on the line above it;
* ``# rigorml: ignore[REP001, STA002]`` for several codes; a code prefix (``STA``) covers a family;
* ``# rigorml: ignore-file[REP001]`` anywhere in a file, for the whole file.

A suppression that matches no finding is itself reported (``SUP001``), so stale ones do not pile up.
The same comments work in YAML specs and in Python files (both use ``#``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..compiler.diagnostics import Diagnostic, Severity, Span, TextEdit, Fix
from .base import BASE, Invalid, Rule, RuleDoc

_COMMENT = re.compile(r"#\s*rigorml:\s*(ignore-file|ignore)\s*\[([^\]]*)\]")


@dataclass
class Suppression:
    file: str
    line: int  # 1-based line of the comment
    col: int
    end_col: int
    codes: tuple[str, ...]
    whole_file: bool
    own_line: bool  # the comment is alone on its line: it covers the next line
    used: set = field(default_factory=set)

    def covers(self, finding: Diagnostic) -> bool:
        if finding.span.file != self.file:
            return False
        if not self.whole_file:
            lines = {self.line + 1} if self.own_line else {self.line}
            if finding.span.line not in lines:
                return False
        return any(finding.code.startswith(code) for code in self.codes)


def parse_suppressions(file: str, text: str) -> list[Suppression]:
    """Every ``# rigorml: ignore[...]`` / ``ignore-file[...]`` comment in ``text``."""
    if "rigorml:" not in text:
        return []
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if "rigorml:" not in line:
            continue
        for match in _COMMENT.finditer(line):
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
                )
            )
    return found


def apply_suppressions(findings: list[Diagnostic], texts: dict[str, str], *, report_unused: bool) -> list[Diagnostic]:
    """Drop suppressed findings; add a ``SUP001`` finding for every suppression code nothing used."""
    suppressions = [s for file, text in texts.items() for s in parse_suppressions(file, text)]
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
            unused = [code for code in s.codes if code not in s.used]
            if unused:
                kept.append(UnusedSuppression.for_comment(s, unused, texts.get(s.file, "")))
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
    VALID = (BASE + "seeds:\n  replicates: 10\n",)
    INVALID = (
        Invalid(
            BASE + "seeds:\n  replicates: 10  # rigorml: ignore[STA001]\n",
            10,
            19,
            fixed=BASE + "seeds:\n  replicates: 10\n",
            message="STA001",
        ),
        Invalid(
            BASE + "# rigorml: ignore[HPO]\nseeds:\n  replicates: 10\n",
            9,
            1,
            fixed=BASE + "seeds:\n  replicates: 10\n",
        ),
    )

    def check(self, ctx):  # reported by apply_suppressions, which sees every other rule's findings
        return iter(())

    @classmethod
    def for_comment(cls, s: Suppression, unused: list[str], text: str) -> Diagnostic:
        span = Span(s.file, s.line, s.col, s.line, s.end_col)
        fix = None
        if len(unused) == len(s.codes):
            line_text = text.splitlines()[s.line - 1] if text else ""
            if s.own_line:
                edit = TextEdit(s.file, s.line, 1, s.line + 1, 1, "")
            else:
                start = len(line_text[: s.col - 1].rstrip()) + 1
                edit = TextEdit(s.file, s.line, start, s.line, s.end_col, "")
            fix = Fix("remove the unused suppression", (edit,), True)
        return Diagnostic(
            cls.code,
            f"unused suppression: {', '.join(unused)} suppresses nothing here",
            span,
            cls.severity,
            fix=fix,
        )
