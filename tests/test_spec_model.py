"""The spec model, section by section: what each field defaults to, and how a bad value is reported.

Specs are written to real files and go through the same compose + validate path as ``rigorml
validate``; defaults are read from the resolved spec (what ``rigorml resolve`` prints and hashes).
``check_spec(section)`` appends ``section`` to the minimal spec, so its first line is line 9.
"""

from __future__ import annotations

import glob
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from rigorml.schemas.spec import Spec
from rigorml.schemas.jsonschema import schema_text

REPO = Path(__file__).resolve().parents[1]
SCHEMA_FILE = REPO / "schemas" / "experiment.schema.json"


def only(result):
    """The single diagnostic of ``result`` (fails, listing them, when there is not exactly one)."""
    assert len(result.diagnostics) == 1, "\n".join(d.format_text() for d in result.diagnostics)
    return result.diagnostics[0]


def at(diagnostic) -> tuple[str, int, int]:
    return diagnostic.code, diagnostic.span.line, diagnostic.span.col


def resolved(result) -> dict:
    """The resolved JSON form of a valid spec (fails with the diagnostics when it is invalid)."""
    return result.resolved()


def model_of(text: str) -> Spec:
    """The pydantic ``Spec`` of a spec text (the models are the source of truth for the shape)."""
    return Spec.model_validate(yaml.safe_load(text))


def spec_for_task(task: str, extra: str = "") -> str:
    return (
        "version: 1\n"
        f"experiment: {{name: demo, task: {task}}}\n"
        "data: {source: 'mypkg.data:load'}\n"
        "model: {source: 'mypkg.models:build'}\n" + extra
    )


# --- version and top level ------------------------------------------------------------------------


def test_minimal_spec_is_valid(check_spec):
    assert check_spec().diagnostics == []


def test_other_spec_version_is_unsupported(check_text, minimal_spec):
    d = only(check_text(minimal_spec.replace("version: 1", "version: 2")))
    assert at(d) == ("SPC006", 1, 10)
    assert "this rigorml reads version 1" in d.message


def test_missing_version_is_reported_at_the_top_of_the_file(check_text, minimal_spec):
    d = only(check_text(minimal_spec.replace("version: 1\n", "")))
    assert at(d) == ("SPC002", 1, 1)
    assert "`version`" in d.message


# --- experiment ------------------------------------------------------------------------------------


def test_experiment_name_must_be_usable_in_paths(check_text, minimal_spec):
    d = only(check_text(minimal_spec.replace("name: demo", "name: 'my demo'")))
    assert at(d) == ("SPC004", 3, 9)
    assert "not a valid name" in d.message


def test_unknown_task_suggests_the_closest_task(check_text, minimal_spec):
    d = only(check_text(minimal_spec.replace("task: classification", "task: clasification")))
    assert at(d) == ("SPC004", 4, 9)
    assert "did you mean 'classification'?" in d.message


def test_missing_task_is_reported_at_the_experiment_key(check_text, minimal_spec):
    d = only(check_text(minimal_spec.replace("  task: classification\n", "")))
    assert at(d) == ("SPC002", 2, 1)
    assert "missing required key `task` in `experiment`" in d.message


def test_traits_must_fit_the_task(check_text):
    d = only(check_text(spec_for_task("regression").replace("task: regression", "task: regression, traits: [multiclass]")))
    assert d.code == "SPC004" and d.span.line == 2
    assert "'multiclass' do not apply to task 'regression'" in d.message


def test_experiment_tags_must_not_repeat(check_text):
    d = only(check_text(spec_for_task("classification").replace("task: classification", "task: classification, tags: [a, a]")))
    assert d.code == "SPC004" and d.span.line == 2
    assert "'a' is listed twice" in d.message


def test_project_and_group_default_to_the_experiment_name(check_spec):
    experiment = resolved(check_spec())["experiment"]
    assert (experiment["project"], experiment["group"]) == ("demo", "demo")


def test_tracking_project_and_group_follow_the_experiment(check_text, minimal_spec):
    text = minimal_spec.replace("  task: classification\n", "  task: classification\n  project: proj\n  group: grp\n")
    tracking = resolved(check_text(text))["tracking"]
    assert (tracking["project"], tracking["group"]) == ("proj", "grp")


# --- seeds -----------------------------------------------------------------------------------------


def test_seeds_default_to_42_100_200_300_and_five_replicates(check_spec):
    assert resolved(check_spec())["seeds"] == {
        "global": 42,
        "data": 100,
        "model": 200,
        "train": 300,
        "replicates": [0, 1, 2, 3, 4],
    }


def test_replicate_count_n_means_seeds_0_to_n_minus_1(check_spec):
    assert resolved(check_spec("seeds: {replicates: 3}\n"))["seeds"]["replicates"] == [0, 1, 2]


def test_explicit_replicate_seeds_are_kept_in_order(check_spec):
    assert resolved(check_spec("seeds: {replicates: [7, 3, 11]}\n"))["seeds"]["replicates"] == [7, 3, 11]


def test_global_seed_is_written_global(check_spec):
    assert resolved(check_spec("seeds: {global: 7}\n"))["seeds"]["global"] == 7


def test_zero_replicates_is_an_error(check_spec):
    d = only(check_spec("seeds:\n  replicates: 0\n"))
    assert at(d) == ("SPC004", 10, 15)
    assert "at least one replicate" in d.message


def test_negative_replicate_seed_is_an_error(check_spec):
    d = only(check_spec("seeds:\n  replicates: [1, -1]\n"))
    assert at(d) == ("SPC004", 10, 15)
    assert "non-negative" in d.message


def test_repeated_replicate_seed_is_reported_as_listed_twice(check_spec):
    result = check_spec("seeds:\n  replicates: [1, 1]\n")
    assert any(at(d) == ("SPC004", 10, 15) and "1 is listed twice" in d.message for d in result.diagnostics)


