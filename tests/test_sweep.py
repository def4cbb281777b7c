"""Sweeps: the spec's ``sweep`` section as a real Optuna study over real training runs.

Samplers, pruners and the search space are checked on real Optuna objects and trials. Sweeps train a
small MLP on scikit-learn's digits for three epochs, in this process (so the study can be inspected;
the specs turn ``training.deterministic`` off, a process-wide setting, and the fixture puts back what
the runtime changes), except the generated ``sweep.py``, which runs as a user runs it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import training_in_this_process

optuna = pytest.importorskip("optuna")
pytest.importorskip("torch")

from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution  # noqa: E402
from optuna.trial import TrialState  # noqa: E402

from rigorml.compiler.compose import compose  # noqa: E402
from rigorml.compiler.resolve import resolve_spec  # noqa: E402
from rigorml.compiler.validate import validate_data  # noqa: E402
from rigorml.runtime.sweep import (  # noqa: E402
    BEST_FILE,
    build_pruner,
    build_sampler,
    decision_order,
    grid_search_space,
    run_sweep,
    suggest,
    trial_config,
    trial_params,
)
from rigorml.schemas.spec import Spec  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "examples" / "quickstart.yaml"

#: The quickstart, made small: 3 epochs of a 16-unit MLP, no variants, records without git or system
#: samples (the tests' working tree is not what they test). The sweep section is each test's.
SPEC = """\
version: 1
experiment: {name: sweep-test, task: classification}
seeds: {global: 42, replicates: 2}
data:
  source: builtin:digits
  loader: {batch_size: 128}
model:
  source: builtin:mlp
  params: {hidden_sizes: [16]}
training:
  epochs: 3
  optimizer: {name: adamw, lr: 0.01}
  deterministic: false
metrics: {primary: f1_macro}
tracking:
  group: sweep-group
  system_metrics: false
  capture: {git_commit: false, git_dirty: false, git_diff: false, environment: false}
"""

LR = {"distribution": "log_uniform", "low": 0.0001, "high": 0.05}


def resolved_spec(tmp_path: Path, sweep: dict, text: str = SPEC) -> dict:
    """The resolved form of ``text`` with ``sweep`` as its sweep section (validated like compile does)."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(text + yaml.safe_dump({"sweep": sweep}, sort_keys=False), encoding="utf-8")
    composed = compose(str(spec), [])
    assert not composed.diagnostics, composed.diagnostics
    validated = validate_data(composed.data, composed.source_map)
    assert not validated.diagnostics, [d.message for d in validated.diagnostics]
    return resolve_spec(Spec.model_validate(composed.data))[1]


def sweep_section(tmp_path: Path, **fields) -> dict:
    """A resolved sweep section (every default filled in) from a few fields."""
    return resolved_spec(tmp_path, {"parameters": {"training.optimizer.lr": LR}, **fields})["sweep"]


@pytest.fixture
def in_process_training():
    """Training in this process changes PYTHONHASHSEED and the SIGTERM handler: put them back.
    One torch thread: a 16-unit MLP gains nothing from more, and loses much on a busy machine."""
    with training_in_this_process():
        yield


