"""The domain's Metric Selection table, as data the metric rules share.

| Task | Primary | When to Prefer Alternative |
|---|---|---|
| Classification | F1 (macro) | AUC-ROC for imbalanced; MCC for binary with skew |
| Detection | mAP@0.5:0.95 | mAP@0.5 for coarse localization |
| NLP Generation | BERTScore | ROUGE for extractive; perplexity for language modeling |
| Regression | MAE | MSE when outlier penalty matters; MAPE for interpretability |
| Ranking/RAG | NDCG | MRR when only first hit matters; Precision@K for top-heavy use |

The standard metric per task is ``rigorml.schemas.defaults.PRIMARY_METRIC``; each row's alternatives
are an :class:`Alternative` here, named by the rule that asks for it. (Language modeling is a task of
its own in rigorml, with perplexity as its standard metric.)
"""

from __future__ import annotations

from typing import NamedTuple

from ...schemas.vocabulary import parse_metric
from ..base import SpecRule


class Alternative(NamedTuple):
    """A metric the table prefers when the task declares ``traits`` (all of them)."""

    traits: tuple[str, ...]
    metrics: tuple[str, ...]  # base names; reporting any one satisfies the table
    label: str  # how the table names it
    when: str  # the table's words
    code: str  # the rule that asks for it
    suggest: str  # what to add to `metrics`

    def describe(self) -> str:
        return f"{self.label} {self.when}"

    def addition(self) -> str:
        if self.suggest.endswith("@K"):
            base = self.suggest.removesuffix("@K")
            return f"`{base}@k` (k: what the application uses, e.g. `{base}@5`)"
        return f"`{self.suggest}`"


ALTERNATIVES: dict[str, tuple[Alternative, ...]] = {
    "classification": (
        Alternative(("imbalanced",), ("auroc", "auprc"), "AUC-ROC", "for imbalanced classes", "MET002", "auroc"),
        Alternative(("binary", "skewed"), ("mcc",), "MCC", "for binary with skew", "MET003", "mcc"),
    ),
    "detection": (
        Alternative(("coarse_localization",), ("map_50",), "mAP@0.5", "for coarse localization", "MET004", "map_50"),
    ),
    "generation": (
        Alternative(("extractive",), ("rouge1", "rouge2", "rougeL"), "ROUGE", "for extractive generation", "MET005", "rougeL"),
    ),
    "language_modeling": (),
    "regression": (
        Alternative(("outlier_sensitive",), ("mse", "rmse"), "MSE", "when the outlier penalty matters", "MET009", "mse"),
        Alternative(("interpretable",), ("mape",), "MAPE", "for interpretability", "MET009", "mape"),
    ),
    "ranking": (
        Alternative(("first_hit_only",), ("mrr",), "MRR", "when only the first hit matters", "MET007", "mrr"),
        Alternative(("top_k",), ("precision",), "Precision@K", "for top-heavy use", "MET008", "precision@K"),
    ),
}


def base_name(metric: str) -> str:
    """``ndcg@10`` -> ``ndcg``; a custom or unknown name is returned unchanged."""
    info, _ = parse_metric(metric)
    return info.name if info is not None else metric


def reported(ctx) -> set[str]:
    """Base names of every metric reported for every arm: primary, secondary and custom."""
    spec = ctx.spec.metrics
    return {base_name(name) for name in (ctx.primary_metric, *spec.secondary, *spec.custom)}


def applies(alternative: Alternative, ctx) -> bool:
    """Whether the task declares every trait that makes ``alternative`` the table's choice."""
    return set(alternative.traits) <= ctx.traits


def missing(alternative: Alternative, ctx) -> bool:
    """Whether ``alternative`` applies and none of its metrics is reported."""
    return applies(alternative, ctx) and not (set(alternative.metrics) & reported(ctx))


def metrics_location(ctx, trait: str) -> tuple[tuple, bool]:
    """Where "report metric X" belongs: ``metrics.secondary`` (its key) when written, else the
    ``metrics`` key, else the trait that asks for it. Returns (path, key)."""
    if ctx.written(("metrics", "secondary")):
        return ("metrics", "secondary"), True
    if ctx.written(("metrics",)):
        return ("metrics",), True
    traits = list(ctx.spec.experiment.traits)
    return ("experiment", "traits", traits.index(trait)), False


def example_spec(task: str, traits: tuple[str, ...] = ()) -> str:
    """A minimal valid spec for ``task`` (the metric rules' examples). With traits it is 9 lines long,
    so what is appended starts on line 10; without, 8 lines (like ``BASE``)."""
    lines = ["version: 1", "experiment:", "  name: demo", f"  task: {task}"]
    if traits:
        lines.append(f"  traits: [{', '.join(traits)}]")
    source = "builtin:digits" if task == "classification" else "mypkg.data:load"
    lines += ["data:", f"  source: {source}", "model:", "  source: builtin:mlp"]
    return "\n".join(lines) + "\n"


class PreferredMetricRule(SpecRule):
    """A rule for one row of the table: the task declares the traits, and no preferred metric is reported.

    Subclasses set ``code``, ``name``, ``severity``, ``doc``, ``message``, the examples and ``task``; the
    alternatives they check are the ones of ``ALTERNATIVES[task]`` whose ``code`` is theirs.
    """

    task: str

    def check(self, ctx):
        if ctx.task != self.task:
            return
        for alternative in ALTERNATIVES[self.task]:
            if alternative.code != self.code or not missing(alternative, ctx):
                continue
            traits = " and ".join(f"`{t}`" for t in alternative.traits)
            plural = "s" if len(alternative.traits) > 1 else ""
            path, key = metrics_location(ctx, alternative.traits[-1])
            yield self.at(
                ctx,
                path,
                f"{self.task} with trait{plural} {traits} reports no {alternative.label}: the table prefers "
                f"{alternative.describe()}; add {alternative.addition()} to `metrics.secondary`, or make it the "
                "primary metric",
                key=key,
            )