def test_repeated_replicate_seed_is_one_error(check_spec):
    d = only(check_spec("seeds:\n  replicates: [1, 1]\n"))
    assert "1 is listed twice" in d.message


def test_negative_component_seed_is_an_error(check_spec):
    d = only(check_spec("seeds:\n  data: -1\n"))
    assert at(d) == ("SPC004", 10, 9)
    assert "greater than or equal to 0" in d.message


# --- data ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    ["builtin:wine", "mypkg.data:load", "data/train.parquet", "data/train.csv"],
)
def test_data_source_may_be_a_builtin_a_callable_or_a_table_file(check_text, minimal_spec, source):
    text = minimal_spec.replace("source: builtin:digits", f"source: '{source}'\n  target: label")
    assert check_text(text).diagnostics == []


def test_unknown_builtin_dataset_suggests_the_closest(check_text, minimal_spec):
    d = only(check_text(minimal_spec.replace("builtin:digits", "builtin:digitz")))
    assert at(d) == ("SPC004", 6, 11)
    assert "did you mean 'builtin:digits'?" in d.message


def test_data_source_of_another_kind_is_rejected(check_text, minimal_spec):
    d = only(check_text(minimal_spec.replace("builtin:digits", "notes.txt")))
    assert at(d) == ("SPC004", 6, 11)
    assert "is not a dataset source" in d.message


def test_table_file_source_needs_a_target_column(check_text, minimal_spec):
    d = only(check_text(minimal_spec.replace("builtin:digits", "data/train.csv")))
    assert at(d) == ("SPC015", 6, 11)


def test_splits_default_to_70_15_15(check_spec):
    assert resolved(check_spec())["data"]["splits"] == {"train": 0.7, "val": 0.15, "test": 0.15}


def test_split_fractions_must_sum_to_one(check_text, minimal_spec):
    splits = "  splits: {train: 0.5, val: 0.1, test: 0.1}\n"
    text = minimal_spec.replace("  source: builtin:digits\n", "  source: builtin:digits\n" + splits)
    d = only(check_text(text))
    assert at(d) == ("SPC004", 7, 11)
    assert "sum to 1, they sum to 0.7" in d.message


def test_split_seed_defaults_to_the_data_seed(check_spec):
    assert resolved(check_spec("seeds: {data: 7}\n"))["data"]["split_seed"] == 7


def test_loader_defaults(check_spec):
    assert resolved(check_spec())["data"]["loader"] == {
        "batch_size": 64,
        "eval_batch_size": 64,
        "num_workers": 0,
        "shuffle": True,
        "drop_last": False,
        "pin_memory": "auto",
    }


def test_eval_batch_size_defaults_to_the_batch_size(check_text, minimal_spec):
    text = minimal_spec.replace("  source: builtin:digits\n", "  source: builtin:digits\n  loader: {batch_size: 16}\n")
    assert resolved(check_text(text))["data"]["loader"]["eval_batch_size"] == 16


def test_negative_worker_count_is_an_error(check_text, minimal_spec):
    text = minimal_spec.replace("  source: builtin:digits\n", "  source: builtin:digits\n  loader:\n    num_workers: -1\n")
    d = only(check_text(text))
    assert at(d) == ("SPC004", 8, 18)


def test_data_version_defaults_to_the_content_hash(check_spec):
    assert resolved(check_spec())["data"]["version"] == "auto"


# --- model -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["builtin:logreg", "builtin:linear", "mypkg.models:build"])
def test_model_source_may_be_a_builtin_or_a_callable(check_text, minimal_spec, source):
    assert check_text(minimal_spec.replace("builtin:mlp", source)).diagnostics == []


def test_unknown_builtin_model_suggests_the_closest(check_text, minimal_spec):
    d = only(check_text(minimal_spec.replace("builtin:mlp", "builtin:mlpp")))
    assert at(d) == ("SPC004", 8, 11)
    assert "did you mean 'builtin:mlp'?" in d.message


def test_model_params_take_any_keys(check_text, minimal_spec):
    text = minimal_spec + "  params: {hidden_sizes: [64, 32], anything: {nested: true}}\n"
    assert resolved(check_text(text))["model"]["params"] == {"hidden_sizes": [64, 32], "anything": {"nested": True}}


# --- training --------------------------------------------------------------------------------------


def test_training_defaults(check_spec):
    training = resolved(check_spec())["training"]
    assert training["epochs"] == 10
    assert training["max_steps"] is None
    assert training["optimizer"] == {
        "name": "adamw",
        "lr": 0.001,
        "weight_decay": 0.0,
        "betas": [0.9, 0.999],
        "eps": 1e-8,
        "amsgrad": False,
    }
    assert training["scheduler"]["name"] == "none"
    assert training["grad_clip"] is None
    assert training["early_stopping"] is None
    assert training["precision"] == "fp32"
    assert training["deterministic"] is True
    assert training["device"] == "auto"
    assert training["grad_accumulation_steps"] == 1


def test_auto_loss_is_cross_entropy_for_classification(check_spec):
    assert resolved(check_spec())["training"]["loss"] == "cross_entropy"


def test_auto_loss_is_mse_for_regression(check_text):
    assert resolved(check_text(spec_for_task("regression")))["training"]["loss"] == "mse"