def sample(parameters: dict, n: int, seed: int = 0) -> list[tuple[dict, optuna.trial.FrozenTrial]]:
    """``n`` trials of ``parameters`` from a seeded random sampler: (what suggest returned, the trial)."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    out = []
    for _ in range(n):
        trial = study.ask()
        chosen = suggest(trial, parameters)
        study.tell(trial, 0.0)
        out.append((chosen, study.trials[-1]))
    return out


def trial_dirs(sweep_dir: Path) -> list[Path]:
    return sorted(sweep_dir.glob("trial-*"), key=lambda path: int(path.name.split("-")[1]))


# --- samplers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "cls"),
    [("tpe", "TPESampler"), ("bayes", "TPESampler"), ("random", "RandomSampler")],
)
def test_each_method_builds_its_optuna_sampler(tmp_path, method, cls):
    sweep = sweep_section(tmp_path, method=method)
    assert type(build_sampler(sweep, 0)).__name__ == cls


def test_tpe_carries_the_spec_sampler_settings(tmp_path):
    options = {"n_startup_trials": 4, "multivariate": True, "group": True, "constant_liar": True}
    sampler = build_sampler(sweep_section(tmp_path, method="tpe", sampler=options), 7)
    assert isinstance(sampler, optuna.samplers.TPESampler)
    assert (sampler._n_startup_trials, sampler._multivariate, sampler._group, sampler._constant_liar) == (4, True, True, True)


def test_tpe_groups_only_a_multivariate_model(tmp_path):
    options = {"multivariate": False, "group": True}
    sampler = build_sampler(sweep_section(tmp_path, method="tpe", sampler=options), 7)
    assert (sampler._multivariate, sampler._group) == (False, False)


@pytest.mark.parametrize("method", ["tpe", "random"])
def test_the_sampler_seed_makes_the_draws_repeatable(tmp_path, method):
    parameters = {"training.optimizer.lr": LR, "data.loader.batch_size": {"distribution": "categorical", "values": [32, 64]}}
    sweep = {**sweep_section(tmp_path, method=method), "parameters": parameters}

    def draws(seed):
        study = optuna.create_study(sampler=build_sampler(sweep, seed))
        study.optimize(lambda trial: suggest(trial, parameters)["training.optimizer.lr"], n_trials=4)
        return [trial.params for trial in study.trials]

    assert draws(3) == draws(3)
    assert draws(3) != draws(4)


def test_grid_enumerates_categorical_integer_and_stepped_values(tmp_path):
    parameters = {
        "data.loader.batch_size": {"distribution": "categorical", "values": [32, 64], "when": None},
        "model.params.hidden_sizes.0": {"distribution": "int", "low": 8, "high": 30, "step": 8, "when": None},
        "model.params.dropout": {"distribution": "uniform", "low": 0.0, "high": 0.3, "step": 0.1, "when": None},
        "training.optimizer.lr": {"distribution": "constant", "value": 0.01, "when": None},
    }
    assert grid_search_space(parameters) == {
        "data.loader.batch_size": [32, 64],
        "model.params.hidden_sizes.0": [8, 16, 24],
        "model.params.dropout": [0.0, 0.1, 0.2, 0.3],
    }
    sweep = {**sweep_section(tmp_path, method="grid"), "parameters": parameters}
    sampler = build_sampler(sweep, 0)
    assert isinstance(sampler, optuna.samplers.GridSampler)
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda trial: float(len(suggest(trial, parameters))), n_trials=100)
    assert len(study.trials) == 2 * 3 * 4  # every combination once, then the grid stops the study
    assert len({tuple(sorted(t.params.items())) for t in study.trials}) == 24


def test_grid_over_a_continuous_parameter_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match=r"`training.optimizer.lr` is log_uniform \(continuous\).*values: \[\.\.\.\]"):
        build_sampler(sweep_section(tmp_path, method="grid"), 0)


def test_cmaes_builds_optunas_cma_es_sampler(tmp_path):
    pytest.importorskip("cmaes")
    sampler = build_sampler(sweep_section(tmp_path, method="cmaes", sampler={"n_startup_trials": 3}), 0)
    assert isinstance(sampler, optuna.samplers.CmaEsSampler) and sampler._n_startup_trials == 3


def test_cmaes_without_the_cmaes_package_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "cmaes", None)  # as if it were not installed
    with pytest.raises(ValueError, match="pip install cmaes"):
        build_sampler(sweep_section(tmp_path, method="cmaes"), 0)


# --- pruners -------------------------------------------------------------------------------------


def test_hyperband_takes_the_spec_settings_and_auto_max_resource_is_the_epochs(tmp_path):
    sweep = sweep_section(tmp_path, pruner={"type": "hyperband", "min_resource": 1, "reduction_factor": 2})
    pruner = build_pruner(sweep, epochs=3)
    assert isinstance(pruner, optuna.pruners.HyperbandPruner)
    assert (pruner._min_resource, pruner._max_resource, pruner._reduction_factor) == (1, 3, 2)
    unresolved = {**sweep, "pruner": {**sweep["pruner"], "max_resource": "auto"}}
    assert build_pruner(unresolved, epochs=9)._max_resource == 9


@pytest.mark.parametrize("kind", ["successive_halving", "asha"])
def test_successive_halving_and_asha_take_the_spec_settings(tmp_path, kind):
    section = {"type": kind, "min_resource": 2, "reduction_factor": 4, "min_early_stopping_rate": 1}
    pruner = build_pruner(sweep_section(tmp_path, pruner=section), epochs=3)
    assert isinstance(pruner, optuna.pruners.SuccessiveHalvingPruner)
    assert (pruner._min_resource, pruner._reduction_factor, pruner._min_early_stopping_rate) == (2, 4, 1)


def test_median_takes_the_spec_settings(tmp_path):
    section = {"type": "median", "n_startup_trials": 2, "n_warmup_steps": 1, "interval_steps": 2}
    pruner = build_pruner(sweep_section(tmp_path, pruner=section), epochs=3)
    assert isinstance(pruner, optuna.pruners.MedianPruner)
    assert (pruner._n_startup_trials, pruner._n_warmup_steps, pruner._interval_steps) == (2, 1, 2)


def test_pruner_none_is_optunas_nop_pruner(tmp_path):
    assert isinstance(build_pruner(sweep_section(tmp_path, pruner={"type": "none"}), epochs=3), optuna.pruners.NopPruner)


# --- the search space ----------------------------------------------------------------------------

SPACE = {
    "training.optimizer.lr": {"distribution": "log_uniform", "low": 1e-5, "high": 1e-1, "when": None},
    "model.params.dropout": {"distribution": "uniform", "low": 0.0, "high": 0.5, "step": 0.125, "when": None},
    "model.params.hidden_sizes.0": {"distribution": "int", "low": 8, "high": 70, "step": 8, "when": None},
    "training.epochs": {"distribution": "int_log", "low": 1, "high": 64, "when": None},
    "data.loader.batch_size": {"distribution": "categorical", "values": [32, 64, 128], "when": None},
    "training.optimizer.name": {"distribution": "constant", "value": "adamw", "when": None},
}


def test_each_distribution_is_optunas_own():
    _, trial = sample(SPACE, 1)[0]
    d = trial.distributions
    assert d["training.optimizer.lr"] == FloatDistribution(1e-5, 1e-1, log=True)
    assert d["model.params.dropout"] == FloatDistribution(0.0, 0.5, step=0.125)
    assert d["model.params.hidden_sizes.0"] == IntDistribution(8, 64, step=8)  # the last value on the grid
    assert d["training.epochs"] == IntDistribution(1, 64, log=True)
    assert d["data.loader.batch_size"] == CategoricalDistribution((32, 64, 128))


def test_suggest_returns_values_by_dotted_path_within_their_ranges():
    for chosen, trial in sample(SPACE, 30):
        assert set(chosen) == set(SPACE)
        assert 1e-5 <= chosen["training.optimizer.lr"] <= 1e-1
        assert chosen["model.params.dropout"] in (0.0, 0.125, 0.25, 0.375, 0.5)
        assert chosen["model.params.hidden_sizes.0"] in range(8, 71, 8)  # step-aligned: 8, 16, ... 64
        assert 1 <= chosen["training.epochs"] <= 64 and isinstance(chosen["training.epochs"], int)
        assert chosen["data.loader.batch_size"] in (32, 64, 128)


def test_a_constant_is_recorded_on_the_trial_but_not_searched():
    chosen, trial = sample(SPACE, 1)[0]
    assert chosen["training.optimizer.name"] == "adamw"
    assert trial.user_attrs["training.optimizer.name"] == "adamw"
    assert "training.optimizer.name" not in trial.distributions


CONDITIONAL = {
    # Named so that the condition sorts after the parameter it switches: the order must not matter.
    "a.weight_decay": {
        "distribution": "log_uniform", "low": 1e-6, "high": 1e-2, "when": {"z.flag": [True]},
    },
    "a.beta1": {
        "distribution": "uniform", "low": 0.8, "high": 0.99, "step": None, "when": {"optimizer": ["adam", "adamw"]},
    },
    "optimizer": {"distribution": "categorical", "values": ["adam", "adamw", "sgd"], "when": None},
    "z.flag": {"distribution": "categorical", "values": [True, False], "when": None},
}  # fmt: skip


def test_conditions_are_decided_before_the_parameters_they_switch():
    order = decision_order(CONDITIONAL)
    assert order.index("z.flag") < order.index("a.weight_decay")
    assert order.index("optimizer") < order.index("a.beta1")


def test_a_conditional_parameter_is_sampled_only_when_its_condition_holds():
    seen = set()
    for chosen, trial in sample(CONDITIONAL, 40):
        assert ("a.weight_decay" in chosen) == chosen["z.flag"]
        assert ("a.beta1" in chosen) == (chosen["optimizer"] in ("adam", "adamw"))
        assert set(trial.params) == set(chosen)  # not suggested at all, not merely dropped
        seen.add((chosen["z.flag"], chosen["optimizer"] == "sgd"))
    assert len(seen) == 4  # both sides of both conditions were tried


def test_conditions_that_form_a_cycle_are_refused():
    cycle = {
        "a": {"distribution": "categorical", "values": [1, 2], "when": {"b": [1]}},
        "b": {"distribution": "categorical", "values": [1, 2], "when": {"a": [1]}},
    }
    with pytest.raises(ValueError, match="form a cycle"):
        decision_order(cycle)


def test_list_valued_categoricals_come_back_as_lists():
    space = {"model.params.hidden_sizes": {"distribution": "categorical", "values": [[16], [32, 16]], "when": None}}
    for chosen, trial in sample(space, 6):
        assert chosen["model.params.hidden_sizes"] in ([16], [32, 16])
        assert trial_params(trial, space) == chosen


def test_trial_params_reads_back_what_suggest_chose():
    for chosen, trial in sample({**SPACE, **CONDITIONAL}, 10):
        assert trial_params(trial, {**SPACE, **CONDITIONAL}) == chosen


def test_trial_config_sets_the_dotted_paths_of_the_base_configuration(tmp_path):
    resolved = resolved_spec(tmp_path, {"parameters": {"training.optimizer.lr": LR}})
    resolved["variants"] = {"wide": {"role": "treatment", "description": "", "overrides": {"model.params.hidden_sizes": [64]}}}
    before = json.dumps(resolved, sort_keys=True)
    config = trial_config(resolved, {"training.optimizer.lr": 0.002, "model.params.hidden_sizes.0": 24, "flag.x": True})
    assert config["training"]["optimizer"]["lr"] == 0.002
    assert config["model"]["params"]["hidden_sizes"] == [24]  # the base's, not the variant's
    assert config["variants"] == {} and "flag" not in config
    assert json.dumps(resolved, sort_keys=True) == before


# --- sweeps over real training -------------------------------------------------------------------


def test_a_sweep_completes_its_trials_and_writes_best_json(tmp_path, in_process_training):
    resolved = resolved_spec(
        tmp_path,
        {
            "method": "random",
            "n_trials": 3,
            "objective": {"metric": "val/f1_macro", "direction": "maximize"},
            "parameters": {"training.optimizer.lr": LR, "data.loader.batch_size": {"values": [32, 64]}},
            "pruner": {"type": "none"},
        },
    )
    study = run_sweep(resolved, tmp_path / "sweep")
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 3
    assert study.study_name == "sweep-test" and study.direction.name == "MAXIMIZE"
    best = json.loads((tmp_path / "sweep" / BEST_FILE).read_text())
    assert best["trials"] == {"total": 3, "complete": 3, "pruned": 0, "failed": 0, "running": 0}
    assert best["best"]["trial"] == study.best_trial.number and best["best"]["value"] == study.best_value
    assert best["best"]["params"] == study.best_params
    assert (tmp_path / "sweep" / "study.db").exists()
    # Each trial trained the configuration it sampled, at the first replicate seed.
    for trial in study.trials:
        config = json.loads((tmp_path / "sweep" / f"trial-{trial.number}" / "config.resolved.json").read_text())
        assert config["training"]["optimizer"]["lr"] == trial.params["training.optimizer.lr"]
        assert config["data"]["loader"]["batch_size"] == trial.params["data.loader.batch_size"]
        result = json.loads((tmp_path / "sweep" / f"trial-{trial.number}" / "result.json").read_text())
        assert result["replicate"] == 0 and result["metrics"]["val/f1_macro"] == trial.value


def test_trials_never_look_at_the_test_split(tmp_path, in_process_training):
    resolved = resolved_spec(tmp_path, {"method": "random", "n_trials": 2, "parameters": {"training.optimizer.lr": LR}})
    run_sweep(resolved, tmp_path / "sweep")
    from rigorml.runtime.tracking import read_metrics

    for directory in trial_dirs(tmp_path / "sweep"):
        assert [p.name for p in (directory / "predictions").iterdir()] == ["val.npz"]
        logged = {name for record in read_metrics(directory) for name in record["metrics"]}
        assert logged and not any(name.startswith("test/") for name in logged)
        assert not any(name.startswith("test/") for name in json.loads((directory / "result.json").read_text())["metrics"])


def test_trials_are_named_by_their_number_and_tracked_in_the_group(tmp_path, in_process_training):
    resolved = resolved_spec(tmp_path, {"method": "random", "n_trials": 2, "parameters": {"training.optimizer.lr": LR}})
    run_sweep(resolved, tmp_path / "sweep")
    runs = [json.loads((d / "run.json").read_text()) for d in trial_dirs(tmp_path / "sweep")]
    assert [run["name"] for run in runs] == ["sweep-test-base-s0-t0", "sweep-test-base-s0-t1"]
    assert {run["group"] for run in runs} == {"sweep-group"}
    assert runs[1]["tags"]["sweep.study"] == "sweep-test" and runs[1]["tags"]["sweep.trial"] == "1"


@pytest.mark.parametrize(
    "pruner",
    [
        {"type": "median", "n_startup_trials": 2, "n_warmup_steps": 0},
        {"type": "hyperband", "min_resource": 1, "reduction_factor": 2},
    ],
    ids=["median", "hyperband"],
)
def test_clearly_worse_trials_are_pruned(tmp_path, in_process_training, pruner):
    # Learning rates down to 1e-6 leave the network near chance after an epoch: those trials stop early.
    sweep = {
        "method": "random",
        "n_trials": 8,
        "objective": {"metric": "val/f1_macro", "direction": "maximize"},
        "parameters": {"training.optimizer.lr": {"distribution": "log_uniform", "low": 0.000001, "high": 0.1}},
        "pruner": pruner,
    }
    study = run_sweep(resolved_spec(tmp_path, sweep), tmp_path / "sweep")
    pruned = [t for t in study.trials if t.state == TrialState.PRUNED]
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert pruned and complete and len(pruned) + len(complete) == 8
    for trial in pruned:
        result = json.loads((tmp_path / "sweep" / f"trial-{trial.number}" / "result.json").read_text())
        assert result["status"] == "pruned" and result["epochs"] < 3
        assert max(trial.intermediate_values) == result["epochs"]
    assert json.loads((tmp_path / "sweep" / BEST_FILE).read_text())["trials"]["pruned"] == len(pruned)


def test_running_the_sweep_again_resumes_the_study(tmp_path, in_process_training):
    resolved = resolved_spec(tmp_path, {"method": "tpe", "n_trials": 2, "parameters": {"training.optimizer.lr": LR}, "pruner": {"type": "none"}})
    first = run_sweep(resolved, tmp_path / "sweep")
    again = run_sweep(resolved, tmp_path / "sweep")  # the budget is spent: nothing more to train
    assert [t.number for t in again.trials] == [t.number for t in first.trials] == [0, 1]
    more = run_sweep(resolved, tmp_path / "sweep", n_trials=3)  # a larger budget adds the difference
    assert [t.number for t in more.trials] == [0, 1, 2]
    assert [p.name for p in trial_dirs(tmp_path / "sweep")] == ["trial-0", "trial-1", "trial-2"]
    assert more.trials[0].params == first.trials[0].params  # the same stored study, not a new one
    assert json.loads((tmp_path / "sweep" / BEST_FILE).read_text())["trials"]["complete"] == 3


def test_a_study_of_a_different_search_is_not_resumed(tmp_path, in_process_training):
    resolved = resolved_spec(tmp_path, {"method": "random", "n_trials": 1, "parameters": {"training.optimizer.lr": LR}})
    run_sweep(resolved, tmp_path / "sweep")
    wider = resolved_spec(tmp_path, {"method": "random", "n_trials": 1, "parameters": {"training.optimizer.lr": {**LR, "high": 0.5}}})
    with pytest.raises(ValueError, match="was started by a different search"):
        run_sweep(wider, tmp_path / "sweep")
    # A larger budget is the same search.
    bigger = resolved_spec(tmp_path, {"method": "random", "n_trials": 2, "parameters": {"training.optimizer.lr": LR}})
    assert len(run_sweep(bigger, tmp_path / "sweep").trials) == 2


def test_trial_folders_the_study_does_not_know_are_refused(tmp_path, in_process_training):
    resolved = resolved_spec(tmp_path, {"method": "random", "n_trials": 1, "parameters": {"training.optimizer.lr": LR}})
    run_sweep(resolved, tmp_path / "sweep")
    (tmp_path / "sweep" / "study.db").unlink()  # the study is gone; its trial folders are not
    with pytest.raises(ValueError, match="holds trial-0, which study 'sweep-test' does not know"):
        run_sweep(resolved, tmp_path / "sweep")


def test_a_storage_url_puts_the_study_elsewhere(tmp_path, in_process_training):
    resolved = resolved_spec(tmp_path, {"method": "random", "n_trials": 1, "parameters": {"training.optimizer.lr": LR}})
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    run_sweep(resolved, tmp_path / "sweep", storage=url)
    assert (tmp_path / "shared.db").exists() and not (tmp_path / "sweep" / "study.db").exists()
    assert len(optuna.load_study(study_name="sweep-test", storage=url).trials) == 1


def test_a_trial_whose_training_raises_fails_and_the_study_goes_on(tmp_path, in_process_training):
    # Plain SGD at a learning rate of 1e12 diverges at once: the runtime raises TrainingDiverged.
    sweep = {
        "method": "grid",
        "n_trials": 2,
        "parameters": {"training.optimizer.lr": {"values": [1.0e12, 0.05]}},
        "pruner": {"type": "none"},
    }
    resolved = resolved_spec(tmp_path, sweep, SPEC.replace("name: adamw", "name: sgd"))
    study = run_sweep(resolved, tmp_path / "sweep")
    states = {t.params["training.optimizer.lr"]: t.state for t in study.trials}
    assert states == {1.0e12: TrialState.FAIL, 0.05: TrialState.COMPLETE}
    best = json.loads((tmp_path / "sweep" / BEST_FILE).read_text())
    assert best["trials"]["failed"] == 1 and best["best"]["params"] == {"training.optimizer.lr": 0.05}
    [failure] = best["failures"]
    assert failure["error"].startswith("TrainingDiverged:") and "nan" in failure["error"]


def test_a_spec_without_a_sweep_is_refused(tmp_path):
    resolved = resolved_spec(tmp_path, {"parameters": {"training.optimizer.lr": LR}})
    resolved["sweep"] = None
    with pytest.raises(ValueError, match="no `sweep` section"):
        run_sweep(resolved, tmp_path / "sweep")


# --- the generated sweep.py ----------------------------------------------------------------------

PROJECT_SWEEP = {
    "method": "tpe",
    "n_trials": 2,
    "objective": {"metric": "val/f1_macro", "direction": "maximize"},
    "parameters": {"training.optimizer.lr": LR, "data.loader.batch_size": {"values": [32, 64]}},
    "sampler": {"n_startup_trials": 1},
    "pruner": {"type": "hyperband", "min_resource": 1},
    "final_validation": {"seeds": 5, "split": "test"},
}


def compile_project(tmp_path: Path, sweep: dict, text: str = SPEC) -> Path:
    spec = tmp_path / "spec.yaml"
    spec.write_text(text + yaml.safe_dump({"sweep": sweep}, sort_keys=False), encoding="utf-8")
    command = [sys.executable, "-m", "rigorml.compiler", "compile", str(spec), "-o", str(tmp_path / "project"), "--allow-errors"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "sweep.py" in done.stdout
    return tmp_path / "project"


def script_env() -> dict:
    """The user's environment: no RIGORML_DEBUG, and one torch thread (see ``in_process_training``)."""
    env = {key: value for key, value in os.environ.items() if key != "RIGORML_DEBUG"}
    return {**env, "OMP_NUM_THREADS": "1"}


