"""``rigorml lint``, ``rigorml rules`` and ``rigorml rule`` at the command line, over every rule.

Every rule's first INVALID example goes through the CLI in every output format (text, JSON, SARIF
validated against the OASIS SARIF 2.1.0 schema, GitHub annotations), with its exit codes, fixes,
configuration in ``[tool.rigorml]`` and inline suppressions. The tests are written over
``all_rules()``: a new rule is covered as soon as its file exists.

Most tests call ``main`` in-process (milliseconds); the import-cost test runs a subprocess because
the modules a fresh process imports are the point.
"""

from __future__ import annotations

import difflib
import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from rigorml.compiler.cli import main
from rigorml.compiler.diagnostics import Severity
from rigorml.compiler.lint import lint_path
from rigorml.rules.base import FAMILIES, BASE, PythonRule
from rigorml.rules.config import LintConfig
from rigorml.rules.docs import rule_markdown, rule_text, rules_markdown
from rigorml.rules.registry import all_rules

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "examples" / "quickstart.yaml"
SARIF_SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "vendor" / "sarif-schema-2.1.0.json"

RULES = all_rules()
FORMATS = ("text", "json", "sarif", "github")
DOC_SECTIONS = ("What it checks", "Why it matters", "Example", "Write instead", "Fix", "Reference")


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    """Run in tmp_path (paths print relative, as in a repository) without RIGORML_DEBUG."""
    monkeypatch.delenv("RIGORML_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)


def run(capsys, *args) -> tuple[int, str, str]:
    """``main(args)`` in-process: (exit code, stdout, stderr); argparse's SystemExit becomes a code."""
    try:
        rc = main([str(a) for a in args])
    except SystemExit as exc:
        rc = exc.code if isinstance(exc.code, int) else 2
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def lint_json(capsys, *args) -> tuple[int, list[dict]]:
    """``rigorml lint --format json ARGS``: (exit code, every diagnostic of every file)."""
    rc, out, err = run(capsys, "lint", "--format", "json", *args)
    assert "Traceback" not in out + err
    payload = json.loads(out)
    return rc, [d for f in payload["files"] for d in f["diagnostics"]]


def file_name(rule) -> str:
    return "train.py" if issubclass(rule, PythonRule) else "spec.yaml"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def first_invalid_cases():
    for code, rule in RULES.items():
        if rule.INVALID:
            yield pytest.param(rule, rule.INVALID[0], id=code)


def first_fixed_cases():
    for code, rule in RULES.items():
        example = next((e for e in rule.INVALID if e.fixed is not None), None)
        if example is not None:
            yield pytest.param(rule, example, id=code)


def at_example(diagnostics: list[dict], rule, example) -> dict:
    """The diagnostic of ``rule`` at the example's line and column (JSON form)."""
    here = [
        d
        for d in diagnostics
        if d["code"] == rule.code and (d["location"]["line"], d["location"]["col"]) == (example.line, example.col)
    ]
    assert here, f"no {rule.code} at {example.line}:{example.col}: {diagnostics}"
    return here[0]


def fails_by_default(rule) -> bool:
    return rule.severity.rank >= Severity.WARNING.rank


# --- every rule's INVALID example, in every output format ----------------------------------------


@pytest.mark.parametrize(("rule", "example"), list(first_invalid_cases()))
def test_text_format_prints_location_code_severity_source_line_and_caret(capsys, tmp_path, rule, example):
    name = file_name(rule)
    write(tmp_path, name, example.source)
    _, out, _ = run(capsys, "lint", "--select", rule.code, name)
    lines = out.splitlines()
    head = f"{name}:{example.line}:{example.col}: {rule.code} [{rule.severity.value}] "
    index = next((i for i, line in enumerate(lines) if line.startswith(head)), None)
    assert index is not None, f"no line starting {head!r} in:\n{out}"
    if example.message:
        assert example.message in lines[index]
    source_line = example.source.splitlines()[example.line - 1]
    assert lines[index + 1] == f"{example.line:>5} | {source_line}"
    assert re.fullmatch(r" {6}\| " + " " * (example.col - 1) + r"\^+", lines[index + 2]), lines[index + 2]


@pytest.mark.parametrize(("rule", "example"), list(first_invalid_cases()))
def test_json_format_gives_code_severity_and_location(capsys, tmp_path, rule, example):
    name = file_name(rule)
    write(tmp_path, name, example.source)
    _, diagnostics = lint_json(capsys, "--select", rule.code, name)
    found = at_example(diagnostics, rule, example)
    assert found["severity"] == rule.severity.value
    assert found["location"]["file"] == name
    if example.end_line is not None:
        assert (found["location"]["end_line"], found["location"]["end_col"]) == (example.end_line, example.end_col)
    if example.message:
        assert example.message in found["message"]


@cache
def sarif_validator():
    if not SARIF_SCHEMA.exists():
        pytest.skip(f"the vendored SARIF 2.1.0 schema is not at {SARIF_SCHEMA} (it lives in ../shared/vendor)")
    from jsonschema import Draft4Validator

    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema)


