"""The paired bootstrap and the sign-flip permutation test (rigorml.runtime.stats.bootstrap,
.permutation), checked against scipy and scikit-learn.

Every random number here comes from a fixed seed, so each test is deterministic; the tolerances
say how far a correct implementation could be by Monte Carlo chance, so the seeds were not tuned.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn import metrics as skm

from rigorml.runtime.metrics import metric_function
from rigorml.runtime.stats._metric_cells import CONFUSION_METRICS, confusion_cells
from rigorml.runtime.stats._ranks import auroc_scores, rank_cells
from rigorml.runtime.stats.bootstrap import (
    LARGE_CELL,
    SummedMetric,
    paired_bootstrap,
    paired_metric_bootstrap,
    paired_two_level_bootstrap,
    resample_cell_counts,
)
from rigorml.runtime.stats.permutation import paired_permutation_test, sign_flip_test

SKLEARN = {
    "accuracy": skm.accuracy_score,
    "balanced_accuracy": skm.balanced_accuracy_score,
    "f1_macro": lambda y, p: skm.f1_score(y, p, average="macro", zero_division=0),
    "f1_micro": lambda y, p: skm.f1_score(y, p, average="micro", zero_division=0),
    "f1_weighted": lambda y, p: skm.f1_score(y, p, average="weighted", zero_division=0),
    "precision_macro": lambda y, p: skm.precision_score(y, p, average="macro", zero_division=0),
    "recall_macro": lambda y, p: skm.recall_score(y, p, average="macro", zero_division=0),
    "mcc": skm.matthews_corrcoef,
}


#: The CPU backends: both draw exact bootstrap resamples, from different generators.
CPU_BACKENDS = ("numpy", "numba")


def _mean_difference(a, b, axis=-1):
    return np.mean(a, axis=axis) - np.mean(b, axis=axis)


def _quantile_tolerance(result, level: float, resamples: int) -> float:
    """Five standard deviations of the difference between two independent B-resample estimates
    of the ``level`` quantile, with a normal approximation of the bootstrap distribution:
    sd(q_hat) = sqrt(p (1 - p) / B) / density(q)."""
    z = stats.norm.ppf(level)
    sd = math.sqrt(level * (1 - level) / resamples) * result.standard_error / stats.norm.pdf(z)
    return 5 * math.sqrt(2) * sd


def _scores(seed: int, n: int, skewed: bool = False):
    rng = np.random.default_rng(seed)
    control = rng.normal(0.6, 0.2, n)
    noise = rng.exponential(0.1, n) - 0.08 if skewed else rng.normal(0.02, 0.1, n)
    return control + noise, control


def _classifiers(seed: int, n: int, classes: int, accuracy=(0.8, 0.7)):
    """Labels and two correlated classifiers' predictions: both right, or wrong uniformly."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    shared = rng.random(n)
    t = np.where(shared < accuracy[0], y, rng.integers(0, classes, n))
    c = np.where(shared < accuracy[1], y, rng.integers(0, classes, n))
    return y, t, c


# --- intervals against scipy --------------------------------------------------------------------


@pytest.mark.parametrize("method, scipy_method", [("percentile", "percentile"), ("bca", "BCa")])
@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_mean_difference_interval_agrees_with_scipy_paired_bootstrap(method, scipy_method, backend):
    t, c = _scores(1, 400, skewed=True)
    resamples = 20_000
    ours = paired_bootstrap(t, c, resamples=resamples, method=method, seed=7, backend=backend)
    theirs = stats.bootstrap(
        (t, c), _mean_difference, paired=True, vectorized=True, method=scipy_method, n_resamples=resamples, rng=11
    )
    assert ours.estimate == pytest.approx(np.mean(t - c), abs=1e-15)
    assert ours.ci_low == pytest.approx(theirs.confidence_interval.low, abs=_quantile_tolerance(ours, 0.025, resamples))
    assert ours.ci_high == pytest.approx(theirs.confidence_interval.high, abs=_quantile_tolerance(ours, 0.975, resamples))
    assert ours.standard_error == pytest.approx(theirs.standard_error, rel=0.05)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_bca_interval_of_a_metric_agrees_with_scipy(backend):
    y, t, c = _classifiers(2, 300, 4)
    resamples = 20_000
    ours = paired_metric_bootstrap(y, t, c, "accuracy", resamples=resamples, method="bca", seed=3, backend=backend)

    def accuracy_difference(y, t, c, axis=-1):
        return np.mean(y == t, axis=axis) - np.mean(y == c, axis=axis)

    theirs = stats.bootstrap((y, t, c), accuracy_difference, paired=True, vectorized=True, method="BCa", n_resamples=resamples, rng=5)
    assert ours.ci_low == pytest.approx(theirs.confidence_interval.low, abs=_quantile_tolerance(ours, 0.025, resamples))
    assert ours.ci_high == pytest.approx(theirs.confidence_interval.high, abs=_quantile_tolerance(ours, 0.975, resamples))


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_one_sided_alternative_gives_a_one_sided_interval_like_scipy(backend):
    t, c = _scores(3, 300)
    ours = paired_bootstrap(t, c, resamples=20_000, alternative="greater", seed=1, backend=backend)
    theirs = stats.bootstrap(
        (t, c), _mean_difference, paired=True, vectorized=True, method="percentile", alternative="greater", n_resamples=20_000, rng=2
    )
    assert ours.ci_high == math.inf == theirs.confidence_interval.high
    assert ours.ci_low == pytest.approx(theirs.confidence_interval.low, abs=_quantile_tolerance(ours, 0.05, 20_000))


