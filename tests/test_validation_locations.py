"""Every validation error points at the exact line and column a user has to change.

Line and column are 1-based. An unknown or missing key is reported at a key; a bad value at the
value; a problem a variant or a sweep value causes at the override or the list item that causes it.
"""

from __future__ import annotations

import json

import pytest

from rigorml.compiler.cli import main

SPEC = """\
version: 1
experiment:
  name: demo
  task: classification
data:
  source: builtin:digits
  loader:
    batch_size: 32
model:
  source: builtin:mlp
"""
# Sections appended to SPEC start on line 11.


def only(result):
    assert len(result.diagnostics) == 1, "\n".join(d.format_text() for d in result.diagnostics)
    return result.diagnostics[0]


def at(diagnostic) -> tuple[str, int, int]:
    return diagnostic.code, diagnostic.span.line, diagnostic.span.col


# --- keys ------------------------------------------------------------------------------------------


def test_unknown_key_is_located_at_the_key_with_a_suggestion(check_text):
    d = only(check_text(SPEC.replace("  task: classification\n", "  task: classification\n  tagz: [a]\n")))
    assert at(d) == ("SPC001", 5, 3)
    assert d.message == "unknown key 'tagz' in `experiment`; did you mean 'tags'?"


def test_unknown_nested_key_is_located_at_the_key_with_a_suggestion(check_text):
    d = only(check_text(SPEC.replace("    batch_size: 32", "    batch_sise: 32")))
    assert at(d) == ("SPC001", 8, 5)
    assert "unknown key 'batch_sise' in `data.loader`; did you mean 'batch_size'?" in d.message


def test_unknown_top_level_section_suggests_the_closest_section(check_text):
    d = only(check_text(SPEC + "trainig:\n  epochs: 3\n"))
    assert at(d) == ("SPC001", 11, 1)
    assert "did you mean 'training'?" in d.message


def test_unknown_key_without_a_close_match_lists_the_allowed_keys(check_text):
    d = only(check_text(SPEC + "training:\n  zzz: 1\n"))
    assert at(d) == ("SPC001", 12, 3)
    assert d.hint is not None and "allowed keys:" in d.hint and "precision" in d.hint


def test_missing_required_key_is_located_at_its_parent_key(check_text):
    d = only(check_text(SPEC.replace("  task: classification\n", "")))
    assert at(d) == ("SPC002", 2, 1)
    assert d.message == "missing required key `task` in `experiment`"


def test_missing_required_nested_key_is_located_at_its_parent_key(check_text):
    d = only(check_text(SPEC + "deployment:\n  strategy: canary\n  gate:\n    alpha: 0.01\n"))
    assert at(d) == ("SPC002", 13, 3)
    assert "missing required key `metric` in `deployment.gate`" in d.message


def test_missing_section_is_located_at_the_top_of_the_file(check_text):
    d = only(check_text(SPEC.replace("model:\n  source: builtin:mlp\n", "")))
    assert at(d) == ("SPC002", 1, 1)
    assert "`model`" in d.message


# --- values ----------------------------------------------------------------------------------------


def test_wrong_type_is_located_at_the_value(check_text):
    d = only(check_text(SPEC + "training:\n  epochs: twelve\n"))
    assert at(d) == ("SPC003", 12, 11)
    assert "`training.epochs` should be a valid integer" in d.message


def test_mapping_where_a_scalar_belongs_is_located_at_the_mapping(check_text):
    d = only(check_text(SPEC + "training:\n  precision:\n    name: bf16\n"))
    assert d.code in ("SPC003", "SPC004") and (d.span.line, d.span.col) == (13, 5)


def test_invalid_choice_is_located_at_the_value_with_a_suggestion(check_text):
    d = only(check_text(SPEC + "training:\n  precision: bf61\n"))
    assert at(d) == ("SPC004", 12, 14)
    assert d.message == "invalid value 'bf61' for `training.precision`; expected one of: fp32, bf16, fp16; did you mean 'bf16'?"


def test_out_of_range_value_is_located_at_the_value(check_text):
    d = only(check_text(SPEC.replace("batch_size: 32", "batch_size: 0")))
    assert at(d) == ("SPC004", 8, 17)
    assert "greater than or equal to 1" in d.message


def test_list_item_error_is_located_at_the_item(check_text):
    d = only(check_text(SPEC + "pipeline:\n  stages:\n    - ingestion\n    - trianing\n"))
    assert at(d) == ("SPC004", 14, 7)
    assert "did you mean 'training'?" in d.message


def test_value_fitting_no_branch_of_a_union_is_one_error(check_text):
    d = only(check_text(SPEC + "seeds:\n  replicates: {first: 1}\n"))
    assert at(d) == ("SPC003", 12, 15)
    assert d.message.startswith("`seeds.replicates` should be a list or an integer")


def test_scalar_fitting_no_branch_of_a_union_is_one_error_naming_both(check_text):
    d = only(check_text(SPEC + "seeds:\n  replicates: many\n"))
    assert at(d) == ("SPC003", 12, 15)
    assert "should be a list or an integer" in d.message


