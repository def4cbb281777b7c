"""``rigorml compile``: a spec becomes a project (train.py, config.resolved.json, config.sha256,
README.md, requirements.txt) that is safe, deterministic, readable and lint-clean.

Nothing here runs train.py (the runtime it calls is tested on its own): the generated code is
parsed, inspected and linted. Safety is proven on the syntax tree: hostile strings put into every
spec field the templates use change only string constants and comments, never the code's shape.
"""

from __future__ import annotations

import ast
import copy
import io
import json
import os
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from rigorml.compiler.cli import main
from rigorml.compiler.codegen import (
    PROJECT_FILES,
    SWEEP_FILE,
    WIDTH,
    CodegenError,
    GeneratedCodeError,
    TemplateSafetyError,
    _code,
    _comment,
    _doc,
    _environment,
    _md,
    check_python,
    generate_project,
    one_line,
    project_files,
    py_literal,
)
from rigorml.compiler.compose import compose
from rigorml.compiler.lint import lint_path
from rigorml.compiler.resolve import resolve_spec, spec_hash
from rigorml.compiler.source import SourceMap
from rigorml.compiler.validate import validate_data
from rigorml.rules.config import LintConfig
from rigorml.schemas.spec import Spec

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))
QUICKSTART = REPO / "examples" / "quickstart.yaml"
VERSION = "0.1.0"


@pytest.fixture(autouse=True)
def no_debug(monkeypatch):
    """RIGORML_DEBUG re-raises internal errors; these tests check what a user sees without it."""
    monkeypatch.delenv("RIGORML_DEBUG", raising=False)


def run(capsys, *args) -> tuple[int, str, str]:
    """``main(args)`` in-process: (exit code, stdout, stderr); argparse's SystemExit becomes a code."""
    try:
        rc = main([str(a) for a in args])
    except SystemExit as exc:
        rc = exc.code if isinstance(exc.code, int) else 2
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def resolved_from_file(path, *overrides) -> dict:
    composed = compose(str(path), list(overrides))
    assert not composed.diagnostics
    return resolve_spec(Spec.model_validate(composed.data))[1]


def resolved_from_data(data: dict) -> dict | None:
    """The resolved spec of a spec written as a dict, or None when validation rejects it."""
    if validate_data(data, SourceMap()).diagnostics:
        return None
    return resolve_spec(Spec.model_validate(data))[1]


def read_project(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir()) if path.is_file()}


# A spec that makes every template branch that prints spec text render: descriptions, tags, roles,
# overrides, secondary metrics, early stopping, bf16 with a GPU type, precision notes, CUDA, lockfile.
RICH_SPEC = {
    "version": 1,
    "experiment": {
        "name": "demo",
        "task": "classification",
        "description": "Does a treatment beat the baseline?",
        "tags": ["tag-one"],
        "project": "proj",
        "group": "grp",
    },
    "seeds": {"replicates": 5},
    "data": {"source": "builtin:digits"},
    "model": {"source": "builtin:mlp", "params": {"hidden_sizes": [32]}},
    "training": {
        "epochs": 3,
        "precision": "bf16",
        "grad_clip": {"max_norm": 1.0},
        "grad_accumulation_steps": 2,
        "early_stopping": {"metric": "val/loss", "mode": "min", "patience": 2},
    },
    "variants": {
        "control": {"role": "baseline", "description": "The baseline."},
        "treat": {"description": "The treatment.", "overrides": {"model.params.note": "value"}},
    },
    "metrics": {"secondary": ["accuracy"]},
    # evaluate.py's comments name each comparison: resolving adds treat-vs-control.
    "evaluation": {"baseline": "control"},
    "environment": {
        "python": "3.11",
        "torch": "2.3.1",
        "cuda": "12.1",
        "gpu": {"count": 1, "type": "A100"},
        "precision_notes": "bf16 varies by architecture.",
        "lockfile": "requirements.lock",
    },
    # Every sweep.py branch that prints spec text: a study name, a flag switching a conditional
    # parameter, string categorical values.
    "sweep": {
        "study_name": "study",
        "objective": {"metric": "val/f1_macro", "direction": "maximize"},
        "parameters": {
            "training.optimizer.lr": {"distribution": "log_uniform", "low": 0.0001, "high": 0.03},
            "data.loader.batch_size": {"values": [32, 64]},
            "flag.decay": {"values": [True, False]},
            "training.optimizer.weight_decay": {
                "distribution": "log_uniform",
                "low": 0.00001,
                "high": 0.01,
                "when": {"flag.decay": [True]},
            },
            "model.params.note": {"values": ["first", "second"]},
        },
        "pruner": {"type": "median"},
    },
}


# --- the command line ----------------------------------------------------------------------------


def test_compile_writes_the_project_files(capsys, tmp_path):
    rc, out, err = run(capsys, "compile", QUICKSTART, "-o", tmp_path / "project")
    assert rc == 0, err
    assert sorted(read_project(tmp_path / "project")) == sorted(project_files(resolved_from_file(QUICKSTART)))
    assert SWEEP_FILE in read_project(tmp_path / "project")  # the quickstart has a sweep
    assert all(name in out for name in project_files(resolved_from_file(QUICKSTART)))


