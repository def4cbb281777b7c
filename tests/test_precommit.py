"""The pre-commit hooks (``.pre-commit-hooks.yaml``), run for real: ``pre-commit try-repo``.

Each test makes a real git repository with specs and code in it and runs the real
``pre-commit try-repo <this checkout> HOOK --files ...``: pre-commit builds a virtualenv, pip-installs
this checkout's core (no torch: that is the ``run`` extra) and runs the hook. A bad file fails the
hook with the finding's code in the output; a good one passes; YAML that is not a spec is not
linted.

What is tried is this checkout's working tree. ``try-repo`` snapshots uncommitted changes to
tracked files only, so while the tree has untracked files (a new rule, the hooks file before its
first commit) the tests try a committed copy of the tree instead (tracked and untracked files that
git does not ignore).

``try-repo`` builds the hook environment in a temporary store of its own (it ignores
``PRE_COMMIT_HOME``), so every run installs the package again, from pip's cache after the first:
a few seconds each. ``PRE_COMMIT_HOME`` still points into the session's temporary directory so
nothing is written to the user's home, and ``PIP_CONSTRAINT`` pins the core dependencies to the
versions the compiled validator snapshot was made with (``constraints.txt``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from rigorml.compiler.lint import lint_path
from rigorml.compiler.diagnostics import Severity
from rigorml.rules.config import LintConfig
from rigorml.rules.registry import all_rules

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
PRE_COMMIT = Path(sys.executable).with_name("pre-commit")
GIT = shutil.which("git")

if GIT is None:
    pytest.skip("git is not installed: pre-commit needs a git repository", allow_module_level=True)
if not PRE_COMMIT.exists():
    pytest.skip(f"pre-commit is not installed next to {sys.executable} (install the dev extra)", allow_module_level=True)
if not (REPO / ".git").exists():
    pytest.skip(f"{REPO} is not a git checkout: pre-commit try-repo needs one", allow_module_level=True)

VALID_SPEC = """\
version: 1
experiment:
  name: demo
  task: classification
data:
  source: builtin:digits
model:
  source: builtin:mlp
"""
INVALID_SPEC = VALID_SPEC + "training:\n  precision: fp33\n"  # SPC004 at 10:14

#: A typical reproducibility slip in training code: worker processes that are never seeded.
TRAIN_PY = textwrap.dedent(
    """\
    import torch
    from torch.utils.data import DataLoader

    loader = DataLoader(dataset, batch_size=64, shuffle=True, num_workers=4)
    """
)


def _git(*args: str, cwd: Path) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "rigorml tests",
        "GIT_AUTHOR_EMAIL": "tests@rigorml.invalid",
        "GIT_COMMITTER_NAME": "rigorml tests",
        "GIT_COMMITTER_EMAIL": "tests@rigorml.invalid",
    }
    done = subprocess.run([GIT, *args], cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return done.stdout


@pytest.fixture(scope="session")
def hooks_repo(tmp_path_factory) -> Path:
    """The repository pre-commit installs the hooks from: this checkout, or a committed copy of its
    working tree when it has untracked files (which ``try-repo``'s own snapshot would leave out)."""
    if not (REPO / ".pre-commit-hooks.yaml").exists():
        pytest.fail(".pre-commit-hooks.yaml is missing from the repository root")
    if _git("status", "--porcelain", "--untracked-files=normal", cwd=REPO).strip() == "":
        return REPO
    snapshot = tmp_path_factory.mktemp("hooks-repo")
    listed = _git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=REPO).split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():  # a tracked file deleted in the working tree is left out, as git would
            target = snapshot / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    _git("init", "-q", cwd=snapshot)
    _git("add", "-A", cwd=snapshot)
    _git("commit", "-q", "-m", "working tree of the rigorml checkout under test", cwd=snapshot)
    return snapshot


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def user_repo(tmp_path) -> Path:
    """An empty git repository: the project a researcher installs the hooks in."""
    repo = tmp_path / "project"
    repo.mkdir()
    _git("init", "-q", cwd=repo)
    return repo