def run_script(project: Path, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(project / "sweep.py"), *args], capture_output=True, text=True, timeout=timeout, env=script_env()
    )


def test_the_generated_sweep_py_runs_the_sweep_and_prints_the_best_configuration(tmp_path):
    project = compile_project(tmp_path, PROJECT_SWEEP)
    done = run_script(project)
    assert done.returncode == 0, done.stderr
    best = json.loads((project / "sweeps" / "sweep-test" / BEST_FILE).read_text())
    assert best["trials"]["complete"] + best["trials"]["pruned"] == 2
    assert f"best: trial {best['best']['trial']}, val/f1_macro = " in done.stdout
    assert f"  training.optimizer.lr: {json.dumps(best['best']['params']['training.optimizer.lr'])}" in done.stdout
    assert f"  data.loader.batch_size: {best['best']['params']['data.loader.batch_size']}" in done.stdout
    # After the search: the analysis, then the best configuration at 5 fresh seeds on test.
    sweep_dir = project / "sweeps" / "sweep-test"
    analysis = json.loads((sweep_dir / "analysis.json").read_text())
    assert set(analysis["sensitivity"]["parameters"]) == {"training.optimizer.lr", "data.loader.batch_size"}
    final = json.loads((sweep_dir / "final.json").read_text())
    assert final["split"] == "test" and len(final["seeds"]) == 5 and final["best"]["trial"] == best["best"]["trial"]
    assert final["summary"]["metric"] == "test/f1_macro" and final["summary"]["n"] == 5
    assert f"final validation: test/f1_macro = {final['summary']['mean']:.4g}" in done.stdout

    again = run_script(project, "--trials", "3", "--no-final-validation", "--sweep-dir", str(sweep_dir))
    assert again.returncode == 0, again.stderr
    resumed = json.loads((project / "sweeps" / "sweep-test" / BEST_FILE).read_text())
    assert resumed["trials"]["total"] == 3  # the stored study went on from its two trials


