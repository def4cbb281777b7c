"""STA008 alpha-unreachable: a seed-level rank or permutation test that can never reach significance.

rigorml runs ``wilcoxon`` on the per-seed metric values of the two arms (their differences when
paired), and ``permutation`` on them too when ``evaluation.bootstrap.level`` is ``seeds``; with any
other level the permutation test permutes test examples (within seeds), whose p-values are not
limited by the number of seeds. With n seeds, exact tests of that kind have a finite null
distribution and a smallest possible p-value:

* paired (sign flips of n differences): 2/2^n two-sided, 1/2^n one-sided (n=5: 0.0625);
* independent (relabelling 2n values into two groups of n): 2/C(2n, n), 1/C(2n, n) (n=5: 0.0079).

Whether that p-value is small enough depends on the correction. A procedure could only ever reject a
comparison when its p-value and every other comparison's are at their smallest, so the rule applies
the correction to the vector of smallest achievable p-values (0 for tests not limited by the seeds):
a comparison not rejected even then can never be significant. Everything is exact rational arithmetic.
"""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ...runtime.stats.design import smallest_p, smallest_p_formula
from ..base import BASE, Invalid, RuleDoc, SpecRule

#: Give up looking for "enough seeds" beyond this (2/2^64 is far below any alpha anyone uses).
MAX_SEEDS = 64


def is_seed_level(test: str, bootstrap_level: str) -> bool:
    """Whether rigorml runs ``test`` on per-seed metric values (so its p-values are bounded below)."""
    return test == "wilcoxon" or (test == "permutation" and bootstrap_level == "seeds")


def _harmonic(m: int) -> Fraction:
    from fractions import Fraction  # exact arithmetic; imported here to keep pre-commit start-up light
    return sum((Fraction(1, i) for i in range(1, m + 1)), Fraction(0))


def critical_values(correction: str, alpha: Fraction, m: int) -> list[Fraction]:
    """Every threshold ``correction`` may compare a p-value with, in a family of ``m``."""
    if correction == "none":
        return [alpha]
    if correction == "bonferroni":
        return [alpha / m]
    if correction == "holm":
        return [alpha / (m - k + 1) for k in range(1, m + 1)]
    if correction == "bh":
        return [k * alpha / m for k in range(1, m + 1)]
    if correction == "by":
        return [k * alpha / (m * _harmonic(m)) for k in range(1, m + 1)]
    raise ValueError(f"unknown correction {correction!r}")


def rejected(pvalues: list[Fraction], correction: str, alpha: Fraction) -> list[bool]:
    """Which hypotheses ``correction`` rejects at family level ``alpha`` given ``pvalues``."""
    m = len(pvalues)
    if correction in ("none", "bonferroni"):
        threshold = critical_values(correction, alpha, m)[0]
        return [p <= threshold for p in pvalues]
    order = sorted(range(m), key=lambda i: pvalues[i])
    thresholds = critical_values(correction, alpha, m)
    out = [False] * m
    if correction == "holm":  # step-down: reject in order until one fails
        for k, i in enumerate(order):
            if pvalues[i] > thresholds[k]:
                break
            out[i] = True
        return out
    # bh / by, step-up: the largest rank k with p_(k) <= its threshold, and every p-value up to it
    passing = [k for k, i in enumerate(order) if pvalues[i] <= thresholds[k]]
    if passing:
        cutoff = pvalues[order[max(passing)]]
        out = [p <= cutoff for p in pvalues]
    return out


def best_case_threshold(pvalues: list[Fraction], j: int, correction: str, alpha: Fraction) -> Fraction:
    """The largest p-value comparison ``j`` may have and still be rejected, the others at ``pvalues``."""
    from fractions import Fraction  # exact arithmetic; imported here to keep pre-commit start-up light
    candidates = set(critical_values(correction, alpha, len(pvalues))) | set(pvalues)
    best = Fraction(0)
    for candidate in candidates:
        trial = list(pvalues)
        trial[j] = candidate
        if candidate > best and rejected(trial, correction, alpha)[j]:
            best = candidate
    return best


_HINTS = {
    "wilcoxon": "wilcoxon ranks the per-seed values; `paired_bootstrap` also resamples test examples, so its "
    "p-values are not limited by the number of seeds",
    "permutation": "at `bootstrap.level: seeds` the permutation test permutes per-seed values; at the other "
    "levels it permutes test examples and is not limited by the number of seeds",
}

ARMS = "variants:\n  a: {}\n  b: {}\n"
COMPARISON = "  comparisons:\n    - treatment: b\n      control: a\n"
TWO_WILCOXON = (
    "seeds:\n  replicates: 6\nvariants:\n  a: {}\n  b: {}\n  c: {}\nevaluation:\n  correction: {correction}\n"
    "  comparisons:\n    - treatment: b\n      control: a\n      test: wilcoxon\n"
    "    - treatment: c\n      control: a\n      test: {other}\n"
)


