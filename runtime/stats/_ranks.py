"""AUROC from example counts: the fast path of the paired bootstrap for the area under the ROC curve.

The AUROC of scored examples is the Mann-Whitney statistic: the share of (positive, negative) pairs
that the score orders correctly, ties counting half. A bootstrap resample is a vector of counts
c (how often each example was drawn), and the resample's AUROC is the same statistic over the
drawn copies:

    AUROC(c) = sum over positive i, negative j of c_i c_j ([s_i > s_j] + 0.5 [s_i == s_j]) / (P N)

with P, N the resample's positive and negative counts. Going once through the examples sorted by
score, ties grouped, it is sum over groups g of P_g (N_<g + N_g / 2) / (P N): the negatives below
the group plus half those in it, times the group's positives. That is one pass per resample over a
row of counts, done for a block of resamples at once (numpy, torch, or the numba kernel of
:mod:`._kernels`), instead of a sort per resample. Counts are integers and the sums are kept as
twice the numerator, so every value is exact in float64 up to n of about 10^8.

Examples that are interchangeable (the same label and the same scores in both arms) form one
*cell*, so the counts are over cells (usually one example each, unless scores are coarse).

Which AUROC: :mod:`rigorml.runtime.metrics`' (scikit-learn's ``roc_auc_score``, exactly equal to
the formula above with ties counted half, i.e. the trapezoidal ROC area):

* 1-D scores: binary, the positive class is the larger of the two labels (scikit-learn's rule);
* 2-D logits with 2 columns: binary on the softmax probability of class 1;
* 2-D logits with K > 2 columns: one-vs-rest AUROC of each class on its softmax probability,
  averaged over the classes (``multi_class="ovr", average="macro"``).

**A resample that does not define a class.** scikit-learn returns NaN when a resample holds only
one class, and its macro average is NaN when any class is missing from the resample; a bootstrap
distribution with NaNs in it has no quantiles. Dropping such resamples (or redrawing them) would
condition the bootstrap on the data it happened to draw. Here, as scikit-learn's balanced accuracy
skips classes absent from ``y_true``, the macro average runs over the classes the resample
defines (at least one example of the class and one of another), and a resample that defines none
(binary: only one class drawn) has AUROC 0.5 in both arms: no information, so a difference of 0.
With more than a handful of examples of each class this almost never happens (probability
(1 - p)^n for a class of share p).

The tests check every resample of small problems against ``sklearn.metrics.roc_auc_score``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: AUROC of a resample that defines no class (only one class drawn): chance.
UNDEFINED_AUROC = 0.5


@dataclass(frozen=True)
class RankCells:
    """Two arms' scores of the same examples, grouped into cells and sorted once per ranking.

    A *ranking* is one arm's scores for one class (binary: the positive class): ranking ``a * k +
    j`` is arm ``a`` (0 treatment, 1 control) on class ``j`` of ``k`` = :attr:`n_classes`.
    ``example_cell`` (n,): each example's cell; ``sizes`` (m,): examples per cell; ``label`` (m,):
    each cell's class (binary: 1 positive, 0 negative); for each ranking (rows of (2k, m) arrays),
    ``order``: the cells sorted by score, ascending; ``positive``: whether the cell at each sorted
    position is of the ranking's class; ``first``, ``last``: the sorted positions where the tie
    group holding each position starts and ends (inclusive).
    """

    example_cell: np.ndarray
    sizes: np.ndarray
    label: np.ndarray
    n_classes: int
    order: np.ndarray
    positive: np.ndarray
    first: np.ndarray
    last: np.ndarray

    @property
    def rankings(self) -> int:
        return 2 * self.n_classes

    def class_onehot(self) -> np.ndarray:
        """(m, k) 0/1: counts @ this gives each class's positives per resample."""
        if self.n_classes == 1:
            return (self.label == 1).astype(np.float64)[:, None]
        return np.eye(self.n_classes)[self.label]

    # --- from counts ----------------------------------------------------------------------------

    def twice_numerators(self, counts: np.ndarray) -> np.ndarray:
        """2 x the Mann-Whitney numerator of every ranking for every row of ``counts`` ((B, m),
        examples per cell): (B, 2k). Works on numpy arrays and, given the index arrays as
        tensors (:meth:`on_device`), on torch tensors."""
        return twice_numerators(counts, self.order, self.positive, self.first, self.last)

    def difference(self, counts: np.ndarray) -> np.ndarray:
        """AUROC(treatment) - AUROC(control) for every row of ``counts`` ((B, m)): (B,)."""
        counts = np.asarray(counts, dtype=np.float64)
        return difference_from_sums(
            self.twice_numerators(counts), counts @ self.class_onehot(), counts.sum(axis=1), self.n_classes
        )

    def auroc(self, counts: np.ndarray) -> np.ndarray:
        """Each arm's AUROC for every row of ``counts``: (B, 2), treatment then control."""
        counts = np.asarray(counts, dtype=np.float64)
        return arm_aurocs(self.twice_numerators(counts), counts @ self.class_onehot(), counts.sum(axis=1), self.n_classes)

    def leave_one_out(self) -> np.ndarray:
        """The difference with one example of each cell left out: (m,), exact (the jackknife).

        Leaving out a positive of class j removes its pairs with every negative (twice:
        2 N_below + N_tied); leaving out a negative removes its pairs with every positive
        (2 P_above + P_tied). One pass per ranking over the full counts."""
        m, k = len(self.sizes), self.n_classes
        sizes = self.sizes.astype(np.float64)
        onehot = self.class_onehot()
        positives = sizes @ onehot  # (k,)
        total = float(sizes.sum())
        full = self.twice_numerators(sizes[None, :])[0]  # (2k,)
        numerators = np.empty((m, 2 * k))
        for ranking in range(2 * k):
            order, positive = self.order[ranking], self.positive[ranking]
            first, last = self.first[ranking], self.last[ranking]
            c = sizes[order]
            neg, pos = np.where(positive, 0.0, c), np.where(positive, c, 0.0)
            neg_through, pos_through = np.cumsum(neg), np.cumsum(pos)
            neg_below = neg_through[first] - neg[first]  # negatives strictly below the tie group
            neg_tied = neg_through[last] - neg_below
            pos_above = pos_through[-1] - pos_through[last]
            pos_tied = pos_through[last] - (pos_through[first] - pos[first])
            removed = np.where(positive, 2 * neg_below + neg_tied, 2 * pos_above + pos_tied)
            numerators[order, ranking] = full[ranking] - removed
        left_positives = positives[None, :] - onehot
        return difference_from_sums(numerators, left_positives, np.full(m, total - 1), k)

    def on_device(self, torch, device) -> RankCells:
        """The same cells with the index arrays as torch tensors on ``device``."""
        return RankCells(
            *(torch.as_tensor(np.asarray(a), device=device) for a in (self.example_cell, self.sizes, self.label)),
            self.n_classes,
            *(torch.as_tensor(np.asarray(a), device=device) for a in (self.order, self.positive, self.first, self.last)),
        )