def test_a_spec_without_a_sweep_gets_no_sweep_py(capsys, tmp_path, write_spec, minimal_spec):
    rc, out, err = run(capsys, "compile", write_spec(minimal_spec), "-o", tmp_path / "project", "--allow-errors")
    assert rc == 0, err
    assert sorted(read_project(tmp_path / "project")) == sorted(PROJECT_FILES)
    assert SWEEP_FILE not in out
    assert "next: python" in out and "train.py --all" in out


def test_config_is_the_resolved_spec_and_its_hash_is_the_resolve_hash(capsys, tmp_path):
    run(capsys, "compile", QUICKSTART, "-o", tmp_path)
    expected = resolved_from_file(QUICKSTART)
    written = json.loads((tmp_path / "config.resolved.json").read_text(encoding="utf-8"))
    assert written == expected
    assert (tmp_path / "config.sha256").read_text() == spec_hash(expected) + "\n"
    assert spec_hash(written) == spec_hash(expected)


def test_config_keeps_the_model_section_order(capsys, tmp_path):
    run(capsys, "compile", QUICKSTART, "-o", tmp_path)
    written = json.loads((tmp_path / "config.resolved.json").read_text(encoding="utf-8"))
    assert list(written) == list(resolved_from_file(QUICKSTART))
    assert list(written["training"])[:2] == ["epochs", "max_steps"]


def test_overrides_on_the_command_line_reach_the_config(capsys, tmp_path):
    rc, _, err = run(capsys, "compile", QUICKSTART, "training.epochs=3", "-o", tmp_path)
    assert rc == 0, err
    assert json.loads((tmp_path / "config.resolved.json").read_text())["training"]["epochs"] == 3


def test_refuses_a_non_empty_directory_without_force(capsys, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    rc, _, err = run(capsys, "compile", QUICKSTART, "-o", tmp_path)
    assert rc == 2 and "--force" in err
    assert read_project(tmp_path) == {"notes.txt": b"mine"}


def test_force_overwrites_generated_files_and_keeps_everything_else(capsys, tmp_path):
    (tmp_path / "train.py").write_text("stale")
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "kept.json").write_text("{}")
    rc, _, err = run(capsys, "compile", QUICKSTART, "-o", tmp_path, "--force")
    assert rc == 0, err
    assert (tmp_path / "train.py").read_text() != "stale"
    assert (tmp_path / "runs" / "kept.json").read_text() == "{}"


def test_an_output_path_that_is_a_file_exits_2(capsys, tmp_path):
    (tmp_path / "file").write_text("")
    rc, _, err = run(capsys, "compile", QUICKSTART, "-o", tmp_path / "file")
    assert rc == 2 and "not a directory" in err


def test_an_unwritable_output_directory_exits_2(capsys, tmp_path):
    (tmp_path / "file").write_text("")
    rc, _, err = run(capsys, "compile", QUICKSTART, "-o", tmp_path / "file" / "project")
    assert rc == 2 and "cannot write" in err


def test_output_directory_is_required(capsys):
    rc, _, err = run(capsys, "compile", QUICKSTART)
    assert rc == 2 and "--output" in err


def test_help_describes_the_command(capsys):
    rc, out, _ = run(capsys, "compile", "--help")
    assert rc == 0
    assert "--allow-errors" in out and "--force" in out and "-o DIR" in out


def test_invalid_spec_exits_1_located_and_writes_nothing(capsys, tmp_path, write_spec, minimal_spec):
    spec = write_spec(minimal_spec + "training: {precision: fp33}\n")
    rc, _, err = run(capsys, "compile", spec, "-o", tmp_path / "project")
    assert rc == 1
    assert f"{spec}:9:" in err and "SPC" in err
    assert not (tmp_path / "project").exists()


def test_a_lint_error_refuses_to_compile(capsys, tmp_path, write_spec, minimal_spec):
    spec = write_spec(minimal_spec + "tracking: {capture: {resolved_config: false}}\n")
    rc, _, err = run(capsys, "compile", spec, "-o", tmp_path / "project")
    assert rc == 1
    assert "REP004" in err and "--allow-errors" in err
    assert not (tmp_path / "project").exists()


def test_allow_errors_compiles_despite_lint_errors(capsys, tmp_path, write_spec, minimal_spec):
    spec = write_spec(minimal_spec + "tracking: {capture: {resolved_config: false}}\n")
    rc, _, err = run(capsys, "compile", spec, "-o", tmp_path / "project", "--allow-errors")
    assert rc == 0
    assert "REP004" in err
    assert (tmp_path / "project" / "train.py").exists()


def test_lint_warnings_are_shown_and_do_not_stop_compiling(capsys, tmp_path, write_spec, minimal_spec):
    spec = write_spec(minimal_spec + "seeds: {replicates: 3}\n")
    rc, _, err = run(capsys, "compile", spec, "-o", tmp_path / "project")
    assert rc == 0
    assert "STA001 [warning]" in err


