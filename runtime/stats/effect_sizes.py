"""Standardised effect sizes of treatment - control, each with a confidence interval.

Which standardiser is used is part of the name, because the numbers differ a lot (Lakens 2013,
"Calculating and reporting effect sizes to facilitate cumulative science", Frontiers in Psychology
4:863; his worked example gives d_z = 1.50, d_av = 1.13, d_s = 1.13, g_s = 1.08):

* :func:`cohens_dz` (paired): mean of the differences / sd of the differences. It is the t
  statistic over sqrt(n), so it is what a paired test's power depends on.
* :func:`cohens_dav` (paired): mean of the differences / the average of the two arms' sds
  ((s_t + s_c) / 2). Comparable with an independent-samples d; ignores the correlation.
* :func:`cohens_d` (independent): difference of means / pooled sd, sqrt(((n_t - 1) s_t^2 +
  (n_c - 1) s_c^2) / (n_t + n_c - 2)).
* :func:`hedges_g` (independent): Cohen's d times the small-sample correction
  J(df) = Gamma(df / 2) / (sqrt(df / 2) Gamma((df - 1) / 2)), df = n_t + n_c - 2, which removes
  d's upward bias (Hedges 1981). The common approximation J ~ 1 - 3 / (4 df - 1) (the one Lakens
  uses) is within 0.3% of it for df >= 4 and 0.04% for df >= 10 (:func:`hedges_correction`
  computes both).

Confidence intervals (Goulet-Pelletier & Cousineau 2018, "A review of effect sizes and their
confidence intervals, Part I: The Cohen's d family", TQMP 14(4)):

* d_z and pooled d: exact under normality, by inverting the noncentral t. The observed t
  (d_z sqrt(n), or d / sqrt(1/n_t + 1/n_c)) is the (1 + confidence)/2 quantile of a noncentral t
  at the lower limit of the noncentrality parameter and the (1 - confidence)/2 quantile at the
  upper one (solved with ``scipy.stats.nct`` and Brent's method); the limits are scaled back to d.
  Not the large-sample standard-error formulas: with 3 to 10 seeds those are far too narrow.
* d_av: Algina & Keselman's (2003) approximation: the noncentral-t interval of the paired t,
  scaled by s_D / (sqrt(n) s_av) as if that ratio were known (as ESCI does). Approximate: the
  ratio is estimated.
* Hedges' g: the pooled-d interval times J (J is a constant given the sample sizes).

Every function takes ``(treatment, control)`` in that order, so a positive effect means the
treatment is larger; swapping the arms flips the sign of the estimate and mirrors the interval.
scipy is imported inside the functions that need it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

#: How the d_z and pooled-d intervals are computed.
NONCENTRAL_T = "noncentral t inversion (exact under normality)"


@dataclass(frozen=True)
class EffectSize:
    """One effect size: ``name`` (``cohens_dz``, ``cohens_dav``, ``cohens_d``, ``hedges_g``), the
    ``estimate``, its ``ci`` at ``confidence`` (None where it is undefined, named in ``method``),
    ``n`` (pairs, or both samples together), and ``method``: how the interval was computed."""

    name: str
    estimate: float
    ci: tuple[float, float] | None
    confidence: float
    n: int
    method: str


def cohens_dz(treatment: Sequence[float], control: Sequence[float], confidence: float = 0.95) -> EffectSize:
    """Cohen's d_z for paired values: mean(treatment - control) / sd(treatment - control).

    Inputs: paired values (same length and order, at least two pairs); ``confidence`` in (0, 1).
    Output: the estimate with the exact noncentral-t interval (n - 1 degrees of freedom).
    Errors: ValueError for unequal lengths, fewer than two pairs, non-finite values, a confidence
    outside (0, 1), or differences that do not vary (d_z is undefined).
    """
    _check_confidence(confidence)
    differences = _differences(treatment, control)
    n = differences.size
    sd = float(differences.std(ddof=1))
    if sd == 0:
        raise ValueError("the paired differences do not vary: d_z is undefined")
    estimate = float(differences.mean()) / sd
    scale = math.sqrt(n)
    low, high = noncentral_t_interval(estimate * scale, n - 1, confidence)
    return EffectSize("cohens_dz", estimate, (low / scale, high / scale), confidence, n, NONCENTRAL_T)


def cohens_dav(treatment: Sequence[float], control: Sequence[float], confidence: float = 0.95) -> EffectSize:
    """Cohen's d_av for paired values: mean(treatment - control) / ((sd(treatment) + sd(control)) / 2).

    Inputs: paired values (same length and order, at least two pairs); ``confidence`` in (0, 1).
    Output: the estimate with Algina & Keselman's (2003) approximate interval; ``ci`` is None when
    the differences do not vary (the paired t is infinite and the approximation says nothing).
    Errors: ValueError for unequal lengths, fewer than two pairs, non-finite values, a confidence
    outside (0, 1), or two arms that both do not vary (d_av is undefined).
    """
    _check_confidence(confidence)
    differences = _differences(treatment, control)
    t_values, c_values = np.asarray(treatment, dtype=np.float64), np.asarray(control, dtype=np.float64)
    n = differences.size
    s_av = (float(t_values.std(ddof=1)) + float(c_values.std(ddof=1))) / 2
    if s_av == 0:
        raise ValueError("neither arm varies: d_av is undefined")
    estimate = float(differences.mean()) / s_av
    s_d = float(differences.std(ddof=1))
    method = "Algina & Keselman (2003): paired noncentral-t interval scaled by s_D / (sqrt(n) s_av)"
    if s_d == 0:
        undefined = method + "; undefined: the differences do not vary"
        return EffectSize("cohens_dav", estimate, None, confidence, n, undefined)
    multiplier = s_d / (math.sqrt(n) * s_av)
    low, high = noncentral_t_interval(estimate / multiplier, n - 1, confidence)
    return EffectSize("cohens_dav", estimate, (low * multiplier, high * multiplier), confidence, n, method)


def cohens_d(treatment: Sequence[float], control: Sequence[float], confidence: float = 0.95) -> EffectSize:
    """Cohen's d for independent samples: (mean treatment - mean control) / pooled sd.

    Inputs: two samples (at least two values each, sizes may differ); ``confidence`` in (0, 1).
    Output: the estimate with the exact noncentral-t interval (n_t + n_c - 2 degrees of freedom).
    Errors: ValueError for fewer than two values in a sample, non-finite values, a confidence
    outside (0, 1), or samples that both do not vary (d is undefined).
    """
    _check_confidence(confidence)
    estimate, scale, df, n = _pooled(treatment, control)
    low, high = noncentral_t_interval(estimate / scale, df, confidence)
    return EffectSize("cohens_d", estimate, (low * scale, high * scale), confidence, n, NONCENTRAL_T)


def hedges_g(treatment: Sequence[float], control: Sequence[float], confidence: float = 0.95) -> EffectSize:
    """Hedges' g for independent samples: Cohen's d times the exact correction J(n_t + n_c - 2).

    Inputs, errors: as :func:`cohens_d`. Output: the estimate with the pooled-d interval times J.
    """
    d = cohens_d(treatment, control, confidence)
    j = hedges_correction(d.n - 2)
    assert d.ci is not None  # a pooled-d interval always exists
    method = "noncentral t inversion for d, scaled by the exact J"
    return EffectSize("hedges_g", j * d.estimate, (j * d.ci[0], j * d.ci[1]), confidence, d.n, method)


def hedges_correction(df: float, *, approximate: bool = False) -> float:
    """Hedges' small-sample correction J(df) = Gamma(df/2) / (sqrt(df/2) Gamma((df - 1)/2)).

    ``approximate=True`` gives Hedges' approximation 1 - 3 / (4 df - 1). Computed through
    log-gamma, so large df do not overflow. Raises ValueError for df <= 1 (J is undefined there).
    """
    if not df > 1:
        raise ValueError(f"Hedges' correction needs more than 1 degree of freedom, not {df!r}")
    if approximate:
        return 1 - 3 / (4 * df - 1)
    return math.exp(math.lgamma(df / 2) - math.lgamma((df - 1) / 2)) / math.sqrt(df / 2)


#: The effect sizes by the names ``evaluation.effect_size`` uses.
EFFECT_SIZES: dict[str, Callable[..., EffectSize]] = {
    "cohens_dz": cohens_dz,
    "cohens_dav": cohens_dav,
    "cohens_d": cohens_d,
    "hedges_g": hedges_g,
}


def effect_size(
    name: str, treatment: Sequence[float], control: Sequence[float], confidence: float = 0.95
) -> EffectSize:
    """The effect size called ``name`` (a key of :data:`EFFECT_SIZES`). Raises ValueError for
    another name, and whatever that effect size raises."""
    if name not in EFFECT_SIZES:
        raise ValueError(f"unknown effect size {name!r}; use one of {', '.join(EFFECT_SIZES)}")
    return EFFECT_SIZES[name](treatment, control, confidence)


def noncentral_t_interval(t: float, df: float, confidence: float) -> tuple[float, float]:
    """The confidence interval of a noncentral t's noncentrality parameter, given one observed t.

    The lower limit is the noncentrality at which ``t`` is the (1 + confidence)/2 quantile, the
    upper one where it is the (1 - confidence)/2 quantile (Steiger & Fouladi 1997); each found by
    Brent's method on ``scipy.stats.nct.cdf``, which decreases in the noncentrality.
    Raises ValueError for a non-finite ``t``, df <= 0, or a confidence outside (0, 1).
    """
    from scipy import optimize, stats

    _check_confidence(confidence)
    if not math.isfinite(t) or not df > 0:
        raise ValueError(f"a noncentral t interval needs a finite t and df > 0, not t={t!r}, df={df!r}")
    tail = (1 - confidence) / 2

    def solve(target: float) -> float:
        def gap(ncp: float) -> float:
            return float(stats.nct.cdf(t, df, ncp)) - target

        # Widen a bracket around t until the cdf crosses the target on both sides.
        span = max(4.0, abs(t))
        while gap(t - span) < 0 or gap(t + span) > 0:
            span *= 2
            if span > 1e6:
                raise ValueError(f"no noncentrality parameter puts t={t!r} at the {target:g} quantile")
        return float(optimize.brentq(gap, t - span, t + span, xtol=1e-12, rtol=1e-12))

    return solve(1 - tail), solve(tail)


# --- helpers --------------------------------------------------------------------------------------


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), not {confidence!r}")


def _sample(values, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if array.size < 2:
        raise ValueError(f"{name} needs at least 2 values, not {array.size}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} holds a value that is not a finite number")
    return array


def _differences(treatment, control) -> np.ndarray:
    t_values, c_values = _sample(treatment, "treatment"), _sample(control, "control")
    if t_values.size != c_values.size:
        raise ValueError(f"paired values need the same length, not {t_values.size} and {c_values.size}")
    return t_values - c_values


def _pooled(treatment, control) -> tuple[float, float, int, int]:
    """Cohen's d, the factor sqrt(1/n_t + 1/n_c) that turns t into d, df, and n_t + n_c."""
    t_values, c_values = _sample(treatment, "treatment"), _sample(control, "control")
    n_t, n_c = t_values.size, c_values.size
    df = n_t + n_c - 2
    pooled_sd = math.sqrt(((n_t - 1) * t_values.var(ddof=1) + (n_c - 1) * c_values.var(ddof=1)) / df)
    if pooled_sd == 0:
        raise ValueError("neither sample varies: Cohen's d is undefined")
    estimate = float(t_values.mean() - c_values.mean()) / pooled_sd
    return estimate, math.sqrt(1 / n_t + 1 / n_c), df, n_t + n_c
