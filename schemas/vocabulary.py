"""The fixed vocabulary a spec draws on: tasks, their traits, splits, builtin sources and metrics.

Plain data only (no pydantic, no heavy imports) so that the validator, the linter and the runtime all
read the same tables. The metric table follows the domain document's "Metric Selection" section.
"""

from __future__ import annotations

import re
from typing import NamedTuple

TASKS = ("classification", "detection", "generation", "language_modeling", "regression", "ranking")

#: Traits a task may declare; the metric rules read them (e.g. ``imbalanced`` -> prefer AUC-ROC).
TASK_TRAITS = {
    "classification": ("binary", "multiclass", "multilabel", "imbalanced", "skewed"),
    "detection": ("coarse_localization",),
    "generation": ("extractive", "abstractive", "open_ended"),
    "language_modeling": (),
    "regression": ("outlier_sensitive", "interpretable"),
    "ranking": ("first_hit_only", "top_k", "rag"),
}

#: Split names used in data splits and in logged metric names (``{split}/{metric}``).
SPLITS = ("train", "val", "test")

BUILTIN_DATASETS = {
    "digits": "classification",
    "breast_cancer": "classification",
    "wine": "classification",
    "iris": "classification",
    "diabetes": "regression",
}

BUILTIN_MODELS = ("logreg", "mlp", "linear")

#: Top-level sections a variant or a sweep parameter may change.
OVERRIDABLE_SECTIONS = ("data", "model", "training")

ADAM_FAMILY = ("adam", "adamw", "nadam", "radam", "adamax")


class MetricInfo(NamedTuple):
    """A metric the runtime can compute: its task, whether bigger is better, and whether it takes ``@k``."""

    name: str
    tasks: tuple[str, ...]
    higher_is_better: bool
    takes_k: bool = False
    description: str = ""


_ALL = TASKS
METRICS: dict[str, MetricInfo] = {
    m.name: m
    for m in (
        MetricInfo("loss", _ALL, False, description="the training objective"),
        MetricInfo("accuracy", ("classification",), True),
        MetricInfo("balanced_accuracy", ("classification",), True),
        MetricInfo("f1_macro", ("classification",), True, description="macro-averaged F1"),
        MetricInfo("f1_micro", ("classification",), True),
        MetricInfo("f1_weighted", ("classification",), True),
        MetricInfo("precision_macro", ("classification",), True),
        MetricInfo("recall_macro", ("classification",), True),
        MetricInfo("auroc", ("classification",), True, description="area under the ROC curve"),
        MetricInfo("auprc", ("classification",), True, description="area under the precision-recall curve"),
        MetricInfo("mcc", ("classification",), True, description="Matthews correlation coefficient"),
        MetricInfo("log_loss", ("classification",), False),
        MetricInfo("map", ("detection",), True, description="mAP@0.5:0.95"),
        MetricInfo("map_50", ("detection",), True, description="mAP@0.5"),
        MetricInfo("map_75", ("detection",), True, description="mAP@0.75"),
        MetricInfo("bertscore_f1", ("generation",), True),
        MetricInfo("rouge1", ("generation",), True),
        MetricInfo("rouge2", ("generation",), True),
        MetricInfo("rougeL", ("generation",), True),
        MetricInfo("bleu", ("generation",), True),
        MetricInfo("exact_match", ("generation", "language_modeling"), True),
        MetricInfo("win_rate", ("generation",), True, description="LLM-judge pairwise win rate"),
        MetricInfo("perplexity", ("language_modeling", "generation"), False),
        MetricInfo("mae", ("regression",), False, description="mean absolute error"),
        MetricInfo("mse", ("regression",), False, description="mean squared error"),
        MetricInfo("rmse", ("regression",), False),
        MetricInfo("mape", ("regression",), False, description="mean absolute percentage error"),
        MetricInfo("r2", ("regression",), True),
        MetricInfo("ndcg", ("ranking",), True, takes_k=True, description="NDCG, optionally @k"),
        MetricInfo("mrr", ("ranking",), True, description="mean reciprocal rank"),
        MetricInfo("precision", ("ranking",), True, takes_k=True, description="precision@k"),
        MetricInfo("recall", ("ranking",), True, takes_k=True, description="recall@k"),
        MetricInfo("hit_rate", ("ranking",), True, takes_k=True),
    )
}

_METRIC_NAME = re.compile(r"^(?P<base>[A-Za-z][A-Za-z0-9_]*)(?:@(?P<k>[1-9][0-9]*))?$")


def parse_metric(name: str) -> tuple[MetricInfo | None, int | None]:
    """Split ``ndcg@10`` into (info for ``ndcg``, 10); unknown names give (None, None)."""
    match = _METRIC_NAME.fullmatch(name)
    if not match:
        return None, None
    info = METRICS.get(match["base"])
    if info is None:
        return None, None
    k = int(match["k"]) if match["k"] else None
    if k is not None and not info.takes_k:
        return None, None
    return info, k


def metric_names_for(task: str) -> list[str]:
    """Names valid as a primary/secondary metric for ``task`` (``@k`` forms shown as ``name@k``)."""
    return [m.name + ("@k" if m.takes_k else "") for m in METRICS.values() if task in m.tasks]
