"""The rule engine's own behaviour: which rule families load, and how their suppressions are judged."""

from __future__ import annotations

import subprocess
import sys

from rigorml.compiler.lint import lint_path
from rigorml.rules.base import BASE
from rigorml.rules.config import LintConfig
from rigorml.rules.registry import spec_rules_for


def test_families_about_absent_sections_are_not_loaded():
    rules, skipped = spec_rules_for({"version": 1, "experiment": {}})
    assert set(skipped) == {"LLM", "PIP"}
    assert not any(code.startswith(("LLM", "PIP")) for code in rules)
    rules, skipped = spec_rules_for({"llm_judge": {}, "deployment": {}})
    assert skipped == () and any(code.startswith("LLM") for code in rules)


def test_a_suppression_for_a_family_that_did_not_load_is_neither_unknown_nor_unused(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(BASE + "seeds:\n  replicates: 10  # rigorml: ignore[LLM003]\n", encoding="utf-8")
    assert [d for d in lint_path(str(path), LintConfig()).diagnostics if d.code == "SUP001"] == []


def test_linting_a_plain_spec_does_not_import_the_llm_and_pipeline_rules(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(BASE, encoding="utf-8")
    code = (
        "import sys\nfrom rigorml.compiler.cli import main\n"
        f"main(['lint', '-q', {str(path)!r}])\n"
        "print(sorted({m.split('.')[2] for m in sys.modules if m.startswith('rigorml.rules.') and m.count('.') >= 3}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    families = done.stdout.strip()
    assert "llm" not in families and "pipeline" not in families and "statistics" in families, done.stderr
