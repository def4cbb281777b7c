"""What a declared design can detect: the minimum detectable effect and the smallest p-value.

* :func:`smallest_p`: with n seeds per arm, an exact test on per-seed values has a finite null
  distribution and so a smallest possible p-value. Paired (sign flips of the n differences: the
  exact sign-flip permutation test and the exact Wilcoxon signed-rank test): 2/2^n two-sided,
  1/2^n one-sided (n = 5: 0.0625, above 0.05 before any correction). Independent (splits of the 2n
  values into two groups of n: the exact two-sample permutation test and the exact Mann-Whitney U
  test): 2/C(2n, n) two-sided, 1/C(2n, n) one-sided. Ties and zero differences only make it larger.
  Exact rational arithmetic; this is what the linter's STA008 (alpha-unreachable) uses.
* :func:`minimum_detectable_effect`: the smallest true d_z a paired t-test over n seeds detects
  with the given power at level alpha.

Standard library only at import time (the linter imports this module, and ``rigorml lint`` must
not load numpy or scipy); :func:`minimum_detectable_effect` imports scipy itself.
"""

from __future__ import annotations

from math import comb
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fractions import Fraction

#: Alternative hypotheses, about treatment - control.
ALTERNATIVES = ("two-sided", "greater", "less")


def smallest_p(n: int, paired: bool, alternative: str) -> Fraction:
    """The smallest p-value an exact seed-level test can give with ``n`` seeds per arm.

    Inputs: ``n`` >= 1 seeds per arm; ``paired``: sign flips of n differences (sign-flip
    permutation, Wilcoxon signed-rank) or relabelling 2n values (two-sample permutation,
    Mann-Whitney U); ``alternative``: ``two-sided`` counts both tails.

    Output: min(1, tails / arrangements) as an exact Fraction, arrangements = 2^n (paired) or
    C(2n, n) (independent).

    Errors: ValueError for n < 1 or an unknown alternative.
    """
    from fractions import Fraction  # imported here: fractions pulls in decimal, the lint path stays lean

    _check(n, alternative)
    tails = 2 if alternative == "two-sided" else 1
    arrangements = 2**n if paired else comb(2 * n, n)
    return min(Fraction(1), Fraction(tails, arrangements))


def smallest_p_formula(n: int, paired: bool, alternative: str) -> str:
    """:func:`smallest_p` as a formula a reader can check: ``2/2^5``, ``1/C(10,5)``."""
    _check(n, alternative)
    tails = 2 if alternative == "two-sided" else 1
    return f"{tails}/2^{n}" if paired else f"{tails}/C({2 * n},{n})"


def minimum_detectable_effect(n: int, alpha: float = 0.05, power: float = 0.8, alternative: str = "two-sided") -> float:
    """The smallest true effect, in d_z units, a paired t-test over ``n`` seeds detects with
    probability ``power`` at level ``alpha``.

    Under a true d_z the paired t statistic follows a noncentral t with n - 1 degrees of freedom
    and noncentrality d_z sqrt(n). Power is the probability of rejecting: both tails beyond the
    critical value t_{1 - alpha/2} for ``two-sided``, the one tail in the declared direction
    otherwise. The result is the d_z at which that power equals ``power`` (Brent's method on
    ``scipy.stats.nct``); the same as statsmodels' ``TTestPower().solve_power(nobs=n, alpha=alpha,
    power=power, alternative=...)``, which reports it with the declared direction's sign. Here it is
    a magnitude (>= 0): for ``less`` the effect is that far below zero. Multiply by the sd of the
    per-seed differences to get it in metric units.

    Errors: ValueError for n < 2, alpha outside (0, 1), power outside (alpha, 1) (one-sided; the
    two-sided test at d_z = 0 already rejects with probability alpha), or an unknown alternative.
    """
    from scipy import optimize, stats

    _check(n, alternative)
    if n < 2:
        raise ValueError(f"a paired t-test needs at least 2 seeds, not {n}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), not {alpha!r}")
    if not alpha < power < 1:
        raise ValueError(f"power must lie in (alpha, 1) = ({alpha:g}, 1), not {power!r}")
    df = n - 1
    sides = 2 if alternative == "two-sided" else 1
    critical = float(stats.t.isf(alpha / sides, df))

    def power_at(effect: float) -> float:
        ncp = effect * n**0.5
        rejected = float(stats.nct.sf(critical, df, ncp))
        if sides == 2:
            rejected += float(stats.nct.cdf(-critical, df, ncp))
        return rejected

    high = 1.0
    while power_at(high) < power:
        high *= 2
    return float(optimize.brentq(lambda effect: power_at(effect) - power, 0.0, high, xtol=1e-12, rtol=1e-12))


def _check(n: int, alternative: str) -> None:
    if n < 1:
        raise ValueError(f"the number of seeds must be at least 1, not {n}")
    if alternative not in ALTERNATIVES:
        raise ValueError(f"unknown alternative {alternative!r}; use one of {', '.join(ALTERNATIVES)}")
