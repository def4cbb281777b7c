"""The shipped specs are valid: every example validates, and every `rigorml init` starter is written
verbatim, validates, and is never silently overwritten.

Everything runs through the real command line (``python -m rigorml.compiler``, the ``run_cli``
fixture), the way a user meets these files.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rigorml.compiler.cli import TASK_CHOICES

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))
STARTERS = REPO / "templates" / "starters"
MODELINE = "# yaml-language-server: $schema=../schemas/experiment.schema.json"


def starter_text(task: str) -> str:
    """The packaged starter spec for ``task``, as ``rigorml init`` should write it."""
    return (STARTERS / f"{task}.yaml").read_text(encoding="utf-8")


def test_there_is_an_example_per_task_beyond_the_quickstart():
    assert len(EXAMPLES) >= 5, [p.name for p in EXAMPLES]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_validates(example: Path, run_cli):
    code, out, err = run_cli("validate", example.relative_to(REPO), cwd=REPO)
    assert code == 0, out + err
    assert out.strip().endswith(": valid")


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_points_editors_at_the_schema(example: Path):
    first_line = example.read_text(encoding="utf-8").splitlines()[0]
    assert first_line == MODELINE


def test_every_task_has_a_starter():
    assert sorted(p.stem for p in STARTERS.glob("*.yaml")) == sorted(TASK_CHOICES)


@pytest.mark.parametrize("task", TASK_CHOICES)
def test_starter_has_no_modeline_but_says_how_to_get_the_schema(task: str):
    # The written file lives in the user's project, where `../schemas/...` points nowhere.
    text = starter_text(task)
    assert not text.startswith("# yaml-language-server:")
    assert "rigorml schema" in text


@pytest.mark.parametrize("task", TASK_CHOICES)
def test_init_writes_the_starter_verbatim_and_it_validates(task: str, tmp_path: Path, run_cli):
    target = tmp_path / "spec.yaml"

    code, _, err = run_cli("init", "--task", task, target)
    assert code == 0, err
    assert target.read_text(encoding="utf-8") == starter_text(task)

    code, out, err = run_cli("validate", target, cwd=tmp_path)
    assert code == 0, out + err


@pytest.mark.parametrize("task", TASK_CHOICES)
def test_second_init_without_force_refuses_and_leaves_the_file_unchanged(task: str, tmp_path: Path, run_cli):
    target = tmp_path / "spec.yaml"
    assert run_cli("init", "--task", task, target)[0] == 0
    edited = target.read_text(encoding="utf-8") + "# the user's own edits\n"
    target.write_text(edited, encoding="utf-8")

    code, _, err = run_cli("init", "--task", task, target)

    assert code == 2
    assert "--force" in err
    assert target.read_text(encoding="utf-8") == edited


def test_init_with_force_overwrites(tmp_path: Path, run_cli):
    target = tmp_path / "spec.yaml"
    target.write_text("stale\n", encoding="utf-8")

    code, _, err = run_cli("init", "--task", "regression", "--force", target)

    assert code == 0, err
    assert target.read_text(encoding="utf-8") == starter_text("regression")


def test_init_into_a_directory_writes_experiment_yaml_there(tmp_path: Path, run_cli):
    code, _, err = run_cli("init", tmp_path)

    assert code == 0, err
    assert (tmp_path / "experiment.yaml").read_text(encoding="utf-8") == starter_text("classification")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_lints_clean(path, capsys):
    from rigorml.compiler.cli import main

    assert main(["lint", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "All checks passed" in err


@pytest.mark.parametrize("task", TASK_CHOICES)
def test_every_starter_lints_clean(task, tmp_path, capsys):
    from rigorml.compiler.cli import main

    target = tmp_path / f"{task}.yaml"
    assert main(["init", "--task", task, str(target)]) == 0
    capsys.readouterr()
    assert main(["lint", str(target)]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "All checks passed" in err
