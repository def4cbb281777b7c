"""After the search: importances and sensitivities, pruning on the quickstart's sweep, the final
validation of the best configuration, and how the report shows them.

Importances and sensitivities are checked on hand-made Optuna studies whose answer is known (an
objective of one parameter only), against scipy where a statistic is scipy's. Everything else
trains for real: examples/quickstart.yaml made small (2-3 epochs, a few trials, no git or system
records, ``training.deterministic`` off because it is process-wide), in this process.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import pytest

from conftest import training_in_this_process

optuna = pytest.importorskip("optuna")
pytest.importorskip("torch")
pytest.importorskip("matplotlib")

from optuna.trial import TrialState  # noqa: E402
from scipy import stats  # noqa: E402

from rigorml.compiler.compose import compose  # noqa: E402
from rigorml.compiler.resolve import resolve_spec  # noqa: E402
from rigorml.compiler.validate import validate_data  # noqa: E402
from rigorml.runtime.report import build_report, render_html, render_markdown, write_report  # noqa: E402
from rigorml.runtime.stats.aggregate import summarise  # noqa: E402
from rigorml.runtime.sweep import BEST_FILE, run_sweep, suggest  # noqa: E402
from rigorml.runtime.sweep_analysis import (  # noqa: E402
    ANALYSIS_FILE,
    MIN_SENSITIVITY_TRIALS,
    analyze_study,
    write_analysis,
)
from rigorml.runtime.sweep_final import (  # noqa: E402
    FINAL_FILE,
    FinalValidationError,
    final_seeds,
    run_final_validation,
)
from rigorml.schemas.spec import Spec  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "examples" / "quickstart.yaml"

#: The quickstart made small and quiet: few epochs, no git state, environment or system samples.
SMALL = (
    "training.deterministic=false",
    "tracking.system_metrics=false",
    "tracking.capture={git_commit: false, git_dirty: false, git_diff: false, environment: false}",
)


def quickstart(*overrides: str) -> dict:
    """examples/quickstart.yaml resolved with ``overrides``, validated as compile does."""
    composed = compose(str(QUICKSTART), [*SMALL, *overrides])
    assert not composed.diagnostics, composed.diagnostics
    validated = validate_data(composed.data, composed.source_map)
    assert not validated.diagnostics, [d.message for d in validated.diagnostics]
    return resolve_spec(Spec.model_validate(composed.data))[1]


@pytest.fixture(scope="module")
def in_process_training():
    """Training in this process changes PYTHONHASHSEED and the SIGTERM handler: put them back.
    One torch thread: a small MLP gains nothing from more, and loses much on a busy machine."""
    with training_in_this_process():
        yield


# --- hand-made studies ---------------------------------------------------------------------------

SPACE = {
    "x": {"distribution": "uniform", "low": 0.0, "high": 1.0, "step": None, "when": None},
    "lr": {"distribution": "log_uniform", "low": 1e-4, "high": 1e-1, "when": None},
    "batch": {"distribution": "categorical", "values": [32, 64, 128], "when": None},
    "optimizer": {"distribution": "categorical", "values": ["adam", "sgd", "rmsprop"], "when": None},
    "name": {"distribution": "constant", "value": "mlp", "when": None},
}


def study_of(objective, n: int, direction: str = "minimize", space: dict = SPACE, seed: int = 0):
    """A real Optuna study of ``n`` random trials of ``space`` (rigorml's own suggest), scored by
    ``objective(params)``; with the resolved-spec fragment analyze_study reads."""
    study = optuna.create_study(direction=direction, sampler=optuna.samplers.RandomSampler(seed=seed))
    study.optimize(lambda trial: objective(suggest(trial, space)), n_trials=n)
    return study, {"sweep": {"parameters": space, "objective": {"metric": "val/score", "direction": direction}}}


def pairs(study, name: str) -> tuple[list, list]:
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE and name in t.params]
    return [t.params[name] for t in complete], [t.value for t in complete]


def test_a_parameter_the_objective_depends_on_alone_dominates_both_importances():
    study, resolved = study_of(lambda p: (p["x"] - 0.3) ** 2, n=60)
    importances = analyze_study(study, resolved)["importances"]
    for method in ("fanova", "ped_anova"):
        values = importances[method]["values"]
        assert set(values) == {"x", "lr", "batch", "optimizer"}  # searched parameters; the constant is not one
        assert max(values, key=values.get) == "x" and values["x"] > 0.6, (method, values)
        assert math.isclose(sum(values.values()), 1.0)
        assert importances[method]["trials"] == 60
    assert importances["fanova"]["settings"]["seed"] == 0


def test_importances_are_the_same_for_the_same_study():
    study, resolved = study_of(lambda p: p["x"] + math.log10(p["lr"]), n=30)
    assert analyze_study(study, resolved)["importances"] == analyze_study(study, resolved)["importances"]


def test_sensitivity_of_a_numeric_parameter_is_scipys_spearman_rank_correlation():
    study, resolved = study_of(lambda p: p["x"] + 0.5 * math.sin(40 * p["lr"]), n=40, direction="maximize")
    record = analyze_study(study, resolved)["sensitivity"]["parameters"]["x"]
    xs, ys = pairs(study, "x")
    expected = stats.spearmanr(xs, ys)
    assert record["test"] == "spearman" and record["n"] == 40
    assert record["rho"] == pytest.approx(expected.statistic) and record["p_value"] == pytest.approx(expected.pvalue)
    assert record["rho"] > 0.5 and record["better_with"] == "higher" and record["note"] is None


def test_a_log_uniform_parameter_needs_no_log_for_a_rank_correlation():
    study, resolved = study_of(lambda p: math.log10(p["lr"]), n=20)
    record = analyze_study(study, resolved)["sensitivity"]["parameters"]["lr"]
    assert record["rho"] == pytest.approx(1.0) and record["better_with"] == "lower"  # minimised


def test_a_categorical_of_numbers_is_ordered_by_value_and_rank_correlated():
    study, resolved = study_of(lambda p: p["batch"] / 128 + p["x"], n=40)
    record = analyze_study(study, resolved)["sensitivity"]["parameters"]["batch"]
    xs, ys = pairs(study, "batch")
    assert record["test"] == "spearman" and record["rho"] == pytest.approx(stats.spearmanr(xs, ys).statistic)


def test_a_categorical_of_names_is_scipys_kruskal_wallis_across_its_values():
    effect = {"adam": 0.0, "sgd": 1.0, "rmsprop": 0.5}
    study, resolved = study_of(lambda p: effect[p["optimizer"]] + p["x"], n=45)
    record = analyze_study(study, resolved)["sensitivity"]["parameters"]["optimizer"]
    xs, ys = pairs(study, "optimizer")
    groups = [[y for x, y in zip(xs, ys) if x == name] for name in ("adam", "rmsprop", "sgd")]
    expected = stats.kruskal(*groups)
    assert record["test"] == "kruskal_wallis" and record["n"] == 45
    assert record["h"] == pytest.approx(expected.statistic) and record["p_value"] == pytest.approx(expected.pvalue)
    assert record["epsilon_squared"] == pytest.approx(expected.statistic / 44)
    assert set(record["groups"]) == {"adam", "rmsprop", "sgd"} and sum(g["n"] for g in record["groups"].values()) == 45
    assert record["better_with"] == "adam"  # the lowest median, minimised


def test_too_few_trials_are_a_note_not_a_number():
    study, resolved = study_of(lambda p: p["x"], n=1)
    analysis = analyze_study(study, resolved)
    for method in ("fanova", "ped_anova"):
        assert analysis["importances"][method]["values"] is None
        assert "at least 2 completed trials (1 completed)" in analysis["importances"][method]["note"]
    few, resolved = study_of(lambda p: p["x"], n=MIN_SENSITIVITY_TRIALS - 1)
    record = analyze_study(few, resolved)["sensitivity"]["parameters"]["x"]
    assert record["rho"] is None and record["n"] == MIN_SENSITIVITY_TRIALS - 1
    assert f"needs at least {MIN_SENSITIVITY_TRIALS} completed trials" in record["note"]


def test_an_objective_that_never_moves_is_a_note_for_every_view():
    study, resolved = study_of(lambda p: 0.5, n=12)
    analysis = analyze_study(study, resolved)
    for method in ("fanova", "ped_anova"):
        assert analysis["importances"][method]["values"] is None
        assert "same in every completed trial" in analysis["importances"][method]["note"]
    assert all("same in every completed trial" in s["note"] for s in analysis["sensitivity"]["parameters"].values())


def test_a_parameter_that_never_varied_is_a_note():
    space = {**SPACE, "batch": {"distribution": "categorical", "values": [64], "when": None}}
    study, resolved = study_of(lambda p: p["x"], n=10, space=space)
    assert "took one value (64)" in analyze_study(study, resolved)["sensitivity"]["parameters"]["batch"]["note"]


def test_pruned_and_failed_trials_are_left_out():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    for number in range(12):
        trial = study.ask()
        params = suggest(trial, SPACE)
        if number % 4 == 1:
            trial.report(9.0, 1)
            study.tell(trial, state=TrialState.PRUNED)
        elif number % 4 == 2:
            study.tell(trial, state=TrialState.FAIL)
        else:
            study.tell(trial, params["x"])
    analysis = analyze_study(study, {"sweep": {"parameters": SPACE, "objective": {"metric": "val/x", "direction": "minimize"}}})
    assert analysis["trials"] == {"total": 12, "complete": 6, "pruned": 3, "failed": 3, "running": 0, "used": 6}
    assert analysis["importances"]["fanova"]["trials"] == 6 and analysis["sensitivity"]["parameters"]["x"]["n"] == 6
    assert any("3 pruned trial(s) are left out" in note for note in analysis["notes"])


def test_a_conditional_parameter_is_left_to_ped_anova_and_correlated_where_sampled():
    space = {
        "x": SPACE["x"],
        "flag": {"distribution": "categorical", "values": [True, False], "when": None},
        "z": {"distribution": "uniform", "low": 0.0, "high": 1.0, "step": None, "when": {"flag": [True]}},
    }
    study, resolved = study_of(lambda p: p["x"] + p.get("z", 0.0), n=30, space=space)
    analysis = analyze_study(study, resolved)
    assert "z" not in analysis["importances"]["fanova"]["values"] and "z (conditional) left out" in analysis["importances"]["fanova"]["note"]
    assert "z" in analysis["importances"]["ped_anova"]["values"]
    sampled = sum("z" in t.params for t in study.trials)
    assert analysis["sensitivity"]["parameters"]["z"]["n"] == sampled < 30
    assert analysis["sensitivity"]["parameters"]["flag"]["test"] == "kruskal_wallis"


def test_the_analysis_is_written_as_strict_json(tmp_path):
    study, resolved = study_of(lambda p: p["x"], n=8)
    analysis = analyze_study(study, resolved)
    path = write_analysis(analysis, tmp_path)
    assert path == tmp_path / ANALYSIS_FILE
    assert json.loads(path.read_text(), parse_constant=lambda name: pytest.fail(f"non-JSON {name}")) == json.loads(json.dumps(analysis))


def test_a_spec_without_a_sweep_has_no_study_to_analyse():
    study, _ = study_of(lambda p: p["x"], n=2)
    with pytest.raises(ValueError, match="no `sweep` section"):
        analyze_study(study, {"sweep": None})


# --- pruning on the quickstart's sweep -----------------------------------------------------------


@pytest.fixture(scope="module")
def hyperband_sweep(in_process_training, tmp_path_factory):
    """The quickstart's own sweep (TPE, Hyperband with min_resource 2 and reduction factor 3), 8
    trials of 3 epochs."""
    resolved = quickstart("training.epochs=3", "sweep.n_trials=8")
    sweep_dir = tmp_path_factory.mktemp("hyperband") / "sweep"
    return resolved, run_sweep(resolved, sweep_dir), sweep_dir


def test_hyperband_stops_trials_of_the_quickstart_sweep_before_their_last_epoch(hyperband_sweep):
    resolved, study, sweep_dir = hyperband_sweep
    assert resolved["sweep"]["pruner"]["type"] == "hyperband" and isinstance(study.pruner, optuna.pruners.HyperbandPruner)
    epochs = resolved["training"]["epochs"]
    pruned = [t for t in study.trials if t.state == TrialState.PRUNED]
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert pruned and complete and len(pruned) + len(complete) == 8
    trained = {t.number: json.loads((sweep_dir / f"trial-{t.number}" / "result.json").read_text()) for t in study.trials}
    for trial in pruned:
        assert trained[trial.number]["status"] == "pruned"
        assert max(trial.intermediate_values) == trained[trial.number]["epochs"] < epochs  # stopped early
        assert not (sweep_dir / f"trial-{trial.number}" / "predictions" / "val.npz").exists()  # no final evaluation
    for trial in complete:
        assert trained[trial.number]["epochs"] == epochs
    assert sum(r["epochs"] for r in trained.values()) < 8 * epochs
    assert json.loads((sweep_dir / BEST_FILE).read_text())["trials"]["pruned"] == len(pruned)


def test_the_analysis_of_a_pruned_sweep_uses_its_completed_trials(hyperband_sweep):
    resolved, study, _ = hyperband_sweep
    analysis = analyze_study(study, resolved)
    complete = sum(t.state == TrialState.COMPLETE for t in study.trials)
    assert analysis["trials"]["used"] == complete and analysis["importances"]["fanova"]["trials"] == complete
    assert set(analysis["sensitivity"]["parameters"]) == {"data.loader.batch_size", "training.optimizer.lr"}


# --- the final validation ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def searched(in_process_training, tmp_path_factory):
    """A run directory holding the quickstart's sweep without pruning (6 trials of 2 epochs, so
    every trial completes and the sensitivities have enough trials), its analysis and its final
    validation (5 seeds), as ``rigorml sweep`` leaves them."""
    resolved = quickstart("training.epochs=2", "sweep.n_trials=6", "sweep.pruner={type: none}")
    root = tmp_path_factory.mktemp("searched")
    (root / "project").mkdir()
    (root / "project" / "config.resolved.json").write_text(json.dumps(resolved), encoding="utf-8")
    sweep_dir = root / "sweeps" / "digits-mlp"
    study = run_sweep(resolved, sweep_dir)
    write_analysis(analyze_study(study, resolved), sweep_dir)
    final = run_final_validation(resolved, sweep_dir)
    return {"resolved": resolved, "root": root, "sweep_dir": sweep_dir, "study": study, "final": final}


def test_the_final_validation_trains_the_best_configuration_at_fresh_seeds(searched):
    resolved, final, sweep_dir = searched["resolved"], searched["final"], searched["sweep_dir"]
    best = json.loads((sweep_dir / BEST_FILE).read_text())["best"]
    tuned_seed = resolved["seeds"]["replicates"][0]
    assert final["seeds"] == final_seeds(resolved) == [5, 6, 7, 8, 9]  # after replicates 0..4
    assert tuned_seed not in final["seeds"] and not set(final["seeds"]) & set(resolved["seeds"]["replicates"])
    assert final["best"]["trial"] == best["trial"] and final["best"]["params"] == best["params"]
    for seed in final["seeds"]:
        run_dir = sweep_dir / "final" / f"seed-{seed}"
        result = json.loads((run_dir / "result.json").read_text())
        assert result["replicate"] == seed and result["status"] == "finished"
        config = json.loads((run_dir / "config.resolved.json").read_text())
        assert config["training"]["optimizer"]["lr"] == best["params"]["training.optimizer.lr"]
        assert config["data"]["loader"]["batch_size"] == best["params"]["data.loader.batch_size"]
    assert [run["run_dir"] for run in final["runs"]] == [f"final/seed-{s}" for s in final["seeds"]]


def test_the_final_validation_evaluates_on_the_test_split_only(searched):
    final, sweep_dir = searched["final"], searched["sweep_dir"]
    assert final["split"] == "test" and final["tuning_split"] == "val"
    assert final["objective"] == {"metric": "test/f1_macro", "tuned_metric": "val/f1_macro", "direction": "maximize"}
    for seed in final["seeds"]:
        run_dir = sweep_dir / "final" / f"seed-{seed}"
        assert [p.name for p in (run_dir / "predictions").iterdir()] == ["test.npz"]
        metrics = json.loads((run_dir / "result.json").read_text())["metrics"]
        assert metrics and all(name.startswith("test/") for name in metrics)
    assert set(final["metrics"]) == {"test/loss", "test/f1_macro", "test/accuracy", "test/mcc"}


def test_the_final_validation_reports_mean_sd_and_interval_over_seeds(searched):
    final = searched["final"]
    values = [run["metrics"]["test/f1_macro"] for run in final["runs"]]
    expected = summarise(values, 0.95).as_dict()
    assert final["summary"] == {"metric": "test/f1_macro", **expected, "values": values}
    assert final["summary"]["n"] == 5 and final["summary"]["ci"][0] < final["summary"]["mean"] < final["summary"]["ci"][1]
    stored = json.loads((searched["sweep_dir"] / FINAL_FILE).read_text())
    assert stored == json.loads(json.dumps(final))


def test_running_the_final_validation_again_trains_nothing(searched):
    sweep_dir = searched["sweep_dir"]
    before = {p: p.stat().st_mtime_ns for p in (sweep_dir / "final").glob("seed-*/result.json")}
    again = run_final_validation(searched["resolved"], sweep_dir)
    assert [run["trained"] for run in again["runs"]] == [False] * 5
    assert {p: p.stat().st_mtime_ns for p in before} == before
    assert again["metrics"] == searched["final"]["metrics"]


def test_an_interrupted_final_validation_resumes_with_the_seeds_left(searched, tmp_path):
    copy = tmp_path / "sweep"
    shutil.copytree(searched["sweep_dir"], copy)
    shutil.rmtree(copy / "final" / "seed-9")  # as if the run had been killed before it started
    (copy / FINAL_FILE).unlink()
    resumed = run_final_validation(searched["resolved"], copy)
    assert [run["trained"] for run in resumed["runs"]] == [False, False, False, False, True]
    assert resumed["metrics"] == searched["final"]["metrics"]  # the retrained seed gives the same result


@pytest.mark.parametrize(("split", "message"), [("val", "the split every trial was scored and chosen on"), ("train", "which the model trains on")])
def test_the_final_validation_refuses_any_split_but_test(searched, split, message):
    resolved = json.loads(json.dumps(searched["resolved"]))
    resolved["sweep"]["final_validation"]["split"] = split
    with pytest.raises(FinalValidationError, match=message):
        run_final_validation(resolved, searched["sweep_dir"])


def test_the_final_validation_needs_the_sweeps_best_json(searched, tmp_path):
    with pytest.raises(FinalValidationError, match="does not exist: run the sweep first"):
        run_final_validation(searched["resolved"], tmp_path)
    other = json.loads(json.dumps(searched["resolved"]))
    other["sweep"]["parameters"]["training.optimizer.lr"]["high"] = 0.5  # another search space
    with pytest.raises(FinalValidationError, match="written by a different search"):
        run_final_validation(other, searched["sweep_dir"])


def test_final_runs_of_a_former_best_are_refused(searched, tmp_path):
    copy = tmp_path / "sweep"
    shutil.copytree(searched["sweep_dir"], copy)
    best = json.loads((copy / BEST_FILE).read_text())
    best["best"]["params"]["training.optimizer.lr"] *= 2  # as if a resumed sweep had found a new best
    (copy / BEST_FILE).write_text(json.dumps(best))
    with pytest.raises(FinalValidationError, match="another configuration than the best trial"):
        run_final_validation(searched["resolved"], copy)


def test_a_disabled_final_validation_trains_and_writes_nothing(searched, tmp_path):
    resolved = json.loads(json.dumps(searched["resolved"]))
    resolved["sweep"]["final_validation"]["enabled"] = False
    assert run_final_validation(resolved, tmp_path)["enabled"] is False
    assert list(tmp_path.iterdir()) == []


# --- the report ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def report(searched) -> dict:
    root = searched["root"]
    write_report(build_report(root), root)
    return json.loads((root / "report.json").read_text(encoding="utf-8"))


def test_the_report_holds_the_analysis_and_the_final_validation(report, searched):
    (sweep,) = report["sweeps"]
    analysis = json.loads((searched["sweep_dir"] / ANALYSIS_FILE).read_text())
    assert sweep["analysis"]["importances"] == analysis["importances"]
    assert sweep["analysis"]["sensitivity"] == analysis["sensitivity"]
    assert sweep["importances"] == analysis["importances"]["fanova"]["values"]
    assert sweep["final"] == json.loads((searched["sweep_dir"] / FINAL_FILE).read_text())


def test_the_markdown_report_shows_importances_sensitivity_and_final_validation(searched, report):
    markdown = (searched["root"] / "report.md").read_text(encoding="utf-8")
    assert "| parameter | fANOVA | PED-ANOVA |" in markdown
    assert "| parameter | test | trials | statistic | p | better with | note |" in markdown
    assert "| training.optimizer.lr | Spearman | 6 | rho " in markdown
    summary = report["sweeps"][0]["final"]["summary"]
    assert f"### Final validation: test/f1_macro {summary['mean']:.4f}" in markdown
    assert f"95% CI [{summary['ci'][0]:.4f}, {summary['ci'][1]:.4f}]) over 5 seeds" in markdown
    assert "| test/f1_macro (objective) | 5 |" in markdown and "| 9 | final/seed-9 | finished |" in markdown
    assert markdown == render_markdown(report)


def test_the_html_report_draws_importances_and_parallel_coordinates(searched, report):
    html = (searched["root"] / "report.html").read_text(encoding="utf-8")
    assert html == render_html(report)
    for title in ("Optimisation history", "Parameter importances", "Parallel coordinates", "Objective against each parameter"):
        assert f"<strong>{title}.</strong>" in html
    assert "<h4>Sensitivity</h4>" in html and 'id="final-validation"' in html
    assert "<script" not in html.lower() and all(src.startswith("data:") for src in re.findall(r'src="([^"]*)"', html))


def test_a_study_with_too_few_trials_is_reported_with_the_reasons(searched, tmp_path):
    root = tmp_path / "run"
    shutil.copytree(searched["root"] / "project", root / "project")
    sweep_dir = root / "sweeps" / "digits-mlp"
    sweep_dir.mkdir(parents=True)
    one = optuna.create_study(study_name="digits-mlp", storage=f"sqlite:///{sweep_dir / 'study.db'}", direction="maximize")
    one.add_trial(searched["study"].trials[0])  # a study of one completed trial, and no final validation
    shutil.copy(searched["sweep_dir"] / BEST_FILE, sweep_dir / BEST_FILE)
    rebuilt = build_report(root)
    (sweep,) = rebuilt["sweeps"]
    assert sweep["importances"] is None and "at least 2 completed trials (1 completed)" in sweep["importance_note"]
    markdown = render_markdown(rebuilt)
    assert "fANOVA: parameter importances need at least 2 completed trials (1 completed)" in markdown
    assert "needs at least 5 completed trials that sampled it (1)" in markdown
    html = render_html(rebuilt)
    assert "Parallel coordinates" not in html and "Parameter importances" not in html
    assert sweep["final"] is None and "Final validation" not in html


def test_the_sweep_section_renders_in_chromium(chromium, searched, report):
    chromium.get((searched["root"] / "report.html").as_uri())
    plots = chromium.find_elements("css selector", "#sweep img.plot")
    assert [p.get_attribute("alt").split(" ")[0] for p in plots] == ["Optimisation", "Parameter", "Parallel", "Scatter"]
    for plot in plots:
        assert chromium.execute_script("return arguments[0].complete && arguments[0].naturalWidth", plot) > 0
        assert plot.size["width"] > 0 and plot.size["height"] > 0
    sensitivity = chromium.find_elements("css selector", "#sweep table.sensitivity tbody tr")
    assert [row.text.split(" ")[0] for row in sensitivity] == ["data.loader.batch_size", "training.optimizer.lr"]
    importances = chromium.find_elements("css selector", "#sweep table.parameter-importances tbody tr")
    assert len(importances) == 2
    final_rows = chromium.find_elements("css selector", "#sweep table.final-validation tbody tr")
    assert len(final_rows) == 4 + 5  # a row per metric, then a row per seed
    assert chromium.find_element("css selector", "#final-validation").is_displayed()
    assert chromium.execute_script("return document.scripts.length") == 0
    assert [entry for entry in chromium.get_log("browser") if entry["level"] == "SEVERE"] == []