@pytest.mark.parametrize(("rule", "example"), list(first_invalid_cases()))
def test_sarif_format_is_valid_sarif_with_the_rule_documented_and_the_region_located(capsys, tmp_path, rule, example):
    validator = sarif_validator()
    name = file_name(rule)
    write(tmp_path, name, example.source)
    _, out, _ = run(capsys, "lint", "--select", rule.code, "--format", "sarif", name)
    sarif = json.loads(out)
    errors = sorted(validator.iter_errors(sarif), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])

    sarif_run = sarif["runs"][0]
    descriptors = sarif_run["tool"]["driver"]["rules"]
    assert {d["id"] for d in descriptors} >= set(RULES)
    results = [
        r
        for r in sarif_run["results"]
        if r["ruleId"] == rule.code
        and (
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
            r["locations"][0]["physicalLocation"]["region"]["startColumn"],
        )
        == (example.line, example.col)
    ]
    assert results, sarif_run["results"]
    result = results[0]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == name
    if example.end_line is not None:
        assert (location["region"]["endLine"], location["region"]["endColumn"]) == (example.end_line, example.end_col)
    descriptor = descriptors[result["ruleIndex"]]
    assert descriptor["id"] == rule.code
    assert descriptor["help"]["text"] == rule_text(rule)
    assert descriptor["help"]["markdown"] == rule_markdown(rule)
    assert descriptor["fullDescription"]["text"] == rule.doc.what


@pytest.mark.parametrize(("rule", "example"), list(first_invalid_cases()))
def test_github_format_is_one_workflow_command_per_finding(capsys, tmp_path, rule, example):
    name = file_name(rule)
    write(tmp_path, name, example.source)
    _, out, _ = run(capsys, "lint", "--select", rule.code, "--format", "github", name)
    level = {"error": "error", "warning": "warning", "info": "notice"}[rule.severity.value]
    prefix = f"::{level} file={name},line={example.line},col={example.col},"
    lines = [line for line in out.splitlines() if line.startswith(prefix)]
    assert lines, out
    assert re.fullmatch(rf"{re.escape(prefix)}endLine=\d+,endColumn=\d+,title=rigorml {rule.code}::{rule.code} .+", lines[0])
    assert all(line.startswith("::") for line in out.splitlines())


# --- exit codes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("rule", "example"), list(first_invalid_cases()))
def test_exit_code_is_1_for_findings_at_or_above_the_default_fail_on_warning(capsys, tmp_path, rule, example):
    name = file_name(rule)
    write(tmp_path, name, example.source)
    rc, _, _ = run(capsys, "lint", "-q", "--select", rule.code, name)
    assert rc == (1 if fails_by_default(rule) else 0)


@pytest.mark.parametrize(("rule", "example"), list(first_invalid_cases()))
def test_exit_zero_exits_0_whatever_is_found(capsys, tmp_path, rule, example):
    name = file_name(rule)
    write(tmp_path, name, example.source)
    assert run(capsys, "lint", "-q", "--exit-zero", "--select", rule.code, name)[0] == 0


@pytest.mark.parametrize(("rule", "example"), list(first_invalid_cases()))
def test_info_findings_pass_by_default_and_fail_with_fail_on_info(capsys, tmp_path, rule, example):
    name = file_name(rule)
    write(tmp_path, name, example.source)
    write(tmp_path, "pyproject.toml", f'[tool.rigorml]\nselect = ["{rule.code}"]\n[tool.rigorml.severity]\n{rule.code} = "info"\n')
    rc, out, _ = run(capsys, "lint", name)
    assert rc == 0, out
    assert f"{rule.code} [info]" in out
    assert run(capsys, "lint", "--fail-on", "info", name)[0] == 1


def test_fail_on_error_passes_warnings(capsys, tmp_path):
    rule, example = spec_rule_with_warning()
    write(tmp_path, "spec.yaml", example.source)
    assert run(capsys, "lint", "-q", "--select", rule.code, "--fail-on", "error", "spec.yaml")[0] == 0
    assert run(capsys, "lint", "-q", "--select", rule.code, "--fail-on", "warning", "spec.yaml")[0] == 1


def test_a_clean_spec_exits_0_and_says_all_checks_passed(capsys, tmp_path):
    write(tmp_path, "spec.yaml", BASE)
    rc, out, err = run(capsys, "lint", "--select", "SUP001", "spec.yaml")
    assert (rc, out) == (0, "")
    assert err.startswith("All checks passed")


# --- fixes -----------------------------------------------------------------------------------------


def fix_is_safe(path: Path, rule, example) -> bool:
    """Whether the fix of the example's finding is safe (what ``--fix`` alone applies)."""
    report = lint_path(str(path), LintConfig(select=[rule.code]))
    here = [d for d in report.diagnostics if d.code == rule.code and (d.span.line, d.span.col) == (example.line, example.col)]
    assert here and here[0].fix is not None, f"{rule.code}: the example expects a fix"
    return here[0].fix.safe