# --- the coverage of the percentile interval ----------------------------------------------------


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_percentile_interval_covers_the_true_mean_difference_about_95_percent_of_the_time(backend):
    # 1,000 synthetic paired experiments (n = 200, B = 1,000) with a known mean difference of 0.03.
    # If the true coverage is 95%, the observed share has binomial sd sqrt(.95 * .05 / 1000) = 0.69
    # points, so 93-97% is +-2.9 sd; the percentile interval of a mean at n = 200 is known to
    # undercover slightly (about 94.7% for normal data), still well inside.
    rng = np.random.default_rng(20240611)
    true_difference, covered, experiments = 0.03, 0, 1000
    for i in range(experiments):
        control = rng.normal(0.7, 0.15, 200)
        treatment = control + true_difference + rng.normal(0.0, 0.1, 200)
        result = paired_bootstrap(treatment, control, resamples=1000, seed=i, backend=backend, workers=1)
        covered += result.ci_low <= true_difference <= result.ci_high
    assert 0.93 <= covered / experiments <= 0.97


# --- fast paths equal scikit-learn --------------------------------------------------------------


@pytest.mark.parametrize("metric", CONFUSION_METRICS)
def test_confusion_cell_metric_equals_sklearn_on_every_resample(metric):
    # Small n and several classes, so resamples often lose a class from y_true or a prediction:
    # the macro averages must then run over the same classes as scikit-learn's.
    rng = np.random.default_rng(CONFUSION_METRICS.index(metric))
    worst = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns about classes missing from a resample
        for n, classes in ((12, 5), (40, 3), (30, 2)):
            y, t, c = _classifiers(int(rng.integers(1 << 30)), n, classes, accuracy=(0.6, 0.5))
            cells = confusion_cells(y, t, c)
            for idx in rng.integers(0, n, size=(40, n)):
                counts = np.bincount(cells.example_cell[idx], minlength=len(cells.sizes))
                fast = cells.difference(metric, counts[None, :])[0]
                reference = SKLEARN[metric](y[idx], t[idx]) - SKLEARN[metric](y[idx], c[idx])
                worst = max(worst, abs(fast - reference))
    assert worst <= 1e-12


@pytest.mark.parametrize("metric", ["accuracy", "f1_macro", "mcc", "balanced_accuracy"])
def test_metric_estimate_is_the_runtime_metric_on_scores(metric):
    rng = np.random.default_rng(4)
    y = rng.integers(0, 3, 150)
    scores_t, scores_c = rng.normal(size=(150, 3)), rng.normal(size=(150, 3))
    scores_t[np.arange(150), y] += 1.0
    result = paired_metric_bootstrap(y, scores_t, scores_c, metric, resamples=100, seed=0, backend="numpy")
    fn = metric_function(metric, "classification")
    assert result.estimate == pytest.approx(fn(y, scores_t) - fn(y, scores_c), abs=1e-12)


def test_string_labels_use_the_same_fast_path():
    y, t, c = _classifiers(5, 200, 3)
    names = np.array(["cat", "dog", "eel"])
    coded = paired_metric_bootstrap(y, t, c, "f1_macro", resamples=500, seed=2, backend="numpy")
    named = paired_metric_bootstrap(names[y], names[t], names[c], "f1_macro", resamples=500, seed=2, backend="numpy")
    np.testing.assert_array_equal(coded.distribution, named.distribution)


