"""Speed and agreement of rigorml's paired bootstrap against the reference implementations.

Targets, each measured in this one run with the runs of both sides interleaved (so machine noise
hits both alike), medians reported:

(a) mean difference of per-example scores, n = 10,000, B = 10,000:
    ``rigorml.runtime.stats.bootstrap.paired_bootstrap`` (``--backend``, default ``auto``: the numba
    kernels on a CPU, torch on a GPU) against
    ``scipy.stats.bootstrap((t, c), statistic, paired=True, method="percentile", vectorized=True)``;
    target: rigorml at least 5x faster. The CI endpoints are printed side by side with their Monte
    Carlo error (sd of an endpoint over the repeats, each repeat with another seed, and the
    normal-approximation sd sqrt(p (1 - p) / B) / density).
(b) F1-macro difference, 10 classes, n = 10,000, B = 10,000: ``paired_metric_bootstrap(...,
    "f1_macro")`` against resampling indices and calling ``sklearn.metrics.f1_score(average=
    "macro")`` on each resample for both arms. The baseline is timed on ``--baseline-resamples``
    resamples and extrapolated linearly to B (its cost is exactly B x 2 sklearn calls plus
    drawing); the output says so. Target: at least 100x faster, and the CIs agree within Monte
    Carlo error (the baseline's interval comes from its smaller B).

(c) AUROC difference, binary, n = 10,000, B = 10,000: ``paired_metric_bootstrap(..., "auroc")`` (counts
    over cells, one Mann-Whitney pass per resample) against resampling indices and calling
    ``sklearn.metrics.roc_auc_score`` on each resample for both arms, timed and extrapolated as in
    (b). No speed target: the ratio is reported. The CIs must agree within Monte Carlo error.

    python bench/bootstrap.py [--repeats 5] [--baseline-resamples 1000] [--workers N] [--backend auto]

Both sides are warmed up before timing (imports; numba loads or compiles its kernels on the first
call of a process): the first call's time is printed apart.

Exits 1 when a target is missed, or an interval disagrees with its reference.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time

import numpy as np

N, B = 10_000, 10_000
MEAN_TARGET, F1_TARGET = 5.0, 100.0


def _mean_data(seed: int = 0):
    rng = np.random.default_rng(seed)
    control = rng.normal(0.7, 0.2, N)
    return control + rng.normal(0.01, 0.1, N), control


def _f1_data(seed: int = 0, classes: int = 10):
    """Labels and two correlated classifiers (80% and 75% right, errors uniform over classes)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, N)
    shared = rng.random(N)
    treatment = np.where(shared < 0.80, y, rng.integers(0, classes, N))
    control = np.where(shared < 0.75, y, rng.integers(0, classes, N))
    return y, treatment, control


def _auroc_data(seed: int = 0):
    """Binary labels (30% positive) and two correlated scorers, the treatment slightly better."""
    rng = np.random.default_rng(seed)
    y = (rng.random(N) < 0.3).astype(np.int64)
    shared = rng.normal(size=N)
    treatment = 1.0 * y + shared + 0.8 * rng.normal(size=N)
    control = 0.9 * y + shared + 0.8 * rng.normal(size=N)
    return y, treatment, control


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def _endpoint_sd(standard_error: float, level: float, resamples: int) -> float:
    from scipy import stats

    return math.sqrt(level * (1 - level) / resamples) * standard_error / stats.norm.pdf(stats.norm.ppf(level))


def bench_mean(repeats: int, workers: int | None, backend: str) -> bool:
    from scipy import stats

    from rigorml.runtime.stats.bootstrap import paired_bootstrap

    t, c = _mean_data()

    def statistic(a, b, axis=-1):
        return np.mean(a, axis=axis) - np.mean(b, axis=axis)

    def ours(seed):
        r = paired_bootstrap(t, c, resamples=B, seed=seed, backend=backend, workers=workers)
        return r.ci_low, r.ci_high, r.standard_error

    def theirs(seed):
        r = stats.bootstrap((t, c), statistic, paired=True, method="percentile", vectorized=True, n_resamples=B, rng=seed)
        return r.confidence_interval.low, r.confidence_interval.high, r.standard_error

    first, _ = _timed(lambda: ours(1000))
    print(f"  rigorml's first call in this process (imports, kernel cache or compilation): {first:.3f} s")
    theirs(1000)  # warm up (imports, allocator)
    samples = {"rigorml paired_bootstrap": [], "scipy.stats.bootstrap": []}
    cis = {name: [] for name in samples}
    for i in range(repeats):
        for name, fn in (("rigorml paired_bootstrap", ours), ("scipy.stats.bootstrap", theirs)):
            elapsed, ci = _timed(lambda: fn(i))
            samples[name].append(elapsed)
            cis[name].append(ci)
    print(f"(a) mean difference, n = {N:,}, B = {B:,}, percentile 95% CI; {repeats} interleaved runs each, seeds 0..{repeats - 1}")
    return _report(samples, cis, MEAN_TARGET, baseline_resamples=B, extrapolated=False)


