"""Every rule's VALID and INVALID examples, turned into test cases (Fixit-style).

A VALID example must produce no finding of its rule; an INVALID one must produce a finding of its
rule at the given line and column (and message fragment), and, where the rule fixes it, the fixed
text. A rule cannot exist without proof that it fires and that it stays quiet.
"""

from __future__ import annotations

import re

import pytest

from rigorml.compiler.lint import fix_path, lint_path
from rigorml.rules.base import FAMILIES, PythonRule
from rigorml.rules.config import LintConfig
from rigorml.rules.registry import all_rules

RULES = all_rules()


def _cases(kind: str):
    for code, rule in RULES.items():
        examples = rule.VALID if kind == "valid" else rule.INVALID
        for i, example in enumerate(examples):
            yield pytest.param(rule, example, id=f"{code}-{kind}-{i}")


def _file(tmp_path, rule, source: str) -> str:
    path = tmp_path / ("train.py" if issubclass(rule, PythonRule) else "spec.yaml")
    path.write_text(source, encoding="utf-8")
    return str(path)


def _only(rule) -> LintConfig:
    return LintConfig(select=[rule.code])


@pytest.mark.parametrize(("rule", "source"), list(_cases("valid")))
def test_valid_example_is_not_flagged(tmp_path, rule, source):
    report = lint_path(_file(tmp_path, rule, source), _only(rule))
    assert [d.format_text() for d in report.diagnostics] == []


@pytest.mark.parametrize(("rule", "example"), list(_cases("invalid")))
def test_invalid_example_is_flagged_at_its_location(tmp_path, rule, example):
    path = _file(tmp_path, rule, example.source)
    report = lint_path(path, _only(rule))
    found = [d for d in report.diagnostics if d.code == rule.code]
    others = [d.format_text() for d in report.diagnostics if d.code != rule.code]
    assert not others, f"the example does not validate or trips other checks: {others}"
    assert [(d.span.line, d.span.col) for d in found] and any(
        (d.span.line, d.span.col) == (example.line, example.col) for d in found
    ), [d.format_text() for d in found]
    here = next(d for d in found if (d.span.line, d.span.col) == (example.line, example.col))
    if example.message:
        assert example.message in here.message
    if example.end_line is not None:
        assert (here.span.end_line, here.span.end_col) == (example.end_line, example.end_col)
    if example.fixed is not None:
        assert here.fix is not None, "the example expects a fix"
        _, changes = fix_path(path, _only(rule), unsafe=True)
        assert changes.get(path, (None, example.source))[1] == example.fixed
    else:
        assert here.fix is None or rule.doc.fix != "none"


@pytest.mark.parametrize("code", list(RULES))
def test_rule_is_documented_in_the_fixed_shape(code):
    rule = RULES[code]
    assert re.fullmatch(r"[A-Z]{2,3}\d{3}", code)
    assert code.rstrip("0123456789") in FAMILIES
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name), rule.name
    doc = rule.doc
    for part in ("what", "why", "example", "instead", "reference"):
        assert getattr(doc, part).strip(), f"{code}: documentation is missing `{part}`"
    assert doc.fix in ("none", "safe", "unsafe")
    assert rule.VALID and rule.INVALID, f"{code} needs VALID and INVALID examples"
    if doc.fix != "none":
        assert any(e.fixed is not None for e in rule.INVALID), f"{code} documents a fix but no example shows it"


def test_rule_names_are_unique():
    names = [rule.name for rule in RULES.values()]
    assert len(names) == len(set(names))