# --- count resampling is index resampling -------------------------------------------------------


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_cell_counts_have_the_moments_of_index_resampling(backend):
    # Cells of sizes 60, 25, 16 (drawn as one multinomial) and 9, 5, 3, 1, 1 (drawn by index):
    # each row must be multinomial(n, sizes / n) like bincount(cell[randint(0, n, n)]), so
    # E = n p and Cov = n (diag(p) - p p^T). Tolerance: 5 standard errors of each moment.
    sizes = np.array([60, 25, 16, 9, 5, 3, 1, 1])
    assert sizes[2] == LARGE_CELL
    example_cell = np.random.default_rng(6).permutation(np.repeat(np.arange(len(sizes)), sizes))
    n, resamples = len(example_cell), 40_000
    counts = resample_cell_counts(example_cell, resamples, seed=9, backend=backend)
    assert np.all(counts.sum(axis=1) == n)
    p = sizes / n
    expected_cov = n * (np.diag(p) - np.outer(p, p))
    assert np.all(np.abs(counts.mean(axis=0) - n * p) <= 5 * np.sqrt(np.diag(expected_cov) / resamples))
    centred = counts - n * p
    observed_cov = centred.T @ centred / resamples
    # sd of a sample covariance of (nearly normal) counts: sqrt((s_ii s_jj + s_ij^2) / B)
    tolerance = 5 * np.sqrt((np.outer(np.diag(expected_cov), np.diag(expected_cov)) + expected_cov**2) / resamples)
    assert np.all(np.abs(observed_cov - expected_cov) <= tolerance + 1e-9)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_fast_metric_distribution_matches_index_resampling(backend):
    # The same bootstrap, once through multinomial cell counts and once by resampling indices and
    # recomputing the metric: two independent samples of one distribution (KS test, quantiles).
    y, t, c = _classifiers(7, 500, 3)
    fast = paired_metric_bootstrap(y, t, c, "accuracy", resamples=20_000, seed=1, backend=backend)
    slow = paired_metric_bootstrap(y, t, c, lambda y, p: np.mean(y == p), resamples=5_000, seed=2)
    assert slow.backend == "numpy (loop)"
    assert stats.ks_2samp(fast.distribution, slow.distribution).pvalue > 1e-3
    for level in (0.025, 0.5, 0.975):
        q_fast, q_slow = np.quantile(fast.distribution, level), np.quantile(slow.distribution, level)
        # 1/n: the metric moves in steps of 1/500, so quantiles can differ by a step by chance
        assert abs(q_fast - q_slow) <= _quantile_tolerance(fast, level, 5_000) + 1 / 500


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_mean_path_with_repeated_values_matches_index_resampling(backend):
    # Correctness differences take the values -1, 0, 1 (large cells, multinomial) plus a few odd
    # values (small cells, drawn by index): the mixed path against plain index resampling.
    rng = np.random.default_rng(8)
    d = rng.choice([-1.0, 0.0, 0.0, 1.0, 1.0], size=300)
    d[:7] = rng.normal(size=7)
    fast = paired_bootstrap(d, np.zeros(300), resamples=20_000, seed=3, backend=backend)
    slow = paired_bootstrap(d, np.zeros(300), statistic=np.mean, resamples=5_000, seed=4)
    assert stats.ks_2samp(fast.distribution, slow.distribution).pvalue > 1e-3
    assert fast.standard_error == pytest.approx(slow.standard_error, rel=0.06)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_result_does_not_depend_on_the_number_of_worker_threads(backend):
    t, c = _scores(9, 30_000)  # several blocks of resamples
    one = paired_bootstrap(t, c, resamples=200, seed=5, backend=backend, workers=1)
    two = paired_bootstrap(t, c, resamples=200, seed=5, backend=backend, workers=2)
    np.testing.assert_array_equal(one.distribution, two.distribution)


def test_torch_backend_draws_the_same_distribution():
    pytest.importorskip("torch")
    y, t, c = _classifiers(10, 400, 4)
    on_torch = paired_metric_bootstrap(y, t, c, "f1_macro", resamples=10_000, seed=1, backend="torch")
    on_numpy = paired_metric_bootstrap(y, t, c, "f1_macro", resamples=10_000, seed=1, backend="numpy")
    assert on_torch.backend.startswith("torch:")
    assert stats.ks_2samp(on_torch.distribution, on_numpy.distribution).pvalue > 1e-3
    scores_t, scores_c = _scores(11, 400)
    mean_torch = paired_bootstrap(scores_t, scores_c, resamples=10_000, seed=1, backend="torch")
    mean_numpy = paired_bootstrap(scores_t, scores_c, resamples=10_000, seed=1, backend="numpy")
    assert mean_torch.ci_low == pytest.approx(mean_numpy.ci_low, abs=_quantile_tolerance(mean_numpy, 0.025, 10_000))


