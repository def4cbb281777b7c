"""Cross-field rules: references between sections that make a spec meaningless when they break.

Pydantic checks each section on its own; this module checks what one section says about another
(a comparison naming an arm that does not exist, a sweep parameter whose path is not in the spec,
a metric the task cannot have). Each problem carries the document path it concerns, so the caller
can point at the exact line and column.
"""

from __future__ import annotations

import difflib
from typing import NamedTuple

from . import compiled
from .introspect import step
from .vocabulary import METRICS, OVERRIDABLE_SECTIONS, metric_names_for, parse_metric


#: Sweep parameters named ``flag.NAME`` set nothing; they exist to switch ``when`` conditions.
FLAG_PREFIX = "flag."


class SpecProblem(NamedTuple):
    """A cross-field problem at ``path`` (keys and indices into the spec document)."""

    path: tuple
    code: str
    message: str
    hint: str | None = None
    on_key: bool = False  # point at the mapping key rather than its value


def did_you_mean(word: str, candidates) -> str | None:
    """``"did you mean 'x'?"`` for the closest candidate, or None when nothing is close."""
    close = difflib.get_close_matches(str(word), [str(c) for c in candidates], n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


# --- paths into the spec model ----------------------------------------------------------------


def arms_of(spec) -> list[str]:
    """The arms that run: the declared variants, or the single arm ``base``."""
    return list(spec.variants) or ["base"]


def check_path(dotted: str, *, root: str | None = None, sections=OVERRIDABLE_SECTIONS) -> str | None:
    """Return None if ``dotted`` names a value in the spec model, else an explanation.

    Free-form mappings (``model.params``, ``data.params``) accept any key below them; list items
    are addressed by integer segments.
    """
    segments = [int(s) if s.isascii() and s.isdigit() else s for s in dotted.split(".")]  # not "²"
    if not dotted or any(s == "" for s in segments):
        return f"{dotted!r} is not a dotted path (e.g. `training.optimizer.lr`)"
    if segments[0] not in sections:
        hint = did_you_mean(segments[0], sections)
        return f"`{dotted}` must start with one of {', '.join(sections)}" + (f"; {hint}" if hint else "")
    current: list = [{"model": root or compiled.root_model()}]
    for depth, segment in enumerate(segments):
        reached, known, free = step(current, segment)
        if free:
            return None
        if not reached:
            parent = ".".join(map(str, segments[:depth])) or "the spec"
            hint = did_you_mean(segment, sorted(set(known)))
            return f"`{dotted}` does not exist: `{segment}` is not a key of `{parent}`" + (f"; {hint}" if hint else "")
        current = reached
    return None


# --- the checks ---------------------------------------------------------------------------------


def _check_metric(name: str, spec, path: tuple) -> SpecProblem | None:
    if name in spec.metrics.custom:
        return None
    info, _ = parse_metric(name)
    task = spec.experiment.task
    if info is not None and task in info.tasks:
        return None
    valid = metric_names_for(task) + list(spec.metrics.custom)
    if info is not None:
        message = f"metric {name!r} does not apply to task {task!r}"
    elif name.split("@")[0] in METRICS:
        message = f"metric {name!r} does not take `@k`"
    else:
        message = f"unknown metric {name!r}"
    hint = did_you_mean(name, [v.removesuffix("@k") for v in valid])
    return SpecProblem(
        path,
        "SPC010",
        f"{message}; metrics for {task}: {', '.join(valid)}" + (f"; {hint}" if hint else ""),
        hint="or declare it under `metrics.custom`",
    )


def _check_arm(name: str, arms: list[str], path: tuple) -> SpecProblem | None:
    if name in arms:
        return None
    hint = did_you_mean(name, arms)
    return SpecProblem(
        path,
        "SPC011",
        f"unknown arm {name!r}" + (f"; {hint}" if hint else "") + f" (arms: {', '.join(arms)})",
    )


def find_reference_problems(spec) -> list[SpecProblem]:
    """Every cross-field problem of a (section-wise valid) spec, in document order.

    ``spec`` is read by attribute only: a pydantic ``Spec`` or the compiled validator's tree.
    """
    problems: list[SpecProblem | None] = []
    arms = arms_of(spec)
    task = spec.experiment.task

    if spec.metrics.primary is not None:
        problems.append(_check_metric(spec.metrics.primary, spec, ("metrics", "primary")))
    for i, name in enumerate(spec.metrics.secondary):
        problems.append(_check_metric(name, spec, ("metrics", "secondary", i)))

    if spec.data.source.lower().endswith((".csv", ".tsv", ".parquet", ".pq")) and spec.data.target is None:
        problems.append(
            SpecProblem(("data", "source"), "SPC015", "a CSV/Parquet source needs `data.target` (the label column)")
        )

    for name, variant in spec.variants.items():
        for key in variant.overrides:
            reason = check_path(key)
            if reason:
                problems.append(SpecProblem(("variants", name, "overrides", key), "SPC013", reason, on_key=True))

    if spec.data.stratify and task != "classification":
        problems.append(
            SpecProblem(
                ("data", "stratify"),
                "SPC017",
                f"stratifying by the target needs class labels; task {task!r} has none",
                hint="remove `stratify` or set it to false",
            )
        )

    if spec.sweep is not None:
        params = spec.sweep.parameters
        for key, param in params.items():
            if key.startswith(FLAG_PREFIX):
                if param.distribution != "categorical":
                    problems.append(
                        SpecProblem(
                            ("sweep", "parameters", key),
                            "SPC014",
                            f"`{key}` is a flag (it sets nothing, it only switches `when` conditions), so it must be categorical",
                            hint="e.g. `{values: [true, false]}`",
                            on_key=True,
                        )
                    )
                continue
            reason = check_path(key)
            if reason:
                problems.append(SpecProblem(("sweep", "parameters", key), "SPC013", reason, on_key=True))
            for other, allowed in (param.when or {}).items():
                where = ("sweep", "parameters", key, "when", other)
                target = params.get(other)
                if target is None or target.distribution != "categorical":
                    categorical = [k for k, p in params.items() if p.distribution == "categorical"]
                    problems.append(
                        SpecProblem(
                            where,
                            "SPC014",
                            f"condition on `{other}`, which is not a categorical sweep parameter"
                            + (f" (categorical parameters: {', '.join(categorical)})" if categorical else ""),
                            hint="a condition names another sweep parameter with `values: [...]`",
                            on_key=True,
                        )
                    )
                    continue
                if other == key:
                    problems.append(SpecProblem(where, "SPC014", "a parameter cannot be conditional on itself", on_key=True))
                for j, value in enumerate(allowed):
                    if value not in target.values:
                        problems.append(
                            SpecProblem(
                                where + (j,),
                                "SPC014",
                                f"{value!r} is not one of the values of `{other}`: {target.values}",
                            )
                        )

    evaluation = spec.evaluation
    if evaluation.baseline is not None:
        problems.append(_check_arm(evaluation.baseline, arms, ("evaluation", "baseline")))
    for i, comparison in enumerate(evaluation.comparisons):
        base = ("evaluation", "comparisons", i)
        problems.append(_check_arm(comparison.treatment, arms, base + ("treatment",)))
        problems.append(_check_arm(comparison.control, arms, base + ("control",)))
        if comparison.metric is not None:
            problems.append(_check_metric(comparison.metric, spec, base + ("metric",)))
        if comparison.test == "mcnemar" and task != "classification":
            problems.append(
                SpecProblem(
                    base + ("test",),
                    "SPC012",
                    f"McNemar's test compares classifiers' correct/incorrect answers; it does not apply to task {task!r}",
                    hint="use paired_bootstrap",
                )
            )

    judged = [(spec.metrics.primary, ("metrics", "primary"))] + [
        (name, ("metrics", "secondary", i)) for i, name in enumerate(spec.metrics.secondary)
    ] + [(c.metric, ("evaluation", "comparisons", i, "metric")) for i, c in enumerate(evaluation.comparisons)]
    if spec.llm_judge is None:
        for name, path in judged:
            if name == "win_rate":
                problems.append(
                    SpecProblem(path, "SPC016", "`win_rate` comes from an LLM judge, and the spec has no `llm_judge` section")
                )

    if spec.deployment is not None and spec.deployment.gate is not None:
        gate = spec.deployment.gate
        if spec.deployment.first_deployment and gate.baseline == "production":
            problems.append(
                SpecProblem(
                    ("deployment", "gate", "baseline"),
                    "SPC018",
                    "a first deployment has no production model to gate against",
                    hint="gate against an arm of this experiment, e.g. the baseline variant",
                )
            )
        if gate.baseline != "production":
            problems.append(_check_arm(gate.baseline, arms + ["production"], ("deployment", "gate", "baseline")))
        problems.append(_check_metric(gate.metric, spec, ("deployment", "gate", "metric")))

    return [p for p in problems if p is not None]
