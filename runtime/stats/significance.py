"""Classical significance tests of a treatment against a control.

Every test returns a :class:`SignificanceResult` (statistic, p-value, method, n, alternative, and
degrees of freedom where the reference distribution has them). ``alternative`` always speaks about
treatment - control: ``greater`` means the treatment is better on the measured quantity (more
correct examples for McNemar, larger values for the others), ``less`` the opposite, ``two-sided``
either. The arguments are always ``(treatment, control)``, in that order.

* :func:`mcnemar` / :func:`mcnemar_from_table`: two classifiers on the same test examples. Only the
  discordant pairs carry information: b examples only the treatment gets right, c only the control.
  ``exact``: b ~ Binomial(b + c, 1/2) under the null (two-sided p = 2 min(P(X <= b), P(X >= b)),
  capped at 1). ``chi2_corrected``: Edwards' continuity-corrected (|b - c| - 1)^2 / (b + c) on 1
  degree of freedom; ``chi2``: without the correction.
* :func:`wilcoxon`: Wilcoxon signed-rank on the paired differences, delegated to
  ``scipy.stats.wilcoxon`` with the method and the zero handling named.
* :func:`paired_t_test`: ``scipy.stats.ttest_rel``; :func:`welch_t_test`: ``scipy.stats.ttest_ind``
  with ``equal_var=False`` (Welch-Satterthwaite degrees of freedom).

scipy is imported inside the functions that need it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Alternative hypotheses, about treatment - control.
ALTERNATIVES = ("two-sided", "greater", "less")

#: McNemar variants: exact binomial, chi-square with and without the continuity correction.
MCNEMAR_METHODS = ("exact", "chi2_corrected", "chi2")

#: How scipy computes the Wilcoxon p-value: the exact null distribution, or the normal approximation.
WILCOXON_METHODS = ("exact", "asymptotic")

#: What Wilcoxon does with zero differences: drop them (``wilcox``), rank them and drop their ranks
#: (``pratt``), or split their ranks between the signs (``zsplit``).
WILCOXON_ZERO_METHODS = ("wilcox", "pratt", "zsplit")


@dataclass(frozen=True)
class SignificanceResult:
    """The outcome of one test.

    ``statistic``: the test statistic (described by each function); ``p_value``; ``method``: what
    was computed, in words precise enough to recompute it; ``n``: paired tests, the number of pairs
    (examples for McNemar, seeds for the others); Welch, both samples together; ``alternative``:
    about treatment - control; ``df``: degrees of freedom of a t or chi-square reference, else None.
    """

    statistic: float
    p_value: float
    method: str
    n: int
    alternative: str
    df: float | None = None


# --- McNemar --------------------------------------------------------------------------------------


def mcnemar_table(treatment_correct: Sequence[bool], control_correct: Sequence[bool]) -> np.ndarray:
    """The 2x2 table of two classifiers' correctness on the same examples.

    Inputs: one boolean per example for each arm, in the same example order.

    Output: an int64 array ``[[both right, only treatment right], [only control right, both
    wrong]]``: rows are the treatment (right, wrong), columns the control (right, wrong).

    Errors: ValueError when the lengths differ or a value is not boolean (0/1 are accepted).
    """
    treatment = _booleans(treatment_correct, "treatment_correct")
    control = _booleans(control_correct, "control_correct")
    if treatment.shape != control.shape:
        raise ValueError(f"paired correctness needs the same length, not {treatment.size} and {control.size}")
    return np.array(
        [
            [np.sum(treatment & control), np.sum(treatment & ~control)],
            [np.sum(~treatment & control), np.sum(~treatment & ~control)],
        ],
        dtype=np.int64,
    )


def mcnemar(
    treatment_correct: Sequence[bool],
    control_correct: Sequence[bool],
    *,
    method: str = "exact",
    alternative: str = "two-sided",
) -> SignificanceResult:
    """McNemar's test of two classifiers on the same examples, from per-example correctness.

    Inputs: one boolean per example for each arm (same order); ``method`` one of
    :data:`MCNEMAR_METHODS`; ``alternative`` one of :data:`ALTERNATIVES` (``greater``: the treatment
    is right more often).

    Output: see :func:`mcnemar_from_table`.

    Errors: ValueError for unequal lengths, non-boolean values, or an unknown method/alternative.
    """
    return mcnemar_from_table(mcnemar_table(treatment_correct, control_correct), method=method, alternative=alternative)


def mcnemar_from_table(table, *, method: str = "exact", alternative: str = "two-sided") -> SignificanceResult:
    """McNemar's test from the 2x2 table (rows: treatment right/wrong; columns: control right/wrong).

    ``exact``: the statistic is b, the examples only the treatment gets right; under the null
    b ~ Binomial(b + c, 1/2). Two-sided p = min(1, 2 min(P(X <= b), P(X >= b))) (the binomial test,
    as statsmodels' ``mcnemar(exact=True)``); ``greater``: P(X >= b); ``less``: P(X <= b).

    ``chi2_corrected`` / ``chi2``: the statistic is (|b - c| - 1)^2 / (b + c) (Edwards' continuity
    correction; the correction never goes below 0, so b = c gives 0 and p = 1, where statsmodels
    gives 1 / (b + c)) or (b - c)^2 / (b + c), on 1 degree of freedom. One-sided p-values use the
    signed normal deviate (b - c -+ 1) / sqrt(b + c), the correction taken towards the null.

    With no discordant pair there is no evidence either way: statistic 0, p = 1.

    Errors: ValueError for a table that is not 2x2 of non-negative integers, or an unknown
    method/alternative.
    """
    from scipy import stats

    _check_choice(method, MCNEMAR_METHODS, "McNemar method")
    _check_alternative(alternative)
    counts = np.asarray(table)
    counts_ok = counts.shape == (2, 2) and np.all(np.isfinite(counts)) and np.all(counts >= 0)
    if not counts_ok or np.any(counts != np.round(counts)):
        raise ValueError(
            "a McNemar table is 2x2 of non-negative counts: "
            "[[both right, only treatment right], [only control right, both wrong]]"
        )
    counts = counts.astype(np.int64)
    b, c = int(counts[0, 1]), int(counts[1, 0])
    n = int(counts.sum())
    discordant = b + c
    if method == "exact":
        name = "McNemar exact (binomial test on the discordant pairs)"
        if discordant == 0:
            return SignificanceResult(float(b), 1.0, name, n, alternative)
        at_most = float(stats.binom.cdf(b, discordant, 0.5))
        at_least = float(stats.binom.sf(b - 1, discordant, 0.5))
        p = {"greater": at_least, "less": at_most}.get(alternative, min(1.0, 2 * min(at_most, at_least)))
        return SignificanceResult(float(b), p, name, n, alternative)
    corrected = method == "chi2_corrected"
    name = "McNemar chi-square" + (" with continuity correction" if corrected else " without continuity correction")
    if discordant == 0:
        return SignificanceResult(0.0, 1.0, name, n, alternative, df=1.0)
    shift = 1.0 if corrected else 0.0
    statistic = max(abs(b - c) - shift, 0.0) ** 2 / discordant
    if alternative == "two-sided":
        p = float(stats.chi2.sf(statistic, 1))
    elif alternative == "greater":
        p = float(stats.norm.sf((b - c - shift) / math.sqrt(discordant)))
    else:
        p = float(stats.norm.cdf((b - c + shift) / math.sqrt(discordant)))
    return SignificanceResult(float(statistic), p, name, n, alternative, df=1.0)


# --- tests on paired or independent values ----------------------------------------------------------


def wilcoxon(
    treatment: Sequence[float],
    control: Sequence[float],
    *,
    method: str = "exact",
    zero_method: str = "wilcox",
    correction: bool = False,
    alternative: str = "two-sided",
) -> SignificanceResult:
    """Wilcoxon signed-rank test on the paired differences treatment - control.

    Inputs: paired values (same length, same order); ``method`` one of :data:`WILCOXON_METHODS`
    (``exact``: scipy's exact null distribution; ``asymptotic``: the normal approximation);
    ``zero_method`` one of :data:`WILCOXON_ZERO_METHODS`; ``correction``: continuity correction of
    the normal approximation (``asymptotic`` only); ``alternative`` about the differences.

    Output: the statistic is W+, the sum of the ranks of the positive differences (whatever the
    alternative, so it reads the same way in every direction; scipy's two-sided statistic is
    min(W+, W-)); the p-value is ``scipy.stats.wilcoxon``'s with the method and zero handling
    named. When every difference is zero and ``zero_method`` is ``wilcox`` nothing is left to rank:
    statistic 0, p = 1.

    Errors: ValueError for unequal lengths, fewer than one pair, non-finite values, an unknown
    method, zero method or alternative, or ``correction`` with the exact method.
    """
    from scipy import stats

    _check_choice(method, WILCOXON_METHODS, "Wilcoxon method")
    _check_choice(zero_method, WILCOXON_ZERO_METHODS, "Wilcoxon zero_method")
    _check_alternative(alternative)
    if correction and method == "exact":
        raise ValueError("the continuity correction applies to the asymptotic method only")
    t_values, c_values = _paired(treatment, control, minimum=1)
    differences = t_values - c_values
    name = (
        f"Wilcoxon signed-rank ({method}, zero_method={zero_method}"
        + (", continuity correction" if correction else "")
        + ")"
    )
    n = int(differences.size)
    if zero_method == "wilcox" and not np.any(differences != 0):
        return SignificanceResult(0.0, 1.0, name, n, alternative)
    options = {"zero_method": zero_method, "correction": correction, "method": method}
    result = stats.wilcoxon(t_values, c_values, alternative=alternative, **options)
    # scipy's one-sided statistic is W+; ask for it when the test is two-sided.
    w_plus = result.statistic
    if alternative == "two-sided":
        w_plus = stats.wilcoxon(t_values, c_values, alternative="greater", **options).statistic
    return SignificanceResult(float(w_plus), float(result.pvalue), name, n, alternative)


def paired_t_test(
    treatment: Sequence[float], control: Sequence[float], *, alternative: str = "two-sided"
) -> SignificanceResult:
    """Paired t-test on treatment - control (``scipy.stats.ttest_rel``), n - 1 degrees of freedom.

    Output: t = mean difference / (sd of the differences / sqrt(n)), its p-value, n pairs.

    Errors: ValueError for unequal lengths, fewer than two pairs, non-finite values, an unknown
    alternative, or differences that do not vary (t is undefined).
    """
    from scipy import stats

    _check_alternative(alternative)
    t_values, c_values = _paired(treatment, control, minimum=2)
    differences = t_values - c_values
    if np.all(differences == differences[0]):
        raise ValueError("the paired differences do not vary: the t statistic is undefined")
    result = stats.ttest_rel(t_values, c_values, alternative=alternative)
    return SignificanceResult(
        float(result.statistic),
        float(result.pvalue),
        "paired t-test",
        int(differences.size),
        alternative,
        df=float(differences.size - 1),
    )


def welch_t_test(
    treatment: Sequence[float], control: Sequence[float], *, alternative: str = "two-sided"
) -> SignificanceResult:
    """Welch's t-test of independent samples (``scipy.stats.ttest_ind(equal_var=False)``).

    Output: t = (mean treatment - mean control) / sqrt(s_t^2 / n_t + s_c^2 / n_c), its p-value on
    the Welch-Satterthwaite degrees of freedom (``df``), n = n_t + n_c.

    Errors: ValueError for fewer than two values in either sample, non-finite values, an unknown
    alternative, or two samples that both do not vary.
    """
    from scipy import stats

    _check_alternative(alternative)
    t_values, c_values = _values(treatment, "treatment", 2), _values(control, "control", 2)
    if t_values.var() == 0 and c_values.var() == 0:
        raise ValueError("neither sample varies: the t statistic is undefined")
    result = stats.ttest_ind(t_values, c_values, equal_var=False, alternative=alternative)
    return SignificanceResult(
        float(result.statistic),
        float(result.pvalue),
        "Welch t-test (unequal variances)",
        int(t_values.size + c_values.size),
        alternative,
        df=float(result.df),
    )


# --- input checks ---------------------------------------------------------------------------------


def _check_alternative(alternative: str) -> None:
    _check_choice(alternative, ALTERNATIVES, "alternative")


def _check_choice(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}; use one of {', '.join(allowed)}")


def _booleans(values, name: str) -> np.ndarray:
    array = np.asarray(values).reshape(-1)
    if array.dtype != bool:
        if not np.all(np.isin(array, (0, 1))):
            raise ValueError(f"{name} must hold booleans (right/wrong per example)")
        array = array.astype(bool)
    return array


def _values(values, name: str, minimum: int) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if array.size < minimum:
        raise ValueError(f"{name} needs at least {minimum} values, not {array.size}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} holds a value that is not a finite number")
    return array


def _paired(treatment, control, minimum: int) -> tuple[np.ndarray, np.ndarray]:
    t_values, c_values = _values(treatment, "treatment", minimum), _values(control, "control", minimum)
    if t_values.size != c_values.size:
        raise ValueError(f"paired values need the same length, not {t_values.size} and {c_values.size}")
    return t_values, c_values