def bench_f1(repeats: int, baseline_resamples: int, workers: int | None, backend: str) -> bool:
    import warnings

    from sklearn.metrics import f1_score

    from rigorml.runtime.stats._metric_cells import confusion_cells
    from rigorml.runtime.stats.bootstrap import bootstrap_interval, paired_metric_bootstrap

    y, t, c = _f1_data()
    cells = confusion_cells(y, t, c)

    def ours(seed):
        r = paired_metric_bootstrap(y, t, c, "f1_macro", resamples=B, seed=seed, backend=backend, workers=workers)
        return r.ci_low, r.ci_high, r.standard_error, r.estimate

    def sklearn_chunk(rng, count):
        out = np.empty(count)
        for i in range(count):
            idx = rng.integers(0, N, N)
            out[i] = f1_score(y[idx], t[idx], average="macro", zero_division=0) - f1_score(
                y[idx], c[idx], average="macro", zero_division=0
            )
        return out

    ours(1000)
    rng = np.random.default_rng(12345)
    chunk = max(1, baseline_resamples // repeats)
    ours_times, ours_cis, baseline_time, baseline = [], [], 0.0, []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sklearn_chunk(rng, 5)  # warm up
        for i in range(repeats):
            elapsed, ci = _timed(lambda: ours(i))
            ours_times.append(elapsed)
            ours_cis.append(ci)
            count = chunk if i < repeats - 1 else baseline_resamples - chunk * (repeats - 1)
            elapsed, values = _timed(lambda: sklearn_chunk(rng, count))
            baseline_time += elapsed
            baseline.append(values)
    distribution = np.concatenate(baseline)
    estimate = ours_cis[0][3]
    low, high = bootstrap_interval(distribution, estimate, confidence=0.95)
    se = float(np.std(distribution, ddof=1))
    per_resample = baseline_time / len(distribution)
    print(
        f"(b) F1-macro difference, 10 classes, n = {N:,}, B = {B:,} ({len(cells.sizes)} occupied confusion cells); "
        f"{repeats} rigorml runs interleaved with the baseline's chunks"
    )
    print(
        f"  baseline: index resampling + 2 sklearn f1_score calls per resample, timed on {len(distribution):,} resamples "
        f"({1000 * per_resample:.2f} ms each) and extrapolated linearly to B = {B:,}"
    )
    samples = {"rigorml paired_metric_bootstrap": ours_times, "sklearn f1_score per resample": [per_resample * B]}
    cis = {"rigorml paired_metric_bootstrap": [ci[:3] for ci in ours_cis], "sklearn f1_score per resample": [(low, high, se)]}
    return _report(samples, cis, F1_TARGET, baseline_resamples=len(distribution), extrapolated=True)


def bench_auroc(repeats: int, baseline_resamples: int, workers: int | None, backend: str) -> bool:
    from sklearn.metrics import roc_auc_score

    from rigorml.runtime.stats.bootstrap import bootstrap_interval, paired_metric_bootstrap

    y, t, c = _auroc_data()

    def ours(seed):
        r = paired_metric_bootstrap(y, t, c, "auroc", resamples=B, seed=seed, backend=backend, workers=workers)
        return r.ci_low, r.ci_high, r.standard_error, r.estimate

    def sklearn_chunk(rng, count):
        out = np.empty(count)
        for i in range(count):
            idx = rng.integers(0, N, N)
            out[i] = roc_auc_score(y[idx], t[idx]) - roc_auc_score(y[idx], c[idx])
        return out

    first, _ = _timed(lambda: ours(1000))
    print(f"  rigorml's first AUROC call in this process (kernel cache or compilation): {first:.3f} s")
    rng = np.random.default_rng(54321)
    chunk = max(1, baseline_resamples // repeats)
    sklearn_chunk(rng, 5)  # warm up
    ours_times, ours_cis, baseline_time, baseline = [], [], 0.0, []
    for i in range(repeats):
        elapsed, ci = _timed(lambda: ours(i))
        ours_times.append(elapsed)
        ours_cis.append(ci)
        count = chunk if i < repeats - 1 else baseline_resamples - chunk * (repeats - 1)
        elapsed, values = _timed(lambda: sklearn_chunk(rng, count))
        baseline_time += elapsed
        baseline.append(values)
    distribution = np.concatenate(baseline)
    low, high = bootstrap_interval(distribution, ours_cis[0][3], confidence=0.95)
    se = float(np.std(distribution, ddof=1))
    per_resample = baseline_time / len(distribution)
    print(f"(c) AUROC difference, binary, n = {N:,}, B = {B:,}; {repeats} rigorml runs interleaved with the baseline's chunks")
    print(
        f"  baseline: index resampling + 2 sklearn roc_auc_score calls per resample, timed on {len(distribution):,} "
        f"resamples ({1000 * per_resample:.2f} ms each) and extrapolated linearly to B = {B:,}"
    )
    samples = {"rigorml paired_metric_bootstrap": ours_times, "sklearn roc_auc_score per resample": [per_resample * B]}
    cis = {"rigorml paired_metric_bootstrap": [ci[:3] for ci in ours_cis], "sklearn roc_auc_score per resample": [(low, high, se)]}
    return _report(samples, cis, None, baseline_resamples=len(distribution), extrapolated=True)


def _report(samples, cis, target: float | None, baseline_resamples: int, extrapolated: bool) -> bool:
    names = list(samples)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    for name in names:
        values = samples[name]
        how = "extrapolated" if extrapolated and name == names[1] else f"median of {len(values)}"
        spread = f"(min {min(values):.3f}, max {max(values):.3f})" if len(values) > 1 else ""
        print(f"  {name:34s} {medians[name]:8.3f} s  {how} {spread}")
    ratio = medians[names[1]] / medians[names[0]]
    met_speed = target is None or ratio >= target
    verdict = "no target, reported" if target is None else f"target >= {target:g}x: {'met' if met_speed else 'MISSED'}"
    print(f"  speed-up {names[1]} / rigorml = {ratio:.1f}x ({verdict})")
    met_ci = True
    for k, (label, level) in enumerate((("low", 0.025), ("high", 0.975))):
        row = []
        for name in names:
            endpoints = [ci[k] for ci in cis[name]]
            resamples = baseline_resamples if name == names[1] else B
            mc = _endpoint_sd(cis[name][0][2], level, resamples)
            observed = f", sd over seeds {statistics.stdev(endpoints):.6f}" if len(endpoints) > 1 else ""
            row.append((statistics.median(endpoints), mc, f"{statistics.median(endpoints):+.6f} (MC sd {mc:.6f}{observed})"))
        gap = abs(row[0][0] - row[1][0])
        allowed = 4 * math.hypot(row[0][1], row[1][1])
        agree = gap <= allowed
        met_ci &= agree
        print(f"  CI {label:4s}: rigorml {row[0][2]}  vs  {row[1][2]}; |gap| {gap:.6f} <= 4 sd {allowed:.6f}: {'yes' if agree else 'NO'}")
    return met_speed and met_ci


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per side (default 5)")
    parser.add_argument("--baseline-resamples", type=int, default=1000, help="sklearn resamples timed for (b) and (c) (default 1000)")
    parser.add_argument("--workers", type=int, default=None, help="rigorml threads (default: CPU count, at most 8)")
    parser.add_argument("--backend", default="auto", help="rigorml backend: auto (default), numba, numpy or torch")
    args = parser.parse_args()
    import os

    from rigorml.runtime.stats.bootstrap import _resolve_backend

    print(f"rigorml backend {args.backend} ({_resolve_backend(args.backend)}), {os.cpu_count()} CPU(s), workers={args.workers or 'auto'}")
    met_mean = bench_mean(args.repeats, args.workers, args.backend)
    met_f1 = bench_f1(args.repeats, args.baseline_resamples, args.workers, args.backend)
    met_auroc = bench_auroc(args.repeats, args.baseline_resamples, args.workers, args.backend)
    return 0 if met_mean and met_f1 and met_auroc else 1


if __name__ == "__main__":
    sys.exit(main())
