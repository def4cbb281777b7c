"""STA010 minimum-effect-declared: comparisons without the smallest difference that would matter."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

_PATH = ("evaluation", "minimum_effect")

ARMS = "variants:\n  a: {}\n  b: {}\n"


class MinimumEffectDeclared(SpecRule):
    code = "STA010"
    name = "minimum-effect-declared"
    severity = Severity.INFO
    message = "no minimum effect declared for the comparisons"
    doc = RuleDoc(
        what="Suggests declaring `evaluation.minimum_effect` when the plan has comparisons and it is 0 or not written.",
        why="With enough test examples and seeds almost any difference becomes statistically significant, "
        "including ones too small to matter. 'Always report: effect size (Cohen's d) alongside p-values': "
        "declaring beforehand the smallest difference (in the metric's units) that would matter lets the "
        "verdict require it, so a significant but negligible difference is not called a win.",
        example="evaluation:\n  baseline: small",
        instead="evaluation:\n  baseline: small\n  minimum_effect: 0.01  # one F1 point",
        reference="Statistical Comparison: 'Always report: effect size (Cohen's d) alongside p-values'",
        notes=("Declare it before the runs, with the plan: chosen after seeing the results it decides nothing.",),
    )
    VALID = (
        BASE,  # no comparisons
        BASE + ARMS + "evaluation:\n  baseline: a\n  minimum_effect: 0.01\n",
    )
    INVALID = (
        Invalid(BASE + ARMS + "evaluation:\n  baseline: a\n", line=12, col=1, message="f1_macro"),
        Invalid(BASE + ARMS + "evaluation:\n  baseline: a\n  minimum_effect: 0\n", line=14, col=19),
    )

    def check(self, ctx):
        comparisons = ctx.comparisons
        if not comparisons or ctx.spec.evaluation.minimum_effect > 0:
            return
        metrics = ", ".join(dict.fromkeys(c.metric for c in comparisons))
        yield self.at(
            ctx,
            _PATH,
            f"no minimum effect for {len(comparisons)} comparison{'s' if len(comparisons) != 1 else ''}: set "
            f"`evaluation.minimum_effect` to the smallest difference in {metrics} that would matter, so a "
            "significant but negligible difference is not called a win",
            key=not ctx.written(_PATH),
        )