@pytest.mark.parametrize(("rule", "example"), list(first_fixed_cases()))
def test_fix_writes_safe_fixes_and_leaves_unsafe_ones(capsys, tmp_path, rule, example):
    name = file_name(rule)
    path = write(tmp_path, name, example.source)
    safe = fix_is_safe(path, rule, example)
    run(capsys, "lint", "-q", "--select", rule.code, "--fix", name)
    assert path.read_text(encoding="utf-8") == (example.fixed if safe else example.source)


@pytest.mark.parametrize(("rule", "example"), list(first_fixed_cases()))
def test_unsafe_fixes_writes_every_fix(capsys, tmp_path, rule, example):
    name = file_name(rule)
    path = write(tmp_path, name, example.source)
    run(capsys, "lint", "-q", "--select", rule.code, "--unsafe-fixes", name)
    assert path.read_text(encoding="utf-8") == example.fixed


@pytest.mark.parametrize(("rule", "example"), list(first_fixed_cases()))
def test_diff_prints_the_fix_as_a_unified_diff_and_writes_nothing(capsys, tmp_path, rule, example):
    name = file_name(rule)
    path = write(tmp_path, name, example.source)
    unsafe = () if fix_is_safe(path, rule, example) else ("--unsafe-fixes",)
    rc, out, _ = run(capsys, "lint", "--select", rule.code, "--diff", *unsafe, name)
    expected = difflib.unified_diff(example.source.splitlines(True), example.fixed.splitlines(True), name, name)
    assert out == "".join(expected)
    assert rc == 1
    assert path.read_text(encoding="utf-8") == example.source


def test_diff_of_a_file_with_nothing_to_fix_is_empty_and_exits_0(capsys, tmp_path):
    path = write(tmp_path, "spec.yaml", BASE)
    assert run(capsys, "lint", "--diff", "--select", "SUP001", "spec.yaml") == (0, "", "")
    assert path.read_text(encoding="utf-8") == BASE


HEADER = "# Reviewed by the lab: keep this note.\n"


def _with_comments(text: str) -> str:
    """``text`` with a header comment and a trailing comment on the experiment's name."""
    return HEADER + text.replace("  name: demo\n", "  name: demo    # a short name  \n", 1)


@pytest.mark.parametrize(("rule", "example"), list(first_fixed_cases()))
def test_comments_and_formatting_elsewhere_survive_a_fix(capsys, tmp_path, rule, example):
    name = file_name(rule)
    path = write(tmp_path, name, _with_comments(example.source))
    run(capsys, "lint", "-q", "--select", rule.code, "--unsafe-fixes", name)
    assert path.read_text(encoding="utf-8") == _with_comments(example.fixed)


def test_fixing_a_commented_spec_changes_only_the_fixed_text(capsys, tmp_path):
    original = QUICKSTART.read_text(encoding="utf-8")
    assert "  epochs: 12\n" in original
    stale = original.replace("  epochs: 12\n", "  epochs: 12  # rigorml: ignore[STA001]\n", 1)
    path = write(tmp_path, "quickstart.yaml", stale)
    run(capsys, "lint", "-q", "--select", "SUP001,STA001", "--fix", "quickstart.yaml")
    assert path.read_text(encoding="utf-8") == original


# --- configuration: [tool.rigorml] in pyproject.toml -------------------------------------------------


def spec_rule_with_warning():
    """A spec rule (not SUP001) with warning severity and an INVALID example: the configuration
    tests need a finding whose rule they can select, ignore and re-rate."""
    for code, rule in RULES.items():
        if rule.kind == "spec" and rule.severity is Severity.WARNING and rule.INVALID:
            return rule, rule.INVALID[0]
    pytest.skip("no spec rule with warning severity is registered")


UNUSED = "# rigorml: ignore[XYZ]\n"  # suppresses nothing: a SUP001 finding at the end of any file


@pytest.fixture
def two_findings(tmp_path):
    """``spec.yaml`` with a finding of a spec rule and one of SUP001; returns the rule's code."""
    rule, example = spec_rule_with_warning()
    write(tmp_path, "spec.yaml", example.source + UNUSED)
    return rule.code


def codes(diagnostics) -> set[str]:
    return {d["code"] for d in diagnostics}


def pyproject(tmp_path: Path, body: str, directory: str = ".") -> Path:
    return write(tmp_path, f"{directory}/pyproject.toml", "[project]\nname = 'lab'\n\n[tool.rigorml]\n" + body)


def test_both_findings_are_reported_without_configuration(capsys, two_findings):
    assert codes(lint_json(capsys, "spec.yaml")[1]) >= {two_findings, "SUP001"}


def test_pyproject_select_keeps_only_the_selected_rules(capsys, tmp_path, two_findings):
    pyproject(tmp_path, f'select = ["{two_findings}"]\n')
    assert codes(lint_json(capsys, "spec.yaml")[1]) == {two_findings}


