"""One registry of the metrics a spec can name, keyed by the spec's names, for every task.

``metric_function(name, task)`` gives ``fn(y_true, scores) -> float`` for a metric name as a spec
writes it (``f1_macro``, ``ndcg@10``, ``map_50``). The training loop calls it on a split's targets and
model outputs; ``evaluate.py`` calls it again on the ``y_true`` / ``scores`` arrays saved in
``predictions/<split>.npz``, so each task's input format below is also its saved format (plain numeric
or string arrays, one row per example, readable with ``allow_pickle=False``):

* classification: ``y_true`` int labels ``[n]``; ``scores`` logits ``[n, classes]`` (softmax gives the
  probabilities), or for a binary task a positive-class probability ``[n]``.
* regression: ``y_true`` ``[n]``; ``scores`` predictions ``[n]`` or ``[n, 1]``.
* ranking, detection, generation, language_modeling: see :mod:`rigorml.runtime.metrics_tasks`.

Every value comes from a well-kept library (scikit-learn, torchmetrics, pycocotools, rouge-score);
the few lines written here by hand (exact match, perplexity from saved log-likelihoods) are checked
against a reference in ``tests/test_metrics.py``. Whether a metric is better high or low is read from
:data:`rigorml.schemas.vocabulary.METRICS`, the one table of metric names.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..schemas.vocabulary import METRICS, parse_metric
from . import metrics_tasks
from .metrics_tasks import MetricFunction, MetricUnavailableError, pad_per_image  # noqa: F401 (re-exported)

#: Metrics in the vocabulary that are not recomputed from saved predictions, and what produces them.
COMPUTED_ELSEWHERE = {
    "loss": "the training loop: the training objective averaged over a split, logged as {split}/loss",
    "win_rate": "the LLM judge: pairwise comparisons of two arms' generations, not one run's predictions",
}


def higher_is_better(name: str) -> bool:
    """Whether a larger value of metric ``name`` (``ndcg@10`` allowed) is better.

    Read from ``schemas.vocabulary.METRICS``. Raises ValueError for a name the vocabulary lacks.
    """
    info, _ = parse_metric(name)
    if info is None:
        raise ValueError(f"unknown metric {name!r}: the metrics a spec can name are {', '.join(METRICS)}")
    return info.higher_is_better


def metric_function(name: str, task: str) -> MetricFunction | None:
    """``fn(y_true, scores) -> float`` for metric ``name`` on ``task`` (inputs: the module docstring).

    Returns None for a name that is not a metric of ``task`` and for the metrics in
    :data:`COMPUTED_ELSEWHERE`. Raises :class:`MetricUnavailableError` when the metric exists but
    cannot run here (``bertscore_f1`` without a local model). The returned function raises
    ValueError on inputs of the wrong shape or type, on empty inputs and on ``k`` past the lists.
    """
    info, k = parse_metric(name)
    if info is None or task not in info.tasks or info.name in COMPUTED_ELSEWHERE:
        return None
    return _BY_TASK[task](info.name, k)


# --- classification -------------------------------------------------------------------------------


def predicted_labels(scores: np.ndarray) -> np.ndarray:
    """The class each example is predicted as: argmax of 2-D scores, or a 1-D positive-class
    probability thresholded at 0.5. The label metrics and the evaluation's tests share it."""
    return scores.argmax(axis=1) if scores.ndim == 2 else (scores > 0.5).astype(np.int64)


def _probabilities(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def _check_examples(y: np.ndarray, scores: np.ndarray, task: str, score_dims: tuple[int, ...]) -> None:
    if y.ndim != 1:
        raise ValueError(f"{task} y_true must be 1-D (one target per example), got shape {y.shape}")
    if scores.ndim not in score_dims:
        raise ValueError(f"{task} scores must have {' or '.join(map(str, score_dims))} dimensions, got shape {scores.shape}")
    if len(y) != len(scores):
        raise ValueError(f"{task}: {len(y)} targets but {len(scores)} rows of scores")
    if len(y) == 0:
        raise ValueError(f"{task}: no examples to score")


def _classification(name: str, k: int | None) -> MetricFunction:
    from sklearn import metrics as m

    def checked(fn: Callable[[np.ndarray, np.ndarray], float]) -> MetricFunction:
        def metric(y_true, scores) -> float:
            y, s = np.asarray(y_true), np.asarray(scores)
            _check_examples(y, s, "classification", (1, 2))
            return float(fn(y, s))

        return metric

    def labels_metric(fn, **kwargs):
        return checked(lambda y, s: fn(y, predicted_labels(s), **kwargs))

    table = {
        "accuracy": labels_metric(m.accuracy_score),
        "balanced_accuracy": labels_metric(m.balanced_accuracy_score),
        "f1_macro": labels_metric(m.f1_score, average="macro", zero_division=0),
        "f1_micro": labels_metric(m.f1_score, average="micro", zero_division=0),
        "f1_weighted": labels_metric(m.f1_score, average="weighted", zero_division=0),
        "precision_macro": labels_metric(m.precision_score, average="macro", zero_division=0),
        "recall_macro": labels_metric(m.recall_score, average="macro", zero_division=0),
        "mcc": labels_metric(m.matthews_corrcoef),
    }
    if name in table:
        return table[name]

    def probability_metric(y: np.ndarray, scores: np.ndarray) -> float:
        if scores.ndim == 1:
            # A binary model's positive-class probability: AUROC/AUPRC only need its order.
            if name == "log_loss":
                if np.any((scores < 0) | (scores > 1)):
                    raise ValueError("log_loss on 1-D scores needs positive-class probabilities in [0, 1]")
                return float(m.log_loss(y, np.stack([1 - scores, scores], axis=1), labels=[0, 1]))
            fn = m.roc_auc_score if name == "auroc" else m.average_precision_score
            return float(fn(y, scores))
        probs = _probabilities(scores)
        classes = np.arange(probs.shape[1])
        if name == "log_loss":
            return float(m.log_loss(y, probs, labels=classes))
        if probs.shape[1] == 2:
            fn = m.roc_auc_score if name == "auroc" else m.average_precision_score
            return float(fn(y, probs[:, 1]))
        if name == "auroc":
            return float(m.roc_auc_score(y, probs, multi_class="ovr", average="macro", labels=classes))
        onehot = np.eye(probs.shape[1])[y]
        return float(m.average_precision_score(onehot, probs, average="macro"))

    return checked(probability_metric)


# --- regression -----------------------------------------------------------------------------------


def _regression(name: str, k: int | None) -> MetricFunction:
    from sklearn import metrics as m

    table = {
        "mae": m.mean_absolute_error,
        "mse": m.mean_squared_error,
        "rmse": lambda y, p: np.sqrt(m.mean_squared_error(y, p)),
        "mape": m.mean_absolute_percentage_error,
        "r2": m.r2_score,
    }
    fn = table[name]

    def metric(y_true, scores) -> float:
        y, s = np.asarray(y_true), np.asarray(scores)
        if s.ndim == 2 and s.shape[1] == 1:
            s = s[:, 0]
        _check_examples(y, s, "regression", (1,))
        return float(fn(y, s))

    return metric


_BY_TASK: dict[str, Callable[[str, int | None], MetricFunction]] = {
    "classification": _classification,
    "regression": _regression,
    "ranking": metrics_tasks.ranking,
    "detection": metrics_tasks.detection,
    "generation": metrics_tasks.generation,
    "language_modeling": metrics_tasks.language_modeling,
}
