"""Paired sign-flip permutation test on per-pair differences (per example, or per seed).

Under the null hypothesis that treatment and control are exchangeable within each pair, every
difference d_i = treatment_i - control_i is as likely to have come out as -d_i. The test statistic
is the mean difference; its null distribution is the mean of s_i d_i over the 2^n sign vectors s
(Fisher 1935; Good 2005, "Permutation, Parametric and Bootstrap Tests of Hypotheses", ch. 3).

* **Exact** (n <= :data:`EXACT_MAX`, the default there): all 2^n sign vectors. Vectorised over bit
  patterns by meet in the middle: the signed sums of the first half of the differences (2^h values)
  plus those of the second half (2^(n-h)) give every one of the 2^n sums as one outer sum, with no
  (2^n, n) sign matrix. p = #{null >= observed} / 2^n (the observed arrangement is one of them,
  so p >= 2^-n).
* **Monte Carlo** (larger n): B sign vectors drawn uniformly (random bits), with the add-one
  correction p = (#{null >= observed} + 1) / (B + 1) that keeps a sampled p-value valid (Phipson &
  Smyth 2010, "Permutation p-values should never be zero").

``greater`` counts null values >= the observed mean (treatment above control), ``less`` values <=
it, and ``two-sided`` is ``min(1, 2 min(p_greater, p_less))``. These are the definitions of
``scipy.stats.permutation_test`` with ``permutation_type="samples"``, and the exact p-values equal
scipy's (the tests check it). One difference, on purpose: comparisons allow 100 machine epsilons
times sum |d_i| (the scale of a signed sum's rounding error) where scipy allows 100 epsilons times
|observed|; when the differences nearly cancel, scipy's tolerance can be smaller than its own
rounding error and it then fails to count the observed arrangement itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: Alternative hypotheses, about treatment - control.
ALTERNATIVES = ("two-sided", "greater", "less")

#: Largest n enumerated exactly by default (2^20 = 1,048,576 sign vectors).
EXACT_MAX = 20

#: Largest n enumerated exactly on request (2^26 sums, 512 MiB: beyond that, use Monte Carlo).
EXACT_LIMIT = 26

#: Random signs per block of the Monte Carlo test (bounds memory).
BLOCK_ELEMENTS = 1 << 20

#: Tolerance of the comparisons, relative to sum |d_i|.
TIE_TOLERANCE = 100 * np.finfo(np.float64).eps


@dataclass(frozen=True)
class PermutationResult:
    """The outcome of a sign-flip permutation test.

    ``statistic``: the observed mean difference (treatment - control); ``p_value``; ``exact``:
    whether every sign vector was enumerated; ``permutations``: how many sign vectors the null
    distribution holds (2^n when exact, else the Monte Carlo B); ``n``: pairs; ``alternative``;
    ``seed``: the Monte Carlo seed (None for an exact test).
    """

    statistic: float
    p_value: float
    exact: bool
    permutations: int
    n: int
    alternative: str
    seed: int | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "statistic": self.statistic,
            "p_value": self.p_value,
            "exact": self.exact,
            "permutations": self.permutations,
            "n": self.n,
            "alternative": self.alternative,
            "seed": self.seed,
        }


def paired_permutation_test(
    treatment: Any,
    control: Any,
    *,
    alternative: str = "two-sided",
    resamples: int = 10_000,
    seed: int | None = None,
    exact: bool | None = None,
) -> PermutationResult:
    """Sign-flip permutation test of the mean of ``treatment - control`` (paired, same order).

    Inputs: two (n,) arrays of finite per-pair values (per-example scores, or per-seed metric
    values). See :func:`sign_flip_test` for the rest. Errors: ValueError for different lengths.
    """
    t = np.asarray(treatment, dtype=np.float64)
    c = np.asarray(control, dtype=np.float64)
    if t.shape != c.shape:
        raise ValueError(f"paired values need the same shape, not {t.shape} (treatment) and {c.shape} (control)")
    return sign_flip_test(t - c, alternative=alternative, resamples=resamples, seed=seed, exact=exact)


def sign_flip_test(
    differences: Any,
    *,
    alternative: str = "two-sided",
    resamples: int = 10_000,
    seed: int | None = None,
    exact: bool | None = None,
) -> PermutationResult:
    """Sign-flip permutation test of the mean of paired ``differences``.

    Inputs: (n,) finite differences, n >= 1; ``alternative`` (about the mean difference:
    ``greater``, treatment above control); ``exact``: enumerate all 2^n sign vectors (default:
    when n <= :data:`EXACT_MAX`); otherwise ``resamples`` random sign vectors drawn from ``seed``
    (required then, so the p-value can be reproduced).

    Output: :class:`PermutationResult`. Errors: ValueError for an empty or non-finite input, an
    unknown alternative, ``exact=True`` with n > :data:`EXACT_LIMIT`, or a Monte Carlo test without
    a seed or with resamples < 1.
    """
    d = np.asarray(differences, dtype=np.float64).reshape(-1)
    if alternative not in ALTERNATIVES:
        raise ValueError(f"unknown alternative {alternative!r}; use one of {', '.join(ALTERNATIVES)}")
    if len(d) == 0 or not np.all(np.isfinite(d)):
        raise ValueError("a permutation test needs at least one finite difference")
    n = len(d)
    exact = n <= EXACT_MAX if exact is None else exact
    if exact and n > EXACT_LIMIT:
        raise ValueError(f"exact enumeration of 2^{n} sign vectors is too large (at most n = {EXACT_LIMIT}); use Monte Carlo")
    observed = float(d.sum())
    # A signed sum of n values carries a rounding error of up to about n eps sum|d|, which can
    # exceed 100 eps |observed| when the sum cancels; scaling by sum|d| keeps the arrangement that
    # was observed (and exact ties) counted, where scaling by |observed| can lose it.
    gamma = TIE_TOLERANCE * float(np.abs(d).sum())
    if exact:
        null = _all_signed_sums(d)
        observed = float(null[0])  # the all-plus sign vector, summed exactly as the null values
        at_least = np.count_nonzero(null >= observed - gamma)
        at_most = np.count_nonzero(null <= observed + gamma)
        total, adjustment = len(null), 0
    else:
        if seed is None:
            raise ValueError("a Monte Carlo permutation test needs a seed, so that its p-value can be reproduced")
        if isinstance(resamples, bool) or not isinstance(resamples, (int, np.integer)) or resamples < 1:
            raise ValueError(f"resamples must be a positive integer, not {resamples!r}")
        at_least = at_most = 0
        for block in _random_signed_sums(d, resamples, seed):
            at_least += np.count_nonzero(block >= observed - gamma)
            at_most += np.count_nonzero(block <= observed + gamma)
        total, adjustment = resamples, 1
    p_greater = (at_least + adjustment) / (total + adjustment)
    p_less = (at_most + adjustment) / (total + adjustment)
    p = {"greater": p_greater, "less": p_less}.get(alternative, min(1.0, 2 * min(p_greater, p_less)))
    return PermutationResult(
        statistic=observed / n,
        p_value=float(p),
        exact=exact,
        permutations=total,
        n=n,
        alternative=alternative,
        seed=None if exact else seed,
    )


def _signed_sums(values: np.ndarray) -> np.ndarray:
    """sum_i s_i v_i for every sign vector s in {+1, -1}^k, indexed by bit pattern (bit i set:
    v_i flipped): (2^k,). Built by doubling, so each sum costs one addition."""
    sums = np.zeros(1)
    for v in values:
        sums = np.concatenate([sums + v, sums - v])
    return sums


def _all_signed_sums(d: np.ndarray) -> np.ndarray:
    """All 2^n signed sums of ``d``, as the outer sum of the two halves' signed sums."""
    half = len(d) // 2
    return np.add.outer(_signed_sums(d[:half]), _signed_sums(d[half:])).reshape(-1)


def _random_signed_sums(d: np.ndarray, resamples: int, seed: int):
    """Blocks of sum_i s_i d_i for random sign vectors: sum(d) - 2 (flipped bits @ d)."""
    n = len(d)
    rng = np.random.default_rng(seed)
    rows = max(1, BLOCK_ELEMENTS // n)
    total = d.sum()
    for start in range(0, resamples, rows):
        size = min(rows, resamples - start)
        raw = rng.integers(0, 256, size=(size, (n + 7) // 8), dtype=np.uint8)
        flipped = np.unpackbits(raw, axis=1, count=n)
        yield total - 2.0 * (flipped.astype(np.float64) @ d)
