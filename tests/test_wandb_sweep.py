"""W&B sweep configurations: read with W&B's semantics, run as rigorml's own sweep section.

The configurations are written in the W&B documentation's format ("Sweep configuration options":
``method``, ``metric``, ``parameters`` with ``values``/``value``/``distribution``, nested
``parameters``, ``early_terminate``, ``run_cap``, ``program``/``command``). What W&B draws is taken
from the W&B sweeps package (``wandb/sweeps``, ``params.py``: ``log_uniform`` is exp(U(min, max)),
``q_uniform`` is round(U(min, max) / q) * q...); where a test compares supports it draws W&B's way
with numpy next to a real Optuna study sampling the converted section.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rigorml.compiler.cli import main
from rigorml.compiler.compose import compose
from rigorml.compiler.lint import fix_path, lint_path
from rigorml.compiler.source import parse_yaml
from rigorml.compiler.validate import validate_data
from rigorml.rules.base import BASE
from rigorml.rules.config import LintConfig
from rigorml.schemas.wandb_sweep import (
    DISTRIBUTIONS,
    EARLY_TERMINATE_KEYS,
    LAUNCH_KEYS,
    METHODS,
    METRIC_KEYS,
    PARAMETER_KEYS,
    PASSTHROUGH_KEYS,
    SWEEP_KEYS,
    convert,
)

from conftest import resolve_in_process, training_in_this_process  # the CLI's own resolve, in process

REPO = Path(__file__).resolve().parents[1]
LR = {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-2}


def converted(section: dict) -> dict:
    """The rigorml section of a W&B configuration that converts without errors."""
    conversion = convert(section)
    assert not conversion.errors, conversion.errors
    return conversion.section


def parameter(spec: dict, method: str = "random") -> dict:
    """The rigorml parameter one W&B parameter converts to."""
    return converted({"method": method, "run_cap": 10, "metric": {"name": "val/loss"}, "parameters": {"training.optimizer.lr": spec}})["parameters"][
        "training.optimizer.lr"
    ]


def warnings_of(section: dict) -> list[str]:
    return [p.message for p in convert(section).warnings]


def errors_of(section: dict) -> list[tuple[tuple, str, str]]:
    """(path, code, message and hint) of each error."""
    return [(p.path, p.code, p.message + (f" ({p.hint})" if p.hint else "")) for p in convert(section).errors]


def one_parameter(spec: dict, method: str = "random") -> dict:
    return {"method": method, "run_cap": 10, "metric": {"name": "val/loss"}, "parameters": {"model.params.x": spec}}


# --- distributions: exact conversions -------------------------------------------------------------


def test_log_uniform_takes_natural_log_exponents():
    # The W&B documentation's example: a learning rate between about 1e-4 and 0.1.
    lr = parameter({"distribution": "log_uniform", "min": -9.21, "max": -2.3})
    assert lr == {"distribution": "log_uniform", "low": math.exp(-9.21), "high": math.exp(-2.3)}
    assert lr["low"] == pytest.approx(1.0e-4, rel=1e-3) and lr["high"] == pytest.approx(0.1, rel=3e-3)


def test_log_uniform_values_takes_the_values_themselves():
    assert parameter({"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-2}) == {
        "distribution": "log_uniform",
        "low": 1e-5,
        "high": 1e-2,
    }


def test_log_uniform_with_bounds_that_look_like_values_keeps_w_and_b_semantics_and_warns():
    section = one_parameter({"distribution": "log_uniform", "min": 0.00001, "max": 0.01})
    assert converted(section)["parameters"]["model.params.x"]["low"] == pytest.approx(math.exp(0.00001))
    [warning] = warnings_of(section)
    assert "natural-log exponents" in warning and "log_uniform_values" in warning


def test_inv_log_uniform_is_log_uniform_between_exp_of_minus_max_and_exp_of_minus_min():
    # W&B: X = exp(-U(min, max)), so log X is uniform on [-max, -min].
    assert parameter({"distribution": "inv_log_uniform", "min": 2.3, "max": 9.21}) == {
        "distribution": "log_uniform",
        "low": math.exp(-9.21),
        "high": math.exp(-2.3),
    }


def test_inv_log_uniform_values_is_log_uniform_between_the_values():
    # W&B: log(1/X) uniform on [log(1/max), log(1/min)], which is log X uniform on [log min, log max].
    assert parameter({"distribution": "inv_log_uniform_values", "min": 1e-4, "max": 0.1}) == {
        "distribution": "log_uniform",
        "low": 1e-4,
        "high": 0.1,
    }


def test_uniform_and_int_uniform_convert_exactly():
    assert parameter({"distribution": "uniform", "min": 0, "max": 1}) == {"distribution": "uniform", "low": 0.0, "high": 1.0}
    assert parameter({"distribution": "int_uniform", "min": 2, "max": 8}) == {"distribution": "int", "low": 2, "high": 8}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"min": 1, "max": 10}, {"distribution": "int", "low": 1, "high": 10}),
        ({"min": 0.1, "max": 1.0}, {"distribution": "uniform", "low": 0.1, "high": 1.0}),
        ({"min": 1, "max": 2.5}, {"distribution": "uniform", "low": 1.0, "high": 2.5}),
        ({"values": ["adam", "sgd"]}, {"values": ["adam", "sgd"]}),
        ({"value": 0.5}, {"value": 0.5}),
    ],
    ids=["integer-bounds-int_uniform", "float-bounds-uniform", "mixed-bounds-uniform", "values-categorical", "value-constant"],
)
def test_a_missing_distribution_is_inferred_as_w_and_b_infers_it(spec, expected):
    assert parameter(spec) == expected
    assert warnings_of(one_parameter(spec)) == []


def test_nested_parameters_become_dotted_spec_paths():
    section = {
        "method": "random",
        "run_cap": 5,
        "parameters": {
            "training": {"parameters": {"optimizer": {"parameters": {"lr": LR, "weight_decay": {"values": [0.0, 0.01]}}}}},
            "model.params.dropout": {"min": 0.0, "max": 0.5},
        },
    }
    assert list(converted(section)["parameters"]) == [
        "training.optimizer.lr",
        "training.optimizer.weight_decay",
        "model.params.dropout",
    ]


def test_a_path_set_both_nested_and_dotted_is_an_error():
    section = {
        "method": "random",
        "parameters": {"training": {"parameters": {"epochs": {"values": [5, 10]}}}, "training.epochs": {"value": 3}},
    }
    assert [(path, code) for path, code, _ in errors_of(section)] == [(("parameters", "training.epochs"), "SPC004")]


# --- quantised distributions ----------------------------------------------------------------------


def test_q_uniform_with_bounds_on_the_grid_is_a_stepped_uniform():
    assert parameter({"distribution": "q_uniform", "min": 0.0, "max": 1.0, "q": 0.1}) == {
        "distribution": "uniform",
        "low": 0.0,
        "high": 1.0,
        "step": 0.1,
    }
    assert warnings_of(one_parameter({"distribution": "q_uniform", "min": 0.0, "max": 1.0, "q": 0.1})) == []


def test_q_uniform_with_a_whole_q_is_an_integer_grid():
    assert parameter({"distribution": "q_uniform", "min": 0, "max": 100, "q": 10}) == {
        "distribution": "int",
        "low": 0,
        "high": 100,
        "step": 10,
    }


def test_q_uniform_without_q_rounds_to_whole_numbers():
    # q defaults to 1 in W&B.
    assert parameter({"distribution": "q_uniform", "min": 1, "max": 5}) == {"distribution": "int", "low": 1, "high": 5, "step": 1}


def w_and_b_q_uniform(low: float, high: float, q: float, n: int = 200_000) -> set:
    """What W&B's q_uniform returns (wandb/sweeps params.py): np.round(U(min, max) / q) * q."""
    np = pytest.importorskip("numpy")
    draws = np.round(np.random.default_rng(0).uniform(low, high, n) / q) * q
    return {round(float(v), 9) for v in draws}


