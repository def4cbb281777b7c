"""Multiple-comparison corrections: adjusted p-values for a family of tests, and decisions.

Every method is named explicitly (statsmodels' ``multipletests`` defaults to Holm-Sidak; nothing
here has a default). Adjusted p-values make the decision one comparison per test: a hypothesis is
rejected at family level alpha exactly when its adjusted p-value is <= alpha, which is the same
decision as running the step-down (Holm) or step-up (BH, BY) procedure at alpha.

* ``none``: the p-values unchanged.
* ``bonferroni``: m p, capped at 1. Controls the family-wise error rate under any dependence.
* ``holm``: step-down; the i-th smallest times (m - i + 1), made non-decreasing in rank (Holm
  1979). Same guarantee as Bonferroni, never less powerful.
* ``bh``: Benjamini & Hochberg (1995) step-up; the i-th smallest times m / i, made non-increasing
  from the largest. Controls the false discovery rate for independent or positively dependent
  tests.
* ``by``: Benjamini & Yekutieli (2001): BH times the harmonic number 1 + 1/2 + ... + 1/m. Controls
  the false discovery rate under any dependence.

Checked against statsmodels' ``multipletests`` (``bonferroni``, ``holm``, ``fdr_bh``, ``fdr_by``)
and the worked example of Benjamini & Hochberg (1995).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: The corrections, by the names an evaluation spec uses (``auto`` is resolved before this).
METHODS = ("none", "bonferroni", "holm", "bh", "by")


def adjust(p_values: Sequence[float] | np.ndarray, method: str) -> np.ndarray:
    """Adjusted p-values for the family ``p_values``, in the order given.

    Inputs: ``p_values``, the raw p-values of the family (any order, ties allowed); ``method``,
    one of :data:`METHODS`.

    Output: a float64 array of the same length; every value lies in [raw p, 1], and the adjusted
    values are ordered like the raw ones (a larger raw p never gets a smaller adjusted p). An
    empty family gives an empty array.

    Errors: ValueError for an unknown method, or a p-value that is not a number in [0, 1].
    """
    if method not in METHODS:
        raise ValueError(f"unknown correction {method!r}; use one of {', '.join(METHODS)}")
    p = np.asarray(p_values, dtype=np.float64).reshape(-1)
    if p.size == 0:
        return p
    if not np.all(np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    m = p.size
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    rank = np.arange(1, m + 1)
    if method == "none":
        adjusted_ranked = ranked
    elif method == "bonferroni":
        adjusted_ranked = ranked * m
    elif method == "holm":
        adjusted_ranked = np.maximum.accumulate(ranked * (m - rank + 1))
    else:
        factor = m / rank
        if method == "by":
            factor = factor * np.sum(1.0 / rank)
        # Step-up: each adjusted value is the smallest scaled value at its rank or above.
        adjusted_ranked = np.minimum.accumulate((ranked * factor)[::-1])[::-1]
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(adjusted_ranked, 1.0)
    return adjusted


def reject(p_values: Sequence[float] | np.ndarray, alpha: float, method: str) -> np.ndarray:
    """Which hypotheses of the family ``method`` rejects at family level ``alpha``.

    Inputs: ``p_values`` as for :func:`adjust`; ``alpha`` in (0, 1); ``method`` one of
    :data:`METHODS`.

    Output: a boolean array, ``adjust(p_values, method) <= alpha``.

    Errors: ValueError as for :func:`adjust`, and for ``alpha`` outside (0, 1).
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), not {alpha!r}")
    return adjust(p_values, method) <= alpha