@pytest.mark.parametrize(
    "optimizer, expected",
    [
        ("{name: adam, betas: [0.8, 0.99], eps: 1.0e-6, amsgrad: true}", {"betas": [0.8, 0.99], "eps": 1e-6, "amsgrad": True}),
        ("{name: adamw, weight_decay: 0.01}", {"weight_decay": 0.01, "betas": [0.9, 0.999]}),
        ("{name: nadam}", {"eps": 1e-8}),
        ("{name: radam}", {"eps": 1e-8}),
        ("{name: adamax}", {"eps": 1e-8}),
        ("{name: sgd, momentum: 0.9, nesterov: true}", {"momentum": 0.9, "nesterov": True}),
        ("{name: rmsprop, momentum: 0.5, alpha: 0.9}", {"momentum": 0.5, "alpha": 0.9, "eps": 1e-8}),
        ("{name: adagrad}", {"eps": 1e-10}),
    ],
    ids=["adam", "adamw", "nadam", "radam", "adamax", "sgd", "rmsprop", "adagrad"],
)
def test_each_optimizer_kind_takes_its_own_settings(check_spec, optimizer, expected):
    result = resolved(check_spec(f"training:\n  optimizer: {optimizer}\n"))["training"]["optimizer"]
    assert {k: result[k] for k in expected} == expected
    assert result["lr"] == 0.001


def test_sgd_has_no_adam_settings(check_spec):
    optimizer = resolved(check_spec("training:\n  optimizer: {name: sgd}\n"))["training"]["optimizer"]
    assert optimizer == {"name": "sgd", "lr": 0.001, "weight_decay": 0.0, "momentum": 0.0, "nesterov": False}


def test_unknown_optimizer_suggests_the_closest(check_spec):
    d = only(check_spec("training:\n  optimizer:\n    name: adamx\n"))
    assert at(d) == ("SPC004", 11, 11)
    assert "did you mean 'adamax'?" in d.message


def test_optimizer_without_a_name_is_reported(check_spec):
    d = only(check_spec("training:\n  optimizer:\n    lr: 0.1\n"))
    assert at(d) == ("SPC002", 10, 3)  # at the `optimizer` key, like any missing key
    assert "needs `name`" in d.message


def test_momentum_under_adam_names_the_optimizers_that_take_it(check_spec):
    d = only(check_spec("training:\n  optimizer:\n    name: adam\n    momentum: 0.9\n"))
    assert at(d) == ("SPC001", 12, 5)
    assert "'rmsprop', 'sgd'" in d.message


def test_adam_betas_must_be_below_one(check_spec):
    d = only(check_spec("training:\n  optimizer: {name: adam, betas: [0.9, 1.0]}\n"))
    assert d.code == "SPC004" and d.span.line == 10
    assert "betas must each be in [0, 1)" in d.message


def test_union_member_error_names_the_spec_path(check_spec):
    d = only(check_spec("training:\n  optimizer: {name: sgd, nesterov: true}\n"))
    assert d.message.startswith("`training.optimizer`:")
    assert d.path == ("training", "optimizer", "nesterov")


def test_nesterov_needs_momentum(check_spec):
    d = only(check_spec("training:\n  optimizer: {name: sgd, nesterov: true}\n"))
    assert at(d) == ("SPC004", 10, 36)  # at `nesterov: true`
    assert "nesterov needs momentum > 0" in d.message


def test_learning_rate_must_be_positive(check_spec):
    d = only(check_spec("training:\n  optimizer: {name: sgd, lr: 0}\n"))
    assert at(d) == ("SPC004", 10, 30)
    assert "greater than 0" in d.message


def test_learning_rate_must_be_finite(check_spec):
    d = only(check_spec("training:\n  optimizer: {name: sgd, lr: .nan}\n"))
    assert at(d) == ("SPC004", 10, 30)
    assert "finite" in d.message


def test_unknown_scheduler_suggests_the_closest(check_spec):
    d = only(check_spec("training:\n  scheduler:\n    name: cosin\n"))
    assert at(d) == ("SPC004", 11, 11)
    assert "did you mean 'cosine'?" in d.message


def test_step_scheduler_needs_a_step_size(check_spec):
    d = only(check_spec("training:\n  scheduler: {name: step}\n"))
    assert at(d) == ("SPC004", 10, 21)  # at `name: step`
    assert "needs `step_size`" in d.message


def test_grad_clip_defaults_to_max_norm_1_and_the_2_norm(check_spec):
    assert resolved(check_spec("training:\n  grad_clip: {}\n"))["training"]["grad_clip"] == {"max_norm": 1.0, "norm_type": 2.0}


def test_grad_clip_max_norm_must_be_positive(check_spec):
    d = only(check_spec("training:\n  grad_clip:\n    max_norm: 0\n"))
    assert at(d) == ("SPC004", 11, 15)


def test_early_stopping_defaults_watch_validation_loss(check_spec):
    assert resolved(check_spec("training:\n  early_stopping: {}\n"))["training"]["early_stopping"] == {
        "metric": "val/loss",
        "mode": "min",
        "patience": 5,
        "min_delta": 0.0,
    }


def test_early_stopping_mode_is_min_or_max(check_spec):
    d = only(check_spec("training:\n  early_stopping:\n    mode: maximize\n"))
    assert at(d) == ("SPC004", 11, 11)
    assert "expected one of: min, max" in d.message


def test_checkpoint_defaults(check_spec):
    assert resolved(check_spec())["training"]["checkpoint"] == {
        "every_epochs": 1,
        "every_steps": None,
        "keep": 2,
        "keep_best": True,
        "resume": "auto",
    }


def test_checkpoint_resume_policy_must_be_known(check_spec):
    d = only(check_spec("training:\n  checkpoint:\n    resume: always\n"))
    assert at(d) == ("SPC004", 11, 13)


def test_training_needs_epochs_or_max_steps(check_spec):
    d = only(check_spec("training:\n  epochs: null\n"))
    assert at(d) == ("SPC004", 10, 3)
    assert "set `epochs` or `max_steps`" in d.message


def test_max_steps_alone_is_a_training_length(check_spec):
    assert check_spec("training:\n  epochs: null\n  max_steps: 1000\n").diagnostics == []


def test_unknown_precision_suggests_the_closest(check_spec):
    d = only(check_spec("training:\n  precision: fp33\n"))
    assert at(d) == ("SPC004", 10, 14)
    assert "did you mean 'fp32'?" in d.message


