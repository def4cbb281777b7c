"""Composition: ``extends`` (base specs merged underneath), command-line overrides, and ``rigorml resolve``.

Base files are real files under tmp_path; overrides are the strings a user types after the spec.
"""

from __future__ import annotations

import hashlib
import json
import os
import textwrap
from pathlib import Path

import pytest
import yaml

from rigorml.compiler.cli import main
from rigorml.compiler.compose import compose

REPO = Path(__file__).resolve().parents[1]

BASE = """\
version: 1
experiment:
  name: base
  task: classification
  tags: [a, b]
data:
  source: builtin:digits
  loader: {batch_size: 32, num_workers: 2}
model:
  source: builtin:mlp
  params: {hidden_sizes: [64, 32], dropout: 0.1}
"""


def only(diagnostics):
    assert len(diagnostics) == 1, "\n".join(d.format_text() for d in diagnostics)
    return diagnostics[0]


def at(diagnostic) -> tuple[str, int, int]:
    return diagnostic.code, diagnostic.span.line, diagnostic.span.col


def resolve_output(capsys, *args) -> tuple[int, str, str]:
    rc = main(["resolve", *map(str, args)])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def digest_of(capsys, *args) -> str:
    rc, out, err = resolve_output(capsys, *args)
    assert rc == 0, err
    line = out.splitlines()[1]
    assert line.startswith("# sha256: ")
    return line.removeprefix("# sha256: ")


# --- extends ---------------------------------------------------------------------------------------


def test_extends_merges_mappings_and_replaces_lists_and_scalars(write_spec):
    write_spec(BASE, "base.yaml")
    top = write_spec(
        """\
        extends: [base.yaml]
        experiment:
          name: top
          tags: [c]
        data:
          loader: {batch_size: 64}
        model:
          params: {hidden_sizes: [128]}
        """,
        "top.yaml",
    )
    composed = compose(str(top))
    assert composed.diagnostics == []
    assert composed.data["experiment"] == {"name": "top", "task": "classification", "tags": ["c"]}
    assert composed.data["data"]["loader"] == {"batch_size": 64, "num_workers": 2}
    assert composed.data["model"]["params"] == {"hidden_sizes": [128], "dropout": 0.1}
    assert "extends" not in composed.data


def test_later_bases_override_earlier_ones_and_the_spec_overrides_all(write_spec):
    write_spec(BASE, "base.yaml")
    write_spec("training: {epochs: 3, precision: bf16}\n", "short.yaml")
    write_spec("training: {epochs: 50}\n", "long.yaml")
    top = write_spec("extends: [base.yaml, short.yaml, long.yaml]\ntraining: {precision: fp16}\n", "top.yaml")
    composed = compose(str(top))
    assert composed.data["training"] == {"epochs": 50, "precision": "fp16"}


def test_extends_may_name_a_single_file(write_spec, check_file):
    write_spec(BASE, "base.yaml")
    assert check_file(write_spec("extends: base.yaml\n", "top.yaml")).diagnostics == []


def test_extends_paths_are_relative_to_the_extending_file(write_spec, tmp_path, monkeypatch):
    write_spec(BASE, "configs/shared/base.yaml")
    write_spec("extends: [shared/base.yaml]\ntraining: {epochs: 3}\n", "configs/top.yaml")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    composed = compose(os.path.join("..", "configs", "top.yaml"))
    assert composed.diagnostics == []
    assert composed.data["experiment"]["name"] == "base"


def test_nested_extends_resolve_each_path_from_its_own_file(write_spec):
    write_spec(BASE, "a/base.yaml")
    write_spec("extends: [base.yaml]\ntraining: {epochs: 7}\n", "a/middle.yaml")
    top = write_spec("extends: [a/middle.yaml]\ntraining: {precision: bf16}\n", "top.yaml")
    composed = compose(str(top))
    assert composed.diagnostics == []
    assert composed.data["training"] == {"epochs": 7, "precision": "bf16"}
    assert composed.data["experiment"]["name"] == "base"
    assert [os.path.basename(f) for f in composed.files] == ["top.yaml", "middle.yaml", "base.yaml"]


