"""Metrics the training loop logs per epoch, computed with scikit-learn (not by hand).

Keyed by the spec's metric names (``rigorml.schemas.vocabulary.METRICS``). The evaluation issue adds
the remaining tasks (ranking, detection, generation) and the vectorised bootstrap paths; this module
covers what a classification or regression training run reports on its validation split.
"""

from __future__ import annotations

from typing import Callable

import numpy as np


def _labels(scores: np.ndarray) -> np.ndarray:
    return scores.argmax(axis=1) if scores.ndim == 2 else (scores > 0.5).astype(np.int64)


def _probabilities(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def _classification(name: str) -> Callable[[np.ndarray, np.ndarray], float]:
    from sklearn import metrics as m

    def labels_metric(fn, **kwargs):
        return lambda y, scores: float(fn(y, _labels(scores), **kwargs))

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
    if name in ("auroc", "auprc", "log_loss"):

        def probability_metric(y: np.ndarray, scores: np.ndarray) -> float:
            probs = _probabilities(scores)
            classes = np.arange(probs.shape[1])
            if name == "log_loss":
                return float(m.log_loss(y, probs, labels=classes))
            if probs.shape[1] == 2:
                positive = probs[:, 1]
                fn = m.roc_auc_score if name == "auroc" else m.average_precision_score
                return float(fn(y, positive))
            if name == "auroc":
                return float(m.roc_auc_score(y, probs, multi_class="ovr", labels=classes))
            onehot = np.eye(probs.shape[1])[y]
            return float(m.average_precision_score(onehot, probs, average="macro"))

        return probability_metric
    raise KeyError(name)


def _regression(name: str) -> Callable[[np.ndarray, np.ndarray], float]:
    from sklearn import metrics as m

    table = {
        "mae": m.mean_absolute_error,
        "mse": m.mean_squared_error,
        "rmse": lambda y, p: float(np.sqrt(m.mean_squared_error(y, p))),
        "mape": m.mean_absolute_percentage_error,
        "r2": m.r2_score,
    }
    fn = table[name]
    return lambda y, scores: float(fn(y, scores.reshape(-1)))


def metric_function(name: str, task: str) -> Callable[[np.ndarray, np.ndarray], float] | None:
    """``fn(y_true, scores)`` for a metric name (scores: logits for classification, predictions for
    regression), or None when this module does not compute it yet."""
    try:
        if task == "classification":
            return _classification(name)
        if task == "regression":
            return _regression(name)
    except KeyError:
        return None
    return None