def test_device_must_name_a_device(check_spec):
    d = only(check_spec("training:\n  device: tpu\n"))
    assert at(d) == ("SPC004", 10, 11)


@pytest.mark.parametrize("device", ["auto", "cpu", "cuda", "cuda:1", "mps"])
def test_device_accepts_the_known_devices(check_spec, device):
    assert check_spec(f"training:\n  device: '{device}'\n").diagnostics == []


# --- variants --------------------------------------------------------------------------------------


def test_spec_without_variants_has_one_arm_named_base(minimal_spec):
    assert model_of(minimal_spec).arms == ["base"]


def test_variants_are_the_arms_in_order(minimal_spec):
    assert model_of(minimal_spec + "variants: {small: {}, wide: {}}\n").arms == ["small", "wide"]


def test_variant_role_defaults_to_treatment(check_spec):
    assert resolved(check_spec("variants:\n  wide: {}\n"))["variants"]["wide"] == {
        "description": "",
        "role": "treatment",
        "overrides": {},
    }


def test_variant_role_must_be_known(check_spec):
    d = only(check_spec("variants:\n  wide:\n    role: control\n"))
    assert at(d) == ("SPC004", 11, 11)
    assert "expected one of: baseline, treatment, ablation" in d.message


def test_variant_name_must_be_usable_in_paths(check_spec):
    result = check_spec("variants:\n  'wide net': {}\n")
    assert result.spec is None
    assert any(d.span.line == 10 and "not a valid name" in d.message for d in result.diagnostics)


def test_variant_overrides_may_set_model_params(check_spec):
    assert check_spec("variants:\n  wide:\n    overrides:\n      model.params.hidden_sizes: [128]\n").diagnostics == []


# --- metrics ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "task, metric",
    [
        ("classification", "f1_macro"),
        ("regression", "mae"),
        ("ranking", "ndcg"),
        ("detection", "map"),
        ("generation", "bertscore_f1"),
        ("language_modeling", "perplexity"),
    ],
)
def test_primary_metric_defaults_to_the_tasks_standard_metric(check_text, task, metric):
    assert resolved(check_text(spec_for_task(task)))["metrics"]["primary"] == metric


def test_explicit_primary_metric_is_kept(check_spec):
    assert resolved(check_spec("metrics: {primary: mcc}\n"))["metrics"]["primary"] == "mcc"


def test_unknown_metric_suggests_the_closest(check_spec):
    d = only(check_spec("metrics:\n  primary: f1_marco\n"))
    assert at(d) == ("SPC010", 10, 12)
    assert "did you mean 'f1_macro'?" in d.message


def test_metric_of_another_task_is_rejected(check_spec):
    d = only(check_spec("metrics:\n  secondary: [accuracy, mae]\n"))
    assert at(d) == ("SPC010", 10, 25)
    assert "'mae' does not apply to task 'classification'" in d.message


def test_ranking_metric_takes_a_cutoff(check_text):
    assert check_text(spec_for_task("ranking", "metrics: {primary: ndcg@10, secondary: [mrr, recall@5]}\n")).diagnostics == []


def test_metric_without_a_cutoff_rejects_one(check_spec):
    d = only(check_spec("metrics:\n  primary: accuracy@5\n"))
    assert at(d) == ("SPC010", 10, 12)
    assert "does not take `@k`" in d.message


def test_secondary_metrics_must_not_repeat(check_spec):
    d = only(check_spec("metrics:\n  secondary: [mcc, mcc]\n"))
    assert at(d) == ("SPC004", 10, 14)


def test_custom_metric_may_be_the_primary_metric(check_spec):
    assert check_spec("metrics:\n  primary: my_score\n  custom: {my_score: 'mypkg.metrics:score'}\n").diagnostics == []


def test_custom_metric_must_be_a_callable_reference(check_spec):
    d = only(check_spec("metrics:\n  custom:\n    my_score: mypkg.metrics.score\n"))
    assert at(d) == ("SPC004", 11, 15)
    assert "`module.path:function`" in d.message


# --- tracking --------------------------------------------------------------------------------------


def test_tracking_defaults(check_spec):
    tracking = resolved(check_spec())["tracking"]
    assert tracking["backend"] == "local"
    assert tracking["mode"] == "offline"
    assert tracking["run_name"] == "{experiment}-{variant}-s{seed}"
    assert tracking["system_metrics"] is True
    assert all(tracking["capture"].values())


def test_run_name_may_use_every_placeholder(check_spec):
    assert check_spec('tracking:\n  run_name: "{experiment}/{variant}/{seed}/{trial}"\n').diagnostics == []


def test_unknown_run_name_placeholder_suggests_the_closest(check_spec):
    d = only(check_spec('tracking:\n  run_name: "{experiment}-s{seeed}"\n'))
    assert at(d) == ("SPC004", 10, 13)
    assert "unknown placeholder {seeed}" in d.message
    assert "did you mean {seed}?" in d.message


def test_malformed_run_name_template_is_an_error(check_spec):
    d = only(check_spec('tracking:\n  run_name: "{experiment"\n'))
    assert at(d) == ("SPC004", 10, 13)
    assert "not a valid template" in d.message


def test_unknown_tracking_backend_suggests_the_closest(check_spec):
    d = only(check_spec("tracking:\n  backend: mlfow\n"))
    assert at(d) == ("SPC004", 10, 12)
    assert "did you mean 'mlflow'?" in d.message