def test_extends_cycle_is_located_at_the_entry_that_closes_it(write_spec):
    first = write_spec("version: 1\nextends:\n  - second.yaml\n", "first.yaml")
    write_spec("# the other half\nextends:\n  - other.yaml\n  - first.yaml\n", "second.yaml")
    write_spec("training: {epochs: 2}\n", "other.yaml")
    d = only(compose(str(first)).diagnostics)
    assert at(d) == ("CMP002", 4, 5)
    assert d.span.file.endswith("second.yaml")
    assert "first.yaml -> second.yaml -> first.yaml" in d.message


def test_a_file_extending_itself_is_a_cycle(write_spec):
    path = write_spec("extends: [self.yaml]\n", "self.yaml")
    d = only(compose(str(path)).diagnostics)
    assert at(d) == ("CMP002", 1, 11)


def test_missing_base_is_located_at_its_entry(write_spec):
    path = write_spec("version: 1\nextends:\n  - nowhere.yaml\n", "top.yaml")
    d = only(compose(str(path)).diagnostics)
    assert at(d) == ("CMP001", 3, 5)
    assert d.span.file == str(path)
    assert "nowhere.yaml" in d.message


def test_error_inside_a_base_is_located_in_the_base_file(write_spec, check_file):
    write_spec(BASE.replace("task: classification", "task: clasification"), "base.yaml")
    top = write_spec("extends: [base.yaml]\ntraining: {epochs: 3}\n", "top.yaml")
    d = only(check_file(top).diagnostics)
    assert at(d) == ("SPC004", 4, 9)
    assert os.path.basename(d.span.file) == "base.yaml"


def test_value_the_spec_replaces_is_located_in_the_spec_not_the_base(write_spec, check_file):
    write_spec(BASE, "base.yaml")
    top = write_spec("extends: [base.yaml]\ndata:\n  loader: {batch_size: 0}\n", "top.yaml")
    d = only(check_file(top).diagnostics)
    assert at(d) == ("SPC004", 3, 24)
    assert d.span.file == str(top)


def test_syntax_error_in_a_base_is_reported_in_the_base(write_spec):
    write_spec("version: 1\nexperiment: [unclosed\n", "base.yaml")
    top = write_spec("extends: [base.yaml]\n", "top.yaml")
    d = only(compose(str(top)).diagnostics)
    assert d.code == "YML001" and os.path.basename(d.span.file) == "base.yaml"


@pytest.mark.parametrize("extends", ["{base: base.yaml}", "[1, base.yaml]", "[[base.yaml]]", "42"])
def test_extends_must_be_a_path_or_a_list_of_paths(write_spec, extends):
    write_spec(BASE, "base.yaml")
    path = write_spec(f"extends: {extends}\n", "top.yaml")
    d = only(compose(str(path)).diagnostics)
    assert at(d) == ("CMP003", 1, 10)


# --- overrides -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "override, path, expected",
    [
        ("training.epochs=3", ("training", "epochs"), 3),
        ("training.optimizer.lr=0.5", ("training", "optimizer", "lr"), 0.5),
        ("experiment.tags=[x, y]", ("experiment", "tags"), ["x", "y"]),
        ("training.deterministic=false", ("training", "deterministic"), False),
        ("experiment.description=a b c", ("experiment", "description"), "a b c"),
        ("model.params={hidden_sizes: [8]}", ("model", "params"), {"hidden_sizes": [8]}),
        ("training.max_steps=null", ("training", "max_steps"), None),
    ],
    ids=["int", "float", "list", "bool", "string", "mapping", "null"],
)
def test_override_values_are_yaml_typed(write_spec, minimal_spec, override, path, expected):
    spec = minimal_spec + "training:\n  epochs: 10\n  deterministic: true\n  optimizer: {name: adam, lr: 0.1}\n"
    composed = compose(str(write_spec(spec)), [override])
    assert composed.diagnostics == []
    value = composed.data
    for key in path:
        value = value[key]
    assert value == expected and type(value) is type(expected)


def test_override_may_set_a_key_the_spec_leaves_at_its_default(write_spec, minimal_spec, capsys):
    path = write_spec(minimal_spec)
    rc, out, err = resolve_output(capsys, "--format", "json", path, "training.precision=bf16")
    assert rc == 0, err
    assert json.loads(out)["training"]["precision"] == "bf16"