# --- AUROC from counts ---------------------------------------------------------------------------

AUROC = metric_function("auroc", "classification")


def _scored(seed: int, n: int, classes: int = 2, decimals: int | None = 1):
    """Labels and two arms' scores: 1-D positive-class scores when binary, else logits; rounded so
    that both arms have ties (and cells hold several examples)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    if classes == 2:
        t, c = y * 0.8 + rng.normal(size=n), y * 0.5 + rng.normal(size=n)
    else:
        t, c = rng.normal(size=(n, classes)), rng.normal(size=(n, classes))
        t[np.arange(n), y] += 1.0
        c[np.arange(n), y] += 0.6
    if decimals is not None:  # multiclass: integer logits, so that softmax probabilities tie too
        t, c = np.round(t, decimals if classes == 2 else 0), np.round(c, decimals if classes == 2 else 0)
    return y, t, c


def _registry_auroc_or_convention(y, scores, classes: int) -> float:
    """The registry's AUROC where it is defined; where a resample lacks a class, the mean of the
    defined one-vs-rest AUROCs (scikit-learn, class by class), 0.5 when none is (the convention)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn warns, and returns NaN, for a missing class
        value = AUROC(y, scores)
    if not math.isnan(value):
        return value
    if classes == 2:
        return 0.5
    probabilities = np.exp(scores - scores.max(axis=1, keepdims=True))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    defined = [k for k in range(classes) if 0 < np.sum(y == k) < len(y)]
    if not defined:
        return 0.5
    return float(np.mean([skm.roc_auc_score(y == k, probabilities[:, k]) for k in defined]))


@pytest.mark.parametrize("classes, as_logits", [(2, False), (2, True), (3, True), (5, True)])
def test_auroc_from_counts_equals_the_registry_on_every_resample(classes, as_logits):
    # Small n with ties in both arms: resamples often lose a class (binary: sometimes every
    # positive), where scikit-learn gives NaN and the convention applies.
    rng = np.random.default_rng(classes)
    worst, undefined, tied = 0.0, 0, False
    for n in (5, 9, 30):
        y, t, c = _scored(int(rng.integers(1 << 30)), n, classes)
        if as_logits and classes == 2:  # binary logits: the registry ranks class 1's softmax probability
            t, c = np.column_stack([np.zeros(n), t]), np.column_stack([np.zeros(n), c])
        labels, columns_t = auroc_scores(y, t)
        _, columns_c = auroc_scores(y, c)
        cells = rank_cells(labels, columns_t, columns_c)
        tied |= bool(np.any(cells.first != cells.last))
        for idx in rng.integers(0, n, size=(40, n)):
            counts = np.bincount(cells.example_cell[idx], minlength=len(cells.sizes))[None, :]
            fast_t, fast_c = cells.auroc(counts)[0]
            for fast, scores in ((fast_t, t), (fast_c, c)):
                expected = _registry_auroc_or_convention(y[idx], scores[idx], classes)
                worst = max(worst, abs(fast - expected))
            undefined += len(np.unique(y[idx])) < classes
            assert cells.difference(counts)[0] == pytest.approx(fast_t - fast_c, abs=1e-15)
    assert worst <= 1e-12
    assert tied and undefined > 0  # ties, and the convention, were exercised


def test_auroc_of_a_resample_with_one_class_is_one_half_and_the_difference_zero():
    y, t, c = np.array([1, 0, 0, 0]), np.array([0.9, 0.2, 0.4, 0.1]), np.array([0.3, 0.2, 0.4, 0.1])
    cells = rank_cells(auroc_scores(y, t)[0], auroc_scores(y, t)[1], auroc_scores(y, c)[1])
    negatives_only = np.bincount(cells.example_cell[[1, 2, 3, 1]], minlength=len(cells.sizes))[None, :]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert math.isnan(skm.roc_auc_score(y[[1, 2, 3, 1]], t[[1, 2, 3, 1]]))
    np.testing.assert_array_equal(cells.auroc(negatives_only), [[0.5, 0.5]])
    assert cells.difference(negatives_only)[0] == 0.0


@pytest.mark.parametrize("classes", [2, 4])
def test_auroc_jackknife_leaves_each_example_out_exactly(classes):
    y, t, c = _scored(21, 40, classes)
    labels, columns_t = auroc_scores(y, t)
    cells = rank_cells(labels, columns_t, auroc_scores(y, c)[1])
    left_out = cells.leave_one_out()
    for j in range(len(cells.sizes)):
        counts = cells.sizes.copy()
        counts[j] -= 1
        assert left_out[j] == pytest.approx(cells.difference(counts[None, :])[0], abs=1e-14)
    i = int(np.flatnonzero(cells.example_cell == 0)[0])
    keep = np.arange(40) != i
    assert left_out[0] == pytest.approx(AUROC(y[keep], t[keep]) - AUROC(y[keep], c[keep]), abs=1e-12)