def test_a_torch_version_pip_cannot_pin_is_a_located_error(capsys, tmp_path, write_spec, minimal_spec):
    spec = write_spec(minimal_spec + 'environment: {torch: "2.3 --index-url http://x"}\n')
    rc, _, err = run(capsys, "compile", spec, "-o", tmp_path / "project", "--allow-errors")
    assert rc == 1
    assert f"{spec}:9:" in err and "environment.torch" in err
    assert not (tmp_path / "project").exists()


def test_a_template_bug_writes_nothing(capsys, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise GeneratedCodeError("generated train.py does not compile")

    monkeypatch.setattr("rigorml.compiler.codegen.generate_project", broken)
    rc, _, err = run(capsys, "compile", QUICKSTART, "-o", tmp_path / "project")
    assert rc == 2 and "internal error" in err
    assert not (tmp_path / "project").exists()


def test_compile_without_jinja2_says_which_extra_to_install(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "jinja2", None)  # makes `import jinja2` fail
    rc, _, err = run(capsys, "compile", QUICKSTART, "-o", tmp_path / "project")
    assert rc == 2 and "rigorml[run]" in err


def test_generated_files_are_readable_by_others(capsys, tmp_path):
    # Atomic writes go through private temporary files; the project's files follow the umask.
    run(capsys, "compile", QUICKSTART, "-o", tmp_path)
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "train.py").stat().st_mode & 0o777 == 0o666 & ~umask


def test_compiling_does_not_import_torch(tmp_path):
    code = (
        "import sys; from rigorml.compiler.cli import main; "
        f"assert main(['compile', {str(QUICKSTART)!r}, '-o', {str(tmp_path)!r}]) == 0; "
        "assert 'torch' not in sys.modules, 'compile imported torch'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


# --- determinism ---------------------------------------------------------------------------------


def test_same_spec_gives_the_same_bytes_in_two_directories(capsys, tmp_path):
    run(capsys, "compile", QUICKSTART, "-o", tmp_path / "a")
    run(capsys, "compile", QUICKSTART, "-o", tmp_path / "b")
    assert read_project(tmp_path / "a") == read_project(tmp_path / "b")


def test_same_bytes_whatever_the_hash_seed(tmp_path):
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        env.pop("RIGORML_DEBUG", None)
        command = [sys.executable, "-m", "rigorml.compiler", "compile", str(QUICKSTART), "-o", str(tmp_path / seed)]
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
    assert read_project(tmp_path / "1") == read_project(tmp_path / "2")


def test_comments_and_key_order_do_not_change_the_output(capsys, tmp_path):
    data = yaml.safe_load(QUICKSTART.read_text(encoding="utf-8"))

    def reorder(value, under=None):
        if isinstance(value, dict):
            keys = list(value) if under == "variants_root" else list(value)[::-1]
            return {k: reorder(value[k], "variants_root" if k == "variants" and under == "top" else None) for k in keys}
        return [reorder(v) for v in value] if isinstance(value, list) else value

    reordered = reorder(data, "top")
    assert list(reordered["training"]) != list(data["training"])
    assert list(reordered["model"]["params"]) != list(data["model"]["params"])
    spec = tmp_path / "reordered.yaml"  # safe_dump writes no comments
    spec.write_text(yaml.safe_dump(reordered, sort_keys=False), encoding="utf-8")
    assert spec_hash(resolved_from_file(spec)) == spec_hash(resolved_from_file(QUICKSTART))

    rc, _, err = run(capsys, "compile", QUICKSTART, "-o", tmp_path / "original")
    assert rc == 0, err
    rc, _, err = run(capsys, "compile", spec, "-o", tmp_path / "reordered")
    assert rc == 0, err
    assert read_project(tmp_path / "original") == read_project(tmp_path / "reordered")


def test_reordered_variants_and_overrides_give_the_same_project():
    spec = copy.deepcopy(RICH_SPEC)
    spec["variants"]["treat"]["overrides"] = {"model.params.b": 1, "model.params.a": 2}
    swapped = copy.deepcopy(spec)
    swapped["variants"] = dict(reversed(list(spec["variants"].items())))
    swapped["variants"]["treat"]["overrides"] = {"model.params.a": 2, "model.params.b": 1}
    first, second = resolved_from_data(spec), resolved_from_data(swapped)
    assert spec_hash(first) == spec_hash(second)
    assert generate_project(first) == generate_project(second)


def test_no_absolute_path_reaches_the_project(capsys, tmp_path, write_spec, minimal_spec):
    # A spec naming a data file gets its folder into train.py: as a relative path.
    spec = write_spec(minimal_spec.replace("source: builtin:digits", "source: data/train.csv\n  target: y"))
    rc, _, err = run(capsys, "compile", spec, "-o", tmp_path / "out" / "project", "--allow-errors")
    assert rc == 0, err
    for name, text in read_project(tmp_path / "out" / "project").items():
        assert str(tmp_path).encode() not in text, name


# --- what the project says -----------------------------------------------------------------------


def _literals(source: str) -> dict:
    """Module-level ``NAME = literal`` assignments of a generated file."""
    out = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return out


def test_train_py_constants_match_the_config():
    resolved = resolved_from_file(QUICKSTART)
    constants = _literals(generate_project(resolved)["train.py"])
    assert constants["EXPERIMENT"] == "digits-mlp"
    assert constants["ARMS"] == ("baseline", "dropout", "wide")  # the baseline first, then by name
    assert constants["REPLICATE_SEEDS"] == (0, 1, 2, 3, 4)
    assert constants["CONFIG_SHA256"] == spec_hash(resolved)


def test_train_py_docstring_says_what_it_trains():
    doc = ast.get_docstring(ast.parse(generate_project(resolved_from_file(QUICKSTART))["train.py"]))
    assert doc.startswith("Train digits-mlp, a classification experiment: 3 arms x 5 replicate seeds (15 runs).")
    assert "Arms: baseline, dropout, wide." in doc
    assert "Replicate seeds: 0, 1, 2, 3, 4." in doc
    assert "python train.py --all" in doc


def test_train_py_imports_only_the_standard_library_at_the_top():
    # The runtime (torch) is imported inside main(), so --help and usage errors stay fast.
    tree = ast.parse(generate_project(resolved_from_file(QUICKSTART))["train.py"])
    top = {alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
    top |= {node.module for node in tree.body if isinstance(node, ast.ImportFrom)}
    assert top == {"argparse", "hashlib", "json", "sys", "pathlib"}
    inner = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module.startswith("rigorml")]
    assert [(node.module, [a.name for a in node.names]) for node in inner] == [
        ("rigorml.runtime.train", ["train_run"]),
        ("rigorml.runtime.distributed", ["exit_worker"]),  # under `if __name__ == "__main__"`, after main()
    ]


def test_train_py_calls_train_run_with_arm_seed_and_run_dir():
    tree = ast.parse(generate_project(resolved_from_file(QUICKSTART))["train.py"])
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "train_run"]
    assert [[ast.unparse(a) for a in call.args] for call in calls] == [["resolved", "arm", "seed", "run_dir"]]
    assert calls[0].keywords == []  # builtin data and model: the spec's folder is not needed


