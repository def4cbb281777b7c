"""The ``rigorml`` command line: exit codes, output, help, and the promises it makes to pre-commit.

Exit codes: 0 valid; 1 a spec has errors; 2 rigorml could not do its job (usage error, unreadable
path, binary or non-UTF-8 file). Most tests call ``main`` in-process; the ones about the process
itself (``python -m``, ``--version``, which modules get imported) run a subprocess.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from rigorml.compiler.cli import main
from rigorml.schemas.jsonschema import schema_text

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "examples" / "quickstart.yaml"
SCHEMA_FILE = REPO / "schemas" / "experiment.schema.json"


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


# --- exit codes ------------------------------------------------------------------------------------


def test_valid_spec_exits_0_and_says_valid(capsys, write_spec, minimal_spec):
    path = write_spec(minimal_spec)
    assert run(capsys, "validate", path) == (0, f"{path}: valid\n", "")


def test_quiet_valid_spec_prints_nothing(capsys, write_spec, minimal_spec):
    assert run(capsys, "validate", "-q", write_spec(minimal_spec)) == (0, "", "")


def test_spec_with_errors_exits_1_with_a_summary(capsys, write_spec, minimal_spec):
    rc, out, err = run(capsys, "validate", write_spec(minimal_spec + "training: {precision: fp33, epochs: x}\n"))
    assert rc == 1
    assert len(out.splitlines()) == 2
    assert err == "Found 2 errors in 1 of 1 file(s).\n"


def test_missing_file_exits_2(capsys, tmp_path):
    rc, out, _ = run(capsys, "validate", tmp_path / "absent.yaml")
    assert rc == 2
    assert "YML013" in out and "absent.yaml:1:1" in out


def test_directory_exits_2(capsys, tmp_path):
    rc, out, _ = run(capsys, "validate", tmp_path)
    assert rc == 2 and "YML013" in out


def test_binary_file_exits_2(capsys, write_spec):
    path = write_spec("x")
    path.write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00binary")
    rc, out, _ = run(capsys, "validate", path)
    assert rc == 2 and "YML012" in out


def test_file_that_is_not_utf8_exits_2(capsys, write_spec):
    path = write_spec("x")
    path.write_bytes("version: 1\nexperiment: {name: caf\u00e9}\n".encode("latin-1"))
    rc, out, _ = run(capsys, "validate", path)
    assert rc == 2 and "YML011" in out


def test_file_over_the_size_limit_exits_2(capsys, write_spec, minimal_spec):
    rc, out, _ = run(capsys, "validate", "--max-bytes", "16", write_spec(minimal_spec))
    assert rc == 2 and "YML010" in out


@pytest.mark.parametrize(
    "args",
    [[], ["validate"], ["frobnicate"], ["validate", "--format", "xml", "x.yaml"], ["resolve"], ["validate", "--bogus", "x.yaml"]],
    ids=["no-command", "no-files", "unknown-command", "bad-format", "resolve-no-spec", "unknown-option"],
)
def test_usage_error_exits_2(capsys, args):
    rc, out, err = run(capsys, *args)
    assert rc == 2
    assert out == ""
    assert "usage: rigorml" in err


def test_several_files_are_all_reported_and_one_bad_file_makes_it_1(capsys, write_spec, minimal_spec):
    good = write_spec(minimal_spec, "good.yaml")
    bad = write_spec(minimal_spec + "training: {precision: fp33}\n", "bad.yaml")
    rc, out, err = run(capsys, "validate", bad, good)
    assert rc == 1
    assert out.splitlines()[0].startswith(f"{bad}:9:23: SPC004")
    assert f"{good}: valid" in out.splitlines()
    assert err == "Found 1 error in 1 of 2 file(s).\n"


def test_unreadable_file_among_others_makes_it_2_and_the_rest_are_still_checked(capsys, write_spec, minimal_spec, tmp_path):
    bad = write_spec(minimal_spec + "training: {precision: fp33}\n", "bad.yaml")
    rc, out, _ = run(capsys, "validate", tmp_path / "absent.yaml", bad)
    assert rc == 2
    assert "YML013" in out and "SPC004" in out


def test_several_files_in_json_are_one_report(capsys, write_spec, minimal_spec):
    good = write_spec(minimal_spec, "good.yaml")
    bad = write_spec(minimal_spec + "training: {precision: fp33}\n", "bad.yaml")
    rc, out, _ = run(capsys, "validate", "--format", "json", good, bad)
    report = json.loads(out)
    assert rc == 1
    assert [(f["file"], f["valid"]) for f in report["files"]] == [(str(good), True), (str(bad), False)]
    assert report["summary"] == {"files": 2, "invalid_files": 1, "errors": 1}


def test_validate_applies_overrides_before_checking(capsys, write_spec, minimal_spec):
    path = write_spec(minimal_spec + "training: {precision: fp33}\n")
    assert run(capsys, "validate", "-q", "--override", "training.precision=bf16", path) == (0, "", "")


def test_lint_checks_a_spec_like_validate(capsys, write_spec, minimal_spec):
    assert run(capsys, "lint", write_spec(minimal_spec + "training: {precision: fp33}\n"))[0] == 1


# --- help and version ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command, purpose",
    [
        ("validate", "check spec files against the spec model"),
        ("lint", "experiment-practice rules"),
        ("resolve", "resolved spec"),
        ("schema", "JSON Schema"),
        ("init", "starter spec"),
    ],
)
def test_help_of_every_command_exits_0_and_states_its_purpose(capsys, command, purpose):
    rc, out, _ = run(capsys, command, "--help")
    assert rc == 0
    assert f"usage: rigorml {command}" in out
    assert purpose in " ".join(out.split())


def test_top_level_help_lists_every_command_and_the_exit_codes(capsys):
    rc, out, _ = run(capsys, "--help")
    assert rc == 0
    for command in ("validate", "lint", "resolve", "schema", "init"):
        assert command in out
    assert "Exit codes: 0 ok, 1" in " ".join(out.split())


def test_version_prints_the_package_version(run_cli):
    from importlib.metadata import version

    rc, out, err = run_cli("--version")
    assert (rc, out, err) == (0, f"rigorml {version('rigorml')}\n", "")


def test_python_dash_m_runs_the_cli(run_cli):
    rc, out, err = run_cli("validate", QUICKSTART)
    assert (rc, out, err) == (0, f"{QUICKSTART}: valid\n", "")


# --- no tracebacks ---------------------------------------------------------------------------------

BAD_INPUTS = {
    "empty": b"",
    "not-a-mapping": b"- a\n- b\n",
    "syntax-error": b"version: 1\nexperiment: {name: [\n",
    "tab-indent": b"version: 1\nexperiment:\n\tname: x\n",
    "duplicate-key": b"version: 1\nversion: 1\n",
    "python-tag": b"version: !!python/object/apply:os.system ['true']\n",
    "recursive-alias": b"a: &x [*x]\n",
    # nine levels of nine aliases each: 9**9 values if expanded
    "billion-laughs": b"a: &a [x, x, x, x, x, x, x, x, x]\n"
    + b"".join(
        b"%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n" % ((ord("b") + i,) * 2 + (ord("a") + i,) * 9)
        for i in range(8)
    ),
    "deep-nesting": b"a: " + b"[" * 5000 + b"\n",
    "null-sections": b"version: 1\nexperiment:\ndata:\nmodel:\ntraining:\nsweep:\nvariants:\n",
    "wrong-types-everywhere": b"version: [1]\nexperiment: 3\ndata: true\nmodel: []\ntraining: x\nseeds: {replicates: {a: 1}}\n",
    "odd-keys": b"version: 1\n1: a\nnull: b\n? [a]\n: c\n",
    "binary": b"\x00\x01\x02\x03",
    "utf16": "version: 1\n".encode("utf-16"),
    "latin1": "name: caf\u00e9\n".encode("latin-1"),
    "extends-self": b"extends: [spec.yaml]\n",
    "extends-directory": b"extends: [.]\n",
    "extends-garbage": b"extends: {a: [1]}\n",
    "variant-garbage": b"version: 1\nexperiment: {name: a, task: classification}\ndata: {source: 'builtin:digits'}\n"
    b"model: {source: 'builtin:mlp'}\nvariants: {v: {overrides: {'': 1, '.': 2, 'training..x': 3, 'training.0': 4}}}\n",
    "unicode-digit-paths": "version: 1\nexperiment: {name: a, task: classification}\ndata: {source: 'builtin:digits'}\n"
    "model: {source: 'builtin:mlp'}\nvariants: {v: {overrides: {'training.\u00b2': 1, 'model.params.\u00b2': 2}}}\n"
    "sweep: {parameters: {'training.\u0663': {value: 1}}}\n".encode("utf-8"),
    "sweep-garbage": b"version: 1\nexperiment: {name: a, task: classification}\ndata: {source: 'builtin:digits'}\n"
    b"model: {source: 'builtin:mlp'}\nsweep: {parameters: {'': {values: []}, 'training.epochs.3': {value: 1}, x: 3}}\n",
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
@pytest.mark.parametrize("command", ["validate", "resolve"])
def test_bad_input_gives_diagnostics_not_a_traceback(capsys, tmp_path, name, command):
    path = tmp_path / "spec.yaml"
    path.write_bytes(BAD_INPUTS[name])
    rc, out, err = run(capsys, command, path)
    assert rc in (1, 2)
    assert "Traceback" not in out + err
    assert "internal error" not in err
    assert f"{path}:" in out + err


@pytest.mark.parametrize(
    "override",
    ["", "=", "~", "+", "++", "a", "=1", "x.y", "..=1", "~nope", "+experiment.name=x", "training=[", "experiment.tags.5=x",
     "seeds.replicates.0=1", "experiment.name.x.y=1", "++experiment.name.x=1", "version=!!binary aGk=", "model.params.0=1",
     "training.epochs=" + "[" * 500, "\x00=1", "training.optimizer.lr=.inf", "training.\u00b2=1", "model.params.\u00b2.x=1"],
)
def test_bad_override_gives_diagnostics_not_a_traceback(capsys, write_spec, minimal_spec, override):
    rc, out, err = run(capsys, "resolve", write_spec(minimal_spec), override)
    assert rc in (0, 1, 2)
    assert "Traceback" not in out + err
    assert "internal error" not in err


def test_unwritable_output_exits_2_with_a_message(capsys, tmp_path):
    rc, _, err = run(capsys, "schema", "-o", tmp_path / "no" / "such" / "dir" / "schema.json")
    assert rc == 2
    assert err.startswith("rigorml: No such file or directory")


def test_init_refuses_to_overwrite_a_file(capsys, write_spec, minimal_spec):
    path = write_spec(minimal_spec)
    rc, _, err = run(capsys, "init", path)
    assert rc == 2 and "pass --force" in err
    assert path.read_text(encoding="utf-8") == minimal_spec


def test_bad_input_in_a_subprocess_prints_no_traceback(run_cli, tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_bytes(b"version: 1\nexperiment: [\n")
    rc, out, err = run_cli("validate", path, tmp_path / "absent.yaml")
    assert rc == 2
    assert "Traceback" not in err
    assert "YML001" in out and "YML013" in out


# --- promises to pre-commit and editors -----------------------------------------------------------

HEAVY_MODULES = ("torch", "scipy", "optuna", "jinja2", "libcst", "mlflow", "numpy")


def test_validate_does_not_import_heavy_modules(run_cli):
    import subprocess

    program = (
        "import sys, json\n"
        "from rigorml.compiler.cli import main\n"
        f"rc = main(['validate', '-q', {str(QUICKSTART)!r}])\n"
        "print(json.dumps({'rc': rc, 'modules': sorted(sys.modules)}))\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["rc"] == 0
    heavy = [m for m in report["modules"] if m.split(".")[0] in HEAVY_MODULES]
    assert heavy == []


def test_schema_prints_the_committed_json_schema(capsys):
    rc, out, _ = run(capsys, "schema")
    assert rc == 0
    assert out == SCHEMA_FILE.read_text(encoding="utf-8")
    assert json.loads(out)["title"] == "rigorml experiment spec"


def test_schema_generate_prints_the_schema_of_the_models(capsys):
    rc, out, _ = run(capsys, "schema", "--generate")
    assert rc == 0 and out == schema_text()


def test_schema_writes_to_an_output_file(capsys, tmp_path):
    target = tmp_path / "schema.json"
    assert run(capsys, "schema", "-o", target) == (0, "", "")
    assert target.read_text(encoding="utf-8") == SCHEMA_FILE.read_text(encoding="utf-8")


EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_example_is_a_valid_spec(capsys, example):
    rc, out, err = run(capsys, "validate", example)
    assert rc == 0, out + err