# --- tagged unions ---------------------------------------------------------------------------------


def test_unknown_optimizer_name_suggests_the_closest_name(check_text):
    d = only(check_text(SPEC + "training:\n  optimizer:\n    name: adamww\n"))
    assert d.code == "SPC004" and d.span.line == 13
    assert "invalid name 'adamww' for `training.optimizer`" in d.message
    assert "did you mean 'adamw'?" in d.message


def test_unknown_optimizer_name_is_located_at_the_name_value(check_text):
    d = only(check_text(SPEC + "training:\n  optimizer:\n    lr: 0.01\n    name: adamww\n"))
    assert at(d) == ("SPC004", 14, 11)


def test_unknown_distribution_suggests_the_closest_distribution(check_text):
    parameter = "      distribution: loguniform\n      low: 0.001\n      high: 0.1\n"
    text = SPEC + "sweep:\n  parameters:\n    training.optimizer.lr:\n" + parameter
    d = only(check_text(text))
    assert d.code == "SPC004" and d.span.line == 14
    assert "unknown distribution 'loguniform'" in d.message
    assert "did you mean 'log_uniform'?" in d.message


def test_unknown_distribution_is_located_at_the_distribution_value(check_text):
    parameter = "      low: 0.001\n      high: 0.1\n      distribution: loguniform\n"
    text = SPEC + "sweep:\n  parameters:\n    training.optimizer.lr:\n" + parameter
    d = only(check_text(text))
    assert at(d) == ("SPC004", 16, 21)


def test_betas_under_sgd_is_located_at_the_key_and_names_the_adam_family(check_text):
    d = only(check_text(SPEC + "training:\n  optimizer:\n    name: sgd\n    betas: [0.9, 0.99]\n"))
    assert at(d) == ("SPC001", 14, 5)
    assert "`betas` is not allowed in `training.optimizer`" in d.message
    assert "'adam', 'adamax', 'adamw', 'nadam', 'radam'" in d.message


# --- references between sections -------------------------------------------------------------------


def test_unknown_arm_in_a_comparison_is_located_at_the_arm_with_a_suggestion(check_text):
    text = SPEC + "variants:\n  small: {}\n  wide: {}\nevaluation:\n  comparisons:\n    - treatment: wide\n      control: smal\n"
    d = only(check_text(text))
    assert at(d) == ("SPC011", 17, 16)
    assert d.message == "unknown arm 'smal'; did you mean 'small'? (arms: small, wide)"


def test_unknown_metric_for_the_task_is_located_at_the_metric(check_text):
    d = only(check_text(SPEC + "metrics:\n  primary: rmse\n"))
    assert at(d) == ("SPC010", 12, 12)
    assert "metric 'rmse' does not apply to task 'classification'" in d.message


def test_comparison_metric_is_checked_against_the_task(check_text):
    text = SPEC + "variants: {a: {}, b: {}}\nevaluation:\n  comparisons:\n    - {treatment: a, control: b, metric: ndcg@10}\n"
    d = only(check_text(text))
    assert at(d) == ("SPC010", 14, 42)


def test_variant_path_that_does_not_exist_is_located_at_the_key_with_a_suggestion(check_text):
    d = only(check_text(SPEC + "variants:\n  wide:\n    overrides:\n      training.optimiser.lr: 0.01\n"))
    assert at(d) == ("SPC013", 14, 7)
    assert "`optimiser` is not a key of `training`; did you mean 'optimizer'?" in d.message


def test_variant_path_outside_the_overridable_sections_is_reported(check_text):
    d = only(check_text(SPEC + "variants:\n  wide:\n    overrides:\n      seeds.global: 1\n"))
    assert at(d) == ("SPC013", 14, 7)
    assert "must start with one of data, model, training" in d.message


def test_variant_path_with_a_non_ascii_digit_is_reported_at_its_key(check_text):
    d = only(check_text(SPEC + "variants:\n  wide:\n    overrides:\n      training.\u00b2: 1\n"))
    assert at(d) == ("SPC013", 14, 7)


def test_sweep_path_that_does_not_exist_is_located_at_the_key_with_a_suggestion(check_text):
    d = only(check_text(SPEC + "sweep:\n  parameters:\n    data.loader.batchsize: {values: [32, 64]}\n"))
    assert at(d) == ("SPC013", 13, 5)
    assert "did you mean 'batch_size'?" in d.message


def test_variant_override_with_a_bad_value_is_located_at_the_override(check_text):
    text = SPEC + "variants:\n  base: {}\n  fast:\n    overrides:\n      training.precision: fp8\n"
    d = only(check_text(text))
    assert at(d) == ("SPC004", 15, 27)
    assert d.message.startswith("with variant 'fast' applied: invalid value 'fp8' for `training.precision`")


