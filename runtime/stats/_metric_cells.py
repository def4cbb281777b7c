"""Confusion cells: the fast path of the paired bootstrap for metrics computed from labels.

Accuracy, balanced accuracy, macro/micro/weighted F1, macro precision and recall, and MCC depend on
a set of labelled predictions only through each arm's confusion matrix, and even only through its
margins: per class, the true positives, the true total and the predicted total. Two arms predicting
on the same examples are summarised by the *cells* (true class, treatment prediction, control
prediction): K^3 at most, and usually far fewer are occupied. A resample of the examples is then
just a vector of counts over the cells; resampling n indices uniformly with replacement gives
multinomial(n, cell sizes / n) counts, so drawing the counts directly has the same distribution.

For B resamples at once, the counts form a (B, m) matrix and one matrix product with 0/1 indicator
columns gives both arms' margins ((B, K) each). The metric formulas below are scikit-learn's (1.9),
written over those margins for every resample at once, with the same choices on edge cases:

* the classes a macro average runs over are those present in the resample's ``y_true`` or that
  arm's ``y_pred`` (``labels=None``);
* ``zero_division=0`` for precision, recall and F1, as :mod:`rigorml.runtime.metrics` asks;
* balanced accuracy skips classes absent from ``y_true``; MCC is 0 when either marginal is constant.

The tests check every metric against scikit-learn on many random resamples (to 1e-12).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Metrics with a confusion-cell fast path (the label metrics of :mod:`rigorml.runtime.metrics`).
CONFUSION_METRICS = (
    "accuracy",
    "balanced_accuracy",
    "f1_macro",
    "f1_micro",
    "f1_weighted",
    "precision_macro",
    "recall_macro",
    "mcc",
)


@dataclass(frozen=True)
class ConfusionCells:
    """Examples grouped by (true class, treatment prediction, control prediction).

    ``true``, ``treatment``, ``control``: (m,) class indices (into ``classes``) of each occupied
    cell; ``sizes``: (m,) examples per cell; ``example_cell``: (n,) the cell of each example;
    ``classes``: the sorted labels seen anywhere, so class k is ``classes[k]``.
    """

    true: np.ndarray
    treatment: np.ndarray
    control: np.ndarray
    sizes: np.ndarray
    example_cell: np.ndarray
    classes: np.ndarray

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def indicators(self) -> np.ndarray:
        """(m, 5K) 0/1 columns: counts @ indicators stacks, per class, the true total, the
        treatment's true positives and predicted total, and the control's (see :meth:`split`)."""
        m, k = len(self.sizes), self.n_classes
        out = np.zeros((m, 5 * k))
        rows = np.arange(m)
        out[rows, self.true] = 1.0
        out[rows, k + self.true] = self.treatment == self.true
        out[rows, 2 * k + self.treatment] = 1.0
        out[rows, 3 * k + self.true] = self.control == self.true
        out[rows, 4 * k + self.control] = 1.0
        return out

    def split(self, projected: np.ndarray) -> tuple[np.ndarray, ...]:
        """``(true_total, tp_treatment, pred_treatment, tp_control, pred_control)``, each (B, K),
        from ``counts @ indicators`` ((B, 5K)). The products are of integers below 2**53, so exact."""
        k = self.n_classes
        return tuple(projected[:, i * k : (i + 1) * k] for i in range(5))

    def difference_from_projection(self, metric: str, projected: np.ndarray) -> np.ndarray:
        """``metric(treatment) - metric(control)`` for every row of ``counts @ indicators``: (B,)."""
        true_total, tp_t, pred_t, tp_c, pred_c = self.split(projected)
        return metric_from_margins(metric, tp_t, true_total, pred_t) - metric_from_margins(
            metric, tp_c, true_total, pred_c
        )

    def difference(self, metric: str, counts: np.ndarray) -> np.ndarray:
        """``metric(treatment) - metric(control)`` for every row of ``counts`` ((B, m) examples per
        cell): (B,)."""
        return self.difference_from_projection(metric, np.asarray(counts, dtype=np.float64) @ self.indicators)


def as_labels(predictions: np.ndarray) -> np.ndarray:
    """Labels from predictions: 1-D integer labels as they are, 2-D scores by argmax (as
    :mod:`rigorml.runtime.metrics` does). Raises ValueError for other shapes or non-integer labels."""
    predictions = np.asarray(predictions)
    if predictions.ndim == 2:
        return predictions.argmax(axis=1)
    if predictions.ndim != 1:
        raise ValueError(f"predictions must be labels (n,) or scores (n, classes), not shape {predictions.shape}")
    if predictions.dtype.kind == "f":
        if not np.all(np.isfinite(predictions)) or np.any(predictions != np.round(predictions)):
            raise ValueError("1-D predictions must be integer class labels; pass 2-D scores to take their argmax")
        return predictions.astype(np.int64)
    return predictions


def confusion_cells(y_true: np.ndarray, treatment: np.ndarray, control: np.ndarray) -> ConfusionCells:
    """Group paired labelled predictions into occupied (true, treatment, control) cells.

    Inputs: three (n,) label arrays (any sortable label type). Output: :class:`ConfusionCells`.
    Raises ValueError when the lengths differ or n is 0.
    """
    y_true, treatment, control = (np.asarray(a) for a in (y_true, treatment, control))
    if not (len(y_true) == len(treatment) == len(control)) or len(y_true) == 0:
        raise ValueError(
            f"y_true and both arms' predictions need the same non-zero length, not "
            f"{len(y_true)}, {len(treatment)} and {len(control)}"
        )
    classes, coded = np.unique(np.concatenate([y_true, treatment, control]), return_inverse=True)
    k, n = len(classes), len(y_true)
    y, t, c = coded[:n], coded[n : 2 * n], coded[2 * n :]
    key = (y * k + t) * k + c
    occupied, example_cell, sizes = cells_in_order_of_appearance(key)
    return ConfusionCells(
        true=occupied // (k * k),
        treatment=(occupied // k) % k,
        control=occupied % k,
        sizes=sizes,
        example_cell=example_cell.reshape(-1),
        classes=classes,
    )


def cells_in_order_of_appearance(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group examples by key: ``(cell_keys, example_cell, sizes)``, cells numbered in the order
    their first example appears. ``keys``: one value per example, or (n, r) one row per example.

    Numbering by appearance rather than by key value means that data which group the same
    examples together (the arms swapped, the differences negated) get the same cells in the same
    order, hence the same resamples from the same seed.
    """
    keys = np.asarray(keys)
    rows = {"axis": 0} if keys.ndim == 2 else {}
    keys = keys if rows else keys.reshape(-1)
    unique, first, inverse, sizes = np.unique(keys, return_index=True, return_inverse=True, return_counts=True, **rows)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return unique[order], rank[inverse.reshape(-1)], sizes[order]