@pytest.mark.parametrize(("low", "high", "q"), [(0.3, 10.2, 1), (0, 11, 3), (0.05, 0.97, 0.1)])
def test_q_uniform_off_the_grid_searches_exactly_the_values_w_and_b_returns_and_warns(low, high, q):
    section = one_parameter({"distribution": "q_uniform", "min": low, "max": high, "q": q})
    result = converted(section)["parameters"]["model.params.x"]
    step = result["step"]
    values = []
    value = result["low"]
    while value <= result["high"] + 1e-9:
        values.append(round(value, 9))
        value += step
    assert set(values) == w_and_b_q_uniform(low, high, q)
    [warning] = warnings_of(section)
    assert "end values less likely" in warning


def test_q_log_uniform_values_with_q_1_is_a_log_scaled_integer():
    assert parameter({"distribution": "q_log_uniform_values", "min": 1, "max": 1024}) == {
        "distribution": "int_log",
        "low": 1,
        "high": 1024,
    }
    assert warnings_of(one_parameter({"distribution": "q_log_uniform_values", "min": 1, "max": 1024})) == []


def test_q_log_uniform_values_with_a_larger_q_keeps_the_multiples_and_warns_about_the_prior():
    # The W&B documentation's batch-size example: multiples of 8 between 32 and 256.
    section = one_parameter({"distribution": "q_log_uniform_values", "q": 8, "min": 32, "max": 256})
    assert converted(section)["parameters"]["model.params.x"] == {"distribution": "int", "low": 32, "high": 256, "step": 8}
    [warning] = warnings_of(section)
    assert "cannot sample multiples of a step log-uniformly" in warning and "32, 40, ..., 256 (29 values)" in warning


