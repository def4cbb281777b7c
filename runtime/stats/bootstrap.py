"""Paired bootstrap: intervals and p-values for treatment - control, resampled fast.

Three entry points, all paired (both arms are resampled with the same example, or seed, indices):

* :func:`paired_bootstrap`: the mean of per-example differences (per-example scores: correctness,
  loss, a judge's score...), or any statistic of the differences;
* :func:`paired_metric_bootstrap`: the difference of a metric computed over a whole resample
  (accuracy, F1 macro, MCC, balanced accuracy, AUROC, perplexity, corpus BLEU...), which a mean of
  per-example scores cannot express;
* :func:`paired_two_level_bootstrap`: several replicate seeds per arm (``bootstrap.level:
  seeds_x_examples``): resample the seeds, then the examples within each drawn seed, and average the
  per-seed metric differences.

``level: seeds`` is :func:`paired_bootstrap` on the per-seed metric values; ``level: examples`` is
:func:`paired_metric_bootstrap` (or :func:`paired_bootstrap`) on one seed's predictions.

**How resampling is made fast.** A bootstrap resample of n examples is a vector of counts
(how often each example was drawn), multinomial(n, 1/n each). Examples that are interchangeable for
the statistic (the same per-example difference; the same (true class, treatment prediction, control
prediction) cell for a confusion-matrix metric) form *cells*, and the counts over cells are
multinomial(n, cell size / n): the same distribution as drawing indices, with far fewer random
numbers when cells are few. Cells holding at least :data:`LARGE_CELL` examples get their counts
from one multinomial draw; the examples of the smaller cells (all of them when every value is
distinct) are drawn as uniform indices, as many as the multinomial gave the pooled small cells.
Both parts are exact, so the resample distribution is exactly the plain bootstrap's.

What is computed from the counts, for a block of resamples at once:

* a mean, or a :class:`SummedMetric` (perplexity, RMSE, R^2, corpus BLEU: a function of sums of
  per-example columns): ``counts @ columns``, the resampled sums, then the function;
* a confusion metric: ``counts @ indicators``, the confusion margins (:mod:`._metric_cells`);
* AUROC: the Mann-Whitney statistic, one pass over each row of counts with the cells sorted by
  score once (:mod:`._ranks`; the numba kernel of :mod:`._kernels` on a CPU);
* a :class:`WeightedMetric` (COCO mAP, :mod:`._coco`): its function of the (rows, n) counts over
  the examples, with what it needs prepared once per arm.

Resamples are drawn in cache-sized blocks of about :data:`BLOCK_ELEMENTS` random numbers (bounded
memory; for AUROC a block is a (rows, cells) count matrix of about a million entries), each block
from its own stream spawned from ``seed`` (:class:`numpy.random.SeedSequence`), so blocks can run
on several threads and the result depends only on ``seed``, never on the number of workers.

With ``backend="auto"`` the draws run on the GPU with torch when ``torch.cuda.is_available()``,
else in the compiled CPU kernels of :mod:`._kernels` (numba: each index is drawn, looked up and
added in one pass, with no (resamples, n) index matrix), else with numpy. The backends draw from
different generators: the same distribution, not the same numbers. The result records which one
ran.

**Intervals.** ``percentile``: the alpha/2 and 1 - alpha/2 quantiles of the bootstrap distribution
(linear interpolation, as ``scipy.stats.bootstrap``). ``bca``: bias-corrected and accelerated
(Efron 1987; Efron & Tibshirani 1993, ch. 14): the bias correction z0 from the share of resampled
statistics below the estimate (ties count half), the acceleration from the jackknife, computed
exactly over cells (leaving out one example of a cell gives the same value for every example of it);
for the two-level bootstrap the jackknife leaves out one seed, the top-level sampling unit. For a
one-sided ``alternative`` the interval is one-sided at level ``confidence`` (``greater``:
[low, inf)), as ``scipy.stats.bootstrap`` does.

**p-values.** The bootstrap distribution shifted to the null (Efron & Tibshirani 1993, sec. 16.4;
Hall & Wilson 1991, "Two guidelines for bootstrap hypothesis testing"): T*_b = theta*_b - theta
has the spread of the statistic with its centre moved to 0, and the observed theta is compared
with it. With B resamples and the add-one correction of Davison & Hinkley (1997, ch. 4) that keeps
a Monte Carlo p-value valid (never 0),

    p_greater = (1 + #{T*_b >= theta}) / (B + 1)        (treatment above control)
    p_less    = (1 + #{T*_b <= theta}) / (B + 1)
    p_two     = min(1, 2 min(p_greater, p_less))

``T*_b >= theta`` is ``theta*_b >= 2 theta``: the paired bootstrap test of Berg-Kirkpatrick et al.
(2012, "An empirical investigation of statistical significance in NLP"). Comparisons allow a
relative tolerance of 100 machine epsilons, as ``scipy.stats.permutation_test`` does, so that ties
(discrete metrics) are not broken by rounding.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _kernels
from ._metric_cells import CONFUSION_METRICS, as_labels, cells_in_order_of_appearance, confusion_cells
from ._ranks import RankCells, auroc_scores, difference_from_sums, rank_cells

#: Alternative hypotheses, about treatment - control.
ALTERNATIVES = ("two-sided", "greater", "less")

#: Interval methods (``evaluation.bootstrap.method``).
METHODS = ("percentile", "bca")

#: Backends: ``auto`` (torch on CUDA when available, else numba, else numpy), ``numba`` (the
#: compiled CPU kernels), ``numpy``, ``torch`` (CUDA when available, else torch on the CPU: slower
#: than numpy, there for testing the torch code).
BACKENDS = ("auto", "numba", "numpy", "torch")

#: Random numbers per block of resamples: bounds memory (a few hundred KiB per block and worker).
#: Chosen by timing (bench/bootstrap.py): blocks that outgrow the CPU caches, or whose temporaries
#: glibc serves by mmap and returns at every free, run up to three times slower.
BLOCK_ELEMENTS = 1 << 15
#: The same on a GPU, where bigger blocks keep the device busy.
GPU_BLOCK_ELEMENTS = 1 << 24
#: Index draws per block for the numba kernels, which hold no index matrix: a few milliseconds of
#: work, so that threads share the blocks evenly.
KERNEL_BLOCK_DRAWS = 1 << 21

#: Cells with at least this many examples get their counts from a multinomial draw; smaller ones
#: are drawn example by example. A binomial draw costs about as much as ~15 index draws.
LARGE_CELL = 16

#: Relative tolerance of the p-value comparisons (``scipy.stats.permutation_test``'s).
TIE_TOLERANCE = 100 * np.finfo(np.float64).eps


@dataclass(frozen=True)
class BootstrapResult:
    """A paired bootstrap comparison of treatment against control.

    ``estimate``: the statistic on the data (treatment - control); ``ci_low``, ``ci_high``: the
    interval at ``confidence`` (one end infinite for a one-sided ``alternative``); ``p_value``:
    the null-shifted bootstrap p-value (module docstring); ``resamples``, ``method``
    (``percentile`` or ``bca``), ``seed``: what was asked; ``alternative``; ``level``: what was
    resampled (``examples`` or ``seeds_x_examples``); ``standard_error``: sd of the bootstrap
    distribution; ``backend``: ``numba``, ``numpy``, ``torch:cuda``, ``torch:cpu`` or ``numpy (loop)``;
    ``distribution``: the B resampled statistics, in draw order.
    """

    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    resamples: int
    method: str
    seed: int
    confidence: float
    alternative: str
    level: str
    standard_error: float
    backend: str
    distribution: np.ndarray = field(repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields (everything but the distribution); the open end of a one-sided
        interval is None (JSON has no infinity)."""
        return {
            "estimate": self.estimate,
            "ci": [None if math.isinf(end) else end for end in (self.ci_low, self.ci_high)],
            "p_value": self.p_value,
            "resamples": self.resamples,
            "method": self.method,
            "seed": self.seed,
            "confidence": self.confidence,
            "alternative": self.alternative,
            "level": self.level,
            "standard_error": self.standard_error,
            "backend": self.backend,
        }


