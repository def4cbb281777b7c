"""STA006 uncorrected-multiple-comparisons: several comparisons with `correction: none`."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

_PATH = ("evaluation", "correction")

THREE_ARMS = "variants:\n  a: {}\n  b: {}\n  c: {}\n"


class UncorrectedMultipleComparisons(SpecRule):
    code = "STA006"
    name = "uncorrected-multiple-comparisons"
    severity = Severity.ERROR
    message = "several comparisons without a multiple-comparison correction"
    doc = RuleDoc(
        what="Flags `correction: none` when the plan has more than one comparison.",
        why="Each comparison tested at alpha has an alpha chance of a false positive when there is no real "
        "difference; over m comparisons the chance that at least one is a false positive grows to "
        "1 - (1 - alpha)^m for independent tests (14% for three at 0.05, 40% for ten). 'Multiple comparisons: "
        "Benjamini-Hochberg for exploratory ablations, Bonferroni for confirmatory claims'.",
        example="evaluation:\n  baseline: small\n  correction: none  # with two or more other arms",
        instead="evaluation:\n  baseline: small\n  correction: bh  # exploratory; holm or bonferroni for claims",
        reference="Statistical Comparison: 'Multiple comparisons: Benjamini-Hochberg for exploratory ablations, "
        "Bonferroni for confirmatory claims'",
        fix="unsafe",
        notes=(
            "The fix uses `bh` for an exploratory family and `holm` (family-wise control, never less powerful "
            "than Bonferroni) for a confirmatory one. Unsafe: corrected p-values change the verdicts.",
        ),
    )
    VALID = (
        BASE + THREE_ARMS + "evaluation:\n  baseline: a\n",  # auto -> bh
        BASE + "variants:\n  a: {}\n  b: {}\nevaluation:\n  baseline: a\n  correction: none\n",  # one comparison
    )
    INVALID = (
        Invalid(
            BASE + THREE_ARMS + "evaluation:\n  baseline: a\n  correction: none\n",
            line=15,
            col=15,
            message="2 comparisons",
            fixed=BASE + THREE_ARMS + "evaluation:\n  baseline: a\n  correction: bh\n",
        ),
        Invalid(
            BASE + THREE_ARMS + "evaluation:\n  baseline: a\n  family: confirmatory\n  correction: none\n",
            line=16,
            col=15,
            message="9.8%",
            fixed=BASE + THREE_ARMS + "evaluation:\n  baseline: a\n  family: confirmatory\n  correction: holm\n",
        ),
    )

    def check(self, ctx):
        evaluation = ctx.spec.evaluation
        m = len(ctx.comparisons)
        if evaluation.correction != "none" or m < 2:
            return
        alpha = evaluation.alpha
        any_false_positive = 1 - (1 - alpha) ** m
        replacement = "holm" if evaluation.family == "confirmatory" else "bh"
        message = (
            f"{m} comparisons with `correction: none`: at alpha {alpha:g} each, the chance of at least one false "
            f"positive is {any_false_positive:.1%} (independent tests); use "
            f"`{replacement}` ({evaluation.family} family)"
        )
        fix = self.replace_value(ctx, _PATH, replacement, f"correct with {replacement}", safe=False)
        yield self.at(ctx, _PATH, message, fix=fix)
