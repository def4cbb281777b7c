"""STA012 enough-resamples: too few bootstrap/permutation resamples for stable p-values and intervals."""

from __future__ import annotations

import math

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

#: Below this the Monte Carlo error of a p-value near 0.05 is about +-0.01 or worse.
MINIMUM_RESAMPLES = 2000
RECOMMENDED_RESAMPLES = 10_000  # the default
RESAMPLING_TESTS = ("paired_bootstrap", "permutation")

_PATH = ("evaluation", "resamples")

ARMS = "variants:\n  a: {}\n  b: {}\n"


class EnoughResamples(SpecRule):
    code = "STA012"
    name = "enough-resamples"
    severity = Severity.WARNING
    message = f"fewer than {MINIMUM_RESAMPLES} resamples"
    doc = RuleDoc(
        what=f"Flags `evaluation.resamples` below {MINIMUM_RESAMPLES} when a comparison uses the paired "
        "bootstrap or a permutation test.",
        why="Bootstrap and permutation p-values and intervals are Monte Carlo estimates: with B resamples a "
        "p-value near p is known only to about +-1.96*sqrt(p(1-p)/B), so with 1000 resamples a p of 0.05 could "
        "be anything from 0.036 to 0.064, and rerunning with another resampling seed can flip the verdict. "
        "'Paired bootstrap over t-test: no normality assumption, more robust for ML' holds only when the "
        f"bootstrap has enough resamples; {RECOMMENDED_RESAMPLES:,} (the default) keeps the error near +-0.004.",
        example="evaluation:\n  baseline: small\n  resamples: 500",
        instead="evaluation:\n  baseline: small\n  resamples: 10000",
        reference="Statistical Comparison: 'Paired bootstrap over t-test: no normality assumption, more robust for ML'",
    )
    VALID = (
        BASE + "evaluation:\n  resamples: 500\n",  # nothing is resampled
        BASE + ARMS + "evaluation:\n  baseline: a\n",
        BASE + ARMS + "evaluation:\n  resamples: 500\n  comparisons:\n    - {treatment: b, control: a, test: mcnemar}\n",
    )
    INVALID = (
        Invalid(BASE + ARMS + "evaluation:\n  baseline: a\n  resamples: 1000\n", line=14, col=14, message="0.014"),
    )

    def check(self, ctx):
        evaluation = ctx.spec.evaluation
        resamples = evaluation.resamples
        tests = sorted({c.test for c in ctx.comparisons if c.test in RESAMPLING_TESTS})
        if resamples >= MINIMUM_RESAMPLES or not tests:
            return
        p = evaluation.alpha
        error = 1.96 * math.sqrt(p * (1 - p) / resamples)
        yield self.at(
            ctx,
            _PATH,
            f"`resamples: {resamples}` for {' and '.join(tests)}: a p-value near alpha = {p:g} is only known to "
            f"+-{error:.2g} (Monte Carlo error), enough to flip a verdict; use at least {MINIMUM_RESAMPLES}, "
            f"{RECOMMENDED_RESAMPLES} (the default) recommended",
        )