@pytest.mark.parametrize("classes, as_logits", [(2, False), (2, True), (4, True)])
def test_auroc_estimate_is_the_registry_difference(classes, as_logits):
    y, t, c = _scored(22, 200, classes, decimals=None)
    if as_logits and classes == 2:
        t, c = np.column_stack([-t, t]), np.column_stack([-c, c])
    result = paired_metric_bootstrap(y, t, c, "auroc", resamples=200, seed=0, backend="numpy")
    assert result.estimate == pytest.approx(AUROC(y, t) - AUROC(y, c), abs=1e-12)


def _midrank_auroc(y, scores, axis=-1):
    """Binary AUROC by midranks (the Wilcoxon rank sum, scipy's rankdata), vectorised over leading
    axes: an implementation independent of the one tested, fast enough to run on thousands of
    index resamples. NaN where a resample has one class."""
    positive = np.asarray(y) == 1
    ranks = stats.rankdata(scores, axis=axis)
    p = positive.sum(axis=axis)
    q = positive.shape[axis] - p
    with np.errstate(divide="ignore", invalid="ignore"):
        return ((ranks * positive).sum(axis=axis) - p * (p + 1) / 2) / (p * q)


def _index_resampled_auroc_difference(y, t, c, resamples: int, seed: int) -> np.ndarray:
    """AUROC(t) - AUROC(c) on plain index resamples, by midranks: binary on 1-D scores, else the
    one-vs-rest macro over softmax probabilities (no resample here misses a class)."""
    idx = np.random.default_rng(seed).integers(0, len(y), size=(resamples, len(y)))
    if t.ndim == 1:
        return _midrank_auroc(y[idx], t[idx]) - _midrank_auroc(y[idx], c[idx])

    def macro(scores):
        probabilities = np.exp(scores - scores.max(axis=1, keepdims=True))
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        return np.mean([_midrank_auroc(y[idx] == k, probabilities[idx, k]) for k in range(scores.shape[1])], axis=0)

    return macro(t) - macro(c)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("classes", [2, 3])
def test_fast_auroc_distribution_matches_index_resampling(backend, classes):
    # Counts over cells and the Mann-Whitney pass, against resampling indices and ranking each
    # resample: two samples of one distribution.
    y, t, c = _scored(23, 150, classes, decimals=2)
    fast = paired_metric_bootstrap(y, t, c, "auroc", resamples=10_000, seed=1, backend=backend)
    slow = _index_resampled_auroc_difference(y, t, c, 10_000, 2)
    assert fast.backend == backend
    assert stats.ks_2samp(fast.distribution, slow).pvalue > 1e-3
    assert fast.standard_error == pytest.approx(np.std(slow, ddof=1), rel=0.05)


def test_auroc_bca_interval_agrees_with_scipy():
    # scipy's BCa over the same statistic (vectorised midranks): its jackknife leaves out each
    # example, ours each cell's example exactly.
    y, t, c = _scored(25, 80, 2, decimals=None)
    ours = paired_metric_bootstrap(y, t, c, "auroc", resamples=10_000, method="bca", seed=3)

    def difference(y, t, c, axis=-1):
        return _midrank_auroc(y, t, axis) - _midrank_auroc(y, c, axis)

    theirs = stats.bootstrap((y, t, c), difference, paired=True, vectorized=True, method="BCa", n_resamples=10_000, rng=4)
    assert ours.ci_low == pytest.approx(theirs.confidence_interval.low, abs=_quantile_tolerance(ours, 0.025, 10_000))
    assert ours.ci_high == pytest.approx(theirs.confidence_interval.high, abs=_quantile_tolerance(ours, 0.975, 10_000))


def test_two_level_auroc_fast_path_matches_resampling_seeds_then_indices():
    rng = np.random.default_rng(26)
    y = rng.integers(0, 2, 120)
    t = np.stack([y * (0.6 + 0.2 * s) + rng.normal(size=120) for s in range(3)])
    c = np.stack([y * 0.5 + rng.normal(size=120) for _ in range(3)])
    fast = paired_two_level_bootstrap(t, c, y_true=y, metric="auroc", resamples=6_000, seed=1)
    slow = paired_two_level_bootstrap(t, c, y_true=y, metric=_midrank_auroc, resamples=2_000, seed=2)
    assert fast.level == "seeds_x_examples"
    assert fast.estimate == pytest.approx(np.mean([AUROC(y, t[s]) - AUROC(y, c[s]) for s in range(3)]), abs=1e-12)
    assert stats.ks_2samp(fast.distribution, slow.distribution).pvalue > 1e-3