# --- sweep -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, parameter",
    [
        ("training.optimizer.lr", "{distribution: log_uniform, low: 1.0e-4, high: 0.1}"),
        ("model.params.dropout", "{distribution: uniform, low: 0.0, high: 0.5, step: 0.1}"),
        ("data.loader.batch_size", "{distribution: int, low: 16, high: 128, step: 16}"),
        ("model.params.width", "{distribution: int_log, low: 1, high: 512}"),
        ("data.loader.batch_size", "{distribution: categorical, values: [32, 64]}"),
        ("training.epochs", "{distribution: constant, value: 5}"),
    ],
    ids=["log_uniform", "uniform", "int", "int_log", "categorical", "constant"],
)
def test_each_distribution_is_accepted(check_spec, path, parameter):
    assert check_spec(f"sweep:\n  parameters:\n    {path}: {parameter}\n").diagnostics == []


def test_values_shorthand_is_a_categorical_parameter(check_spec):
    sweep = resolved(check_spec("sweep:\n  parameters:\n    data.loader.batch_size: {values: [32, 64]}\n"))["sweep"]
    assert sweep["parameters"]["data.loader.batch_size"]["distribution"] == "categorical"


def test_value_shorthand_is_a_constant_parameter(check_spec):
    sweep = resolved(check_spec("sweep:\n  parameters:\n    training.epochs: {value: 5}\n"))["sweep"]
    assert sweep["parameters"]["training.epochs"] == {"distribution": "constant", "value": 5, "when": None}


def test_parameter_without_a_distribution_is_reported(check_spec):
    d = only(check_spec("sweep:\n  parameters:\n    training.optimizer.lr:\n      low: 0.1\n"))
    assert at(d) == ("SPC002", 11, 5)  # at the parameter's key
    assert "needs `distribution`" in d.message


def test_unknown_distribution_lists_the_known_ones(check_spec):
    d = only(check_spec("sweep:\n  parameters:\n    training.optimizer.lr: {distribution: loguniform, low: 0.1, high: 1}\n"))
    assert d.code == "SPC004" and d.span.line == 11
    assert "log_uniform, uniform, int, int_log, categorical, constant" in d.message
    assert "did you mean 'log_uniform'?" in d.message


def test_range_low_must_be_below_high(check_spec):
    d = only(check_spec("sweep:\n  parameters:\n    model.params.dropout: {distribution: uniform, low: 0.5, high: 0.1}\n"))
    assert d.code == "SPC004" and d.span.line == 11
    assert "`low` (0.5) must be below `high` (0.1)" in d.message


def test_log_uniform_low_must_be_positive(check_spec):
    text = "sweep:\n  parameters:\n    training.optimizer.lr:\n      distribution: log_uniform\n      low: 0\n      high: 1\n"
    d = only(check_spec(text))
    assert at(d) == ("SPC004", 13, 12)


def test_int_log_low_must_be_at_least_one(check_spec):
    d = only(check_spec("sweep:\n  parameters:\n    model.params.width:\n      distribution: int_log\n      low: 0\n      high: 8\n"))
    assert at(d) == ("SPC004", 13, 12)


def test_categorical_values_must_be_distinct(check_spec):
    d = only(check_spec("sweep:\n  parameters:\n    data.loader.batch_size:\n      values: [32, 32]\n"))
    assert at(d) == ("SPC004", 12, 15)
    assert "distinct" in d.message


def test_sweep_needs_a_parameter(check_spec):
    d = only(check_spec("sweep:\n  parameters: {}\n"))
    assert at(d) == ("SPC004", 10, 15)


def test_sweep_defaults_follow_the_domain_document(check_spec):
    sweep = resolved(check_spec("sweep:\n  parameters:\n    training.epochs: {value: 5}\n"))["sweep"]
    assert sweep["method"] == "tpe"
    assert sweep["n_trials"] == 20
    assert sweep["objective"] == {"metric": "val/loss", "direction": "minimize"}
    assert sweep["sampler"]["n_startup_trials"] == 10
    assert sweep["sampler"]["multivariate"] is True
    assert sweep["pruner"]["type"] == "hyperband"
    assert sweep["pruner"]["reduction_factor"] == 3
    assert sweep["pruner"]["min_resource"] == 1
    assert sweep["final_validation"] == {"enabled": True, "seeds": 5, "split": "test"}
    assert sweep["workers"] == 1


def test_sweep_study_name_and_sampler_seed_come_from_the_experiment(check_spec):
    sweep = resolved(check_spec("seeds: {global: 9}\nsweep:\n  parameters:\n    training.epochs: {value: 5}\n"))["sweep"]
    assert (sweep["study_name"], sweep["sampler"]["seed"]) == ("demo", 9)


def test_hyperband_max_resource_auto_is_the_epoch_count(check_spec):
    text = "training: {epochs: 30}\nsweep:\n  parameters:\n    training.optimizer.lr: {values: [0.1, 0.01]}\n"
    assert resolved(check_spec(text))["sweep"]["pruner"]["max_resource"] == 30


@pytest.mark.parametrize(
    "pruner, expected",
    [
        ("{type: hyperband, min_resource: 2}", {"min_resource": 2, "reduction_factor": 3, "max_resource": 10}),
        ("{type: successive_halving}", {"min_resource": 10, "reduction_factor": 3, "min_early_stopping_rate": 0}),
        ("{type: asha, reduction_factor: 4}", {"min_resource": 10, "reduction_factor": 4}),
        ("{type: median}", {"n_startup_trials": 5, "n_warmup_steps": 0, "interval_steps": 1}),
        ("{type: none}", {}),
    ],
    ids=["hyperband", "successive_halving", "asha", "median", "none"],
)
def test_each_pruner_is_accepted_with_its_defaults(check_spec, pruner, expected):
    text = f"sweep:\n  parameters:\n    training.epochs: {{value: 5}}\n  pruner: {pruner}\n"
    result = resolved(check_spec(text))["sweep"]["pruner"]
    assert {k: result[k] for k in expected} == expected


def test_unknown_pruner_suggests_the_closest(check_spec):
    d = only(check_spec("sweep:\n  parameters:\n    training.epochs: {value: 5}\n  pruner:\n    type: hyperbnd\n"))
    assert at(d) == ("SPC004", 13, 11)
    assert "did you mean 'hyperband'?" in d.message