# --- entry points -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SummedMetric:
    """A metric computed from per-example columns summed over the examples, for the fast paths.

    Perplexity (exp of the summed negative log-likelihood over the summed token count), RMSE, R^2
    and corpus BLEU are not means of per-example scores, but each is a function of a few sums over
    the examples: a resample's value is that function of the resampled sums, which the count
    machinery gives for all resamples at once. ``name``: for messages; ``value(sums, n)``: sums
    (B, r) of the r columns over each resample of n examples -> the metric (B,). The arms'
    per-example columns are passed as the predictions ((n, r) per arm; (S, n, r) with seeds).
    """

    name: str
    value: Callable[[np.ndarray, int], np.ndarray]


@dataclass(frozen=True)
class WeightedMetric:
    """A metric of a whole resample computed from per-example integer weights, for the fast paths.

    COCO mAP (:mod:`._coco`) is neither a mean nor a function of sums over the images, but its
    value on a resample is a function of how often each image was drawn, given matches computed
    once per run. ``name``: for messages; ``prepare(y_true, predictions) -> state``: once per arm
    (and seed), from that arm's predictions as passed to the bootstrap; ``value(state, counts)``:
    counts (B, n) float64, how often each example was drawn in each resample -> the metric (B,).
    Both arms of a resample get the same counts; they are drawn example by example as for AUROC
    (the numba kernel on a CPU, else numpy; a torch backend draws on the CPU here).
    """

    name: str
    prepare: Callable[[Any, np.ndarray], Any]
    value: Callable[[Any, np.ndarray], np.ndarray]


#: Metric names with a fast path in :func:`paired_metric_bootstrap` (besides a
#: :class:`SummedMetric` or a :class:`WeightedMetric`): the confusion metrics and AUROC.
FAST_METRICS = (*CONFUSION_METRICS, "auroc")


def paired_bootstrap(
    treatment: Any,
    control: Any,
    *,
    statistic: str | Callable[[np.ndarray], float] = "mean",
    resamples: int = 10_000,
    confidence: float = 0.95,
    method: str = "percentile",
    seed: int,
    alternative: str = "two-sided",
    backend: str = "auto",
    workers: int | None = None,
) -> BootstrapResult:
    """Bootstrap the mean (or ``statistic``) of the paired differences ``treatment - control``.

    Inputs: ``treatment``, ``control``: (n,) per-example scores of both arms on the same examples,
    in the same order (n >= 2, finite). ``statistic``: ``"mean"`` (the fast path: resample counts,
    weighted sums), or a function of a 1-D array of differences returning a float (resampled one
    resample at a time: slow, there for medians and the like). ``resamples``: B; ``confidence``;
    ``method``: ``percentile`` or ``bca``; ``seed``: the resampling seed (required: the result
    must be reproducible); ``alternative``: about treatment - control; ``backend``, ``workers``:
    where the draws run (module docstring) and on how many threads (default: the CPU count, at most
    8); neither changes the numpy result.

    Output: :class:`BootstrapResult`. Errors: ValueError for mismatched or too short inputs,
    non-finite values, or an unknown option.
    """
    _check_options(resamples, confidence, method, alternative, seed, backend)
    t = _finite_vector(treatment, "treatment")
    c = _finite_vector(control, "control")
    if t.shape != c.shape:
        raise ValueError(f"paired scores need the same length, not {len(t)} (treatment) and {len(c)} (control)")
    if len(t) < 2:
        raise ValueError("a bootstrap needs at least 2 paired examples")
    differences = t - c
    n = len(differences)

    if callable(statistic):
        distribution, backend_used = _loop_resamples(n, lambda idx: float(statistic(differences[idx])), resamples, seed)
        estimate = float(statistic(differences))
        jackknife = None
        if method == "bca":
            keep = np.ones(n, dtype=bool)
            values = []
            for i in range(n):
                keep[i] = False
                values.append(float(statistic(differences[keep])))
                keep[i] = True
            jackknife = (np.asarray(values), np.ones(n))
    elif statistic == "mean":
        paired = _mean_difference(differences)
        distribution, backend_used = paired.resample(resamples, np.random.SeedSequence(seed), backend, workers)
        estimate = paired.estimate()
        jackknife = paired.jackknife() if method == "bca" else None
    else:
        raise ValueError(f"statistic must be 'mean' or a function of the differences, not {statistic!r}")
    return _result(distribution, estimate, jackknife, resamples, confidence, method, seed, alternative, "examples", backend_used)