def test_pyproject_ignore_drops_a_rule(capsys, tmp_path, two_findings):
    pyproject(tmp_path, f'select = ["{two_findings}", "SUP"]\nignore = ["{two_findings}"]\n')
    assert codes(lint_json(capsys, "spec.yaml")[1]) == {"SUP001"}


def test_pyproject_extend_select_adds_to_the_selection(capsys, tmp_path, two_findings):
    pyproject(tmp_path, f'select = ["{two_findings}"]\nextend-select = ["SUP"]\n')
    assert codes(lint_json(capsys, "spec.yaml")[1]) == {two_findings, "SUP001"}


def test_pyproject_per_file_ignores_apply_to_matching_files_only(capsys, tmp_path, two_findings):
    text = (tmp_path / "spec.yaml").read_text(encoding="utf-8")
    write(tmp_path, "experiments/scratch-1.yaml", text)
    write(tmp_path, "experiments/final.yaml", text)
    pyproject(tmp_path, f'select = ["{two_findings}"]\n[tool.rigorml.per-file-ignores]\n"experiments/scratch-*.yaml" = ["{two_findings}"]\n')
    assert codes(lint_json(capsys, "experiments/scratch-1.yaml")[1]) == set()
    assert codes(lint_json(capsys, "experiments/final.yaml")[1]) == {two_findings}


def test_pyproject_severity_rerates_a_rule_by_code_or_prefix(capsys, tmp_path, two_findings):
    pyproject(tmp_path, f'[tool.rigorml.severity]\n{two_findings} = "error"\nSUP = "info"\n')
    _, diagnostics = lint_json(capsys, "spec.yaml")
    severities = {d["code"]: d["severity"] for d in diagnostics if d["code"] in (two_findings, "SUP001")}
    assert severities == {two_findings: "error", "SUP001": "info"}


def test_pyproject_fail_on_sets_the_exit_threshold(capsys, tmp_path, two_findings):
    pyproject(tmp_path, f'select = ["{two_findings}", "SUP"]\nfail-on = "error"\n')
    assert run(capsys, "lint", "-q", "spec.yaml")[0] == 0


def test_pyproject_is_found_upward_from_the_file(capsys, tmp_path, two_findings):
    text = (tmp_path / "spec.yaml").read_text(encoding="utf-8")
    write(tmp_path, "lab/experiments/deep/spec.yaml", text)
    pyproject(tmp_path, 'select = ["SUP"]\n', directory="lab")
    assert codes(lint_json(capsys, "lab/experiments/deep/spec.yaml")[1]) == {"SUP001"}


def test_cli_select_wins_over_pyproject(capsys, tmp_path, two_findings):
    pyproject(tmp_path, f'select = ["{two_findings}"]\n')
    assert codes(lint_json(capsys, "--select", "SUP001", "spec.yaml")[1]) == {"SUP001"}


def test_cli_fail_on_wins_over_pyproject(capsys, tmp_path, two_findings):
    pyproject(tmp_path, f'select = ["{two_findings}", "SUP"]\nfail-on = "error"\n')
    assert run(capsys, "lint", "-q", "--fail-on", "warning", "spec.yaml")[0] == 1


def test_a_selected_code_wins_over_an_ignored_prefix(capsys, tmp_path, two_findings):
    family = two_findings.rstrip("0123456789")
    pyproject(tmp_path, f'select = ["{two_findings}"]\nignore = ["{family}"]\n')
    assert codes(lint_json(capsys, "spec.yaml")[1]) == {two_findings}


def test_an_ignored_code_wins_over_a_selected_prefix(capsys, tmp_path, two_findings):
    family = two_findings.rstrip("0123456789")
    pyproject(tmp_path, f'select = ["{family}", "SUP"]\nignore = ["{two_findings}"]\n')
    found = codes(lint_json(capsys, "spec.yaml")[1])
    assert two_findings not in found and "SUP001" in found


@pytest.mark.parametrize(("key", "suggestion"), [("extend_select", "extend-select"), ("selct", "select"), ("fail_on", "fail-on")])
def test_unknown_pyproject_key_exits_2_with_did_you_mean(capsys, tmp_path, two_findings, key, suggestion):
    pyproject(tmp_path, f'{key} = ["STA"]\n')
    rc, out, err = run(capsys, "lint", "spec.yaml")
    assert rc == 2
    assert f"unknown key {key!r} in [tool.rigorml]" in err
    assert f"did you mean {suggestion!r}?" in err
    assert "Traceback" not in out + err


def test_config_flag_uses_that_pyproject_instead_of_the_nearest(capsys, tmp_path, two_findings):
    pyproject(tmp_path, 'select = ["SUP"]\n')
    other = pyproject(tmp_path, f'select = ["{two_findings}"]\n', directory="elsewhere")
    assert codes(lint_json(capsys, "--config", other, "spec.yaml")[1]) == {two_findings}


def test_config_flag_naming_a_missing_file_exits_2(capsys, tmp_path, two_findings):
    rc, out, err = run(capsys, "lint", "--config", tmp_path / "absent.toml", "spec.yaml")
    assert rc == 2
    assert "absent.toml" in err and "Traceback" not in out + err


