"""STA011 comparisons-preregistered: several arms and no comparison plan."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule


class ComparisonsPreregistered(SpecRule):
    code = "STA011"
    name = "comparisons-preregistered"
    severity = Severity.WARNING
    message = "several arms and no preregistered comparisons"
    doc = RuleDoc(
        what="Flags specs with more than one arm (variant) and neither `evaluation.comparisons` nor "
        "`evaluation.baseline`.",
        why="Choosing what to compare after seeing the results turns every arm pair, metric and test into a "
        "chance to find something: the p-values no longer mean what they say, and no correction can repair "
        "it because the family was never fixed. Declaring the comparisons with the spec fixes the family "
        "that 'Multiple comparisons: Benjamini-Hochberg for exploratory ablations, Bonferroni for "
        "confirmatory claims' corrects over.",
        example="variants:\n  small: {role: baseline}\n  wide: {overrides: {model.params.hidden_sizes: [128]}}",
        instead="variants:\n  small: {role: baseline}\n  wide: {overrides: {model.params.hidden_sizes: [128]}}\n"
        "evaluation:\n  baseline: small",
        reference="Statistical Comparison: 'Multiple comparisons: Benjamini-Hochberg for exploratory ablations, "
        "Bonferroni for confirmatory claims'; Deployment Strategy Selection: 'A/B Test: Comparing model "
        "variants with statistical rigor'",
    )
    VALID = (
        BASE,
        BASE + "variants:\n  a: {}\n",  # one arm: nothing to compare
        BASE + "variants:\n  a: {}\n  b: {}\nevaluation:\n  baseline: a\n",
    )
    INVALID = (
        Invalid(BASE + "variants:\n  a: {}\n  b: {role: baseline}\n", line=9, col=1, message="`evaluation.baseline: b`"),
        Invalid(BASE + "variants:\n  a: {}\n  b: {}\nevaluation:\n  alpha: 0.01\n", line=12, col=1, message="a, b"),
    )

    def check(self, ctx):
        variants = ctx.spec.variants
        evaluation = ctx.spec.evaluation
        if len(variants) < 2 or evaluation.comparisons or evaluation.baseline is not None:
            return
        baseline = next((name for name, v in variants.items() if v.role == "baseline"), next(iter(variants)))
        where = ("evaluation", "comparisons") if ctx.written(("evaluation",)) else ("variants",)
        yield self.at(
            ctx,
            where,
            f"{len(variants)} arms ({', '.join(variants)}) and no preregistered comparisons: declare "
            f"`evaluation.baseline: {baseline}` or list `evaluation.comparisons` before running",
            key=True,
        )
