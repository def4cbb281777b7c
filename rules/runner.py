"""Running the selected rules over one context, with configured severities and suppressions applied."""

from __future__ import annotations

from ..compiler.diagnostics import Diagnostic
from .config import LintConfig
from .suppression import UnusedSuppression, apply_suppressions


def _run(rules: dict, ctx, config: LintConfig, file: str, skipped: tuple[str, ...] = ()) -> list[Diagnostic]:
    """Run the enabled ``rules``; ``skipped`` are code prefixes of families not loaded (nothing to
    say about this file), whose suppressions are neither unknown nor judged."""
    findings: list[Diagnostic] = []
    ran: list[str] = []
    for code, rule_class in rules.items():
        if not config.is_enabled(code, file):
            continue
        ran.append(code)
        findings.extend(rule_class().check(ctx))
    known = list(rules) + [UnusedSuppression.code]
    findings = apply_suppressions(
        findings,
        ctx.texts,
        report_unused=config.is_enabled(UnusedSuppression.code, file),
        ran=lambda prefix: any(code.startswith(prefix) for code in ran),
        known=lambda prefix: prefix.startswith(skipped or ("\0",)) or any(code.startswith(prefix) for code in known),
        in_string=getattr(ctx, "in_string", None),
    )
    out = []
    for finding in findings:
        severity = config.severity_of(finding.code, finding.severity)
        out.append(finding if severity is finding.severity else finding._replace(severity=severity))
    return sorted(out, key=Diagnostic.sort_key)


def lint_spec_context(ctx, config: LintConfig) -> list[Diagnostic]:
    """Findings of every enabled spec rule on a validated spec."""
    from .registry import spec_rules_for

    rules, skipped = spec_rules_for(ctx.data)
    return _run(rules, ctx, config, ctx.file, skipped)


def lint_python_context(ctx, config: LintConfig) -> list[Diagnostic]:
    """Findings of every enabled Python-source rule on one module."""
    from .registry import python_rules

    return _run(python_rules(), ctx, config, ctx.file)