def test_torch_backend_draws_the_same_auroc_distribution():
    pytest.importorskip("torch")
    y, t, c = _scored(26, 300, 3, decimals=1)
    on_torch = paired_metric_bootstrap(y, t, c, "auroc", resamples=8_000, seed=1, backend="torch")
    on_numpy = paired_metric_bootstrap(y, t, c, "auroc", resamples=8_000, seed=1, backend="numpy")
    assert on_torch.backend.startswith("torch:")
    assert on_torch.estimate == on_numpy.estimate
    assert stats.ks_2samp(on_torch.distribution, on_numpy.distribution).pvalue > 1e-3


# --- metrics of summed columns ------------------------------------------------------------------

#: Perplexity from (summed NLL, tokens) per sequence: the shape of a SummedMetric.
_PERPLEXITY = SummedMetric("perplexity", lambda sums, n: np.exp(sums[:, 0] / sums[:, 1]))


def _sequences(seed: int, n: int):
    rng = np.random.default_rng(seed)
    tokens = rng.integers(5, 40, n).astype(np.float64)
    nll_c = tokens * rng.gamma(4.0, 0.5, n)
    nll_t = nll_c * rng.normal(0.95, 0.05, n)
    return np.column_stack([nll_t, tokens]), np.column_stack([nll_c, tokens])


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_summed_metric_distribution_matches_index_resampling(backend):
    t, c = _sequences(27, 300)
    fast = paired_metric_bootstrap(None, t, c, _PERPLEXITY, resamples=10_000, seed=1, backend=backend)

    def perplexity(_, columns):
        return float(np.exp(columns[:, 0].sum() / columns[:, 1].sum()))

    slow = paired_metric_bootstrap(None, t, c, perplexity, resamples=3_000, seed=2)
    assert fast.estimate == pytest.approx(perplexity(None, t) - perplexity(None, c), rel=1e-12)
    assert stats.ks_2samp(fast.distribution, slow.distribution).pvalue > 1e-3


def test_summed_metric_jackknife_and_two_level_estimate():
    t, c = _sequences(28, 60)
    bca = paired_metric_bootstrap(None, t, c, _PERPLEXITY, resamples=2_000, method="bca", seed=1, backend="numpy")
    loop = paired_metric_bootstrap(
        None, t, c, lambda _, x: float(np.exp(x[:, 0].sum() / x[:, 1].sum())), resamples=2_000, method="bca", seed=1
    )
    assert bca.ci_low == pytest.approx(loop.ci_low, abs=_quantile_tolerance(bca, 0.025, 2_000))
    two = paired_two_level_bootstrap(np.stack([t, t * [1.01, 1]]), np.stack([c, c]), metric=_PERPLEXITY, resamples=500, seed=2)
    per_seed = [np.exp(a[:, 0].sum() / a[:, 1].sum()) - np.exp(c[:, 0].sum() / c[:, 1].sum()) for a in (t, t * [1.01, 1])]
    assert two.estimate == pytest.approx(np.mean(per_seed), rel=1e-12)


# --- the two-level bootstrap --------------------------------------------------------------------


def _seeded_arms(seed: int, seeds: int, n: int, classes: int):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    t = np.stack([np.where(rng.random(n) < 0.75, y, rng.integers(0, classes, n)) for _ in range(seeds)])
    c = np.stack([np.where(rng.random(n) < 0.70, y, rng.integers(0, classes, n)) for _ in range(seeds)])
    return y, t, c


def test_two_level_estimate_is_the_mean_over_seeds_of_the_metric_difference():
    y, t, c = _seeded_arms(12, 5, 300, 3)
    result = paired_two_level_bootstrap(t, c, y_true=y, metric="f1_macro", resamples=500, seed=0, backend="numpy")
    expected = np.mean([SKLEARN["f1_macro"](y, t[s]) - SKLEARN["f1_macro"](y, c[s]) for s in range(5)])
    assert result.estimate == pytest.approx(expected, abs=1e-12)
    assert result.level == "seeds_x_examples"


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_two_level_fast_path_matches_resampling_seeds_then_indices(backend):
    y, t, c = _seeded_arms(13, 4, 200, 3)
    fast = paired_two_level_bootstrap(t, c, y_true=y, metric="accuracy", resamples=10_000, seed=1, backend=backend)
    slow = paired_two_level_bootstrap(t, c, y_true=y, metric=lambda y, p: np.mean(y == p), resamples=3_000, seed=2)
    assert stats.ks_2samp(fast.distribution, slow.distribution).pvalue > 1e-3