def test_hyperband_reduction_factor_is_at_least_two(check_spec):
    text = "sweep:\n  parameters:\n    training.epochs: {value: 5}\n  pruner:\n    type: hyperband\n    reduction_factor: 1\n"
    d = only(check_spec(text))
    assert at(d) == ("SPC004", 14, 23)


@pytest.mark.parametrize(
    "storage",
    [
        "sqlite:///study.db",
        "postgresql://user@db.example.com:5432/optuna",
        "postgresql+psycopg2://user@db/optuna",
        "postgresql+psycopg://user@db/optuna",
        "mysql://user@db/optuna",
        "mysql+pymysql://user@db/optuna",
        "journal:./optuna-journal.log",
    ],
)
def test_storage_url_forms_are_accepted(check_spec, storage):
    text = f"sweep:\n  parameters:\n    training.epochs: {{value: 5}}\n  storage: '{storage}'\n"
    assert check_spec(text).diagnostics == []


@pytest.mark.parametrize("storage", ["redis://localhost", "study.db", "sqlite://relative.db"])
def test_storage_of_another_kind_is_rejected(check_spec, storage):
    d = only(check_spec(f"sweep:\n  parameters:\n    training.epochs: {{value: 5}}\n  storage: '{storage}'\n"))
    assert at(d) == ("SPC004", 12, 12)
    assert "unsupported storage" in d.message


def test_unknown_sweep_method_suggests_the_closest(check_spec):
    d = only(check_spec("sweep:\n  method: tpee\n  parameters:\n    training.epochs: {value: 5}\n"))
    assert at(d) == ("SPC004", 10, 11)
    assert "did you mean 'tpe'?" in d.message


def test_conditional_parameter_on_a_categorical_parameter_is_accepted(check_spec):
    text = """\
        sweep:
          parameters:
            training.optimizer.name: {values: [adam, adamw]}
            training.optimizer.betas:
              value: [0.9, 0.95]
              when: {training.optimizer.name: [adam, adamw]}
        """
    assert check_spec(text).diagnostics == []


def test_conditional_parameter_is_checked_under_its_condition(check_spec):
    text = """\
        sweep:
          parameters:
            training.optimizer.name: {values: [adamw, sgd]}
            training.optimizer.momentum:
              distribution: uniform
              low: 0.5
              high: 0.95
              when: {training.optimizer.name: [sgd]}
        """
    assert check_spec(text).diagnostics == []


def test_condition_value_must_be_one_of_the_categorical_values(check_spec):
    text = """\
        sweep:
          parameters:
            data.loader.batch_size: {values: [32, 64]}
            training.optimizer.lr:
              value: 0.01
              when: {data.loader.batch_size: [32, 48]}
        """
    d = only(check_spec(text))
    assert at(d) == ("SPC014", 14, 43)
    assert "48 is not one of the values of `data.loader.batch_size`" in d.message


def test_conditional_parameter_is_checked_under_every_allowed_value(check_spec):
    text = """\
        sweep:
          parameters:
            training.optimizer.name: {values: [adamw, sgd]}
            training.optimizer.momentum:
              value: 0.9
              when: {training.optimizer.name: [sgd, adamw]}
        """
    d = only(check_spec(text))
    assert d.code == "SPC001" and "`momentum` is not allowed" in d.message


def test_condition_value_outside_the_categorical_values_is_reported_once(check_spec):
    text = """\
        sweep:
          parameters:
            training.optimizer.name: {values: [adamw, sgd]}
            training.optimizer.momentum:
              value: 0.9
              when: {training.optimizer.name: [sdg]}
        """
    d = only(check_spec(text))
    assert at(d) == ("SPC014", 14, 40)


def test_parameter_cannot_be_conditional_on_itself(check_spec):
    text = """\
        sweep:
          parameters:
            data.loader.batch_size:
              values: [32, 64]
              when: {data.loader.batch_size: [32]}
        """
    d = only(check_spec(text))
    assert at(d) == ("SPC014", 13, 14)
    assert "conditional on itself" in d.message


# --- evaluation ------------------------------------------------------------------------------------


def test_evaluation_defaults(check_spec):
    evaluation = resolved(check_spec())["evaluation"]
    assert evaluation["split"] == "test"
    assert evaluation["alpha"] == 0.05
    assert evaluation["family"] == "exploratory"
    assert evaluation["effect_size"] == "cohens_dz"
    assert evaluation["confidence"] == 0.95
    assert evaluation["resamples"] == 10_000
    assert evaluation["minimum_effect"] == 0.0
    assert evaluation["comparisons"] == []


def test_declared_correction_is_auto(minimal_spec):
    assert model_of(minimal_spec).evaluation.correction == "auto"


def test_auto_correction_is_benjamini_hochberg_for_an_exploratory_family(check_spec):
    assert resolved(check_spec("evaluation: {family: exploratory}\n"))["evaluation"]["correction"] == "bh"


def test_auto_correction_is_bonferroni_for_a_confirmatory_family(check_spec):
    assert resolved(check_spec("evaluation: {family: confirmatory}\n"))["evaluation"]["correction"] == "bonferroni"


def test_explicit_correction_is_kept(check_spec):
    assert resolved(check_spec("evaluation: {family: confirmatory, correction: holm}\n"))["evaluation"]["correction"] == "holm"


def test_evaluation_seed_defaults_to_the_global_seed(check_spec):
    assert resolved(check_spec("seeds: {global: 5}\n"))["evaluation"]["seed"] == 5


