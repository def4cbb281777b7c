"""Derived defaults: values whose default depends on another part of the spec.

Static defaults live on the model fields. The ones here are filled after validation, on the complete
JSON form of a valid spec, so that the resolved spec says exactly what will run (no ``auto`` left
where the spec already decides it) and hashes the same everywhere.
"""

from __future__ import annotations

import copy

#: The domain document's primary metric per task.
PRIMARY_METRIC = {
    "classification": "f1_macro",
    "detection": "map",
    "generation": "bertscore_f1",
    "language_modeling": "perplexity",
    "regression": "mae",
    "ranking": "ndcg",
}

_LOSS = {"classification": "cross_entropy", "regression": "mse"}


def fill_derived_defaults(resolved: dict) -> dict:
    """Return a copy of a valid spec's JSON form with every derived default filled in.

    Idempotent: filling an already filled spec changes nothing.
    """
    spec = copy.deepcopy(resolved)
    experiment, seeds = spec["experiment"], spec["seeds"]
    task = experiment["task"]

    experiment["project"] = experiment["project"] or experiment["name"]
    experiment["group"] = experiment["group"] or experiment["name"]

    tracking = spec["tracking"]
    tracking["project"] = tracking["project"] or experiment["project"]
    tracking["group"] = tracking["group"] or experiment["group"]

    metrics = spec["metrics"]
    metrics["primary"] = metrics["primary"] or PRIMARY_METRIC[task]

    data = spec["data"]
    if data["split_seed"] is None:
        data["split_seed"] = seeds["data"]
    if data["stratify"] is None:
        data["stratify"] = task == "classification"
    if data["loader"]["eval_batch_size"] is None:
        data["loader"]["eval_batch_size"] = data["loader"]["batch_size"]

    training = spec["training"]
    if training["loss"] == "auto" and task in _LOSS:
        training["loss"] = _LOSS[task]

    sweep = spec.get("sweep")
    if sweep is not None:
        sweep["study_name"] = sweep["study_name"] or experiment["name"]
        if sweep["sampler"]["seed"] is None:
            sweep["sampler"]["seed"] = seeds["global"]
        pruner = sweep["pruner"]
        if pruner.get("max_resource") == "auto" and training["epochs"] is not None:
            pruner["max_resource"] = training["epochs"]

    evaluation = spec["evaluation"]
    if evaluation["seed"] is None:
        evaluation["seed"] = seeds["global"]
    if evaluation["correction"] == "auto":
        evaluation["correction"] = "bh" if evaluation["family"] == "exploratory" else "bonferroni"
    if not evaluation["comparisons"] and evaluation["baseline"] is not None:
        arms = list(spec["variants"]) or ["base"]
        evaluation["comparisons"] = [
            {
                "name": None,
                "treatment": arm,
                "control": evaluation["baseline"],
                "metric": None,
                "test": "paired_bootstrap",
                "paired": True,
                "alternative": "two-sided",
            }
            for arm in arms
            if arm != evaluation["baseline"]
        ]
    for comparison in evaluation["comparisons"]:
        comparison["metric"] = comparison["metric"] or metrics["primary"]
        comparison["name"] = comparison["name"] or f"{comparison['treatment']}-vs-{comparison['control']}"
    return spec