def test_q_log_uniform_takes_exponents_before_rounding():
    result = parameter({"distribution": "q_log_uniform", "min": 0, "max": math.log(100)})
    assert result == {"distribution": "int_log", "low": 1, "high": 100}


# --- priors Optuna cannot express -----------------------------------------------------------------


def test_normal_is_searched_uniformly_on_mu_plus_minus_two_sigma_with_a_warning():
    section = one_parameter({"distribution": "normal", "mu": 0.2, "sigma": 0.05})
    assert converted(section)["parameters"]["model.params.x"] == {"distribution": "uniform", "low": 0.1, "high": 0.3}
    [warning] = warnings_of(section)
    assert "N(0.2, 0.05^2)" in warning and "[0.1, 0.3]" in warning


def test_normal_defaults_are_w_and_bs_mu_0_sigma_1():
    assert parameter({"distribution": "normal"}) == {"distribution": "uniform", "low": -2.0, "high": 2.0}


def test_log_normal_is_searched_log_uniformly_on_exp_of_mu_plus_minus_two_sigma():
    result = parameter({"distribution": "log_normal", "mu": -6.9, "sigma": 1.0})
    assert result["distribution"] == "log_uniform"
    assert result["low"] == pytest.approx(math.exp(-8.9)) and result["high"] == pytest.approx(math.exp(-4.9))
    assert "log-normal prior" in warnings_of(one_parameter({"distribution": "log_normal", "mu": -6.9, "sigma": 1.0}))[0]


def test_q_normal_searches_the_multiples_of_q_in_mu_plus_minus_two_sigma():
    section = one_parameter({"distribution": "q_normal", "mu": 64, "sigma": 16, "q": 8})
    assert converted(section)["parameters"]["model.params.x"] == {"distribution": "int", "low": 32, "high": 96, "step": 8}
    assert len(warnings_of(section)) == 1


def test_beta_with_a_and_b_1_is_exactly_uniform_and_other_betas_warn():
    assert parameter({"distribution": "beta"}) == {"distribution": "uniform", "low": 0.0, "high": 1.0}
    assert warnings_of(one_parameter({"distribution": "beta"})) == []
    assert "Beta(2, 5)" in warnings_of(one_parameter({"distribution": "beta", "a": 2, "b": 5}))[0]


def test_equal_probabilities_are_an_exact_categorical():
    section = one_parameter({"values": [16, 32], "probabilities": [0.5, 0.5]})
    assert converted(section)["parameters"]["model.params.x"] == {"values": [16, 32]}
    assert warnings_of(section) == []


def test_unequal_probabilities_keep_the_values_and_warn_that_they_are_equally_likely():
    section = one_parameter({"values": [16, 32, 64], "probabilities": [0.5, 0.25, 0.25]})
    assert converted(section)["parameters"]["model.params.x"] == {"values": [16, 32, 64]}
    [warning] = warnings_of(section)
    assert "probability 0.333" in warning and "16: 0.5" in warning


def test_values_w_and_b_never_draws_are_left_out():
    section = one_parameter({"values": ["adam", "sgd", "rmsprop"], "probabilities": [0.5, 0.5, 0.0]})
    assert converted(section)["parameters"]["model.params.x"] == {"values": ["adam", "sgd"]}
    assert warnings_of(section) == []
    only = one_parameter({"values": ["adam", "sgd"], "probabilities": [1.0, 0.0]})
    assert converted(only)["parameters"]["model.params.x"] == {"value": "adam"}


# --- the rest of the configuration ----------------------------------------------------------------


@pytest.mark.parametrize(("wandb", "rigorml"), list(METHODS.items()))
def test_methods_map_to_rigorml_samplers(wandb, rigorml):
    section = {"method": wandb, "run_cap": 4, "metric": {"name": "val/loss"}, "parameters": {"training.epochs": {"values": [1, 2]}}}
    assert converted(section)["method"] == rigorml


def test_metric_name_and_goal_become_the_objective():
    section = {"method": "bayes", "run_cap": 9, "metric": {"name": "val/f1_macro", "goal": "maximize"}, "parameters": {"training.optimizer.lr": LR}}
    assert converted(section)["objective"] == {"metric": "val/f1_macro", "direction": "maximize"}
    assert warnings_of(section) == []