def test_baseline_expands_to_one_comparison_per_other_arm(check_spec):
    text = "variants: {small: {role: baseline}, wide: {}, deep: {}}\nevaluation: {baseline: small}\nmetrics: {primary: mcc}\n"
    comparisons = resolved(check_spec(text))["evaluation"]["comparisons"]
    assert comparisons == [
        {
            "name": f"{arm}-vs-small",
            "treatment": arm,
            "control": "small",
            "metric": "mcc",
            "test": "paired_bootstrap",
            "paired": True,
            "alternative": "two-sided",
        }
        for arm in ("wide", "deep")
    ]


def test_explicit_comparisons_are_not_replaced_by_the_baseline_expansion(check_spec):
    text = """\
        variants: {small: {}, wide: {}, deep: {}}
        evaluation:
          baseline: small
          comparisons:
            - {treatment: wide, control: small, test: permutation}
        """
    comparisons = resolved(check_spec(text))["evaluation"]["comparisons"]
    assert [(c["name"], c["metric"], c["test"]) for c in comparisons] == [("wide-vs-small", "f1_macro", "permutation")]


def test_comparison_needs_two_different_arms(check_spec):
    d = only(check_spec("variants: {a: {}, b: {}}\nevaluation:\n  comparisons:\n    - {treatment: a, control: a}\n"))
    assert at(d) == ("SPC004", 12, 31)  # at `control: a`
    assert "two different arms" in d.message


def test_mcnemar_must_be_paired(check_spec):
    comparison = "    - {treatment: a, control: b, test: mcnemar, paired: false}\n"
    d = only(check_spec("variants: {a: {}, b: {}}\nevaluation:\n  comparisons:\n" + comparison))
    assert at(d) == ("SPC004", 12, 57)  # at `paired: false`
    assert "paired" in d.message


def test_mcnemar_applies_only_to_classification(check_text):
    comparison = "    - {treatment: a, control: b, test: mcnemar}\n"
    text = spec_for_task("regression", "variants: {a: {}, b: {}}\nevaluation:\n  comparisons:\n" + comparison)
    d = only(check_text(text))
    assert at(d) == ("SPC012", 8, 40)


def test_unknown_baseline_arm_is_reported(check_spec):
    d = only(check_spec("variants: {small: {}, wide: {}}\nevaluation:\n  baseline: smal\n"))
    assert at(d) == ("SPC011", 11, 13)
    assert "did you mean 'small'?" in d.message


def test_unknown_statistical_test_suggests_the_closest(check_spec):
    comparison = "    - treatment: a\n      control: b\n      test: paired_bootstrp\n"
    d = only(check_spec("variants: {a: {}, b: {}}\nevaluation:\n  comparisons:\n" + comparison))
    assert at(d) == ("SPC004", 14, 13)
    assert "did you mean 'paired_bootstrap'?" in d.message


def test_alpha_must_be_between_zero_and_one(check_spec):
    d = only(check_spec("evaluation:\n  alpha: 1.5\n"))
    assert at(d) == ("SPC004", 10, 10)


# --- llm_judge -------------------------------------------------------------------------------------


def test_judge_defaults_to_a_pairwise_temperature_zero_judge_repeated_three_times(check_spec):
    judge = resolved(check_spec("llm_judge: {callable: 'mypkg.judge:score'}\n"))["llm_judge"]
    assert judge["mode"] == "pairwise"
    assert judge["temperature"] == 0.0
    assert judge["repeats"] == 3
    assert judge["position_swap"] is True
    assert judge["track_self_agreement"] is True


def test_judge_may_be_a_command(check_spec):
    assert check_spec("llm_judge: {command: [python, judge.py]}\n").diagnostics == []


def test_judge_needs_a_callable_or_a_command(check_spec):
    d = only(check_spec("llm_judge:\n  mode: pairwise\n"))
    assert at(d) == ("SPC004", 10, 3)
    assert "exactly one of `callable`" in d.message


def test_judge_cannot_be_both_a_callable_and_a_command(check_spec):
    d = only(check_spec("llm_judge:\n  callable: 'mypkg.judge:score'\n  command: [judge]\n"))
    assert at(d) == ("SPC004", 10, 3)
    assert "exactly one of `callable`" in d.message


def test_absolute_judge_needs_a_scale(check_spec):
    d = only(check_spec("llm_judge:\n  callable: 'mypkg.judge:score'\n  mode: absolute\n"))
    assert at(d) == ("SPC004", 11, 9)  # at `mode: absolute`
    assert "needs `scale`" in d.message


def test_absolute_judge_with_a_scale_is_accepted(check_spec):
    assert check_spec("llm_judge: {callable: 'mypkg.judge:score', mode: absolute, scale: [1, 5]}\n").diagnostics == []


def test_judge_scale_must_increase(check_spec):
    d = only(check_spec("llm_judge:\n  callable: 'mypkg.judge:score'\n  mode: absolute\n  scale: [5, 1]\n"))
    assert at(d) == ("SPC004", 12, 10)  # at `scale: [5, 1]`
    assert "low < high" in d.message


def test_judge_temperature_is_at_most_two(check_spec):
    d = only(check_spec("llm_judge:\n  callable: 'mypkg.judge:score'\n  temperature: 3\n"))
    assert at(d) == ("SPC004", 11, 16)


def test_judge_callable_must_be_a_reference(check_spec):
    d = only(check_spec("llm_judge:\n  callable: judge\n"))
    assert at(d) == ("SPC004", 10, 13)


def test_judge_human_agreement_needs_kappa_0_6_by_default(check_spec):
    text = "llm_judge:\n  callable: 'mypkg.judge:score'\n  human_agreement: {labels: labels.jsonl}\n"
    assert resolved(check_spec(text))["llm_judge"]["human_agreement"] == {"labels": "labels.jsonl", "min_kappa": 0.6}


# --- environment, pipeline, registry, deployment ----------------------------------------------------


def test_environment_defaults_to_cpu_only(check_spec):
    environment = resolved(check_spec())["environment"]
    assert environment["gpu"] == {"count": 0, "type": None}
    assert environment["python"] is None