def test_each_file_is_judged_by_the_fail_on_of_its_own_configuration(capsys, tmp_path):
    rule, example = spec_rule_with_warning()
    for directory, fail_on in (("strict", "warning"), ("lenient", "error")):
        write(tmp_path, f"{directory}/spec.yaml", example.source)
        pyproject(tmp_path, f'select = ["{rule.code}"]\nfail-on = "{fail_on}"\n', directory=directory)
    assert run(capsys, "lint", "-q", "lenient/spec.yaml", "strict/spec.yaml")[0] == 1
    assert run(capsys, "lint", "-q", "strict/spec.yaml", "lenient/spec.yaml")[0] == 1


@pytest.mark.parametrize("selector", ["STA99", "NOPE", "TRK0001"])
def test_a_selector_that_matches_no_rule_is_an_error(capsys, tmp_path, two_findings, selector):
    # Codes and prefixes select (STA, STA00, STA001, as in ruff); one that matches nothing is a typo.
    rc, _, err = run(capsys, "lint", "--select", selector, "spec.yaml")
    assert rc == 2 and selector in err and "matches no rule" in err


def test_a_code_prefix_is_a_valid_selector(capsys, tmp_path, two_findings):
    rc, _, _ = run(capsys, "lint", "--select", two_findings[:-1], "spec.yaml")
    assert rc in (0, 1)


# --- inline suppressions ---------------------------------------------------------------------------


def _suppressible_cases():
    # SUP001 findings are made after suppressions are applied: a comment cannot hide one.
    for param in first_invalid_cases():
        if param.values[0].code != "SUP001":
            yield param


def _append_comment(text: str, line: int, comment: str) -> str:
    lines = text.splitlines(True)
    body = lines[line - 1].rstrip("\n")
    lines[line - 1] = f"{body}  {comment}\n"
    return "".join(lines)


def _insert_comment_above(text: str, line: int, comment: str) -> str:
    lines = text.splitlines(True)
    indent = re.match(r"[ \t]*", lines[line - 1])[0]
    lines.insert(line - 1, f"{indent}{comment}\n")
    return "".join(lines)


def _findings_at(diagnostics, code: str, line: int) -> list[dict]:
    return [d for d in diagnostics if d["code"] == code and d["location"]["line"] == line]


@pytest.mark.parametrize(("rule", "example"), list(_suppressible_cases()))
def test_ignore_comment_on_the_line_suppresses_the_finding(capsys, tmp_path, rule, example):
    name = file_name(rule)
    write(tmp_path, name, _append_comment(example.source, example.line, f"# rigorml: ignore[{rule.code}]"))
    _, diagnostics = lint_json(capsys, "--select", f"{rule.code},SUP001", name)
    assert _findings_at(diagnostics, rule.code, example.line) == []
    assert codes(diagnostics) <= {rule.code}, "the suppression counts as unused"


@pytest.mark.parametrize(("rule", "example"), list(_suppressible_cases()))
def test_ignore_comment_on_the_line_above_suppresses_the_finding(capsys, tmp_path, rule, example):
    name = file_name(rule)
    write(tmp_path, name, _insert_comment_above(example.source, example.line, f"# rigorml: ignore[{rule.code}]"))
    _, diagnostics = lint_json(capsys, "--select", f"{rule.code},SUP001", name)
    assert _findings_at(diagnostics, rule.code, example.line + 1) == []
    assert codes(diagnostics) <= {rule.code}, "the suppression counts as unused"


@pytest.mark.parametrize(("rule", "example"), list(_suppressible_cases()))
def test_ignore_comment_with_a_family_prefix_suppresses_the_finding(capsys, tmp_path, rule, example):
    name = file_name(rule)
    family = rule.code.rstrip("0123456789")
    write(tmp_path, name, _append_comment(example.source, example.line, f"# rigorml: ignore[{family}]"))
    _, diagnostics = lint_json(capsys, "--select", f"{rule.code},SUP001", name)
    assert _findings_at(diagnostics, rule.code, example.line) == []


@pytest.mark.parametrize(("rule", "example"), list(_suppressible_cases()))
def test_ignore_file_comment_suppresses_the_rule_in_the_whole_file(capsys, tmp_path, rule, example):
    name = file_name(rule)
    write(tmp_path, name, f"# rigorml: ignore-file[{rule.code}]\n" + example.source)
    rc, diagnostics = lint_json(capsys, "--select", f"{rule.code},SUP001", name)
    assert diagnostics == []
    assert rc == 0


def test_several_codes_in_one_comment_each_count(capsys, tmp_path):
    rule, example = spec_rule_with_warning()
    write(tmp_path, "spec.yaml", _append_comment(example.source, example.line, f"# rigorml: ignore[{rule.code}, XYZ001]"))
    _, diagnostics = lint_json(capsys, "--select", f"{rule.code},SUP001", "spec.yaml")
    assert _findings_at(diagnostics, rule.code, example.line) == []
    unused = [d for d in diagnostics if d["code"] == "SUP001"]
    assert len(unused) == 1 and "XYZ001" in unused[0]["message"] and rule.code not in unused[0]["message"]