def _commit(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    _git("add", "-A", cwd=repo)
    _git("commit", "-q", "-m", "experiment", cwd=repo)


def try_repo(hooks_repo: Path, home: Path, cwd: Path, hook: str, *files: str) -> tuple[int, str, float]:
    """``pre-commit try-repo HOOKS_REPO HOOK --files FILES`` in ``cwd``: (exit code, output, seconds)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRE_COMMIT", "RIGORML_", "SKIP"))}
    env.update(PRE_COMMIT_HOME=str(home), PIP_CONSTRAINT=str(REPO / "constraints.txt"), PRE_COMMIT_COLOR="never")
    start = time.perf_counter()
    done = subprocess.run(
        [str(PRE_COMMIT), "try-repo", str(hooks_repo), hook, "--color=never", "--verbose", "--files", *files],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    elapsed = time.perf_counter() - start
    print(f"pre-commit try-repo {hook} {' '.join(files)}: exit {done.returncode} in {elapsed:.1f} s")
    return done.returncode, done.stdout + done.stderr, elapsed


def _failing_spec_rule():
    """A spec rule whose first INVALID example fails the default ``--fail-on warning``.

    SUP001 (unused suppression) always exists; any other spec rule is preferred, so the hook is
    shown failing on a practice finding as soon as one exists."""
    candidates = [
        rule
        for rule in all_rules().values()
        if rule.kind in ("spec", "any") and rule.INVALID and rule.severity.rank >= Severity.WARNING.rank
    ]
    assert candidates, "no spec rule with an INVALID example"
    return next((r for r in candidates if r.code != "SUP001"), candidates[0])


def _pyproject_selecting(code: str) -> str:
    # The examples of one rule are only promised to be clean or dirty for that rule: select it alone.
    return f'[tool.rigorml]\nselect = ["{code}"]\n'


def test_lint_hook_fails_a_spec_with_a_finding_and_prints_its_code(hooks_repo, pre_commit_home, user_repo):
    rule = _failing_spec_rule()
    example = rule.INVALID[0]
    _commit(user_repo, {"pyproject.toml": _pyproject_selecting(rule.code), "experiments/bad.yaml": example.source})
    rc, output, _ = try_repo(hooks_repo, pre_commit_home, user_repo, "rigorml-lint", "experiments/bad.yaml")
    assert rc != 0, output
    assert re.search(r"rigorml lint \(experiment specs\)\.+Failed", output), output
    assert f"experiments/bad.yaml:{example.line}:{example.col}: {rule.code} " in output, output


def test_lint_hook_passes_a_clean_spec(hooks_repo, pre_commit_home, user_repo):
    rule = _failing_spec_rule()
    _commit(user_repo, {"pyproject.toml": _pyproject_selecting(rule.code), "experiments/good.yaml": rule.VALID[0]})
    rc, output, _ = try_repo(hooks_repo, pre_commit_home, user_repo, "rigorml-lint", "experiments/good.yaml")
    assert rc == 0, output
    assert re.search(r"rigorml lint \(experiment specs\)\.+Passed", output), output


def test_lint_hook_leaves_yaml_that_is_not_a_spec_alone(hooks_repo, pre_commit_home, user_repo):
    # Linted as specs, each of these would fail validation (SPC001 unknown keys).
    files = {
        ".github/workflows/ci.yml": "on: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n",
        "docker-compose.yml": "services:\n  db:\n    image: postgres:16\n",
        "mkdocs.yml": "site_name: lab notes\n",
    }
    _commit(user_repo, files)
    rc, output, _ = try_repo(hooks_repo, pre_commit_home, user_repo, "rigorml-lint", *files)
    assert rc == 0, output
    assert re.search(r"rigorml lint \(experiment specs\)\.+\(no files to check\)Skipped", output), output


def test_validate_hook_fails_an_invalid_spec_at_its_location(hooks_repo, pre_commit_home, user_repo):
    _commit(user_repo, {"experiment.yaml": INVALID_SPEC, "specs/ok.yaml": VALID_SPEC})
    rc, output, _ = try_repo(hooks_repo, pre_commit_home, user_repo, "rigorml-validate", "experiment.yaml", "specs/ok.yaml")
    assert rc == 1, output
    assert re.search(r"rigorml validate \(experiment specs\)\.+Failed", output), output
    assert "experiment.yaml:10:14: SPC004" in output, output
    assert "specs/ok.yaml:" not in output, output


def _python_rule_flagging(source: str):
    """(rule, source, line, col): a warning-or-worse PY rule that flags ``source`` where it does,
    else the first such rule's first INVALID example; None when there is no Python rule yet."""
    python_rules = [
        rule
        for rule in all_rules().values()
        if rule.kind == "python" and rule.INVALID and rule.severity.rank >= Severity.WARNING.rank
    ]
    if not python_rules:
        return None
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "train.py")
        Path(path).write_text(source, encoding="utf-8")
        for rule in python_rules:
            found = [d for d in lint_path(path, LintConfig(select=[rule.code])).diagnostics if d.code == rule.code]
            if found:
                return rule, source, found[0].span.line, found[0].span.col
    example = python_rules[0].INVALID[0]
    return python_rules[0], example.source, example.line, example.col


def test_python_hook_flags_training_code(hooks_repo, pre_commit_home, user_repo):
    chosen = _python_rule_flagging(TRAIN_PY)
    if chosen is None:
        pytest.skip("no Python (PY) rule with a warning or error severity is registered yet (rigorml rules)")
    rule, source, line, col = chosen
    _commit(user_repo, {"pyproject.toml": _pyproject_selecting(rule.code), "src/train.py": source})
    rc, output, _ = try_repo(hooks_repo, pre_commit_home, user_repo, "rigorml-lint-python", "src/train.py")
    assert rc == 1, output
    assert re.search(r"rigorml lint \(Python training code\)\.+Failed", output), output
    assert f"src/train.py:{line}:{col}: {rule.code} " in output, output