def test_override_into_a_default_section_lands_on_the_default(write_spec, minimal_spec, capsys):
    path = write_spec(minimal_spec)
    rc, out, err = resolve_output(capsys, "--format", "json", path, "training.optimizer.lr=0.01")
    assert rc == 0, err
    optimizer = json.loads(out)["training"]["optimizer"]
    assert (optimizer["name"], optimizer["lr"]) == ("adamw", 0.01)


def test_overrides_apply_in_order(write_spec, minimal_spec):
    composed = compose(str(write_spec(minimal_spec)), ["training.epochs=3", "training.epochs=4"])
    assert composed.data["training"]["epochs"] == 4


def test_override_of_an_unknown_key_suggests_the_closest(write_spec, minimal_spec):
    d = only(compose(str(write_spec(minimal_spec)), ["training.precison=bf16"]).diagnostics)
    assert at(d) == ("CMP005", 1, 1)
    assert d.span.file == "<override 1: training.precison=bf16>"
    assert "did you mean 'precision'?" in d.message
    assert "+training.precison=" in d.hint


def test_override_of_an_unknown_section_suggests_the_closest_once(write_spec, minimal_spec):
    d = only(compose(str(write_spec(minimal_spec)), ["trainng=3"]).diagnostics)
    assert d.code == "CMP005"
    assert d.message.count("did you mean 'training'?") == 1


def test_add_override_adds_a_key_the_spec_does_not_set(write_spec, minimal_spec):
    composed = compose(str(write_spec(minimal_spec)), ["+model.params.dropout=0.2"])
    assert composed.diagnostics == []
    assert composed.data["model"]["params"] == {"dropout": 0.2}


def test_add_override_of_a_key_the_spec_sets_is_an_error(write_spec, minimal_spec):
    d = only(compose(str(write_spec(minimal_spec)), ["+experiment.name=other"]).diagnostics)
    assert at(d) == ("CMP006", 1, 1)
    assert "`++experiment.name=...`" in d.message


@pytest.mark.parametrize("override", ["++experiment.name=other", "++experiment.description=new"])
def test_force_override_sets_or_adds(write_spec, minimal_spec, override):
    composed = compose(str(write_spec(minimal_spec)), [override])
    assert composed.diagnostics == []
    key, value = override.removeprefix("++experiment.").split("=")
    assert composed.data["experiment"][key] == value


def test_delete_override_removes_a_key(write_spec, minimal_spec):
    spec = minimal_spec.replace("  name: demo\n", "  name: demo\n  description: old\n")
    composed = compose(str(write_spec(spec)), ["~experiment.description"])
    assert composed.diagnostics == []
    assert "description" not in composed.data["experiment"]


def test_delete_override_of_an_absent_key_is_an_error(write_spec, minimal_spec):
    d = only(compose(str(write_spec(minimal_spec)), ["~experiment.description"]).diagnostics)
    assert at(d) == ("CMP007", 1, 1)
    assert "the spec does not set it" in d.message


def test_conditional_delete_removes_a_key_with_that_value(write_spec, minimal_spec):
    composed = compose(str(write_spec(minimal_spec)), ["~data.source=builtin:digits"])
    assert composed.diagnostics == []
    assert "source" not in composed.data["data"]


def test_conditional_delete_of_a_key_with_another_value_is_an_error(write_spec, minimal_spec):
    d = only(compose(str(write_spec(minimal_spec)), ["~data.source=builtin:wine"]).diagnostics)
    assert d.code == "CMP007"
    assert "its value is 'builtin:digits', not 'builtin:wine'" in d.message


def test_deleting_a_required_key_is_reported_by_validation(write_spec, minimal_spec, check_file):
    d = only(check_file(write_spec(minimal_spec), "~data.source").diagnostics)
    assert at(d) == ("SPC002", 5, 1)


@pytest.mark.parametrize("override", ["training.epochs", "=3", "training..epochs=3", "training.=3", "+", "~", "++", " =1"])
def test_malformed_override_is_an_error(write_spec, minimal_spec, override):
    d = only(compose(str(write_spec(minimal_spec)), [override]).diagnostics)
    assert at(d) == ("CMP004", 1, 1)
    assert "must look like key.path=value" in d.message


def test_bad_override_value_is_located_in_the_override(write_spec, minimal_spec, check_file):
    d = only(check_file(write_spec(minimal_spec), "training.epochs=3", "training.precision=fp33").diagnostics)
    assert at(d) == ("SPC004", 1, 20)
    assert d.span.file == "<override 2: training.precision=fp33>"
    assert "did you mean 'fp32'?" in d.message