def paired_metric_bootstrap(
    y_true: Any,
    treatment: Any,
    control: Any,
    metric: str | SummedMetric | WeightedMetric | Callable[[np.ndarray, np.ndarray], float],
    *,
    resamples: int = 10_000,
    confidence: float = 0.95,
    method: str = "percentile",
    seed: int,
    alternative: str = "two-sided",
    backend: str = "auto",
    workers: int | None = None,
) -> BootstrapResult:
    """Bootstrap ``metric(y_true, treatment) - metric(y_true, control)``, resampling examples jointly.

    Inputs: ``y_true`` (n,) labels or targets; ``treatment``, ``control``: both arms' predictions
    on the same examples, in the same order. ``metric``, with a fast path (counts over cells, all
    resamples at once):

    * a name from :data:`CONFUSION_METRICS`: predictions are (n,) integer labels or (n, K) scores,
      taken by argmax; scikit-learn's definitions with ``zero_division=0``;
    * ``"auroc"``: predictions as :mod:`rigorml.runtime.metrics` takes them ((n,) positive-class
      scores, or (n, K) logits: binary on class 1's softmax probability for K = 2, one-vs-rest
      macro over the softmax probabilities for K > 2); a resample missing a class averages over
      the classes it has, and one with a single class counts as no difference (:mod:`._ranks`);
    * a :class:`SummedMetric`: predictions are each arm's (n, r) per-example columns, ``y_true``
      is not used (None is fine);
    * a :class:`WeightedMetric`: predictions and ``y_true`` as its ``prepare`` takes them (n
      examples along axis 0);

    or any function ``metric(y_true, predictions) -> float`` (predictions indexed along axis 0),
    resampled one resample at a time, which costs B x 2 metric calls (and n x 2 more for ``bca``).
    Other arguments as :func:`paired_bootstrap`.

    Output: :class:`BootstrapResult`. Errors: ValueError for mismatched lengths, fewer than 2
    examples, an unknown metric name or option.
    """
    _check_options(resamples, confidence, method, alternative, seed, backend)
    pred_t, pred_c = np.asarray(treatment), np.asarray(control)
    y = None if y_true is None else np.asarray(y_true)
    n = len(pred_t)
    if len(pred_c) != n or (y is not None and len(y) != n):
        sizes = ", ".join(str(len(a)) for a in (y, pred_t, pred_c) if a is not None)
        raise ValueError(f"y_true and both arms need the same number of examples, not {sizes}")
    if n < 2:
        raise ValueError("a bootstrap needs at least 2 paired examples")
    paired = _paired_difference(metric, y, pred_t, pred_c)
    distribution, backend_used = paired.resample(resamples, np.random.SeedSequence(seed), backend, workers)
    jackknife = paired.jackknife() if method == "bca" else None
    estimate = paired.estimate()
    return _result(distribution, estimate, jackknife, resamples, confidence, method, seed, alternative, "examples", backend_used)


def paired_two_level_bootstrap(
    treatment: Any,
    control: Any,
    *,
    y_true: Any = None,
    metric: str | SummedMetric | WeightedMetric | Callable[[np.ndarray, np.ndarray], float] = "mean",
    resamples: int = 10_000,
    confidence: float = 0.95,
    method: str = "percentile",
    seed: int,
    alternative: str = "two-sided",
    backend: str = "auto",
    workers: int | None = None,
) -> BootstrapResult:
    """Two-level (seeds x examples) paired bootstrap of the mean over seeds of the metric difference.

    Both arms ran with the same S replicate seeds on the same n examples; seed s of the treatment
    is paired with seed s of the control. One bootstrap replicate draws S seeds with replacement,
    then, for every drawn seed independently, a resample of the n examples (the same example
    indices for both arms of that seed), computes ``metric(treatment) - metric(control)`` on it,
    and averages over the S drawn seeds. This keeps both sources of variation in the interval: the
    training seed and the finite test set. The estimate is the mean over seeds of the per-seed
    differences on all examples.

    Inputs: ``treatment``, ``control``: (S, n) per-example scores when ``metric="mean"`` (the
    difference is then the mean of per-example differences; ``y_true`` is not needed), (S, n, r)
    per-example columns for a :class:`SummedMetric`, (S, n, ...) as its ``prepare`` takes them with
    ``y_true`` for a :class:`WeightedMetric`, else (S, n) labels or (S, n, K) scores with
    ``y_true`` (n,), and ``metric`` a name from :data:`FAST_METRICS` or a function as in
    :func:`paired_metric_bootstrap` (slow: 2 B S calls). For ``bca`` the acceleration comes from
    the jackknife over seeds (0 with one seed). Other arguments as :func:`paired_bootstrap`.

    Output: :class:`BootstrapResult` with ``level="seeds_x_examples"``. Errors: ValueError for
    mismatched shapes, fewer than 2 examples, a missing ``y_true``, an unknown metric or option.
    """
    _check_options(resamples, confidence, method, alternative, seed, backend)
    pred_t, pred_c = np.asarray(treatment), np.asarray(control)
    if pred_t.shape != pred_c.shape or pred_t.ndim < 2:
        raise ValueError(
            f"both arms need predictions shaped (seeds, examples[, ...]) alike, not {pred_t.shape} and {pred_c.shape}"
        )
    n_seeds, n = pred_t.shape[:2]
    if n < 2:
        raise ValueError("a bootstrap needs at least 2 paired examples")
    y = None
    if not (isinstance(metric, SummedMetric) or (isinstance(metric, str) and metric == "mean")):
        if y_true is None:
            raise ValueError(f"metric {metric!r} needs y_true")
        y = np.asarray(y_true)
        if len(y) != n:
            raise ValueError(f"y_true has {len(y)} examples, the predictions {n}")

    top, below = np.random.SeedSequence(seed).spawn(2)
    picks = np.random.default_rng(top).integers(0, n_seeds, size=(resamples, n_seeds))
    slot_values = np.empty((resamples, n_seeds))
    per_seed = np.empty(n_seeds)
    backend_used = "numpy"
    for s, stream in enumerate(below.spawn(n_seeds)):
        slots = picks == s
        drawn = int(slots.sum())
        paired = _paired_difference(metric, y, pred_t[s], pred_c[s])
        per_seed[s] = paired.estimate()
        if drawn:
            slot_values[slots], backend_used = paired.resample(drawn, stream, backend, workers)
    distribution = slot_values.mean(axis=1)
    estimate = float(per_seed.mean())
    jackknife = None
    if method == "bca" and n_seeds > 1:
        jackknife = ((per_seed.sum() - per_seed) / (n_seeds - 1), np.ones(n_seeds))
    return _result(
        distribution, estimate, jackknife, resamples, confidence, method, seed, alternative, "seeds_x_examples", backend_used
    )