class AlphaUnreachable(SpecRule):
    code = "STA008"
    name = "alpha-unreachable"
    severity = Severity.ERROR
    message = "this comparison can never be significant with this many seeds"
    doc = RuleDoc(
        what="Flags comparisons whose test runs on per-seed values (`wilcoxon`; `permutation` with "
        "`evaluation.bootstrap.level: seeds`) and, with the replicate seeds given, cannot produce a p-value "
        "below the threshold the multiple-comparison correction sets: the comparison can never be significant.",
        why="rigorml runs `wilcoxon`, and `permutation` at `bootstrap.level: seeds`, on the per-seed metric "
        "values of the two arms (their differences when paired), computing the exact null distribution. With "
        "n seeds a paired test has only 2^n sign patterns, so its smallest two-sided p-value is 2/2^n "
        "(one-sided 1/2^n): 0.0625 with 5 seeds, above alpha = 0.05 before any correction; an independent "
        "test has C(2n, n) splits (2/252 with 5). The correction lowers the bar further (Bonferroni: alpha/m). "
        "'Minimum seeds: 5-10 for reliable multi-seed comparison' is the floor for estimating a difference; "
        "a seed-level test needs enough seeds for its smallest p-value to clear the corrected alpha.",
        example="evaluation:\n  comparisons:\n    - {treatment: wide, control: small, test: wilcoxon}  # 5 seeds",
        instead="seeds:\n  replicates: 6  # smallest p: 2/2^6 = 0.031\nevaluation:\n  comparisons:\n"
        "    - {treatment: wide, control: small, test: wilcoxon}",
        reference="Statistical Comparison: 'Minimum seeds: 5-10 for reliable multi-seed comparison'; "
        "'Multiple comparisons: Benjamini-Hochberg for exploratory ablations, Bonferroni for confirmatory claims'",
        notes=(
            "The threshold is the best case: the correction applied with every comparison at its smallest "
            "achievable p-value (tests not limited by the seeds, such as `paired_bootstrap`, at 0). Bonferroni "
            "always needs alpha/m. Holm and Benjamini-Hochberg accept more for one comparison when the others "
            "are smaller (up to alpha); when every comparison uses the same seed-level test they tie, and Holm "
            "needs alpha/m while Benjamini-Hochberg needs alpha. The rule fires only when no outcome at all "
            "could be significant.",
            "`paired_bootstrap` (the default) resamples test examples as well as seeds, and `permutation` at "
            "the default `bootstrap.level` permutes examples: neither is limited by the number of seeds.",
            "Ties and zero differences make the smallest p-value larger still; the rule assumes none.",
        ),
    )
    VALID = (
        BASE + "seeds:\n  replicates: 6\n" + ARMS + "evaluation:\n" + COMPARISON + "      test: wilcoxon\n",
        BASE + ARMS + "evaluation:\n" + COMPARISON + "      test: permutation\n",  # permutes test examples
        BASE + ARMS + "evaluation:\n" + COMPARISON + "      test: wilcoxon\n      paired: false\n",  # 2/252
        BASE + TWO_WILCOXON.replace("{correction}", "bh").replace("{other}", "wilcoxon"),  # both at 1/32 <= 0.05
        BASE + TWO_WILCOXON.replace("{correction}", "holm").replace("{other}", "paired_bootstrap"),
    )
    INVALID = (
        Invalid(
            BASE + ARMS + "evaluation:\n" + COMPARISON + "      test: wilcoxon\n",
            line=16,
            col=13,
            message="2/2^5 = 0.0625",
        ),
        Invalid(
            BASE + ARMS + "evaluation:\n  bootstrap:\n    level: seeds\n" + COMPARISON + "      test: permutation\n",
            line=18,
            col=13,
            message="at least 6 replicate seeds",
        ),
        Invalid(
            BASE + TWO_WILCOXON.replace("{correction}", "holm").replace("{other}", "wilcoxon"),
            line=20,
            col=13,
            message="0.025",
        ),
        Invalid(
            BASE + TWO_WILCOXON.replace("{correction}", "bonferroni").replace("{other}", "paired_bootstrap"),
            line=20,
            col=13,
            message="at least 7 replicate seeds",
        ),
    )

    def check(self, ctx):
        from fractions import Fraction  # exact arithmetic; imported here to keep pre-commit start-up light
        comparisons = ctx.comparisons
        evaluation = ctx.spec.evaluation
        level = evaluation.bootstrap.level
        limited = [is_seed_level(c.test, level) for c in comparisons]
        if not any(limited):
            return
        alpha = Fraction(repr(evaluation.alpha))  # the decimal as written: 0.05 is exactly 1/20
        correction = ctx.correction
        n = len(ctx.replicate_seeds)

        def smallest(seeds: int) -> list[Fraction]:
            return [
                smallest_p(seeds, c.paired, c.alternative) if seed_level else Fraction(0)
                for c, seed_level in zip(comparisons, limited)
            ]

        pvalues = smallest(n)
        reachable = rejected(pvalues, correction, alpha)
        m = len(comparisons)
        for j, comparison in enumerate(comparisons):
            if not limited[j] or reachable[j]:
                continue
            threshold = best_case_threshold(pvalues, j, correction, alpha)
            needed = next((s for s in range(n + 1, MAX_SEEDS + 1) if rejected(smallest(s), correction, alpha)[j]), None)
            sides = "two-sided" if comparison.alternative == "two-sided" else "one-sided"
            family = f"alpha {float(alpha):g}" + (f", {correction} over {m} comparisons" if m > 1 else "")
            remedy = (
                f"use at least {needed} replicate seeds or `paired_bootstrap`"
                if needed is not None
                else "use `paired_bootstrap`"
            )
            values = "differences" if comparison.paired else "values per arm"
            yield self.at(
                ctx,
                comparison.path + ("test",),
                f"`{comparison.name}` can never be significant: {comparison.test} on {n} per-seed {values} gives at "
                f"best p = {smallest_p_formula(n, comparison.paired, comparison.alternative)} = "
                f"{float(pvalues[j]):.4g} ({sides}), above the {float(threshold):.4g} it must reach ({family}); "
                + remedy,
                hint=_HINTS[comparison.test],
            )