def test_train_py_passes_the_spec_folder_when_the_spec_names_files(capsys, tmp_path, minimal_spec):
    (tmp_path / "specs").mkdir()
    spec = tmp_path / "specs" / "spec.yaml"
    spec.write_text(minimal_spec.replace("source: builtin:digits", "source: data/train.csv\n  target: y"))
    rc, _, err = run(capsys, "compile", spec, "-o", tmp_path / "out", "--allow-errors")
    assert rc == 0, err
    source = (tmp_path / "out" / "train.py").read_text()
    assert 'SPEC_DIR = HERE / "../specs"' in source
    assert "train_run(resolved, arm, seed, run_dir, base_dir=SPEC_DIR)" in source
    assert "`../specs`" in (tmp_path / "out" / "README.md").read_text()


def test_an_arm_that_switches_to_a_module_model_needs_the_spec_folder():
    spec = copy.deepcopy(RICH_SPEC)
    spec["variants"]["treat"]["overrides"] = {"model.source": "mypackage.models:build"}
    assert "base_dir=SPEC_DIR" in generate_project(resolved_from_data(spec))["train.py"]


def test_sweep_py_constants_match_the_config():
    resolved = resolved_from_file(QUICKSTART)
    constants = _literals(generate_project(resolved)[SWEEP_FILE])
    assert constants["STUDY_NAME"] == "digits-mlp"  # sweep.study_name defaults to the experiment
    assert constants["N_TRIALS"] == 30
    assert (constants["OBJECTIVE"], constants["DIRECTION"]) == ("val/f1_macro", "maximize")
    assert constants["CONFIG_SHA256"] == spec_hash(resolved)


def test_sweep_py_imports_only_the_standard_library_at_the_top():
    tree = ast.parse(generate_project(resolved_from_file(QUICKSTART))[SWEEP_FILE])
    top = {alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
    top |= {node.module for node in tree.body if isinstance(node, ast.ImportFrom)}
    assert top == {"argparse", "hashlib", "json", "sys", "pathlib"}
    inner = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module.startswith("rigorml")]
    assert [(node.module, [a.name for a in node.names]) for node in inner] == [
        ("rigorml.runtime.sweep", ["BEST_FILE", "run_sweep"]),
        ("rigorml.runtime.sweep_analysis", ["analyse_sweep"]),
        ("rigorml.runtime.sweep_final", ["run_final_validation"]),
    ]


def test_sweep_py_loads_the_config_with_the_same_check_as_train_py():
    files = generate_project(resolved_from_file(QUICKSTART))

    def load_config(source):
        tree = ast.parse(source)
        return next(ast.unparse(n) for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "load_config")

    assert load_config(files[SWEEP_FILE]) == load_config(files["train.py"])