def test_unused_suppression_is_reported_as_sup001_at_the_comment(capsys, tmp_path):
    write(tmp_path, "spec.yaml", BASE + "seeds:\n  replicates: 10  # rigorml: ignore[STA001]\n")
    rc, diagnostics = lint_json(capsys, "--select", "SUP001,STA001", "spec.yaml")
    assert rc == 1
    assert [(d["code"], d["location"]["line"], d["location"]["col"]) for d in diagnostics] == [("SUP001", 10, 19)]
    assert "STA001" in diagnostics[0]["message"]


def test_fix_removes_an_unused_suppression(capsys, tmp_path):
    path = write(tmp_path, "spec.yaml", BASE + "# rigorml: ignore[STA001]\nseeds:\n  replicates: 10  # rigorml: ignore[HPO]\n")
    rc, _, _ = run(capsys, "lint", "-q", "--select", "SUP001,STA001,HPO", "--fix", "spec.yaml")
    assert path.read_text(encoding="utf-8") == BASE + "seeds:\n  replicates: 10\n"
    assert rc == 0


STRING_LOOKS_LIKE_A_SUPPRESSION = {
    "quoted": ("spec.yaml", BASE.replace("  task: classification\n", '  task: classification\n  description: "keep # rigorml: ignore[HPO] this"\n')),
    "block-scalar": ("spec.yaml", BASE.replace("  task: classification\n", "  task: classification\n  description: |\n    # rigorml: ignore[HPO]\n    notes\n")),
    "python-string": ("train.py", 'NOTE = "keep # rigorml: ignore[PY] this"\n'),
}


@pytest.mark.parametrize("case", sorted(STRING_LOOKS_LIKE_A_SUPPRESSION))
def test_suppression_syntax_inside_a_string_is_text_not_a_comment(capsys, tmp_path, case):
    name, text = STRING_LOOKS_LIKE_A_SUPPRESSION[case]
    path = write(tmp_path, name, text)
    _, diagnostics = lint_json(capsys, "--select", "SUP001", "--fix", name)
    assert path.read_text(encoding="utf-8") == text
    assert diagnostics == []


def test_a_suppression_of_a_rule_that_did_not_run_is_not_reported_as_unused(capsys, tmp_path):
    # Whether an HPO finding would be there is unknown when no HPO rule ran: --fix must keep it.
    text = BASE + "seeds:\n  replicates: 10  # rigorml: ignore[HPO]\n"
    path = write(tmp_path, "spec.yaml", text)
    assert lint_json(capsys, "--select", "STA001,SUP001", "--fix", "spec.yaml")[1] == []
    assert path.read_text(encoding="utf-8") == text


def test_a_suppression_naming_no_rule_is_reported(capsys, tmp_path):
    write(tmp_path, "spec.yaml", BASE + "seeds:\n  replicates: 10  # rigorml: ignore[XYZ999]\n")
    _, diagnostics = lint_json(capsys, "--select", "SUP001", "spec.yaml")
    assert [(d["code"], d["location"]["line"]) for d in diagnostics] == [("SUP001", 10)]
    assert "XYZ999" in diagnostics[0]["message"]


# --- rules and rule ----------------------------------------------------------------------------------


def test_rules_lists_every_rule_once(capsys):
    rc, out, _ = run(capsys, "rules")
    assert rc == 0
    listed = [line.split()[0] for line in out.splitlines()]
    assert listed == list(RULES)
    for line, rule in zip(out.splitlines(), RULES.values()):
        assert rule.name in line and rule.severity.value in line


def test_rules_json_describes_every_rule(capsys):
    rc, out, _ = run(capsys, "rules", "--format", "json")
    assert rc == 0
    payload = json.loads(out)
    assert [entry["code"] for entry in payload] == list(RULES)
    for entry in payload:
        rule = RULES[entry["code"]]
        assert entry["name"] == rule.name
        assert entry["family"] == FAMILIES[rule.code.rstrip("0123456789")]
        assert entry["severity"] == rule.severity.value
        assert entry["fix"] == rule.doc.fix


@pytest.mark.parametrize("code", list(RULES))
def test_rule_code_prints_the_documentation_sections(capsys, code):
    rc, out, _ = run(capsys, "rule", code)
    assert rc == 0
    assert out == rule_text(RULES[code])
    assert out.startswith(f"{code} {RULES[code].name}\n")
    lines = out.splitlines()
    positions = [lines.index(section) for section in DOC_SECTIONS]
    assert positions == sorted(positions), "sections out of order"


@pytest.mark.parametrize("code", list(RULES))
def test_rule_name_and_lowercase_code_print_the_same(capsys, code):
    expected = rule_text(RULES[code])
    assert run(capsys, "rule", RULES[code].name) == (0, expected, "")
    assert run(capsys, "rule", code.lower()) == (0, expected, "")


