"""MET001 primary-metric-for-task: a primary metric that is neither the task's standard nor the table's alternative."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ...schemas.defaults import PRIMARY_METRIC
from ..base import BASE, Invalid, RuleDoc, SpecRule
from ._selection import ALTERNATIVES, applies, base_name, example_spec, missing, reported


class PrimaryMetricForTask(SpecRule):
    code = "MET001"
    name = "primary-metric-for-task"
    severity = Severity.INFO
    message = "the primary metric is not the task's standard metric"
    doc = RuleDoc(
        what="Notes a `metrics.primary` that is neither the task's standard metric (F1 macro, mAP@0.5:0.95, "
        "BERTScore, perplexity, MAE, NDCG) nor the alternative the Metric Selection table prefers for a "
        "declared trait, and names both.",
        why="The primary metric decides every comparison and leads the report. The table's standard metrics "
        "are the ones that stay meaningful across class balance, localisation strictness, paraphrase and "
        "outliers, and the ones readers can compare with; its alternatives apply when a trait of the task "
        "calls for them. Another primary metric may be right, but it should be a choice, with the standard "
        "one reported alongside.",
        example="experiment:\n  task: classification\nmetrics:\n  primary: accuracy",
        instead="experiment:\n  task: classification\nmetrics:\n  primary: f1_macro\n  secondary: [accuracy]",
        reference="Metric Selection: the table's 'Primary' and 'When to Prefer Alternative' columns",
        notes=(
            "Stays quiet when a trait rule (MET002-MET009) or MET006 already asks for the table's metric.",
            "An alternative chosen without its trait (`auroc` without `imbalanced`) is noted, with the trait to declare.",
        ),
    )
    VALID = (
        BASE,
        BASE + "metrics:\n  primary: f1_macro\n",
        example_spec("classification", ("imbalanced",)) + "metrics:\n  primary: auroc\n",
        example_spec("ranking") + "metrics:\n  primary: ndcg@10\n",
        example_spec("classification", ("imbalanced",)) + "metrics:\n  primary: accuracy\n",  # MET002 says it
    )
    INVALID = (
        Invalid(BASE + "metrics:\n  primary: accuracy\n", line=10, col=12, message="standard for classification is `f1_macro`"),
        Invalid(BASE + "metrics:\n  primary: auroc\n", line=10, col=12, message="declare `traits: [imbalanced]`"),
        Invalid(
            example_spec("classification", ("imbalanced",)) + "metrics:\n  primary: accuracy\n  secondary: [auroc]\n",
            line=11,
            col=12,
            message="report `f1_macro` alongside it",
        ),
        Invalid(example_spec("regression") + "metrics:\n  primary: r2\n  secondary: [mae]\n", line=10, col=12, message="(alternatives: MSE when"),
    )

    def check(self, ctx):
        primary = ctx.primary_metric
        standard = PRIMARY_METRIC[ctx.task]
        chosen = base_name(primary)
        if chosen == standard:
            return
        alternatives = ALTERNATIVES[ctx.task]
        if any(applies(a, ctx) and chosen in a.metrics for a in alternatives):
            return  # the table's choice for a declared trait
        if any(missing(a, ctx) for a in alternatives):
            return  # a trait rule asks for the table's metric
        if ctx.task == "language_modeling" and "perplexity" not in reported(ctx):
            return  # MET006 asks for it
        message = f"primary metric `{primary}`: the standard for {ctx.task} is `{standard}`"
        undeclared = next((a for a in alternatives if chosen in a.metrics), None)
        if undeclared is not None:
            traits = ", ".join(undeclared.traits)
            message += (
                f"; `{primary}` is the table's choice {undeclared.when}: if that is the case, declare "
                f"`traits: [{traits}]`"
            )
        else:
            others = ", ".join(a.describe() for a in alternatives)
            message += f" (alternatives: {others})" if others else ""
            if standard not in reported(ctx):
                message += f"; if `{primary}` is deliberate, report `{standard}` alongside it"
        yield self.at(ctx, ("metrics", "primary"), message)