def test_bad_override_value_is_located_in_the_override_on_the_command_line(write_spec, minimal_spec, capsys):
    path = write_spec(minimal_spec)
    assert main(["validate", "--override", "training.precision=fp33", str(path)]) == 1
    assert capsys.readouterr().out.startswith("<override 1: training.precision=fp33>:1:20: SPC004")


def test_override_value_that_is_not_yaml_is_located_in_the_override(write_spec, minimal_spec):
    d = only(compose(str(write_spec(minimal_spec)), ["experiment.tags=[a, b"]).diagnostics)
    assert d.code == "YML001"
    assert d.span.file == "<override 1: experiment.tags=[a, b>" and d.span.col == 17


def test_override_value_with_a_python_tag_is_refused(write_spec, minimal_spec):
    d = only(compose(str(write_spec(minimal_spec)), ["training.epochs=!!python/object:os.system 1"]).diagnostics)
    assert d.code == "YML003"


def test_override_into_an_unset_list_is_an_error(write_spec, minimal_spec):
    d = only(compose(str(write_spec(minimal_spec)), ["experiment.tags.0=first"]).diagnostics)
    assert at(d) == ("CMP005", 1, 1)
    assert "`experiment.tags` is not set" in d.message


def test_override_of_a_list_item_replaces_that_item(write_spec):
    composed = compose(str(write_spec(BASE)), ["experiment.tags.1=z"])
    assert composed.diagnostics == []
    assert composed.data["experiment"]["tags"] == ["a", "z"]


def test_override_of_a_list_item_past_the_end_is_an_error(write_spec):
    d = only(compose(str(write_spec(BASE)), ["experiment.tags.5=z"]).diagnostics)
    assert at(d) == ("CMP005", 1, 1)
    assert "`experiment.tags` has 2 item(s)" in d.message


def test_override_path_segment_of_non_ascii_digits_is_a_key(write_spec, minimal_spec):
    composed = compose(str(write_spec(minimal_spec)), ["model.params.\u00b2=1"])
    assert composed.diagnostics == []
    assert composed.data["model"]["params"] == {"\u00b2": 1}


@pytest.mark.parametrize("override", ["extends=[base.yaml]", "+extends=[base.yaml]", "++extends=base.yaml"])
def test_extends_cannot_be_overridden(write_spec, minimal_spec, override):
    write_spec(BASE, "base.yaml")
    d = only(compose(str(write_spec(minimal_spec)), [override]).diagnostics)
    assert at(d) == ("CMP005", 1, 1)
    assert "`extends` cannot be overridden" in d.message


def test_override_through_a_scalar_is_an_error(write_spec, minimal_spec):
    d = only(compose(str(write_spec(minimal_spec)), ["++experiment.name.first=x"]).diagnostics)
    assert at(d) == ("CMP005", 1, 1)


# --- rigorml resolve -------------------------------------------------------------------------------


def test_resolve_prints_yaml_headed_by_its_sha256(write_spec, minimal_spec, capsys):
    rc, out, _ = resolve_output(capsys, write_spec(minimal_spec))
    assert rc == 0
    lines = out.splitlines()
    assert lines[0] == "# rigorml resolved spec"
    assert lines[1].startswith("# sha256: ") and len(lines[1].removeprefix("# sha256: ")) == 64
    assert yaml.safe_load(out)["experiment"]["name"] == "demo"