@pytest.mark.parametrize("code", list(RULES))
def test_rule_markdown_prints_the_markdown_documentation(capsys, code):
    assert run(capsys, "rule", "--format", "markdown", code) == (0, rule_markdown(RULES[code]), "")


def _unknown_neighbour(code: str) -> str:
    """A code one digit away from ``code`` that is not a rule."""
    for digit in "0123456789":
        candidate = code[:-1] + digit
        if candidate not in RULES:
            return candidate
    raise AssertionError(f"every neighbour of {code} is a rule")


def test_unknown_rule_code_exits_2_with_did_you_mean(capsys):
    unknown = _unknown_neighbour(next(iter(RULES)))
    rc, out, err = run(capsys, "rule", unknown)
    assert (rc, out) == (2, "")
    match = re.search(r"did you mean '([A-Z]+\d+)'\?", err)
    assert match and match[1] in RULES, err


def test_unknown_rule_name_exits_2_with_did_you_mean(capsys):
    name = RULES["SUP001"].name
    rc, out, err = run(capsys, "rule", name.replace("-", "_", 1))
    assert (rc, out) == (2, "")
    assert f"did you mean {name!r}?" in err


def test_docs_rules_md_is_generated_from_the_rules():
    path = REPO / "docs" / "rules.md"
    regenerate = "regenerate it with `python -m rigorml.rules.docs > docs/rules.md`"
    assert path.exists(), f"docs/rules.md is missing: {regenerate}"
    actual, expected = path.read_text(encoding="utf-8"), rules_markdown(RULES)
    drift = list(difflib.unified_diff(actual.splitlines(), expected.splitlines(), "docs/rules.md", "generated", lineterm="", n=1))
    assert actual == expected, f"docs/rules.md is out of date: {regenerate}\n" + "\n".join(drift[:40])


# --- directories ---------------------------------------------------------------------------------


def _python_rules_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("rigorml.rules.python.context") is not None


def test_lint_directory_finds_specs_and_skips_other_yaml(capsys, tmp_path):
    write(tmp_path, "lab/base.yaml", BASE)
    write(tmp_path, "lab/experiments/child.yaml", "extends: ../base.yaml\nexperiment:\n  name: child\n")
    write(tmp_path, "lab/experiments/notes.yml", "# a comment first\nexperiment:\n  name: only-a-name\n")  # invalid spec, still a spec
    write(tmp_path, "lab/ci.yml", "on: [push]\njobs: {}\n")
    write(tmp_path, "lab/docker-compose.yaml", "services:\n  db: {image: postgres}\n")
    write(tmp_path, "lab/list.yaml", "- experiment: 1\n")
    write(tmp_path, "lab/.github/workflows/spec.yaml", BASE)  # hidden folder
    write(tmp_path, "lab/node_modules/pkg/spec.yaml", BASE)
    rc, out, err = run(capsys, "lint", "--format", "json", "--select", "SUP001", "lab")
    files = [f["file"] for f in json.loads(out)["files"]]
    assert files == ["lab/base.yaml", "lab/experiments/child.yaml", "lab/experiments/notes.yml"]
    assert rc == 1  # notes.yml does not validate


def test_lint_directory_finds_python_files(capsys, tmp_path):
    if not _python_rules_available():
        pytest.skip("rules/python/context.py (the Python rules' context) is not there yet")
    write(tmp_path, "lab/spec.yaml", BASE)
    write(tmp_path, "lab/src/train.py", "import torch\n")
    write(tmp_path, "lab/.venv/lib/site.py", "import os\n")
    write(tmp_path, "lab/src/__pycache__/train.py", "import os\n")
    rc, out, _ = run(capsys, "lint", "--format", "json", "--select", "SUP001", "lab")
    payload = json.loads(out)
    assert [(f["file"], f["kind"]) for f in payload["files"]] == [("lab/spec.yaml", "spec"), ("lab/src/train.py", "python")]
    assert rc == 0


def test_a_yaml_file_named_directly_is_linted_as_a_spec(capsys, tmp_path):
    write(tmp_path, "ci.yml", "on: [push]\n")
    rc, diagnostics = lint_json(capsys, "ci.yml")
    assert rc == 1
    assert {d["code"][:3] for d in diagnostics} == {"SPC"}


def test_directory_without_specs_exits_2(capsys, tmp_path):
    write(tmp_path, "empty/ci.yml", "on: [push]\n")
    rc, out, err = run(capsys, "lint", "empty")
    assert (rc, out) == (2, "")
    assert "no spec or Python files found" in err


# --- invalid specs and unusable input: located errors, never a traceback -------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_invalid_spec_reports_validation_errors_instead_of_findings(capsys, tmp_path, fmt):
    write(tmp_path, "spec.yaml", BASE + "training:\n  precision: fp33\n  epochs: x\n")
    rc, out, err = run(capsys, "lint", "--format", fmt, "spec.yaml")
    assert rc == 1
    assert "SPC004" in out and "SPC003" in out
    assert "Traceback" not in out + err


