"""One metric over replicate seeds: mean, sample sd, t interval, median and interquartile mean.

The interquartile mean (IQM) is the mean of the middle 50% of the values, the aggregate Agarwal et
al. (2021, "Deep reinforcement learning at the edge of the statistical precipice") recommend over
few runs: robust to one odd seed like the median, but less noisy. "The middle 50%" is taken
literally: the sorted values occupy unit intervals [i, i + 1) of [0, n), and each is weighted by
how much of its interval lies in [n/4, 3n/4], so the values at the quartile boundaries count
fractionally when n is not divisible by 4 (the interquartile mean of the textbooks). With n
divisible by 4 that is exactly ``scipy.stats.trim_mean(values, 0.25)``, which is what Agarwal et
al.'s ``rliable`` computes; for other n, ``trim_mean`` drops whole values instead (with 5 seeds it
averages the middle 3 equally, where the IQM here weights them 3/4, 1, 3/4).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SeedSummary:
    """``n``, ``mean``, ``sd`` (n - 1; None for one value), ``ci`` (t interval at ``confidence``;
    None for one value), ``median`` and ``iqm``."""

    n: int
    mean: float
    sd: float | None
    ci: tuple[float, float] | None
    confidence: float
    median: float
    iqm: float

    def as_dict(self) -> dict:
        """JSON-ready: ``n``, ``mean``, ``sd``, ``ci`` (a list or None), ``median``, ``iqm``."""
        return {
            "n": self.n,
            "mean": self.mean,
            "sd": self.sd,
            "ci": None if self.ci is None else list(self.ci),
            "median": self.median,
            "iqm": self.iqm,
        }


def summarise(values: Sequence[float], confidence: float = 0.95) -> SeedSummary:
    """Summary of one metric over seeds.

    Inputs: the per-seed values (at least one, finite); ``confidence`` in (0, 1).
    Output: a :class:`SeedSummary`; the interval is mean +- t(n - 1) sd / sqrt(n).
    Errors: ValueError for no values, a non-finite value, or a confidence outside (0, 1).
    """
    array = _values(values)
    n = array.size
    mean = float(array.mean())
    sd = float(array.std(ddof=1)) if n > 1 else None
    return SeedSummary(
        n=n,
        mean=mean,
        sd=sd,
        ci=t_interval(mean, sd, n, confidence),
        confidence=confidence,
        median=float(np.median(array)),
        iqm=interquartile_mean(array),
    )


def t_interval(mean: float, sd: float | None, n: int, confidence: float = 0.95) -> tuple[float, float] | None:
    """mean +- t_{(1 + confidence)/2}(n - 1) sd / sqrt(n); None when ``sd`` is None or n < 2.
    Raises ValueError for a confidence outside (0, 1)."""
    from scipy import stats

    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), not {confidence!r}")
    if sd is None or n < 2:
        return None
    half = float(stats.t.ppf((1 + confidence) / 2, n - 1)) * sd / math.sqrt(n)
    return (mean - half, mean + half)


def interquartile_mean(values: Sequence[float]) -> float:
    """The mean of the middle 50% of ``values``, boundary values weighted fractionally.

    Inputs: at least one finite value. Output: a float between the 25th and 75th percentiles'
    neighbours; one value gives itself, two their mean.
    Errors: ValueError for no values or a non-finite value.
    """
    ordered = np.sort(_values(values))
    n = ordered.size
    start = np.arange(n, dtype=np.float64)
    # The share of [i, i + 1) inside the middle half [n/4, 3n/4], which has length n/2.
    weights = np.clip(np.minimum(start + 1, 0.75 * n) - np.maximum(start, 0.25 * n), 0.0, 1.0)
    return float(np.dot(weights, ordered) / (n / 2))


def _values(values) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if array.size == 0:
        raise ValueError("no values to summarise")
    if not np.all(np.isfinite(array)):
        raise ValueError("the values to summarise must be finite numbers")
    return array
