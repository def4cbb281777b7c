"""Formatting lint results: text (with the source line and a caret), JSON, SARIF 2.1.0, GitHub annotations.

Formatters take values (reports, rule metadata) and return text; the CLI prints it.
"""

from __future__ import annotations

import json
import os
from collections import Counter

from .diagnostics import CODES, Diagnostic, Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _line(texts: dict[str, str], file: str, number: int) -> str | None:
    text = texts.get(file)
    if text is None:
        return None
    lines = text.splitlines()
    return lines[number - 1] if 0 < number <= len(lines) else None


def format_text(reports, *, show_source: bool = True) -> str:
    """``path:line:col: CODE [severity] message``, then the source line with a caret and the fix."""
    out: list[str] = []
    for report in reports:
        for d in report.diagnostics:
            out.append(d.format_text(show_severity=True))
            source = _line(report.texts, d.span.file, d.span.line) if show_source else None
            if source is not None:
                gutter = f"{d.span.line:>5} | "
                width = d.span.end_col - d.span.col if d.span.end_line == d.span.line else len(source) - d.span.col + 1
                out.append(gutter + source)
                out.append(" " * (len(gutter) - 2) + "| " + " " * (d.span.col - 1) + "^" * max(1, min(width, 80)))
            if d.fix is not None:
                kind = "fix" if d.fix.safe else "unsafe fix"
                out.append(f"      = {kind}: {d.fix.description}")
    return "\n".join(out) + ("\n" if out else "")


def summary(reports) -> str:
    """One closing line: counts by severity and what ``--fix`` could do."""
    findings = [d for r in reports for d in r.diagnostics]
    if not findings:
        return f"All checks passed ({len(reports)} file(s))."
    by = Counter(d.severity.value for d in findings)
    safe = sum(1 for d in findings if d.fix and d.fix.safe)
    unsafe = sum(1 for d in findings if d.fix and not d.fix.safe)
    parts = [f"Found {len(findings)} finding(s) in {sum(1 for r in reports if r.diagnostics)} of {len(reports)} file(s)"]
    parts.append(", ".join(f"{by[s]} {s}" for s in ("error", "warning", "info") if by[s]))
    text = f"{parts[0]} ({parts[1]})."
    if safe:
        text += f" {safe} fixable with --fix."
    if unsafe:
        text += f" {unsafe} more with --unsafe-fixes."
    return text


def statistics(reports, rules: dict) -> str:
    """``--statistics``: one line per code, most frequent first."""
    counts = Counter(d.code for r in reports for d in r.diagnostics)
    fixable = {d.code for r in reports for d in r.diagnostics if d.fix}
    lines = []
    for code, count in counts.most_common():
        rule = rules.get(code)
        name = rule.name if rule else CODES.get(code, "")
        lines.append(f"{count:5d}  {code:7s} {'[*]' if code in fixable else '   '} {name}")
    return "\n".join(lines) + ("\n" if lines else "")


def format_json(reports, version: str) -> str:
    payload = {
        "version": version,
        "files": [
            {
                "file": r.path,
                "kind": r.kind,
                "diagnostics": [d.to_json() for d in r.diagnostics],
            }
            for r in reports
        ],
        "summary": dict(Counter(d.severity.value for r in reports for d in r.diagnostics)),
    }
    return json.dumps(payload, indent=2) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(reports) -> str:
    """GitHub Actions workflow commands: one ``::error``/``::warning``/``::notice`` per finding."""
    level = {"error": "error", "warning": "warning", "info": "notice"}
    lines = []
    for report in reports:
        for d in report.diagnostics:
            s = d.span
            props = (
                f"file={_escape_property(s.file)},line={s.line},col={s.col},"
                f"endLine={s.end_line},endColumn={s.end_col},title={_escape_property('rigorml ' + d.code)}"
            )
            lines.append(f"::{level[d.severity.value]} {props}::{_escape_data(d.code + ' ' + d.message)}")
    return "\n".join(lines) + ("\n" if lines else "")


def _relative_uri(path: str, root: str) -> str:
    relative = os.path.relpath(os.path.abspath(path), root)
    return relative.replace(os.sep, "/")


def format_sarif(reports, rules: dict, version: str, root: str | None = None) -> str:
    """SARIF 2.1.0 for GitHub code scanning: every rule with its full documentation, stable ruleIds,
    regions, and fixes as artifact changes."""
    from ..rules.docs import rule_markdown, rule_text

    root = os.path.abspath(root or os.getcwd())
    used = sorted({d.code for r in reports for d in r.diagnostics})
    descriptors = []
    index: dict[str, int] = {}
    for code in sorted(set(rules) | set(used)):
        rule = rules.get(code)
        if rule is not None:
            descriptor = {
                "id": code,
                "name": "".join(part.capitalize() for part in rule.name.split("-")),
                "shortDescription": {"text": rule.message},
                "fullDescription": {"text": rule.doc.what},
                "help": {"text": rule_text(rule), "markdown": rule_markdown(rule)},
                "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity.value]},
                "properties": {"tags": [rule.family()], "fix": rule.doc.fix},
            }
        else:
            text = CODES.get(code, code)
            descriptor = {
                "id": code,
                "shortDescription": {"text": text},
                "fullDescription": {"text": text},
                "defaultConfiguration": {"level": "error"},
                "properties": {"tags": ["validation"]},
            }
        index[code] = len(descriptors)
        descriptors.append(descriptor)

    results = []
    for report in reports:
        for d in report.diagnostics:
            s = d.span
            end = (s.end_line, s.end_col) if (s.end_line, s.end_col) > (s.line, s.col) else (s.line, s.col + 1)
            region = {"startLine": s.line, "startColumn": s.col, "endLine": end[0], "endColumn": end[1]}
            result = {
                "ruleId": d.code,
                "ruleIndex": index[d.code],
                "level": _SARIF_LEVEL[d.severity.value],
                "message": {"text": d.message + (f" ({d.hint})" if d.hint else "")},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": _relative_uri(s.file, root), "uriBaseId": "%SRCROOT%"},
                            "region": region,
                        }
                    }
                ],
                "partialFingerprints": {"rigorml/v1": f"{d.code}:{_relative_uri(s.file, root)}:{s.line}:{s.col}"},
            }
            if d.fix is not None:
                result["fixes"] = [
                    {
                        "description": {"text": d.fix.description},
                        "artifactChanges": [
                            {
                                "artifactLocation": {"uri": _relative_uri(e.file, root), "uriBaseId": "%SRCROOT%"},
                                "replacements": [
                                    {
                                        "deletedRegion": {"startLine": e.line, "startColumn": e.col, "endLine": e.end_line, "endColumn": e.end_col},
                                        "insertedContent": {"text": e.text},
                                    }
                                ],
                            }
                            for e in d.fix.edits
                        ],
                    }
                ]
            results.append(result)

    sarif = {
        "version": "2.1.0",
        "$schema": SARIF_SCHEMA,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "rigorml",
                        "version": version,
                        "semanticVersion": version,
                        "informationUri": "https://github.com/rigorml/rigorml",
                        "rules": descriptors,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": "file://" + root.replace(os.sep, "/") + "/"}},
                "results": results,
            }
        ],
    }
    return json.dumps(sarif, indent=2) + "\n"


def fails(reports, fail_on: str | None = None) -> bool:
    """Whether any finding is at or above its file's ``fail_on`` (or the one given)."""
    for report in reports:
        threshold = Severity(fail_on or getattr(report, "fail_on", "warning")).rank
        if any(d.severity.rank >= threshold for d in report.diagnostics):
            return True
    return False