def test_sweep_py_passes_the_spec_folder_when_the_spec_names_files():
    spec = copy.deepcopy(RICH_SPEC)
    assert "base_dir" not in generate_project(resolved_from_data(spec))[SWEEP_FILE]
    spec["data"] = {"source": "data/train.csv", "target": "y"}
    source = generate_project(resolved_from_data(spec), spec_dir="../specs")[SWEEP_FILE]
    assert 'SPEC_DIR = HERE / "../specs"' in source
    assert "base_dir=SPEC_DIR," in source


def test_sweep_py_comments_say_the_method_pruner_objective_and_space():
    said = _comment_text(generate_project(resolved_from_data(RICH_SPEC))[SWEEP_FILE])
    assert "TPE (sweep.method): 10 random trials" in said
    assert "Median pruning (sweep.pruner)" in said
    assert "val/f1_macro (maximize) on the validation split alone" in said
    assert "training.optimizer.lr: log-uniform in [0.0001, 0.03]" in said
    assert "training.optimizer.weight_decay: log-uniform" in said and "only when flag.decay is true" in said
    assert 'model.params.note: one of "first", "second"' in said


def test_readme_describes_the_sweep():
    readme = generate_project(resolved_from_file(QUICKSTART))["README.md"]
    assert "- `sweep.py`:" in readme and "## Sweep" in readme
    assert "`sweeps/digits-mlp/study.db`" in readme
    assert "- `training.optimizer.lr`: log-uniform in \\[0.0001, 0.03\\]" in readme


def test_evaluate_py_constants_match_the_config():
    resolved = resolved_from_file(QUICKSTART)
    constants = _literals(generate_project(resolved)["evaluate.py"])
    assert constants["EXPERIMENT"] == "digits-mlp"
    assert constants["CONFIG_SHA256"] == spec_hash(resolved)


def test_evaluate_py_imports_only_the_standard_library_at_the_top():
    # The runtime (numpy, scipy, scikit-learn) is imported inside main(), so --help stays fast.
    tree = ast.parse(generate_project(resolved_from_file(QUICKSTART))["evaluate.py"])
    top = {alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
    top |= {node.module for node in tree.body if isinstance(node, ast.ImportFrom)}
    assert top == {"argparse", "hashlib", "json", "sys", "pathlib"}
    inner = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module.startswith("rigorml")]
    assert [(node.module, [a.name for a in node.names]) for node in inner] == [
        ("rigorml.runtime.evaluate", ["EvaluationError", "evaluate_experiment", "format_table", "track_evaluation", "write_evaluation"])
    ]


def test_evaluate_py_loads_the_config_with_the_same_check_as_train_py():
    files = generate_project(resolved_from_file(QUICKSTART))

    def function(source, name):
        tree = ast.parse(source)
        return next(ast.unparse(n) for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)

    assert function(files["evaluate.py"], "load_config") == function(files["train.py"], "load_config")
    # Its default runs folder is where train.py writes: runs/<experiment>/<arm>/seed-<seed>.
    assert "HERE / 'runs' / EXPERIMENT" in function(files["evaluate.py"], "default_runs_dir")
    assert "HERE / 'runs' / EXPERIMENT / arm" in function(files["train.py"], "default_run_dir")


def test_evaluate_py_comments_state_the_preregistered_plan():
    source = generate_project(resolved_from_file(QUICKSTART))["evaluate.py"]
    said = _comment_text(source)
    assert "Split: test (evaluation.split); 95% t intervals over the seeds." in said
    assert "wide-vs-baseline: wide - baseline on f1_macro, declared test paired_bootstrap." in said
    assert "dropout-vs-baseline: dropout - baseline on f1_macro" in said
    assert "Correction: holm over the 2 comparison(s) (confirmatory family), alpha 0.05." in said
    doc = ast.get_docstring(ast.parse(source))
    assert doc.startswith("Evaluate digits-mlp on its test split: 3 arms x 5 replicate seeds.")


def test_evaluate_py_of_a_spec_without_comparisons_says_so(minimal_spec, write_spec):
    source = generate_project(resolved_from_file(write_spec(minimal_spec)))["evaluate.py"]
    assert "No comparisons (evaluation.comparisons, evaluation.baseline): arm summaries only." in _comment_text(source)


def test_readme_says_how_to_evaluate():
    readme = generate_project(resolved_from_file(QUICKSTART))["README.md"]
    assert "- `evaluate.py`: evaluates the finished runs on the test split" in readme
    assert "python evaluate.py" in readme


def _comment_text(source: str) -> str:
    """Every comment of ``source`` run together, as a reader reads wrapped comments."""
    return " ".join(comment.lstrip("#").strip() for comment in _comments(source))


