"""Promises the repository makes about itself: docs in sync, CI runs the README's command."""

from __future__ import annotations

import re
from pathlib import Path

from rigorml.compiler.diagnostics import CODES, codes_markdown

ROOT = Path(__file__).resolve().parent.parent


def test_every_emitted_diagnostic_code_is_documented():
    emitted = set()
    for folder in ("compiler", "schemas", "rules", "runtime"):
        for path in (ROOT / folder).rglob("*.py"):
            emitted |= set(re.findall(r'"((?:YML|SPC|CMP)\d{3})"', path.read_text(encoding="utf-8")))
    assert emitted - set(CODES) == set(), "add these codes to rigorml.compiler.diagnostics.CODES"


def test_diagnostics_reference_is_generated_from_the_code_table():
    assert (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8") == codes_markdown(), (
        "docs/diagnostics.md is stale; regenerate it (command at the top of the file)"
    )


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci_command = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    quickstart = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.*?)\n```", quickstart, re.S)
    assert len(commands) == 2, "the Quickstart has exactly two commands"
    assert commands[1] == ci_command


def test_readme_quickstart_runs_the_bundled_example():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = re.findall(r"```bash\n(.*?)\n```", readme.split("## Quickstart", 1)[1], re.S)[0]
    assert "examples/quickstart.yaml" in first and "pip install" in first


def test_pyproject_lists_every_package():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    mapping = {folder: package for package, folder in config["package-dir"].items()}
    found = set()
    for folder, package in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((package, *relative)))
    assert found == set(config["packages"]), "update [tool.setuptools] packages in pyproject.toml"


def test_domain_coverage_cites_only_rules_that_exist():
    from rigorml.rules.registry import all_rules

    text = (ROOT / "docs" / "domain-coverage.md").read_text(encoding="utf-8")
    cited = set(re.findall(r"\b((?:REP|STA|MET|NAM|HPO|TRK|LLM|PIP|ENV|PY|SUP)\d{3})\b", text))
    assert cited and cited - set(all_rules()) == set()