@pytest.mark.parametrize(
    ("name", "read_as"),
    [("val_loss", "val/loss"), ("validation_accuracy", "val/accuracy"), ("eval/f1", "val/f1"), ("valid-loss", "val/loss"), ("test_loss", "test/loss")],
)
def test_metric_names_with_a_split_are_read_as_split_slash_metric_with_a_warning(name, read_as):
    section = {"method": "random", "run_cap": 3, "metric": {"name": name}, "parameters": {"training.optimizer.lr": LR}}
    assert converted(section)["objective"]["metric"] == read_as
    [warning] = warnings_of(section)
    assert f"read as `{read_as}`" in warning


def test_a_metric_name_without_a_split_is_an_error_naming_the_fix():
    section = {"method": "random", "metric": {"name": "accuracy"}, "parameters": {"training.optimizer.lr": LR}}
    [(path, code, message)] = errors_of(section)
    assert (path, code) == (("metric", "name"), "SPC019") and "names no split" in message
    assert convert(section).errors[0].hint == "write `name: val/accuracy`"


def test_metric_target_is_not_used_and_says_so():
    section = {"method": "random", "run_cap": 3, "metric": {"name": "val/loss", "target": 0.1}, "parameters": {"training.optimizer.lr": LR}}
    assert "target" not in json.dumps(converted(section))
    assert any("W&B `target: 0.1` is not used" in w for w in warnings_of(section))


def test_run_cap_is_the_trial_budget():
    assert converted({"method": "random", "run_cap": 50, "parameters": {"training.optimizer.lr": LR}})["n_trials"] == 50


def test_an_open_ended_random_search_gets_rigormls_default_budget_with_a_warning():
    section = {"method": "random", "metric": {"name": "val/loss"}, "parameters": {"training.optimizer.lr": LR}}
    assert converted(section)["n_trials"] == 20
    assert any("no `run_cap`" in w for w in warnings_of(section))


def test_a_grid_without_run_cap_runs_every_combination():
    section = {
        "method": "grid",
        "metric": {"name": "val/loss"},
        "parameters": {
            "data.loader.batch_size": {"values": [32, 64, 128]},
            "training.epochs": {"distribution": "int_uniform", "min": 1, "max": 4},
            "model.params.dropout": {"distribution": "q_uniform", "min": 0.0, "max": 0.5, "q": 0.25},
            "training.optimizer.name": {"value": "adamw"},
        },
    }
    assert converted(section)["n_trials"] == 3 * 4 * 3
    assert warnings_of(section) == []


def test_a_grid_over_a_continuous_range_is_an_error():
    [(path, code, message)] = errors_of(one_parameter({"distribution": "uniform", "min": 0, "max": 1}, method="grid"))
    assert (path, code) == (("parameters", "model.params.x", "distribution"), "SPC019")
    assert "finite set of values" in message


def test_hyperband_with_min_iter_is_successive_halving_from_min_iter():
    section = {
        "method": "bayes",
        "run_cap": 30,
        "metric": {"name": "val/loss", "goal": "minimize"},
        "parameters": {"training.optimizer.lr": LR},
        "early_terminate": {"type": "hyperband", "min_iter": 3},
    }
    assert converted(section)["pruner"] == {"type": "asha", "min_resource": 3, "reduction_factor": 3, "min_early_stopping_rate": 0}
    assert warnings_of(section) == []


def test_hyperband_eta_is_the_reduction_factor():
    section = {
        "method": "random",
        "run_cap": 30,
        "metric": {"name": "val/loss"},
        "parameters": {"training.optimizer.lr": LR},
        "early_terminate": {"type": "hyperband", "min_iter": 2, "eta": 2},
    }
    assert converted(section)["pruner"]["reduction_factor"] == 2


def test_hyperband_with_max_iter_and_s_starts_at_w_and_bs_smallest_band_and_warns_about_later_rungs():
    section = {
        "method": "random",
        "run_cap": 30,
        "metric": {"name": "val/loss"},
        "parameters": {"training.optimizer.lr": LR},
        "early_terminate": {"type": "hyperband", "max_iter": 27, "s": 2, "eta": 3},
    }
    assert converted(section)["pruner"]["min_resource"] == 3  # W&B's bands: 27/3^2 = 3 and 27/3 = 9
    [warning] = warnings_of(section)
    assert "decides at epochs 3, 9" in warning and "keeps deciding at 27" in warning


@pytest.mark.parametrize(
    ("terminate", "code", "fragment"),
    [
        ({"type": "hyperband", "min_iter": 3, "eta": 2.5}, "SPC019", "use eta: 2 or 3"),
        ({"type": "hyperband", "max_iter": 27}, "SPC002", "needs `s`"),
        ({"type": "hyperband"}, "SPC002", "needs `min_iter`"),
        ({"type": "envelope", "min_iter": 3}, "SPC004", "W&B has `hyperband`"),
    ],
    ids=["fractional-eta", "max-iter-without-s", "no-bands", "unknown-type"],
)
def test_early_terminate_problems_are_errors(terminate, code, fragment):
    section = {"method": "random", "metric": {"name": "val/loss"}, "parameters": {"training.optimizer.lr": LR}, "early_terminate": terminate}
    [(_, found, message)] = errors_of(section)
    assert found == code and fragment in message