def test_the_generated_sweep_py_refuses_a_changed_config_and_a_bad_budget(tmp_path):
    project = compile_project(tmp_path, PROJECT_SWEEP)
    bad = run_script(project, "--trials", "0")
    assert bad.returncode == 2 and "--trials must be at least 1" in bad.stderr
    config = json.loads((project / "config.resolved.json").read_text())
    config["sweep"]["n_trials"] = 50
    (project / "config.resolved.json").write_text(json.dumps(config))
    changed = run_script(project)
    assert changed.returncode == 1 and "changed since it was compiled" in changed.stderr
    assert not (project / "sweeps").exists()


def test_ctrl_c_stops_the_generated_sweep_cleanly_and_a_rerun_resumes(tmp_path):
    # Long enough trials (20 epochs) that the interrupt lands inside one.
    project = compile_project(tmp_path, {**PROJECT_SWEEP, "n_trials": 3, "pruner": {"type": "none"}}, SPEC.replace("epochs: 3", "epochs: 20"))
    sweep_dir = project / "sweeps" / "sweep-test"
    process = subprocess.Popen(
        [sys.executable, str(project / "sweep.py")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=script_env()
    )
    deadline = time.monotonic() + 120
    while not (sweep_dir / "trial-0" / "metrics.jsonl").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "interrupted: run the same command again to resume the study" in err
    best = json.loads((sweep_dir / BEST_FILE).read_text())
    assert best["trials"]["failed"] == 1 and best["failures"][0]["error"].startswith("KeyboardInterrupt")
    assert "Traceback" not in err

    resumed = run_script(project, "--trials", "1", "--no-final-validation")
    assert resumed.returncode == 0, resumed.stderr
    trials = json.loads((sweep_dir / BEST_FILE).read_text())["trials"]
    assert (trials["complete"], trials["failed"]) == (1, 1)