def test_comments_say_what_the_spec_asks_that_is_not_the_default():
    source = generate_project(resolved_from_data(RICH_SPEC))["train.py"]
    said = _comment_text(source)
    assert "# - Deterministic algorithms (training.deterministic)" in source
    assert "bf16 autocast on CUDA" in said and "(environment.gpu.type: A100)" in said
    assert "Gradients are clipped to a global L2 norm of 1.0" in said
    assert "2 micro-batches of 64 per optimiser step (an effective batch of 128)" in said
    assert "Early stopping on val/loss (lower is better)" in said
    assert "# Does a treatment beat the baseline?\nEXPERIMENT = " in source
    assert "    # Baseline: The baseline.\n    \"control\",\n    # The treatment.\n    \"treat\"," in source


def test_a_plain_spec_gets_no_comments_about_settings_it_did_not_make(minimal_spec, write_spec):
    source = generate_project(resolved_from_file(write_spec(minimal_spec)))["train.py"]
    for absent in ("autocast", "clipped", "accumulation", "Early stopping", "workers", "SPEC_DIR"):
        assert absent not in source


def test_a_spec_without_variants_has_one_arm_named_base(minimal_spec, write_spec):
    files = generate_project(resolved_from_file(write_spec(minimal_spec)))
    assert _literals(files["train.py"])["ARMS"] == ("base",)
    assert "one arm, the configuration as resolved" in files["README.md"]


def test_readme_says_how_to_run_what_each_arm_changes_and_the_hash():
    resolved = resolved_from_data(RICH_SPEC)
    readme = generate_project(resolved)["README.md"]
    assert "pip install -r requirements.txt" in readme
    assert "python train.py --arm control --seed 0" in readme and "python train.py --all" in readme
    assert "### `treat` (treatment)\n\nThe treatment.\n\n- `model.params.note`: `\"value\"`" in readme
    assert "### `control` (baseline)" in readme and "No overrides" in readme
    assert f"`{spec_hash(resolved)}`" in readme
    assert "`requirements.lock` (relative to the spec)" in readme


def test_readme_commands_are_shell_words_not_markdown():
    spec = _set(RICH_SPEC, "variant-name", "a_b")
    spec["variants"]["a_b"]["role"] = "baseline"
    spec["variants"]["control"]["role"] = "treatment"
    readme = generate_project(resolved_from_data(spec))["README.md"]
    assert "python train.py --arm a_b --seed 0" in readme
    assert "`runs/demo/<arm>/seed-<seed>/`" in readme


def test_requirements_pin_torch_and_note_python_and_cuda():
    text = generate_project(resolved_from_data(RICH_SPEC), rigorml_version=VERSION)["requirements.txt"]
    lines = text.splitlines()
    assert "torch==2.3.1" in lines and f"rigorml[run]=={VERSION}" in lines
    assert "# Python 3.11 (environment.python)" in lines
    assert any(line.startswith("# CUDA 12.1") for line in lines)
    assert "not a hashed lockfile" in text


def test_requirements_without_a_torch_version_leave_torch_to_the_run_extra(minimal_spec, write_spec):
    text = generate_project(resolved_from_file(write_spec(minimal_spec)), rigorml_version="0+unknown")[
        "requirements.txt"
    ]
    requirements = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert requirements == ["rigorml[run]"]  # a source-tree version cannot be pinned
    assert "# torch: not pinned" in text


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_compiles_to_python_that_parses_within_the_width(example):
    files = generate_project(resolved_from_file(example), rigorml_version=VERSION)
    for name, text in files.items():
        assert text.endswith("\n") and not text.endswith("\n\n"), name
        if name.endswith(".py"):
            compile(ast.parse(text), name, "exec")
            long = [line for line in text.splitlines() if len(line) > WIDTH]
            assert long == [], name


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_generated_python_is_lint_clean(example, tmp_path):
    files = generate_project(resolved_from_file(example), rigorml_version=VERSION)
    for name, text in files.items():
        if name.endswith(".py"):
            path = tmp_path / name
            path.write_text(text, encoding="utf-8")
            report = lint_path(str(path), LintConfig())
            assert [d.format_text() for d in report.diagnostics] == [], name


# --- safety: spec text reaches code only as literals ---------------------------------------------

HOSTILE = [
    "quote \" and ' mixed",
    'line\nbreak = __import__("os").system("x")',
    "__import__('os').system('x')",
    '"""; import os; os.system("x"); """',
    "'''; import os; '''",
    "ends with a backslash \\",
    "\\N{BULLET} \\x41 \\",
    "para\u2028graph\u2029separators",
    "next\x85line",
    "vt\x0bff\x0ccr\rcrlf\r\n",
    "{{ 7*7 }} {% if true %}x{% endif %} {# c #}",
    "# not a comment",
    "nul\x00byte",
    "bidi \u202e reversed \u2066 isolate",
    "tab\there",
    "<script>alert(1)</script> | a | `code` ``x``",
    "\n# heading\n- list\n1. item\n> quote",
    "x" * 300,
    "trailing\n",  # passes the name pattern (re.match with `$` allows a final newline)
]
#: A harmless value per field (the spec model checks some fields against a vocabulary).
BENIGN = {"metrics.primary": "accuracy", "metrics.secondary.0": "mcc", "environment.python": "3.12"}