def test_variant_override_into_a_default_section_is_checked_against_its_default(check_text):
    d = only(check_text(SPEC + "variants:\n  fast:\n    overrides:\n      training.optimizer.momentum: 0.9\n"))
    assert at(d) == ("SPC001", 14, 36)
    assert "`momentum` is not allowed" in d.message


def test_invalid_categorical_sweep_value_is_located_at_that_item(check_text):
    text = SPEC + "sweep:\n  parameters:\n    training.optimizer.name:\n      values:\n        - adamw\n        - sgdd\n"
    d = only(check_text(text))
    assert at(d) == ("SPC004", 16, 11)
    assert "with sweep parameter `training.optimizer.name` applied" in d.message
    assert "did you mean 'sgd'?" in d.message


def test_invalid_range_bound_is_located_at_the_bound(check_text):
    text = SPEC + "sweep:\n  parameters:\n    data.loader.batch_size:\n      distribution: int\n      low: 0\n      high: 64\n"
    d = only(check_text(text))
    assert at(d) == ("SPC004", 15, 12)
    assert "greater than or equal to 1" in d.message


def test_condition_on_a_non_categorical_parameter_is_located_at_the_condition_key(check_text):
    text = SPEC + (
        "sweep:\n"
        "  parameters:\n"
        "    training.optimizer.lr: {distribution: log_uniform, low: 0.0001, high: 0.1}\n"
        "    training.optimizer.weight_decay:\n"
        "      value: 0.01\n"
        "      when:\n"
        "        training.optimizer.lr: [0.001]\n"
    )
    d = only(check_text(text))
    assert at(d) == ("SPC014", 17, 9)
    assert "condition on `training.optimizer.lr`, which is not a categorical sweep parameter" in d.message


# --- all at once, in order -------------------------------------------------------------------------

FIVE_MISTAKES = """\
version: 1
experiment:
  name: demo
  task: classification
  tagz: [a]
data:
  source: builtin:digits
  splits: {train: 0.7, val: 0.15, test: 0.15}
  loader:
    batch_size: -4
model:
  source: builtin:mlp
training:
  epochs: many
  precision: fp33
  optimizer:
    name: sgd
    betas: [0.9, 0.99]
"""


def test_every_independent_mistake_is_reported_at_once(check_text):
    result = check_text(FIVE_MISTAKES)
    assert [at(d) for d in result.diagnostics] == [
        ("SPC001", 5, 3),
        ("SPC004", 10, 17),
        ("SPC003", 14, 11),
        ("SPC004", 15, 14),
        ("SPC001", 18, 5),
    ]


def test_every_reference_mistake_is_reported_at_once(check_text):
    text = SPEC + (
        "variants:\n"
        "  small: {}\n"
        "  wide:\n"
        "    overrides:\n"
        "      training.optimiser.lr: 0.1\n"
        "metrics:\n"
        "  primary: mae\n"
        "evaluation:\n"
        "  baseline: smal\n"
    )
    assert [at(d) for d in check_text(text).diagnostics] == [
        ("SPC013", 15, 7),
        ("SPC010", 17, 12),
        ("SPC011", 19, 13),
    ]


def test_diagnostics_are_sorted_by_position(check_text):
    positions = [(d.span.line, d.span.col) for d in check_text(FIVE_MISTAKES).diagnostics]
    assert positions == sorted(positions) and len(positions) == 5


def test_text_output_is_file_line_col_code_message(write_spec, capsys):
    path = write_spec(SPEC + "training:\n  precision: fp33\n")
    assert main(["validate", str(path)]) == 1
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(f"{path}:12:14: SPC004 invalid value 'fp33' for `training.precision`")


def test_json_output_has_files_with_located_diagnostics(write_spec, capsys):
    path = write_spec(FIVE_MISTAKES)
    assert main(["validate", "--format", "json", str(path)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["command"] == "validate"
    assert report["summary"] == {"files": 1, "invalid_files": 1, "errors": 5}
    (entry,) = report["files"]
    assert entry["file"] == str(path) and entry["valid"] is False
    first = entry["diagnostics"][0]
    assert first["code"] == "SPC001"
    assert first["severity"] == "error"
    assert first["message"] == "unknown key 'tagz' in `experiment`; did you mean 'tags'?"
    assert first["location"] == {"file": str(path), "line": 5, "col": 3, "end_line": 5, "end_col": 7}
    assert first["path"] == ["experiment", "tagz"]
    assert [(d["location"]["line"], d["location"]["col"], d["code"]) for d in entry["diagnostics"]] == [
        (5, 3, "SPC001"),
        (10, 17, "SPC004"),
        (14, 11, "SPC003"),
        (15, 14, "SPC004"),
        (18, 5, "SPC001"),
    ]


def test_json_output_for_a_valid_file_has_no_diagnostics(write_spec, capsys):
    path = write_spec(SPEC)
    assert main(["validate", "--format", "json", str(path)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["files"] == [{"file": str(path), "valid": True, "diagnostics": []}]
    assert report["summary"] == {"files": 1, "invalid_files": 0, "errors": 0}
