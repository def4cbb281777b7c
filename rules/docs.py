"""Rule documentation: what ``rigorml rule CODE`` prints, and docs/rules.md (generated, kept in sync by a test).

    python -m rigorml.rules.docs > docs/rules.md
"""

from __future__ import annotations

import sys
import textwrap

from .base import FAMILIES, Rule

_FIX_WORDS = {
    "none": "No automatic fix.",
    "safe": "Fix is safe (`--fix` applies it): it keeps what the author meant.",
    "unsafe": "Fix is unsafe (`--unsafe-fixes` applies it): it changes results or cost, so review it.",
}


def _block(text: str, language: str) -> list[str]:
    return [f"```{language}", text.rstrip("\n"), "```"]


def rule_markdown(rule: type[Rule], *, level: int = 2) -> str:
    """One rule's documentation in the fixed shape (Markdown)."""
    doc = rule.doc
    language = "python" if rule.kind == "python" else "yaml"
    heading = "#" * level
    lines = [
        f"{heading} {rule.code} {rule.name}",
        "",
        f"Family: {rule.family()} · default severity: {rule.severity.value} · fix: {doc.fix}",
        "",
        f"**What it checks.** {doc.what}",
        "",
        f"**Why it matters.** {doc.why}",
        "",
        "**Example.**",
        "",
        *_block(doc.example, language),
        "",
        "**Write instead.**",
        "",
        *_block(doc.instead, language),
        "",
        f"**Fix.** {_FIX_WORDS[doc.fix]}",
        "",
        f"**Reference.** {doc.reference}",
    ]
    for note in doc.notes:
        lines += ["", note]
    return "\n".join(lines) + "\n"


def rule_text(rule: type[Rule]) -> str:
    """``rigorml rule CODE``: the same documentation for a terminal."""
    doc = rule.doc
    wrap = lambda text: textwrap.fill(text, width=96)  # noqa: E731
    parts = [
        f"{rule.code} {rule.name}",
        f"family: {rule.family()}   default severity: {rule.severity.value}   fix: {doc.fix}",
        "",
        "What it checks",
        textwrap.indent(wrap(doc.what), "  "),
        "",
        "Why it matters",
        textwrap.indent(wrap(doc.why), "  "),
        "",
        "Example",
        textwrap.indent(doc.example.rstrip("\n"), "    "),
        "",
        "Write instead",
        textwrap.indent(doc.instead.rstrip("\n"), "    "),
        "",
        "Fix",
        textwrap.indent(wrap(_FIX_WORDS[doc.fix]), "  "),
        "",
        "Reference",
        textwrap.indent(wrap(doc.reference), "  "),
    ]
    for note in doc.notes:
        parts += ["", textwrap.indent(wrap(note), "  ")]
    return "\n".join(parts) + "\n"


def rules_markdown(rules: dict[str, type[Rule]]) -> str:
    """docs/rules.md: an index table, then every rule's documentation by family."""
    lines = [
        "# Lint rules",
        "",
        "Generated from the rules themselves (`python -m rigorml.rules.docs > docs/rules.md`); a test keeps it in sync.",
        "`rigorml rule CODE` prints the same text; `rigorml rules` lists them. Select and ignore rules by code or",
        "prefix in `[tool.rigorml]` (see the README); suppress one finding with `# rigorml: ignore[CODE]`.",
        "",
        "| code | name | family | severity | fix |",
        "|---|---|---|---|---|",
    ]
    for code, rule in rules.items():
        lines.append(f"| [{code}](#{code.lower()}-{rule.name}) | {rule.name} | {rule.family()} | {rule.severity.value} | {rule.doc.fix} |")
    for prefix, family in FAMILIES.items():
        members = [rule for code, rule in rules.items() if code.rstrip("0123456789") == prefix]
        if not members:
            continue
        lines += ["", f"## {prefix}: {family}", ""]
        for rule in members:
            lines.append(rule_markdown(rule, level=3))
    return "\n".join(lines).rstrip("\n") + "\n"


def main() -> int:
    from .registry import all_rules

    sys.stdout.write(rules_markdown(all_rules()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