def _set(spec: dict, field: str, value: str) -> dict:
    """``spec`` with ``value`` at ``field`` (``variant-name`` and ``override-key`` rename keys)."""
    spec = copy.deepcopy(spec)
    if field == "variant-name":
        spec["variants"][value] = spec["variants"].pop("treat")
        return spec
    if field == "override-key":
        spec["variants"]["treat"]["overrides"] = {"model.params." + value: 1}
        return spec
    *parents, last = field.split(".")
    node = spec
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return spec


#: Every spec string the templates use (and a few that only reach config.resolved.json).
FIELDS = [
    "experiment.name",
    "experiment.description",
    "experiment.tags.0",
    "experiment.project",
    "experiment.group",
    "variant-name",
    "variants.treat.description",
    "variants.control.description",
    "override-key",
    "variants.treat.overrides.model.params.note",
    "metrics.primary",
    "metrics.secondary.0",
    "training.early_stopping.metric",
    "environment.python",
    "environment.cuda",
    "environment.gpu.type",
    "environment.precision_notes",
    "environment.lockfile",
    "data.source",
    "evaluation.comparisons.0.name",
    "sweep.study_name",
    "sweep-flag-key",
    "sweep-categorical-value",
]


def _shape(source: str) -> str:
    """The syntax tree with every string constant blanked: what the code *does*."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = "<str>"
    return ast.dump(tree)


def _string_constants(source: str) -> set[str]:
    return {n.value for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def _comments(source: str) -> list[str]:
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return [t.string for t in tokens if t.type == tokenize.COMMENT]


def _override_value_spec(value: str) -> dict:
    spec = copy.deepcopy(RICH_SPEC)
    spec["variants"]["treat"]["overrides"] = {"model.params.note": value}
    return spec


def _with(field: str, value: str) -> dict:
    if field == "evaluation.comparisons.0.name":  # a declared comparison's label is free text
        spec = copy.deepcopy(RICH_SPEC)
        spec["evaluation"] = {"comparisons": [{"name": value, "treatment": "treat", "control": "control"}]}
        return spec
    if field == "variants.treat.overrides.model.params.note":  # a dotted key, not a nested one
        return _override_value_spec(value)
    if field in ("sweep-flag-key", "sweep-categorical-value"):  # keys and values of dotted keys
        spec = copy.deepcopy(RICH_SPEC)
        parameters = spec["sweep"]["parameters"]
        if field == "sweep-flag-key":  # a flag's name is free text; the condition naming it follows
            parameters["flag." + value] = parameters.pop("flag.decay")
            parameters["training.optimizer.weight_decay"]["when"] = {"flag." + value: [True]}
        else:
            parameters["model.params.note"]["values"] = [value, "second"]
        return spec
    if field == "data.source":
        spec = _set(RICH_SPEC, field, f"data/{value}.csv")
        spec["data"]["target"] = "y"
        return spec
    return _set(RICH_SPEC, field, value)


@pytest.mark.parametrize("field", FIELDS)
def test_hostile_strings_change_only_string_constants_and_comments(field):
    harmless = BENIGN.get(field, "placeholder")
    benign = generate_project(resolved_from_data(_with(field, harmless)), rigorml_version=VERSION)
    tried = 0
    # Fields checked against a pattern or vocabulary may still take a valid value plus a tail.
    for hostile in [*HOSTILE, harmless + "\n", harmless + "\n__import__('os').system('x')"]:
        resolved = resolved_from_data(_with(field, hostile))
        if resolved is None:
            continue  # the spec model rejects this value here: nothing to compile
        tried += 1
        files = generate_project(resolved, rigorml_version=VERSION)  # parses and compiles, or raises
        source = files["train.py"]
        compile(ast.parse(source), "train.py", "exec")
        # Same code as with a harmless value: no Name, Call, import or statement came from the spec.
        assert _shape(source) == _shape(benign["train.py"]), (field, hostile)
        sweep_source = files[SWEEP_FILE]
        assert _shape(sweep_source) == _shape(benign[SWEEP_FILE]), (field, hostile)
        evaluate_source = files["evaluate.py"]
        assert _shape(evaluate_source) == _shape(benign["evaluate.py"]), (field, hostile)
        assert all(comment.isprintable() for comment in _comments(evaluate_source))
        # Names and arms are carried as literals, exactly.
        if field in ("experiment.name", "variant-name"):
            assert hostile in _string_constants(source)
        if field == "experiment.name":
            assert hostile in _string_constants(evaluate_source)
        if field == "sweep.study_name":
            assert hostile in _string_constants(sweep_source)
        # Comments stay single printable lines; no file holds a line break other than "\n".
        assert all(comment.isprintable() for comment in _comments(source) + _comments(sweep_source))
        for name, text in files.items():
            if name != "config.resolved.json":
                assert text.splitlines() == text.split("\n")[:-1], (name, field, hostile)
                assert "\x00" not in text and "\u202e" not in text
        # Markdown and requirements keep their line structure: text cannot add headings or pins.
        assert len(files["README.md"].splitlines()) == len(benign["README.md"].splitlines())
        assert _requirement_lines(files["requirements.txt"]) == _requirement_lines(benign["requirements.txt"])
        # The config carries the value itself.
        assert spec_hash(json.loads(files["config.resolved.json"])) == files["config.sha256"].strip()
    if field.startswith(("experiment.description", "variants.", "environment.precision", "training.", "sweep", "evaluation")):
        assert tried, "every hostile value was rejected: the field was not tested"


def _requirement_lines(text: str) -> list[str]:
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert all(re.fullmatch(r"(rigorml\[run\]|torch)(==[0-9A-Za-z.+]+)?", line) for line in lines), lines
    return lines


def test_hostile_text_through_the_yaml_path_compiles_safely(capsys, tmp_path):
    spec = copy.deepcopy(RICH_SPEC)
    spec["experiment"]["description"] = HOSTILE[1] + HOSTILE[3]
    spec["variants"]["treat"]["description"] = "\u2028".join(HOSTILE[4:8])
    path = tmp_path / "hostile.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    rc, _, err = run(capsys, "compile", path, "-o", tmp_path / "project", "--allow-errors")
    assert rc == 0, err
    source = (tmp_path / "project" / "train.py").read_text(encoding="utf-8")
    assert _shape(source) == _shape(generate_project(resolved_from_data(RICH_SPEC))["train.py"])
    evaluate_source = (tmp_path / "project" / "evaluate.py").read_text(encoding="utf-8")
    assert _shape(evaluate_source) == _shape(generate_project(resolved_from_data(RICH_SPEC))["evaluate.py"])


def test_a_torch_version_that_is_not_a_version_is_refused():
    spec = copy.deepcopy(RICH_SPEC)
    spec["environment"]["torch"] = "2.3.1\n--extra-index-url http://evil"
    with pytest.raises(CodegenError) as caught:
        generate_project(resolved_from_data(spec))
    assert caught.value.path == ("environment", "torch")


@pytest.mark.parametrize("version", ["2.3.1", "2.4.0rc1", "2.3.0+cu121", "2.1.0.post1"])
def test_torch_versions_pip_understands_are_pinned(version):
    spec = copy.deepcopy(RICH_SPEC)
    spec["environment"]["torch"] = version
    assert f"torch=={version}\n" in generate_project(resolved_from_data(spec))["requirements.txt"]


def test_a_template_that_prints_a_value_without_a_filter_fails():
    env = _environment()
    with pytest.raises(TemplateSafetyError):
        env.from_string("x = {{ name }}").render(name="__import__('os')")
    assert env.from_string("{{ n }} {{ name | py }}").render(n=3, name="a") == '3 "a"'


def test_generated_python_that_does_not_compile_is_refused():
    with pytest.raises(GeneratedCodeError):
        check_python({"train.py": 'x = """\n'})