def test_two_level_interval_is_wider_than_one_seeds_when_seeds_disagree():
    # Per-example scores whose seed-to-seed shift is large: resampling seeds must widen the interval.
    rng = np.random.default_rng(14)
    shifts = np.array([-0.05, 0.0, 0.05, 0.1, 0.02])[:, None]
    control = rng.normal(0.7, 0.1, (5, 400))
    treatment = control + 0.02 + shifts + rng.normal(0, 0.05, (5, 400))
    both = paired_two_level_bootstrap(treatment, control, resamples=4_000, seed=3, backend="numpy")
    one = paired_bootstrap(treatment[0], control[0], resamples=4_000, seed=3, backend="numpy")
    assert both.ci_high - both.ci_low > 3 * (one.ci_high - one.ci_low)
    assert both.estimate == pytest.approx(np.mean(treatment - control), abs=1e-12)


# --- properties ---------------------------------------------------------------------------------

_paired = st.integers(min_value=2, max_value=40).flatmap(
    lambda n: st.tuples(
        st.lists(st.floats(-10, 10, allow_nan=False, width=32), min_size=n, max_size=n),
        st.lists(st.floats(-10, 10, allow_nan=False, width=32), min_size=n, max_size=n),
    )
)
_settings = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_settings
@given(_paired, st.sampled_from(["percentile", "bca"]), st.integers(0, 2**32))
def test_swapping_arms_negates_the_estimate_and_mirrors_the_interval(pair, method, seed):
    t, c = (np.asarray(x, dtype=np.float64) for x in pair)
    forward = paired_bootstrap(t, c, resamples=300, method=method, seed=seed, backend="numpy")
    backward = paired_bootstrap(c, t, resamples=300, method=method, seed=seed, backend="numpy")
    scale = 1e-9 * (1 + np.abs(t - c).max())
    assert backward.estimate == pytest.approx(-forward.estimate, abs=scale)
    assert backward.ci_low == pytest.approx(-forward.ci_high, abs=scale)
    assert backward.ci_high == pytest.approx(-forward.ci_low, abs=scale)
    assert backward.p_value == forward.p_value


@_settings
@given(
    st.integers(min_value=2, max_value=60).flatmap(
        lambda n: st.tuples(*(st.lists(st.integers(0, 2), min_size=n, max_size=n) for _ in range(3)))
    ),
    st.sampled_from(CONFUSION_METRICS),
    st.sampled_from(["two-sided", "greater", "less"]),
)
def test_metric_p_value_lies_in_0_1_and_swapping_arms_negates(labels, metric, alternative):
    y, t, c = (np.asarray(x) for x in labels)
    forward = paired_metric_bootstrap(y, t, c, metric, resamples=200, seed=1, alternative=alternative, backend="numpy")
    backward = paired_metric_bootstrap(y, c, t, metric, resamples=200, seed=1, alternative=alternative, backend="numpy")
    assert 0 < forward.p_value <= 1
    assert backward.estimate == pytest.approx(-forward.estimate, abs=1e-12)
    np.testing.assert_allclose(backward.distribution, -forward.distribution, atol=1e-12)


@_settings
@given(
    st.integers(min_value=2, max_value=40).flatmap(
        lambda n: st.tuples(
            st.lists(st.integers(0, 1), min_size=n, max_size=n),
            *(st.lists(st.integers(-3, 3), min_size=n, max_size=n) for _ in range(2)),
        )
    ),
    st.sampled_from(CPU_BACKENDS),
)
def test_auroc_p_value_lies_in_0_1_and_swapping_arms_negates_every_resample(data, backend):
    # Coarse integer scores: heavy ties, and small n: resamples with a single class.
    y, t, c = (np.asarray(x) for x in data)
    forward = paired_metric_bootstrap(y, t, c, "auroc", resamples=200, seed=1, backend=backend)
    backward = paired_metric_bootstrap(y, c, t, "auroc", resamples=200, seed=1, backend=backend)
    assert 0 < forward.p_value <= 1 and np.all(np.abs(forward.distribution) <= 1)
    np.testing.assert_array_equal(backward.distribution, -forward.distribution)