def test_no_early_terminate_means_no_pruning_as_in_w_and_b():
    assert converted({"method": "random", "run_cap": 4, "parameters": {"training.optimizer.lr": LR}})["pruner"] == {"type": "none"}


@pytest.mark.parametrize("key", ["program", "command", "project", "entity"])
def test_launch_settings_are_not_used_and_each_says_so(key):
    value = ["${env}", "python", "${program}", "${args}"] if key == "command" else "x"
    section = {key: value, "method": "random", "run_cap": 2, "metric": {"name": "val/loss"}, "parameters": {"training.optimizer.lr": LR}}
    assert key not in converted(section)
    [problem] = convert(section).warnings
    assert problem.path == (key,) and "not used" in problem.message


def test_the_sweep_name_is_the_study_name_and_the_description_is_a_note():
    section = {"name": "lr-sweep", "description": "tune lr", "method": "random", "run_cap": 2, "parameters": {"training.optimizer.lr": LR}}
    conversion = convert(section)
    assert conversion.section["study_name"] == "lr-sweep" and "description" not in conversion.section
    assert conversion.notes[()] == ["W&B description: tune lr"]


def test_rigormls_own_settings_may_sit_beside_the_w_and_b_keys():
    section = {
        "method": "random",
        "run_cap": 8,
        "metric": {"name": "val/loss"},
        "parameters": {"training.optimizer.lr": LR},
        "final_validation": {"seeds": 7},
        "storage": "sqlite:///study.db",
        "workers": 2,
    }
    result = converted(section)
    assert (result["final_validation"], result["storage"], result["workers"]) == ({"seeds": 7}, "sqlite:///study.db", 2)


@pytest.mark.parametrize(
    ("section", "path", "code"),
    [
        ({"method": "random", "metrics": [{"name": "val/loss"}, {"name": "val/f1_macro"}], "parameters": {"training.optimizer.lr": LR}}, ("metrics",), "SPC019"),
        ({"method": "custom", "parameters": {"training.optimizer.lr": LR}}, ("method",), "SPC019"),
        ({"method": "bayes", "parameters": {"training.optimizer.lr": LR}}, (), "SPC002"),
        ({"method": "random", "parameters": {"learning_rate": LR}}, ("parameters", "learning_rate"), "SPC013"),
        ({"method": "random", "objective": {"metric": "val/loss"}, "parameters": {"training.optimizer.lr": LR}}, ("objective",), "SPC001"),
        ({"method": "random", "parameters": {"training.optimizer.lr": {"low": 0.1, "high": 1.0}}}, ("parameters", "training.optimizer.lr", "low"), "SPC001"),
    ],
    ids=["several-metrics", "custom-method", "bayes-without-metric", "script-argument", "rigorml-spelling", "low-high"],
)
def test_what_rigorml_cannot_express_is_a_located_error(section, path, code):
    assert (path, code) in [(p, c) for p, c, _ in errors_of(section)]


def test_a_script_argument_name_suggests_the_spec_path():
    [problem] = convert({"method": "random", "parameters": {"learning_rate": LR}}).errors
    assert "did you mean `training.optimizer.lr`?" in problem.message


def test_unknown_keys_get_a_did_you_mean():
    errors = errors_of({"method": "random", "run_cap": 3, "metric": {"name": "val/loss"}, "parametres": {"training.optimizer.lr": LR}})
    assert ((("parametres",), "SPC001")) in [(path, code) for path, code, _ in errors]
    assert "did you mean 'parameters'?" in errors[0][2]


def test_converting_never_raises_on_odd_input():
    for section in (None, [], {"method": ["random"]}, {"parameters": {"x": {"distribution": ["uniform"]}}}, {"method": "random", "parameters": {"a.b": {"distribution": "log_uniform", "min": 0, "max": 1e6}}}):
        convert(section)


# --- in a spec: located, validated, resolved, linted, compiled ------------------------------------


SPEC = BASE + textwrap.dedent(
    """\
    training:
      epochs: 3
    sweep:
      format: wandb
      program: train.py
      method: bayes
      run_cap: 12
      metric:
        name: val_loss
        goal: minimize
      parameters:
        training:
          parameters:
            optimizer:
              parameters:
                lr:
                  distribution: log_uniform
                  min: -9.21
                  max: -2.3
        data.loader.batch_size:
          values: [32, 64, 128]
      early_terminate:
        type: hyperband
        min_iter: 1
    """
)