def twice_numerators(counts, order, positive, first, last):
    """2 x sum over positives i of c_i (N_below(i) + N_tied(i) / 2), per ranking: the cumulative
    sum of the negatives' counts along the sorted cells, read at each tie group's ends. The same
    code runs on numpy arrays and torch tensors (``cumsum(1)``, ``sum(1)``, fancy indexing)."""
    out = []
    for ranking in range(order.shape[0]):
        c = counts[:, order[ranking]]
        is_positive = positive[ranking]
        neg = c * ~is_positive
        neg_through = neg.cumsum(1)
        below = neg_through[:, first[ranking]] - neg[:, first[ranking]]
        through = neg_through[:, last[ranking]]
        out.append((c * is_positive * (below + through)).sum(1))
    if isinstance(counts, np.ndarray):
        return np.stack(out, axis=1)
    import torch

    return torch.stack(out, dim=1)


def arm_aurocs(twice_num: np.ndarray, positives: np.ndarray, total: np.ndarray, n_classes: int) -> np.ndarray:
    """Each arm's AUROC (B, 2) from the twice-numerators (B, 2k), each class's positives (B, k) and
    the resample size (B,): the mean over the classes the resample defines, 0.5 if none."""
    auc, defined = _class_aurocs(twice_num, positives, total, n_classes)
    count = defined.sum(axis=1)
    per_arm = [np.where(defined, auc[a], 0.0).sum(axis=1) for a in range(2)]
    return np.stack([np.where(count > 0, s / np.maximum(count, 1), UNDEFINED_AUROC) for s in per_arm], axis=1)


def difference_from_sums(twice_num: np.ndarray, positives: np.ndarray, total: np.ndarray, n_classes: int) -> np.ndarray:
    """AUROC(treatment) - AUROC(control) (B,) from the same sums as :func:`arm_aurocs`; 0 for a
    resample that defines no class. The classes defined are the same in both arms (they depend
    on the labels only), so this is the difference of the two macro averages."""
    auc, defined = _class_aurocs(twice_num, positives, total, n_classes)
    count = defined.sum(axis=1)
    summed = np.where(defined, auc[0] - auc[1], 0.0).sum(axis=1)
    return np.where(count > 0, summed / np.maximum(count, 1), 0.0)