# --- paired differences: what is resampled, and how ----------------------------------------------


class _PairedDifference:
    """One paired comparison on n examples that the bootstrap can resample: the difference on the
    data (:meth:`estimate`), on ``resamples`` resamples drawn from a seed sequence
    (:meth:`resample`: the values and the backend that drew them), and the jackknife for BCa
    (:meth:`jackknife`: leave-one-out values and how many examples each stands for)."""

    def estimate(self) -> float:
        raise NotImplementedError

    def resample(
        self, resamples: int, seed_sequence: np.random.SeedSequence, backend: str, workers: int | None
    ) -> tuple[np.ndarray, str]:
        raise NotImplementedError

    def jackknife(self) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError


class _ProjectedDifference(_PairedDifference):
    """A difference that is a function of sums over the examples of per-cell columns: the mean
    (one column of values), confusion margins (0/1 indicator columns), a :class:`SummedMetric`
    (both arms' columns). ``combine(sums (B, r), n) -> (B,)``. Leaving one example of a cell out
    subtracts the cell's row from the sums, so the jackknife is exact and costs one row per cell."""

    def __init__(self, example_cell, sizes, projection, combine, estimate: float | None = None):
        self.example_cell, self.sizes, self.projection, self.combine = example_cell, sizes, projection, combine
        self.n = len(example_cell)
        self._estimate = estimate

    def estimate(self) -> float:
        if self._estimate is not None:
            return self._estimate
        total = self.sizes.astype(np.float64) @ self.projection
        return float(self.combine(total[None, :], self.n)[0])

    def resample(self, resamples, seed_sequence, backend, workers):
        projected, backend_used = _resample_projected(
            self.example_cell, self.sizes, self.projection, resamples, seed_sequence, backend, workers
        )
        return self.combine(projected, self.n), backend_used

    def jackknife(self):
        total = self.sizes.astype(np.float64) @ self.projection
        return self.combine(total[None, :] - self.projection, self.n - 1), self.sizes


def _mean_difference(differences: np.ndarray) -> _ProjectedDifference:
    """The mean of per-example differences, over cells of equal differences."""
    values, example_cell, sizes = cells_in_order_of_appearance(differences)
    return _ProjectedDifference(
        example_cell, sizes, values[:, None], lambda sums, n: sums[:, 0] / n, estimate=float(differences.mean())
    )


def _confusion_difference(metric: str, y: np.ndarray, pred_t: np.ndarray, pred_c: np.ndarray) -> _ProjectedDifference:
    """A confusion-matrix metric's difference, over (true, treatment, control) cells."""
    cells = confusion_cells(y, as_labels(pred_t), as_labels(pred_c))
    return _ProjectedDifference(
        cells.example_cell,
        cells.sizes,
        cells.indicators,
        lambda sums, n: cells.difference_from_projection(metric, sums),
        estimate=float(cells.difference(metric, cells.sizes[None, :])[0]),
    )


def _summed_difference(metric: SummedMetric, pred_t: np.ndarray, pred_c: np.ndarray) -> _ProjectedDifference:
    """A :class:`SummedMetric`'s difference, over cells of equal (treatment, control) columns."""
    columns_t = _finite_columns(pred_t, "treatment", metric.name)
    columns_c = _finite_columns(pred_c, "control", metric.name)
    if columns_t.shape != columns_c.shape:
        raise ValueError(
            f"{metric.name}: both arms need the same per-example columns, not {columns_t.shape} and {columns_c.shape}"
        )
    r = columns_t.shape[1]
    rows, example_cell, sizes = cells_in_order_of_appearance(np.hstack([columns_t, columns_c]))
    return _ProjectedDifference(
        example_cell, sizes, rows, lambda sums, n: metric.value(sums[:, :r], n) - metric.value(sums[:, r:], n)
    )


class _RankedDifference(_PairedDifference):
    """AUROC(treatment) - AUROC(control) from counts over (label, scores) cells (:mod:`._ranks`)."""

    def __init__(self, y: np.ndarray, pred_t: np.ndarray, pred_c: np.ndarray):
        labels, columns_t = auroc_scores(y, pred_t)
        _, columns_c = auroc_scores(y, pred_c)
        if columns_t.shape != columns_c.shape:
            raise ValueError(f"auroc: both arms need scores of the same shape, not {pred_t.shape} and {pred_c.shape}")
        self.cells = rank_cells(labels, columns_t, columns_c)

    def estimate(self) -> float:
        return float(self.cells.difference(self.cells.sizes[None, :])[0])

    def resample(self, resamples, seed_sequence, backend, workers):
        return _resample_ranked(self.cells, resamples, seed_sequence, backend, workers)

    def jackknife(self):
        return self.cells.leave_one_out(), self.cells.sizes