# --- the filters, on any text --------------------------------------------------------------------


@given(st.text())
def test_py_literal_reads_back_as_the_value(text):
    literal = py_literal(text)
    assert "\n" not in literal and ast.literal_eval(literal) == text


@given(st.lists(st.integers(min_value=0)))
def test_py_literal_of_a_tuple_reads_back(values):
    assert ast.literal_eval(py_literal(values)) == tuple(values)


@given(st.text(), st.integers(min_value=0, max_value=12))
def test_comment_is_only_comment_lines(text, indent):
    source = "if True:\n" + " " * indent + " " * 4 + _comment(text, indent + 4) + "\n    pass\n"
    tree = ast.parse(source)
    assert len(tree.body) == 1 and len(tree.body[0].body) == 1  # the comment added no statement
    assert all(c.isprintable() for c in _comments(source))


@given(st.text())
def test_doc_cannot_leave_the_docstring(text):
    source = f'"""{_doc(text)}"""\n'
    tree = ast.parse(source)
    assert len(tree.body) == 1
    assert ast.literal_eval(source.strip()).replace("\n", " ").replace(" ", "") == one_line(text).replace(" ", "")


@given(st.text())
def test_one_line_is_one_printable_line(text):
    line = one_line(text)
    assert line.isprintable() and line.splitlines() in ([], [line])


@given(st.text())
def test_md_and_code_stay_on_one_line(text):
    for rendered in (_md(text), _code(text)):
        assert rendered.isprintable() and "\n" not in rendered


@pytest.mark.parametrize(
    "text, expected",
    [
        ("# heading", "\\# heading"),
        ("- item", "\\- item"),
        ("12. item", "12\\. item"),
        ("a <b> | `c`", "a \\<b\\> \\| \\`c\\`"),
    ],
)
def test_md_escapes_markup(text, expected):
    assert _md(text) == expected


@pytest.mark.parametrize("text, expected", [("a", "`a`"), ("a`b", "``a`b``"), ("`a", "`` `a ``")])
def test_code_spans_use_a_longer_fence_than_any_backtick_run(text, expected):
    assert _code(text) == expected