def test_resolve_json_parses_and_its_hash_is_the_canonical_jsons_sha256(write_spec, minimal_spec, capsys):
    path = write_spec(minimal_spec)
    rc, out, err = resolve_output(capsys, "--format", "json", path)
    assert rc == 0
    resolved = json.loads(out)
    digest = err.strip().removeprefix("sha256: ")
    canonical = json.dumps(resolved, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256(canonical.encode("utf-8")).hexdigest() == digest
    assert digest_of(capsys, path) == digest


def test_resolve_canonical_prints_exactly_the_hashed_text(write_spec, minimal_spec, capsys):
    path = write_spec(minimal_spec)
    rc, out, err = resolve_output(capsys, "--format", "json", "--canonical", path)
    assert rc == 0
    assert hashlib.sha256(out.rstrip("\n").encode("utf-8")).hexdigest() == err.strip().removeprefix("sha256: ")


def test_resolve_writes_to_an_output_file(write_spec, minimal_spec, tmp_path, capsys):
    target = tmp_path / "resolved.json"
    rc, out, _ = resolve_output(capsys, "--format", "json", "-o", target, write_spec(minimal_spec))
    assert rc == 0 and out == ""
    assert json.loads(target.read_text(encoding="utf-8"))["version"] == 1


def test_resolve_of_an_invalid_spec_prints_only_diagnostics(write_spec, minimal_spec, capsys):
    rc, out, err = resolve_output(capsys, write_spec(minimal_spec + "training: {precision: fp33}\n"))
    assert rc == 1 and out == ""
    assert "SPC004" in err


def test_hash_ignores_formatting_comments_and_key_order(write_spec, minimal_spec, capsys):
    block = write_spec(minimal_spec + "training:\n  epochs: 5\n  precision: bf16\n", "block.yaml")
    flow = write_spec(
        """\
        # the same spec, written differently
        model: {source: "builtin:mlp"}   # a comment
        training: {precision: 'bf16', epochs: 5}
        data:
            source:   builtin:digits
        experiment: {task: classification, name: demo}
        version: 1
        """,
        "flow.yaml",
    )
    assert digest_of(capsys, block) == digest_of(capsys, flow)


def test_hash_ignores_defaults_written_out(write_spec, minimal_spec, capsys):
    short = write_spec(minimal_spec, "short.yaml")
    defaults = "seeds: {global: 42, replicates: [0, 1, 2, 3, 4]}\ntraining: {precision: fp32}\n"
    explicit = write_spec(minimal_spec + defaults, "long.yaml")
    assert digest_of(capsys, short) == digest_of(capsys, explicit)


def test_hash_is_the_same_with_extends_or_inline(write_spec, capsys):
    inline = write_spec(BASE + "training: {epochs: 5}\n", "inline.yaml")
    write_spec(BASE, "base.yaml")
    extending = write_spec("extends: [base.yaml]\ntraining: {epochs: 5}\n", "extending.yaml")
    assert digest_of(capsys, inline) == digest_of(capsys, extending)


def test_hash_is_the_same_with_an_override_or_the_value_in_the_file(write_spec, minimal_spec, capsys):
    in_file = write_spec(minimal_spec + "training: {epochs: 5}\n", "in_file.yaml")
    plain = write_spec(minimal_spec, "plain.yaml")
    assert digest_of(capsys, in_file) == digest_of(capsys, plain, "training.epochs=5")


@pytest.mark.parametrize("example", sorted((REPO / "examples").glob("*.yaml")), ids=lambda p: p.name)
def test_resolved_spec_resolves_to_itself(tmp_path, capsys, example):
    rc, out, err = resolve_output(capsys, example)
    assert rc == 0, err
    again = tmp_path / "resolved.yaml"
    again.write_text(out, encoding="utf-8")
    assert digest_of(capsys, again) == out.splitlines()[1].removeprefix("# sha256: ")


def test_hash_changes_when_a_value_changes(write_spec, minimal_spec, capsys):
    path = write_spec(minimal_spec)
    assert digest_of(capsys, path) != digest_of(capsys, path, "training.optimizer.lr=0.002")


def test_resolved_spec_fills_derived_defaults(write_spec, capsys):
    path = write_spec(
        textwrap.dedent(
            """\
            version: 1
            experiment: {name: digits, task: classification}
            seeds: {data: 7}
            data: {source: builtin:digits}
            model: {source: builtin:mlp}
            variants: {small: {role: baseline}, wide: {}}
            evaluation: {baseline: small}
            """
        )
    )
    rc, out, err = resolve_output(capsys, "--format", "json", path)
    assert rc == 0, err
    resolved = json.loads(out)
    assert resolved["experiment"]["project"] == "digits"
    assert resolved["experiment"]["group"] == "digits"
    assert resolved["metrics"]["primary"] == "f1_macro"
    assert resolved["data"]["split_seed"] == 7
    assert [(c["name"], c["treatment"], c["control"], c["metric"]) for c in resolved["evaluation"]["comparisons"]] == [
        ("wide-vs-small", "wide", "small", "f1_macro")
    ]
    assert "extends" not in resolved