@_settings
@given(
    st.integers(min_value=2, max_value=12).flatmap(
        lambda n: st.one_of(
            st.lists(st.integers(-3, 3), min_size=n, max_size=n),
            st.lists(st.floats(-5, 5, allow_nan=False, width=32), min_size=n, max_size=n),
        )
    ),
    st.sampled_from(["two-sided", "greater", "less"]),
)
def test_exact_permutation_p_value_equals_scipy(differences, alternative):
    d = np.asarray(differences, dtype=np.float64)
    ours = sign_flip_test(d, alternative=alternative)
    theirs = stats.permutation_test(
        (d, np.zeros_like(d)),
        _mean_difference,
        permutation_type="samples",
        alternative=alternative,
        n_resamples=np.inf,
        vectorized=True,
    )
    assert ours.exact and ours.permutations == 2 ** len(d)
    assert ours.p_value == theirs.pvalue


# --- the permutation test -----------------------------------------------------------------------


def test_exact_permutation_test_enumerates_2_to_the_20_sign_vectors():
    # Integer scores (correct answers out of 5 per item): many exact ties, which both must count.
    rng = np.random.default_rng(15)
    t, c = rng.integers(0, 6, 20).astype(float), rng.integers(0, 6, 20).astype(float)
    result = paired_permutation_test(t, c, alternative="greater")
    assert result.exact and result.permutations == 2**20
    theirs = stats.permutation_test(
        (t, c), _mean_difference, permutation_type="samples", alternative="greater", n_resamples=np.inf, vectorized=True
    )
    assert result.p_value == theirs.pvalue


def test_exact_permutation_test_counts_the_observed_arrangement_when_differences_cancel():
    # Differences that nearly cancel: the observed sum is 1e-9, sum |d| about 10. The observed
    # sign vector must still count, so p >= 2^-n for either one-sided alternative, and the counts
    # agree with a direct enumeration in exact rational arithmetic.
    from fractions import Fraction
    from itertools import product

    d = np.random.default_rng(19).normal(size=13)
    d[-1] = 1e-9 - d[:-1].sum()
    exact = [Fraction(x) for x in d]
    observed = sum(exact)
    sums = [sum(s * x for s, x in zip(signs, exact)) for signs in product((1, -1), repeat=len(d))]
    for alternative, count in (("greater", sum(v >= observed for v in sums)), ("less", sum(v <= observed for v in sums))):
        assert sign_flip_test(d, alternative=alternative).p_value == count / 2 ** len(d)


def test_monte_carlo_permutation_p_value_is_close_to_the_exact_one():
    t, c = _scores(16, 22)
    t = t - 0.02  # a p-value in the middle, where Monte Carlo error is largest
    exact = paired_permutation_test(t, c, exact=True)
    sampled = paired_permutation_test(t, c, exact=False, resamples=20_000, seed=1)
    assert not sampled.exact and sampled.permutations == 20_000
    sd = math.sqrt(2 * exact.p_value * (1 - exact.p_value / 2) / 20_000)  # two-sided: 2 x a binomial share
    assert abs(sampled.p_value - exact.p_value) <= 5 * sd


def test_monte_carlo_permutation_p_value_is_never_zero():
    d = np.full(100, 1.0)  # every sign flip gives a smaller mean than the observed one
    result = sign_flip_test(d, alternative="greater", resamples=999, seed=0)
    assert result.p_value == pytest.approx(1 / 1000)


def test_monte_carlo_permutation_test_needs_a_seed():
    with pytest.raises(ValueError, match="needs a seed"):
        sign_flip_test(np.ones(30))


# --- p-values and errors ------------------------------------------------------------------------


def test_bootstrap_p_value_is_small_for_a_clear_difference_and_large_for_none():
    t, c = _scores(17, 500)
    assert paired_bootstrap(t, c, resamples=2_000, seed=0, backend="numpy").p_value < 0.01
    noise = np.random.default_rng(0).normal(0, 0.1, 500)
    assert paired_bootstrap(c, c + noise, resamples=2_000, seed=0, backend="numpy").p_value > 0.05


def test_bootstrap_p_value_of_identical_arms_is_1():
    y, t, _ = _classifiers(18, 100, 3)
    assert paired_metric_bootstrap(y, t, t, "f1_macro", resamples=500, seed=0, backend="numpy").p_value == 1.0


def test_unknown_metric_name_is_an_error_naming_the_fast_ones():
    with pytest.raises(ValueError, match="f1_macro, .*auroc"):
        paired_metric_bootstrap([0, 1], [0, 1], [1, 0], "auprc", seed=0)


def test_mismatched_arms_are_an_error():
    with pytest.raises(ValueError, match="same length"):
        paired_bootstrap([1.0, 2.0, 3.0], [1.0, 2.0], seed=0)