def metric_from_margins(metric: str, tp: np.ndarray, true_total: np.ndarray, pred_total: np.ndarray) -> np.ndarray:
    """One arm's ``metric`` for every row of the margins ((B, K) float64 each): (B,).

    Raises ValueError for a metric outside :data:`CONFUSION_METRICS`.
    """
    n = true_total.sum(axis=1)
    correct = tp.sum(axis=1)
    if metric in ("accuracy", "f1_micro"):
        # f1_micro: 2 tp / (2 tp + fp + fn) with fp = fn = n - tp, i.e. tp / n.
        return correct / n
    if metric == "mcc":
        cov_ytyp = correct * n - np.einsum("bk,bk->b", true_total, pred_total)
        cov_ypyp = n**2 - np.einsum("bk,bk->b", pred_total, pred_total)
        cov_ytyt = n**2 - np.einsum("bk,bk->b", true_total, true_total)
        product = cov_ypyp * cov_ytyt
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(product == 0, 0.0, cov_ytyp / np.sqrt(np.where(product == 0, 1.0, product)))
    if metric == "balanced_accuracy":
        in_truth = true_total > 0
        recall = _divide(tp, true_total)
        return (recall * in_truth).sum(axis=1) / in_truth.sum(axis=1)
    present = (true_total + pred_total) > 0
    if metric == "precision_macro":
        per_class = _divide(tp, pred_total)
    elif metric == "recall_macro":
        per_class = _divide(tp, true_total)
    elif metric in ("f1_macro", "f1_weighted"):
        per_class = _divide(2.0 * tp, true_total + pred_total)
        if metric == "f1_weighted":
            return (per_class * true_total).sum(axis=1) / n
    else:
        raise ValueError(f"no confusion-cell formula for {metric!r}; these have one: {', '.join(CONFUSION_METRICS)}")
    return (per_class * present).sum(axis=1) / present.sum(axis=1)


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0 (scikit-learn's zero_division=0)."""
    safe = np.where(denominator == 0, 1.0, denominator)
    return np.where(denominator == 0, 0.0, numerator / safe)