def validated(path, *overrides):
    composed = compose(str(path), list(overrides))
    assert not composed.diagnostics
    return validate_data(composed.data, composed.source_map)


def test_a_spec_with_a_w_and_b_sweep_validates(write_spec):
    result = validated(write_spec(SPEC))
    assert result.diagnostics == []
    assert result.spec.sweep.method == "tpe" and result.spec.sweep.pruner.type == "asha"
    assert [w.code for w in result.warnings] == ["HPO016", "HPO016"]  # program; val_loss


def test_resolve_prints_the_converted_rigorml_section(write_spec):
    sweep = resolve_in_process(write_spec(SPEC))["sweep"]
    assert sweep["format"] == "rigorml" and sweep["method"] == "tpe" and sweep["n_trials"] == 12
    assert sweep["objective"] == {"metric": "val/loss", "direction": "minimize"}
    lr = sweep["parameters"]["training.optimizer.lr"]
    assert (lr["distribution"], lr["low"], lr["high"]) == ("log_uniform", math.exp(-9.21), math.exp(-2.3))
    assert sweep["pruner"] == {"type": "asha", "min_resource": 1, "reduction_factor": 3, "min_early_stopping_rate": 0}


def test_overrides_address_the_w_and_b_keys(write_spec):
    assert resolve_in_process(write_spec(SPEC), "sweep.run_cap=4")["sweep"]["n_trials"] == 4


def test_conversion_errors_are_located_at_the_w_and_b_text_with_the_rest_of_the_spec(write_spec):
    text = SPEC.replace("method: bayes", "method: bayse").replace("epochs: 3", "epochs: 3\n  precision: fp33")
    result = validated(write_spec(text))
    found = [(d.span.line, d.span.col, d.code) for d in result.diagnostics]
    assert found == [(11, 14, "SPC004"), (15, 11, "SPC004")]  # the precision, and the method
    assert "did you mean 'bayes'?" in result.diagnostics[1].message


def test_a_later_validation_error_points_at_the_w_and_b_value(write_spec):
    text = SPEC.replace("values: [32, 64, 128]", "values: [32, -64, 128]")
    [problem] = validated(write_spec(text)).diagnostics
    assert (problem.span.line, problem.span.col) == (29, 20)  # the -64 item
    assert "data.loader.batch_size" in problem.message


def test_a_nested_path_that_does_not_exist_is_reported_at_its_w_and_b_key(write_spec):
    [problem] = validated(write_spec(SPEC.replace("            lr:", "            lrr:"))).diagnostics
    assert problem.code == "SPC013" and (problem.span.line, problem.span.col) == (24, 13)
    assert "did you mean 'lr'?" in problem.message


def test_an_unknown_format_gets_a_did_you_mean(write_spec):
    [problem] = validated(write_spec(SPEC.replace("format: wandb", "format: wandbb"))).diagnostics
    assert problem.code == "SPC004" and "did you mean 'wandb'?" in problem.message and problem.span.line == 12


def test_lint_reports_the_approximations_as_hpo016_at_the_w_and_b_text(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC, encoding="utf-8")
    report = lint_path(str(path), LintConfig(select=["HPO016"]))
    assert [(d.code, d.severity.value, d.span.line, d.span.col) for d in report.diagnostics] == [
        ("HPO016", "warning", 13, 3),  # program
        ("HPO016", "warning", 17, 11),  # val_loss
    ]


def test_hpo016_is_suppressed_like_any_rule(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC.replace("program: train.py", "program: train.py  # rigorml: ignore[HPO016]"), encoding="utf-8")
    report = lint_path(str(path), LintConfig(select=["HPO016"]))
    assert [d.span.line for d in report.diagnostics] == [17]


def test_no_fix_writes_rigorml_vocabulary_into_a_w_and_b_section(tmp_path):
    # HPO003 would fix `distribution: uniform` to `log_uniform`, which in W&B means exponents.
    text = SPEC.replace("distribution: log_uniform\n", "distribution: uniform\n").replace("min: -9.21", "min: 0.00001").replace("max: -2.3", "max: 0.01")
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    report = lint_path(str(path), LintConfig(select=["HPO003"]))
    [finding] = report.diagnostics
    assert finding.fix is None and finding.span.line == 25  # the W&B `distribution: uniform`
    assert fix_path(str(path), LintConfig(select=["HPO003"]), unsafe=True)[1] == {}


def test_a_fix_on_a_value_both_dialects_spell_the_same_applies(tmp_path):
    text = SPEC.replace("name: val_loss", "name: val/accuracy").replace("goal: minimize", "goal: minimize  # wrong")
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    _, changes = fix_path(str(path), LintConfig(select=["HPO013"]), unsafe=False)
    assert changes[str(path)][1] == text.replace("goal: minimize", "goal: maximize")