def test_environment_python_is_a_3_x_version(check_spec):
    d = only(check_spec("environment:\n  python: '2.7'\n"))
    assert at(d) == ("SPC004", 10, 11)


def test_environment_gpu_count_is_not_negative(check_spec):
    d = only(check_spec("environment:\n  gpu: {count: -1}\n"))
    assert at(d) == ("SPC004", 10, 16)


def test_pipeline_defaults(check_spec):
    assert resolved(check_spec("pipeline: {}\n"))["pipeline"] == {
        "stages": ["ingestion", "validation", "training", "evaluation"],
        "idempotent": True,
        "cache": "content_hash",
        "data_versioning": "hash",
    }


def test_unknown_pipeline_stage_suggests_the_closest(check_spec):
    d = only(check_spec("pipeline:\n  stages: [ingestion, trainig]\n"))
    assert at(d) == ("SPC004", 10, 23)
    assert "did you mean 'training'?" in d.message


def test_pipeline_stage_must_not_repeat(check_spec):
    d = only(check_spec("pipeline:\n  stages: [training, training]\n"))
    assert at(d) == ("SPC004", 10, 11)
    assert "listed twice" in d.message


def test_registry_defaults(check_spec):
    registry = resolved(check_spec("registry: {}\n"))["registry"]
    assert registry["stages"] == ["dev", "staging", "production"]
    assert registry["required_metadata"] == ["metrics", "config", "data_version", "git_hash", "training_duration"]
    assert registry["keep_previous_production"] is True


def test_unknown_registry_stage_is_an_error(check_spec):
    d = only(check_spec("registry:\n  stages: [dev, prod]\n"))
    assert at(d) == ("SPC004", 10, 17)
    assert "expected one of: dev, staging, production" in d.message


def test_deployment_defaults_to_shadow_with_rollback(check_spec):
    deployment = resolved(check_spec("deployment: {}\n"))["deployment"]
    assert deployment["strategy"] == "shadow"
    assert deployment["rollback"] is True
    assert deployment["canary_steps"] is None
    assert all(deployment["monitoring"].values())


def test_canary_steps_are_accepted_for_a_canary(check_spec):
    assert check_spec("deployment: {strategy: canary, canary_steps: [0.05, 0.25, 1.0]}\n").diagnostics == []


@pytest.mark.parametrize("steps", ["[0.5, 0.1]", "[0.1, 0.1]", "[0.5, 1.5]", "[0, 1]", "[]"])
def test_canary_steps_must_be_increasing_fractions(check_spec, steps):
    d = only(check_spec(f"deployment:\n  strategy: canary\n  canary_steps: {steps}\n"))
    assert at(d) == ("SPC004", 11, 17)
    assert "strictly increasing fractions in (0, 1]" in d.message


def test_canary_steps_apply_only_to_the_canary_strategy(check_spec):
    d = only(check_spec("deployment:\n  strategy: blue_green\n  canary_steps: [0.5, 1.0]\n"))
    assert at(d) == ("SPC004", 11, 17)  # at `canary_steps`
    assert "only apply to the `canary` strategy" in d.message


def test_deployment_gate_defaults(check_spec):
    gate = resolved(check_spec("deployment: {gate: {metric: f1_macro}}\n"))["deployment"]["gate"]
    assert gate == {"metric": "f1_macro", "baseline": "production", "test": "paired_bootstrap", "min_improvement": 0.0, "alpha": 0.05}


def test_deployment_gate_metric_must_fit_the_task(check_spec):
    d = only(check_spec("deployment:\n  gate:\n    metric: mae\n"))
    assert at(d) == ("SPC010", 11, 13)


def test_deployment_gate_baseline_must_be_an_arm_or_production(check_spec):
    d = only(check_spec("variants: {small: {}, wide: {}}\ndeployment:\n  gate: {metric: f1_macro, baseline: smal}\n"))
    assert at(d) == ("SPC011", 11, 38)
    assert "did you mean 'small'?" in d.message


# --- the JSON Schema for editors -------------------------------------------------------------------


@pytest.fixture(scope="module")
def committed_schema() -> dict:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def test_committed_json_schema_matches_the_models():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        "schemas/experiment.schema.json is out of date with the spec models; regenerate it with "
        "`rigorml schema --generate -o schemas/experiment.schema.json`"
    )


def test_json_schema_is_a_valid_draft_2020_12_schema(committed_schema):
    jsonschema.Draft202012Validator.check_schema(committed_schema)


def _properties_without_description(schema: dict) -> list[str]:
    definitions = schema.get("$defs", {})

    def described(prop: dict) -> bool:
        if prop.get("description"):
            return True
        # A field whose description equals its model's docstring is written as a bare $ref.
        ref = prop.get("$ref", "")
        return bool(ref) and bool(definitions.get(ref.rsplit("/", 1)[-1], {}).get("description"))

    missing = []
    for owner, node in [("<root>", schema), *definitions.items()]:
        for name, prop in node.get("properties", {}).items():
            if not described(prop):
                missing.append(f"{owner}.{name}")
    return missing


def test_every_field_in_the_json_schema_has_a_description(committed_schema):
    assert _properties_without_description(committed_schema) == []


def test_every_model_in_the_json_schema_has_a_description(committed_schema):
    assert [name for name, node in committed_schema["$defs"].items() if not node.get("description")] == []


EXAMPLES = sorted(glob.glob(str(REPO / "examples" / "*.yaml")))


@pytest.mark.parametrize("example", EXAMPLES, ids=[Path(p).name for p in EXAMPLES])
def test_example_validates_against_the_json_schema(committed_schema, example):
    with open(example, encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    errors = sorted(jsonschema.Draft202012Validator(committed_schema).iter_errors(document), key=str)
    assert [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors] == []