class _WeightedDifference(_PairedDifference):
    """A :class:`WeightedMetric`'s difference: both arms prepared once, then evaluated on blocks of
    bootstrap count vectors over the examples (the same counts for both arms)."""

    def __init__(self, metric: WeightedMetric, y, pred_t: np.ndarray, pred_c: np.ndarray):
        self.metric = metric
        self.n = len(pred_t)
        self.state_t, self.state_c = metric.prepare(y, pred_t), metric.prepare(y, pred_c)

    def difference(self, counts: np.ndarray) -> np.ndarray:
        """Treatment - control on rows of counts (B, n): (B,)."""
        counts = np.asarray(counts, dtype=np.float64)
        return np.asarray(self.metric.value(self.state_t, counts), dtype=np.float64) - np.asarray(
            self.metric.value(self.state_c, counts), dtype=np.float64
        )

    def estimate(self) -> float:
        return float(self.difference(np.ones((1, self.n)))[0])

    def resample(self, resamples, seed_sequence, backend, workers):
        resolved = _resolve_backend(backend)
        if resolved.startswith("torch"):
            resolved = "numba" if _kernels.available() else "numpy"
        sampler = _CellSampler(np.arange(self.n), np.ones(self.n, dtype=np.int64), np.zeros((self.n, 0)))
        kernel = resolved == "numba" and self.n <= _kernels.MAX_EXAMPLES
        out = np.zeros(resamples)

        def fill(block: slice, rng: np.random.Generator, state: np.ndarray | None) -> None:
            out[block] = self.difference(sampler.counts(block.stop - block.start, rng, state))

        _in_blocks(resamples, sampler, kernel, seed_sequence, workers, fill)
        return out, "numba" if kernel else "numpy"

    def jackknife(self):
        values = np.empty(self.n)
        rows = max(1, BLOCK_ELEMENTS // self.n)
        for start in range(0, self.n, rows):
            stop = min(start + rows, self.n)
            counts = np.ones((stop - start, self.n))
            counts[np.arange(stop - start), np.arange(start, stop)] = 0.0
            values[start:stop] = self.difference(counts)
        return values, np.ones(self.n)


class _LoopedDifference(_PairedDifference):
    """Any ``metric(y_true, predictions)``: recomputed on each resample of indices (slow)."""

    def __init__(self, metric: Callable, y, pred_t: np.ndarray, pred_c: np.ndarray):
        self.metric, self.y, self.pred_t, self.pred_c = metric, y, pred_t, pred_c
        self.n = len(pred_t)

    def difference(self, idx: np.ndarray) -> float:
        y = None if self.y is None else self.y[idx]
        return float(self.metric(y, self.pred_t[idx])) - float(self.metric(y, self.pred_c[idx]))

    def estimate(self) -> float:
        return self.difference(np.arange(self.n))

    def resample(self, resamples, seed_sequence, backend, workers):
        return _loop_resamples(self.n, self.difference, resamples, seed_sequence)

    def jackknife(self):
        keep = np.ones(self.n, dtype=bool)
        values = []
        for i in range(self.n):
            keep[i] = False
            values.append(self.difference(keep))
            keep[i] = True
        return np.asarray(values), np.ones(self.n)


def _paired_difference(metric, y: np.ndarray | None, pred_t: np.ndarray, pred_c: np.ndarray) -> _PairedDifference:
    """The resampleable difference for ``metric`` on one seed's predictions of both arms."""
    if callable(metric) and not isinstance(metric, (SummedMetric, WeightedMetric)):
        return _LoopedDifference(metric, y, pred_t, pred_c)
    if isinstance(metric, WeightedMetric):
        return _WeightedDifference(metric, y, pred_t, pred_c)
    if isinstance(metric, SummedMetric):
        return _summed_difference(metric, pred_t, pred_c)
    if metric == "mean":
        return _mean_difference(_finite_vector(pred_t, "treatment") - _finite_vector(pred_c, "control"))
    if y is None:
        raise ValueError(f"metric {metric!r} needs y_true")
    if metric == "auroc":
        return _RankedDifference(y, pred_t, pred_c)
    if metric in CONFUSION_METRICS:
        return _confusion_difference(metric, y, pred_t, pred_c)
    raise ValueError(
        f"no fast path for metric {metric!r}: use one of {', '.join(FAST_METRICS)}, a SummedMetric, a WeightedMetric, or pass a "
        "function metric(y_true, predictions) -> float"
    )


# --- intervals and p-values ---------------------------------------------------------------------


def bootstrap_p_value(distribution: np.ndarray, estimate: float, alternative: str = "two-sided") -> float:
    """The null-shifted bootstrap p-value of ``estimate`` (module docstring for the definition).

    Inputs: the B resampled statistics and the statistic on the data. Output: a p-value in
    [1 / (B + 1), 1]. Raises ValueError for an unknown alternative.
    """
    if alternative not in ALTERNATIVES:
        raise ValueError(f"unknown alternative {alternative!r}; use one of {', '.join(ALTERNATIVES)}")
    shifted = np.asarray(distribution, dtype=np.float64) - estimate
    b = len(shifted)
    gamma = abs(TIE_TOLERANCE * estimate)
    p_greater = (1 + np.count_nonzero(shifted >= estimate - gamma)) / (b + 1)
    p_less = (1 + np.count_nonzero(shifted <= estimate + gamma)) / (b + 1)
    if alternative == "greater":
        return float(p_greater)
    if alternative == "less":
        return float(p_less)
    return float(min(1.0, 2 * min(p_greater, p_less)))


def bootstrap_interval(
    distribution: np.ndarray,
    estimate: float,
    *,
    confidence: float = 0.95,
    method: str = "percentile",
    alternative: str = "two-sided",
    jackknife: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[float, float]:
    """The percentile or BCa interval from a bootstrap distribution.

    Inputs: the B resampled statistics; the statistic on the data; ``confidence``; ``method``;
    ``alternative`` (one-sided intervals put all of 1 - confidence on one side and leave the other
    end infinite); for ``bca``, ``jackknife = (values, weights)``: the leave-one-out statistics and
    how many units each stands for (an exact shortcut when many units give the same value).
    Output: ``(low, high)``. BCa guards the degenerate cases where scipy returns NaN: the share
    below the estimate is kept within [1/(2B), 1 - 1/(2B)], and a jackknife that does not vary
    gives acceleration 0. Raises ValueError for ``bca`` without a jackknife.
    """
    from scipy.special import ndtr, ndtri

    values = np.asarray(distribution, dtype=np.float64)
    b = len(values)
    alpha = (1 - confidence) / 2 if alternative == "two-sided" else 1 - confidence
    levels = np.array([alpha, 1 - alpha])
    if method == "bca":
        if jackknife is None:
            raise ValueError("a BCa interval needs the jackknife values")
        share = (np.count_nonzero(values < estimate) + np.count_nonzero(values <= estimate)) / (2 * b)
        z0 = float(ndtri(min(max(share, 1 / (2 * b)), 1 - 1 / (2 * b))))
        a = _acceleration(*jackknife)
        z = ndtri(levels)
        levels = ndtr(z0 + (z0 + z) / (1 - a * (z0 + z)))
    low, high = (float(q) for q in np.quantile(values, levels))
    if alternative == "greater":
        high = math.inf
    elif alternative == "less":
        low = -math.inf
    return low, high


def _acceleration(values: np.ndarray, weights: np.ndarray) -> float:
    """Efron's acceleration from jackknife values, each standing for ``weights`` units:
    sum w u^3 / (6 (sum w u^2)^(3/2)) with u = mean - value (Efron & Tibshirani 1993, eq. 14.15)."""
    values = np.asarray(values, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    u = np.average(values, weights=weights) - values
    spread = float(np.sum(weights * u**2))
    if spread <= 0 or not math.isfinite(spread):
        return 0.0
    return float(np.sum(weights * u**3) / (6 * spread**1.5))


def _result(
    distribution: np.ndarray,
    estimate: float,
    jackknife: tuple[np.ndarray, np.ndarray] | None,
    resamples: int,
    confidence: float,
    method: str,
    seed: int,
    alternative: str,
    level: str,
    backend: str,
) -> BootstrapResult:
    if method == "bca" and jackknife is None:  # one seed: no jackknife over seeds
        jackknife = (np.zeros(1), np.ones(1))
    low, high = bootstrap_interval(
        distribution, estimate, confidence=confidence, method=method, alternative=alternative, jackknife=jackknife
    )
    return BootstrapResult(
        estimate=float(estimate),
        ci_low=low,
        ci_high=high,
        p_value=bootstrap_p_value(distribution, estimate, alternative),
        resamples=resamples,
        method=method,
        seed=seed,
        confidence=confidence,
        alternative=alternative,
        level=level,
        standard_error=float(np.std(distribution, ddof=1)) if len(distribution) > 1 else 0.0,
        backend=backend,
        distribution=distribution,
    )


# --- resampling ---------------------------------------------------------------------------------


def resample_cell_counts(
    example_cell: np.ndarray, resamples: int, *, seed: int, backend: str = "numpy", workers: int | None = None
) -> np.ndarray:
    """Bootstrap counts over cells: (resamples, m) float64, row b the number of examples of each
    cell in resample b. ``example_cell``: (n,) the cell (0..m-1, every cell occupied) of each
    example. The counts have the law of ``bincount(example_cell[randint(0, n, n)])``: each row is
    multinomial(n, cell sizes / n)."""
    example_cell = np.asarray(example_cell).reshape(-1)
    sizes = np.bincount(example_cell)
    counts, _ = _resample_projected(
        example_cell, sizes, np.eye(len(sizes)), resamples, np.random.SeedSequence(seed), backend, workers
    )
    return counts


def _resample_projected(
    example_cell: np.ndarray,
    sizes: np.ndarray,
    projection: np.ndarray,
    resamples: int,
    seed_sequence: np.random.SeedSequence,
    backend: str,
    workers: int | None,
) -> tuple[np.ndarray, str]:
    """``counts @ projection`` for ``resamples`` bootstrap count vectors over the cells: (B, r).

    ``example_cell`` (n,) maps examples to cells (sizes (m,)); ``projection`` is (m, r): one column
    of cell values gives resampled sums, indicator columns give confusion margins. Returns the
    array and the backend that drew it.
    """
    resolved = _resolve_backend(backend)
    n = len(example_cell)
    if resolved.startswith("torch"):
        rows = max(1, min(resamples, GPU_BLOCK_ELEMENTS // n))
        return _torch_projected(example_cell, projection, resamples, rows, seed_sequence, resolved), resolved
    sampler = _CellSampler(example_cell, np.asarray(sizes), np.asarray(projection, dtype=np.float64))
    kernel = resolved == "numba" and sampler.n_small <= _kernels.MAX_EXAMPLES
    out = np.zeros((resamples, projection.shape[1]))

    def fill(block: slice, rng: np.random.Generator, state: np.ndarray | None) -> None:
        sampler.draw(out[block], rng, state)

    _in_blocks(resamples, sampler, kernel, seed_sequence, workers, fill)
    return out, "numba" if kernel else "numpy"


def _resample_ranked(
    cells: RankCells, resamples: int, seed_sequence: np.random.SeedSequence, backend: str, workers: int | None
) -> tuple[np.ndarray, str]:
    """AUROC(treatment) - AUROC(control) on ``resamples`` bootstrap resamples: (B,), and the
    backend. Each block of resamples is a (rows, m) matrix of counts over the cells (drawn as for
    :func:`_resample_projected`), reduced to the Mann-Whitney sums by the numba kernel (one pass
    per row and ranking), numpy or torch (cumulative sums over the sorted cells)."""
    resolved = _resolve_backend(backend)
    n, k = len(cells.example_cell), cells.n_classes
    if resolved.startswith("torch"):
        rows = max(1, min(resamples, GPU_BLOCK_ELEMENTS // max(n, len(cells.sizes))))
        return _torch_ranked(cells, resamples, rows, seed_sequence, resolved), resolved
    sampler = _CellSampler(cells.example_cell, cells.sizes, np.zeros((len(cells.sizes), 0)))
    kernel = resolved == "numba" and sampler.n_small <= _kernels.MAX_EXAMPLES
    out = np.zeros(resamples)
    positive, group_end = cells.positive.astype(np.int64), cells.last == np.arange(len(cells.sizes))

    def fill(block: slice, rng: np.random.Generator, state: np.ndarray | None) -> None:
        counts = sampler.counts(block.stop - block.start, rng, state)
        if kernel:
            twice, positives = _kernels.auroc_numerators(counts, cells.order, positive, group_end)
            out[block] = difference_from_sums(twice, positives[:, :k], np.full(len(counts), n), k)
        else:
            out[block] = cells.difference(counts)

    # Rows of counts are read once per ranking: blocks of about a million cell visits stay in cache.
    _in_blocks(resamples, sampler, kernel, seed_sequence, workers, fill, per_row=2 * len(cells.sizes) * (1 + 2 * k))
    return out, "numba" if kernel else "numpy"


def _in_blocks(resamples, sampler, kernel: bool, seed_sequence, workers, fill, per_row: int = 0) -> None:
    """Call ``fill(rows, rng, state)`` for cache-sized blocks of resamples, each with its own
    stream spawned from ``seed_sequence`` (``state``: its xoshiro state for the kernels, else
    None), on ``workers`` threads. The blocks depend on the sizes only, never on the threads."""
    # Work per resample: the index draws of the small cells, or a row of the count matrix (or
    # ``per_row``, what a row costs after it is drawn).
    per_block = KERNEL_BLOCK_DRAWS if kernel else BLOCK_ELEMENTS
    rows = max(1, min(resamples, per_block // max(1, sampler.n_small, sampler.m, per_row)))
    starts = list(range(0, resamples, rows))
    streams = seed_sequence.spawn(len(starts))

    def run(block: int) -> None:
        start, stream = starts[block], streams[block]
        state = _kernels.generator_state(stream) if kernel else None
        fill(slice(start, min(start + rows, resamples)), np.random.default_rng(stream), state)

    workers = workers or min(os.cpu_count() or 1, 8)
    if workers == 1 or len(starts) == 1:
        for block in range(len(starts)):
            run(block)
    else:
        with ThreadPoolExecutor(max_workers=min(workers, len(starts))) as pool:
            list(pool.map(run, range(len(starts))))


class _CellSampler:
    """Draws blocks of bootstrap count vectors over cells and projects them (numpy).

    Large cells (>= :data:`LARGE_CELL` examples) and the pooled small cells are one
    multinomial(n, sizes / n) draw; the small cells' share is then spread over their examples by
    uniform index draws, which is the same as a multinomial over the small cells given their total.
    """

    def __init__(self, example_cell: np.ndarray, sizes: np.ndarray, projection: np.ndarray):
        self.n, self.m = len(example_cell), len(sizes)
        self.projection = projection
        large = sizes >= LARGE_CELL
        self.large = np.flatnonzero(large)
        small_examples = np.flatnonzero(~large[example_cell])
        self.n_small = len(small_examples)
        self.pvals = np.append(sizes[self.large], self.n_small) / self.n
        # Each small-cell example carries its cell's projection row (one value for sums), so a
        # resampled example is a row gather; with many columns, counting per cell is cheaper.
        self.small_cell = example_cell[small_examples]
        self.small_rows = projection[self.small_cell] if projection.shape[1] == 1 else None
        self.small_cells, self.small_position = np.unique(self.small_cell, return_inverse=True)
        self.large_projection = projection[self.large]
        self.small_projection = projection[self.small_cells]

    def draw(self, out: np.ndarray, rng: np.random.Generator, state: np.ndarray | None = None) -> None:
        """Add ``counts @ projection`` of ``len(out)`` resamples to ``out`` ((rows, r), zeros).

        The large cells' counts come from ``rng``; the small cells' index draws from ``rng`` too,
        or, given a xoshiro ``state``, from the numba kernels (:mod:`._kernels`)."""
        rows = len(out)
        if len(self.large):
            pooled = rng.multinomial(self.n, self.pvals, size=rows)
            out += pooled[:, :-1].astype(np.float64) @ self.large_projection
            small_totals = pooled[:, -1]
        else:
            small_totals = None
        if self.n_small == 0:
            return
        if state is not None:
            draws = np.full(rows, self.n) if small_totals is None else small_totals
            if self.small_rows is not None:
                out[:, 0] += _kernels.sum_draws(self.small_rows[:, 0], draws, state)
            else:
                counts = _kernels.count_draws(self.small_position, len(self.small_cells), draws, state)
                out += counts.astype(np.float64) @ self.small_projection
            return
        if small_totals is None:  # every example is drawn by index: a plain (rows, n) draw
            idx = rng.integers(0, self.n_small, size=(rows, self.n))
            if self.small_rows is not None:
                out[:, 0] += self.small_rows[:, 0].take(idx).sum(axis=1)
                return
            row_of_draw = np.repeat(np.arange(rows), self.n)
        else:
            idx = rng.integers(0, self.n_small, size=int(small_totals.sum()))
            row_of_draw = np.repeat(np.arange(rows), small_totals)
            if self.small_rows is not None:
                out[:, 0] += np.bincount(row_of_draw, weights=self.small_rows[:, 0].take(idx), minlength=rows)
                return
        m_small = len(self.small_cells)
        flat = row_of_draw * m_small + self.small_position.take(idx.reshape(-1))
        counts = np.bincount(flat, minlength=rows * m_small).reshape(rows, m_small)
        out += counts.astype(np.float64) @ self.small_projection


    def counts(self, rows: int, rng: np.random.Generator, state: np.ndarray | None = None) -> np.ndarray:
        """``rows`` bootstrap count vectors over the cells: (rows, m) int64, drawn as :meth:`draw`
        draws them (the small cells' examples by index, with the kernels given ``state``)."""
        if len(self.large):
            pooled = rng.multinomial(self.n, self.pvals, size=rows)
            draws = pooled[:, -1]
        else:
            pooled, draws = None, np.full(rows, self.n)
        if self.n_small == 0:
            counts = np.zeros((rows, self.m), dtype=np.int64)
        elif state is not None:
            counts = _kernels.count_draws(self.small_cell, self.m, draws, state)
        else:
            idx = rng.integers(0, self.n_small, size=int(draws.sum()))
            flat = np.repeat(np.arange(rows) * self.m, draws) + self.small_cell.take(idx)
            counts = np.bincount(flat, minlength=rows * self.m).reshape(rows, self.m)
        if pooled is not None:
            counts[:, self.large] += pooled[:, :-1]
        return counts


def _torch_projected(
    example_cell: np.ndarray,
    projection: np.ndarray,
    resamples: int,
    rows: int,
    seed_sequence: np.random.SeedSequence,
    backend: str,
) -> np.ndarray:
    """The torch path: uniform index draws per block, gathered (one column) or counted per cell
    with ``scatter_add`` and projected, on CUDA (or the CPU); one generator per block, seeded from
    ``seed_sequence``."""
    import torch

    device = torch.device(backend.split(":", 1)[1])
    n, m = len(example_cell), projection.shape[0]
    cell = torch.as_tensor(np.asarray(example_cell, dtype=np.int64), device=device)
    weights = torch.as_tensor(np.asarray(projection, dtype=np.float64), device=device)
    per_example = weights[cell, 0] if projection.shape[1] == 1 else None
    starts = list(range(0, resamples, rows))
    out = []
    for start, stream in zip(starts, seed_sequence.spawn(len(starts))):
        size = min(rows, resamples - start)
        generator = torch.Generator(device=device)
        generator.manual_seed(int(stream.generate_state(1, np.uint64)[0] >> np.uint64(1)))
        idx = torch.randint(0, n, (size, n), generator=generator, device=device)
        if per_example is not None:
            out.append(per_example[idx].sum(dim=1, keepdim=True))
        else:
            counts = torch.zeros((size, m), dtype=torch.float64, device=device)
            counts.scatter_add_(1, cell[idx], torch.ones((size, n), dtype=torch.float64, device=device))
            out.append(counts @ weights)
    return torch.cat(out).cpu().numpy()


def _torch_ranked(
    cells: RankCells, resamples: int, rows: int, seed_sequence: np.random.SeedSequence, backend: str
) -> np.ndarray:
    """The torch path of :func:`_resample_ranked`: counts per cell by ``scatter_add`` of uniform
    index draws, the Mann-Whitney sums by cumulative sums on the device; one generator per block."""
    import torch

    device = torch.device(backend.split(":", 1)[1])
    on_device = cells.on_device(torch, device)
    n, m, k = len(cells.example_cell), len(cells.sizes), cells.n_classes
    onehot = torch.as_tensor(cells.class_onehot(), device=device)
    starts = list(range(0, resamples, rows))
    out = []
    for start, stream in zip(starts, seed_sequence.spawn(len(starts))):
        size = min(rows, resamples - start)
        generator = torch.Generator(device=device)
        generator.manual_seed(int(stream.generate_state(1, np.uint64)[0] >> np.uint64(1)))
        idx = torch.randint(0, n, (size, n), generator=generator, device=device)
        counts = torch.zeros((size, m), dtype=torch.float64, device=device)
        counts.scatter_add_(1, on_device.example_cell[idx], torch.ones((size, n), dtype=torch.float64, device=device))
        twice = on_device.twice_numerators(counts)
        out.append(difference_from_sums(twice.cpu().numpy(), (counts @ onehot).cpu().numpy(), np.full(size, n), k))
    return np.concatenate(out)


def _loop_resamples(
    n: int, statistic: Callable[[np.ndarray], float], resamples: int, seed: int | np.random.SeedSequence
) -> tuple[np.ndarray, str]:
    """The generic path: ``statistic(indices)`` for ``resamples`` index resamples, one at a time."""
    rng = np.random.default_rng(seed)
    return np.array([statistic(rng.integers(0, n, size=n)) for _ in range(resamples)], dtype=np.float64), "numpy (loop)"


# --- checks -------------------------------------------------------------------------------------


def _resolve_backend(backend: str) -> str:
    """``numba``, ``numpy``, ``torch:cuda`` or ``torch:cpu``: torch and numba are imported only
    when they may be used."""
    if backend in ("numpy", "numba"):
        if backend == "numba" and not _kernels.available():
            raise ValueError("backend 'numba' needs numba installed (pip install 'rigorml[run]')")
        return backend
    try:
        import torch
    except ImportError:
        if backend == "torch":
            raise ValueError("backend 'torch' needs torch installed (pip install 'rigorml[run]')") from None
    else:
        if torch.cuda.is_available():
            return "torch:cuda"
        if backend == "torch":
            return "torch:cpu"
    return "numba" if _kernels.available() else "numpy"


def _check_options(resamples: int, confidence: float, method: str, alternative: str, seed: int, backend: str) -> None:
    if isinstance(resamples, bool) or not isinstance(resamples, (int, np.integer)) or resamples < 1:
        raise ValueError(f"resamples must be a positive integer, not {resamples!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, not {confidence!r}")
    if method not in METHODS:
        raise ValueError(f"unknown interval method {method!r}; use one of {', '.join(METHODS)}")
    if alternative not in ALTERNATIVES:
        raise ValueError(f"unknown alternative {alternative!r}; use one of {', '.join(ALTERNATIVES)}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, not {seed!r}")
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")


def _finite_columns(values: Any, name: str, metric: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(f"{metric}: {name} must be per-example columns (n, r), not shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{metric}: {name} holds non-finite values (NaN or inf)")
    return array


def _finite_vector(values: Any, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one score per example (1-D), not shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} holds non-finite scores (NaN or inf)")
    return array