def test_compile_writes_the_converted_sweep(tmp_path, capsys):
    pytest.importorskip("jinja2")
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    rc = main(["compile", str(spec), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "HPO016" in err  # compile lints, and shows the warnings
    config = json.loads((tmp_path / "out" / "config.resolved.json").read_text())
    assert config["sweep"]["method"] == "tpe" and config["sweep"]["pruner"]["type"] == "asha"
    assert (tmp_path / "out" / "sweep.py").exists()


def test_validating_a_w_and_b_spec_imports_no_pydantic(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    code = (
        "import sys\n"
        "from rigorml.compiler.cli import main\n"
        f"assert main(['validate', '-q', {str(spec)!r}]) == 0\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'torch', 'optuna', 'scipy', 'numpy')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_committed_json_schema_accepts_a_w_and_b_sweep():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((REPO / "schemas" / "experiment.schema.json").read_text(encoding="utf-8"))
    document, _ = parse_yaml(SPEC, "spec.yaml")
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(document.data)) == []
    document.data["sweep"]["metric"]["goall"] = "minimize"
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(document.data))


def test_the_json_schema_models_and_the_converter_know_the_same_keys():
    from rigorml.schemas.sweep import WandbEarlyTerminate, WandbMetric, WandbParameter, WandbSweep

    def keys(model):
        return {info.alias or name for name, info in model.model_fields.items()}

    assert keys(WandbSweep) == {"format", *SWEEP_KEYS, *LAUNCH_KEYS, *PASSTHROUGH_KEYS}
    assert keys(WandbParameter) == set(PARAMETER_KEYS)
    assert keys(WandbMetric) == set(METRIC_KEYS)
    assert keys(WandbEarlyTerminate) == set(EARLY_TERMINATE_KEYS)
    assert set(WandbParameter.model_fields["distribution"].annotation.__args__[0].__args__) == set(DISTRIBUTIONS)
    assert set(WandbSweep.model_fields["method"].annotation.__args__) == set(METHODS)


# --- the converted section in a real Optuna study ----------------------------------------------


def sample(parameters: dict, n: int) -> list[dict]:
    optuna = pytest.importorskip("optuna")
    from rigorml.runtime.sweep import suggest

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    out = []
    for _ in range(n):
        trial = study.ask()
        out.append(suggest(trial, parameters))
        study.tell(trial, 0.0)
    return out


def test_optuna_samples_the_converted_log_uniform_over_w_and_bs_range(write_spec):
    sweep = resolve_in_process(write_spec(SPEC))["sweep"]
    draws = [d["training.optimizer.lr"] for d in sample(sweep["parameters"], 400)]
    assert min(draws) >= math.exp(-9.21) and max(draws) <= math.exp(-2.3)
    # Log-uniform: each of the three decades 1e-4..1e-1 gets about a third of the draws.
    below = sum(d < 1e-3 for d in draws) / len(draws)
    assert 0.25 < below < 0.42


def test_optuna_samples_a_quantised_conversion_on_w_and_bs_grid(write_spec):
    text = SPEC.replace("values: [32, 64, 128]", "distribution: q_uniform\n      min: 16\n      max: 128\n      q: 16")
    parameters = resolve_in_process(write_spec(text))["sweep"]["parameters"]
    draws = {d["data.loader.batch_size"] for d in sample(parameters, 300)}
    assert draws == set(range(16, 129, 16))


@pytest.fixture
def in_process_training():
    """Training in this process changes PYTHONHASHSEED and the SIGTERM handler: put them back."""
    with training_in_this_process():
        yield


def test_a_w_and_b_sweep_runs_as_an_optuna_study(tmp_path, write_spec, in_process_training):
    pytest.importorskip("optuna")
    from rigorml.runtime.sweep import run_sweep

    text = SPEC.replace("run_cap: 12", "run_cap: 2").replace("model:\n  source: builtin:mlp", "model:\n  source: builtin:mlp\n  params: {hidden_sizes: [16]}")
    text += "tracking:\n  system_metrics: false\n  capture: {git_commit: false, git_dirty: false, git_diff: false, environment: false}\n"
    text = text.replace("  epochs: 3", "  epochs: 2\n  deterministic: false")
    resolved = resolve_in_process(write_spec(text))
    study = run_sweep(resolved, tmp_path / "sweep", base_dir=tmp_path)
    assert len(study.trials) == 2
    assert type(study.pruner).__name__ == "SuccessiveHalvingPruner"
    assert all(math.exp(-9.21) <= t.params["training.optimizer.lr"] <= math.exp(-2.3) for t in study.trials)


# --- rigorml import wandb-sweep --------------------------------------------------------------------


WANDB_FILE = """\
program: train.py
name: digits-sweep
method: bayes
metric:
  name: val/f1_macro
  goal: maximize
run_cap: 30
parameters:
  training.optimizer.lr:
    distribution: log_uniform
    min: -9.21
    max: -2.3
  data.loader.batch_size:
    distribution: q_log_uniform_values
    q: 8
    min: 32
    max: 256
  model:
    parameters:
      params:
        parameters:
          dropout:
            distribution: normal
            mu: 0.2
            sigma: 0.05
early_terminate:
  type: hyperband
  min_iter: 2
  eta: 3
command:
  - ${env}
  - python
  - ${program}
  - ${args}
"""


def run(capsys, *args):
    try:
        rc = main([str(a) for a in args])
    except SystemExit as exc:
        rc = exc.code if isinstance(exc.code, int) else 2
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def test_import_prints_a_rigorml_sweep_section_that_validates_in_a_spec(tmp_path, capsys):
    source = tmp_path / "sweep.yaml"
    source.write_text(WANDB_FILE, encoding="utf-8")
    rc, out, err = run(capsys, "import", "wandb-sweep", source)
    assert rc == 0, err
    document, problems = parse_yaml(out, "out.yaml")
    assert not problems
    sweep = document.data["sweep"]
    assert "format" not in sweep and sweep["method"] == "tpe" and sweep["study_name"] == "digits-sweep"
    assert sweep["parameters"]["training.optimizer.lr"]["low"] == math.exp(-9.21)
    spec = tmp_path / "spec.yaml"
    spec.write_text(BASE + out, encoding="utf-8")
    result = validated(spec)
    assert result.diagnostics == [] and result.warnings == ()
    # Each approximation is a comment in the output and a located warning on standard error.
    assert "# HPO016 warning: a normal prior cannot be expressed" in out
    assert "# W&B `log_uniform` takes natural-log exponents: exp(-9.21) = 0.000100034" in out
    assert f"{source}:1:1: HPO016 [warning] W&B `program` is not used" in err
    assert f"{source}:23:27: HPO016 [warning] a normal prior" in err


def test_import_writes_the_section_to_a_file_with_o(tmp_path, capsys):
    source = tmp_path / "sweep.yaml"
    source.write_text(WANDB_FILE, encoding="utf-8")
    rc, out, _ = run(capsys, "import", "wandb-sweep", source, "-o", tmp_path / "section.yaml")
    assert rc == 0 and out == ""
    assert (tmp_path / "section.yaml").read_text(encoding="utf-8").startswith("# rigorml sweep section converted from")


def test_import_of_an_unusable_file_exits_2_with_located_errors_and_writes_nothing(tmp_path, capsys):
    source = tmp_path / "sweep.yaml"
    source.write_text(WANDB_FILE.replace("name: val/f1_macro", "name: f1").replace("training.optimizer.lr:", "learning_rate:"), encoding="utf-8")
    rc, out, err = run(capsys, "import", "wandb-sweep", source, "-o", tmp_path / "section.yaml")
    assert rc == 2 and out == ""
    assert f"{source}:5:9: SPC019 W&B metric 'f1' names no split" in err
    assert f"{source}:9:3: SPC013 W&B parameter `learning_rate`" in err
    assert not (tmp_path / "section.yaml").exists()


def test_import_checks_paths_against_the_spec_model(tmp_path, capsys):
    source = tmp_path / "sweep.yaml"
    source.write_text("method: random\nrun_cap: 5\nparameters:\n  training.optimizer.lrr: {min: 0.1, max: 0.5}\n", encoding="utf-8")
    rc, _, err = run(capsys, "import", "wandb-sweep", source)
    assert rc == 2
    assert f"{source}:4:3: SPC013" in err and "did you mean 'lr'?" in err


def test_import_of_a_spec_writes_the_section_its_w_and_b_sweep_runs_as(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    rc, out, err = run(capsys, "import", "wandb-sweep", spec)
    assert rc == 0, err
    assert f"{spec}:17:11: HPO016 [warning] W&B metric 'val_loss' is read as `val/loss`" in err
    imported = tmp_path / "imported.yaml"
    imported.write_text(BASE + "training:\n  epochs: 3\n" + out, encoding="utf-8")
    assert resolve_in_process(imported)["sweep"] == resolve_in_process(spec)["sweep"]


def test_import_of_a_missing_file_exits_2(tmp_path, capsys):
    rc, out, err = run(capsys, "import", "wandb-sweep", tmp_path / "absent.yaml")
    assert rc == 2 and out == "" and "YML013" in err


def test_import_help_describes_the_command(capsys):
    rc, out, _ = run(capsys, "import", "--help")
    assert rc == 0 and "wandb-sweep" in out and "docs/wandb-sweeps.md" in out