def _class_aurocs(twice_num, positives, total, n_classes: int):
    twice_num = np.asarray(twice_num, dtype=np.float64)
    positives = np.asarray(positives, dtype=np.float64)
    negatives = np.asarray(total, dtype=np.float64)[:, None] - positives
    defined = (positives > 0) & (negatives > 0)
    pairs = np.where(defined, 2.0 * positives * negatives, 1.0)
    k = n_classes
    return (twice_num[:, :k] / pairs, twice_num[:, k:] / pairs), defined


# --- building the cells ---------------------------------------------------------------------------


def auroc_scores(y_true: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(labels, columns)``: each example's class and the score column(s) the registry's AUROC
    ranks, from ``y_true`` and one arm's scores as :mod:`rigorml.runtime.metrics` takes them.

    1-D scores: binary; labels 1 for the larger of y's labels, 0 for the other (a y with one
    label: every example negative, so no resample defines the class). 2-D: logits, turned into
    probabilities by the registry's softmax; 2 columns give binary on class 1's probability, K > 2
    the K probability columns with labels 0..K-1. Output columns are (n, 1) or (n, K) float64.
    Raises ValueError for non-finite scores, a 1-D score with more than two labels, or labels
    outside 0..K-1.
    """
    from ..metrics import _probabilities  # the registry's softmax: the same probabilities, bit for bit

    y = np.asarray(y_true)
    scores = np.asarray(scores)
    if scores.ndim not in (1, 2) or len(scores) != len(y) or y.ndim != 1:
        raise ValueError(f"auroc takes y_true (n,) and scores (n,) or (n, classes), not {y.shape} and {scores.shape}")
    if scores.dtype.kind not in "fiub" or not np.all(np.isfinite(scores)):
        raise ValueError("auroc needs finite numeric scores")
    if scores.ndim == 2:
        if scores.shape[1] < 2:
            raise ValueError(f"auroc needs 2-D scores with at least 2 classes, not shape {scores.shape}")
        probabilities = _probabilities(scores)
        if scores.shape[1] > 2:
            k = scores.shape[1]
            if y.dtype.kind not in "iub" or np.any((y < 0) | (y >= k)):
                raise ValueError(f"auroc over {k} classes needs integer labels 0..{k - 1}")
            return y.astype(np.int64), probabilities.astype(np.float64)
        scores = probabilities[:, 1]
    labels = np.unique(y)
    if len(labels) > 2:
        raise ValueError(f"auroc on 1-D scores is binary, but y_true holds {len(labels)} labels")
    positive = (y == labels[-1]) if len(labels) == 2 else np.zeros(len(y), dtype=bool)
    return positive.astype(np.int64), scores.astype(np.float64)[:, None]


def rank_cells(labels: np.ndarray, columns_t: np.ndarray, columns_c: np.ndarray) -> RankCells:
    """Group examples by (label, treatment scores, control scores) and sort the cells per ranking.

    Inputs: ``labels`` (n,) class indices (binary: 1 positive); ``columns_t``, ``columns_c``:
    (n, k) score columns (:func:`auroc_scores`), k = 1 for binary. Output: :class:`RankCells`.
    """
    from ._metric_cells import cells_in_order_of_appearance

    k = columns_t.shape[1]
    # + 0.0 turns -0.0 into 0.0: equal scores must share a cell.
    keys = np.column_stack([labels.astype(np.float64), columns_t + 0.0, columns_c + 0.0])
    occupied, example_cell, sizes = cells_in_order_of_appearance(keys)
    label = occupied[:, 0].astype(np.int64)
    cell_scores = occupied[:, 1:]  # (m, 2k): the treatment's k columns, then the control's
    m = len(sizes)
    order = np.empty((2 * k, m), dtype=np.int64)
    first = np.empty((2 * k, m), dtype=np.int64)
    last = np.empty((2 * k, m), dtype=np.int64)
    positive = np.empty((2 * k, m), dtype=bool)
    for ranking in range(2 * k):
        column = cell_scores[:, ranking]
        sorted_cells = np.argsort(column, kind="stable")
        values = column[sorted_cells]
        new_group = np.r_[True, values[1:] != values[:-1]]
        starts = np.flatnonzero(new_group)
        group = np.cumsum(new_group) - 1
        ends = np.r_[starts[1:] - 1, m - 1]
        order[ranking] = sorted_cells
        first[ranking], last[ranking] = starts[group], ends[group]
        klass = ranking % k
        positive[ranking] = (label[sorted_cells] == 1) if k == 1 else (label[sorted_cells] == klass)
    return RankCells(example_cell.reshape(-1), sizes, label, k, order, positive, first, last)