def test_invalid_spec_in_text_is_located(capsys, tmp_path):
    write(tmp_path, "spec.yaml", BASE + "training:\n  precision: fp33\n")
    rc, out, _ = run(capsys, "lint", "spec.yaml")
    assert rc == 1
    assert out.startswith("spec.yaml:10:14: SPC004 [error] ")


def test_yaml_syntax_error_is_a_located_yml_error(capsys, tmp_path):
    write(tmp_path, "spec.yaml", "version: 1\nexperiment: {name: [\n")
    rc, diagnostics = lint_json(capsys, "spec.yaml")
    assert rc == 1
    assert [d["code"] for d in diagnostics] == ["YML001"]


BAD_INPUTS = {
    "empty": b"",
    "not-a-mapping": b"- a\n- b\n",
    "syntax-error": b"version: 1\nexperiment: {name: [\n",
    "duplicate-key": b"version: 1\nversion: 1\n",
    "python-tag": b"version: !!python/object/apply:os.system ['true']\n",
    "deep-nesting": b"a: " + b"[" * 5000 + b"\n",
    "null-sections": b"version: 1\nexperiment:\ndata:\nmodel:\ntraining:\nsweep:\nvariants:\n",
    "binary": b"\x00\x01\x02\x03",
    "utf16": "version: 1\n".encode("utf-16"),
    "extends-self": b"extends: [spec.yaml]\n",
    "unterminated-suppression": BASE.encode() + b"# rigorml: ignore[STA001\n# rigorml: ignore[]\n# rigorml: ignore-file[,]\n",
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
@pytest.mark.parametrize("mode", [(), ("--fix", "--unsafe-fixes"), ("--diff",), ("--format", "sarif"), ("--format", "github")])
def test_bad_input_gives_diagnostics_not_a_traceback(capsys, tmp_path, name, mode):
    (tmp_path / "spec.yaml").write_bytes(BAD_INPUTS[name])
    rc, out, err = run(capsys, "lint", *mode, "spec.yaml")
    assert rc in (0, 1, 2)
    assert "Traceback" not in out + err
    assert "internal error" not in err


BAD_PYTHON = {
    "syntax-error": b"def f(:\n",
    "not-utf8": b"\xff\xfe\x00binary",
    "null-byte": b"import torch\n\x00\n",
    "empty": b"",
    "nested-lists": b"x = " + b"[" * 150 + b"]" * 150 + b"\n",
    "stray-suppressions": b"x = 1  # rigorml: ignore[\n# rigorml: ignore-file[PY, ]\n",
}


@pytest.mark.parametrize("name", sorted(BAD_PYTHON))
@pytest.mark.parametrize("mode", [(), ("--unsafe-fixes",), ("--format", "sarif")])
def test_bad_python_gives_diagnostics_not_a_traceback(capsys, tmp_path, name, mode):
    (tmp_path / "train.py").write_bytes(BAD_PYTHON[name])
    rc, out, err = run(capsys, "lint", *mode, "train.py")
    assert rc in (0, 1, 2)
    assert "Traceback" not in out + err
    assert "internal error" not in err


def test_deeply_nested_python_is_an_error_not_a_crash(run_cli, tmp_path):
    # A subprocess: libcst's native parser once overflowed the C stack here (SIGSEGV), which would
    # take the test run down with it.
    (tmp_path / "train.py").write_text("x = " + "(" * 3000 + ")" * 3000 + "\n", encoding="utf-8")
    rc, out, err = run_cli("lint", "train.py", cwd=tmp_path)
    assert rc in (1, 2), f"exit {rc}"
    assert "train.py:1:" in out and "Traceback" not in err


def test_missing_path_exits_2(capsys, tmp_path):
    rc, out, err = run(capsys, "lint", "absent.yaml")
    assert rc == 2
    assert "absent.yaml:1:1: YML013" in out
    assert "Traceback" not in out + err


def test_unreadable_python_file_exits_2(capsys, tmp_path):
    rc, out, err = run(capsys, "lint", "absent.py")
    assert rc == 2
    assert "absent.py" in out + err
    assert "Traceback" not in out + err and "internal error" not in err


# --- the import cost of the pre-commit path ----------------------------------------------------


HEAVY_MODULES = ("torch", "scipy", "optuna", "jinja2", "libcst", "mlflow", "numpy", "pydantic")
ALLOWED_PYDANTIC_CORE = {"pydantic_core._pydantic_core"}


def test_lint_of_a_spec_imports_no_heavy_module():
    program = (
        "import sys, json\n"
        "from rigorml.compiler.cli import main\n"
        "rc = main(['lint', 'examples/quickstart.yaml'])\n"
        "print(json.dumps({'rc': rc, 'modules': sorted(sys.modules)}))\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60, cwd=REPO)
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["rc"] in (0, 1), done.stderr
    heavy = [
        m
        for m in report["modules"]
        if m.split(".")[0] in HEAVY_MODULES or (m.split(".")[0] == "pydantic_core" and m not in ALLOWED_PYDANTIC_CORE)
    ]
    assert heavy == [], "imported on the `rigorml lint` path for YAML"
