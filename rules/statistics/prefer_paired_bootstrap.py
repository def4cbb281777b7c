"""STA002 prefer-paired-bootstrap: a t-test where the paired bootstrap makes no normality assumption."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

ARMS = "variants:\n  a: {}\n  b: {}\n"
COMPARISON = "evaluation:\n  comparisons:\n    - treatment: b\n      control: a\n"


class PreferPairedBootstrap(SpecRule):
    code = "STA002"
    name = "prefer-paired-bootstrap"
    severity = Severity.WARNING
    message = "t-test: prefer the paired bootstrap"
    doc = RuleDoc(
        what="Flags comparisons that use `test: t_test`.",
        why="The t-test assumes the differences are normally distributed. Over a handful of seeds that "
        "cannot be checked, and ML metrics (bounded, skewed, with outlying seeds) often are not normal. "
        "'Paired bootstrap over t-test: no normality assumption, more robust for ML'.",
        example="evaluation:\n  comparisons:\n    - {treatment: wide, control: baseline, test: t_test}",
        instead="evaluation:\n  comparisons:\n    - {treatment: wide, control: baseline, test: paired_bootstrap}",
        reference="Statistical Comparison: 'Paired bootstrap over t-test: no normality assumption, more robust for ML'",
        fix="unsafe",
        notes=(
            "The fix (paired comparisons only) changes the test, so p-values and verdicts change: unsafe.",
            "For an independent (`paired: false`) comparison use `permutation`, which makes no normality "
            "assumption either.",
        ),
    )
    VALID = (
        BASE + ARMS + COMPARISON,  # paired_bootstrap is the default
        BASE + ARMS + COMPARISON + "      test: permutation\n",
    )
    INVALID = (
        Invalid(
            BASE + ARMS + COMPARISON + "      test: t_test\n",
            line=16,
            col=13,
            message="no normality assumption",
            fixed=BASE + ARMS + COMPARISON + "      test: paired_bootstrap\n",
        ),
        Invalid(
            BASE + ARMS + COMPARISON + "      test: t_test\n      paired: false\n",
            line=16,
            col=13,
            message="permutation",
        ),
    )

    def check(self, ctx):
        for comparison in ctx.comparisons:
            if comparison.test != "t_test":
                continue
            path = comparison.path + ("test",)
            if comparison.paired:
                message = (
                    f"`{comparison.name}` uses a t-test, which assumes normally distributed differences; "
                    "use the paired bootstrap: no normality assumption, more robust for ML"
                )
                fix = self.replace_value(ctx, path, "paired_bootstrap", "use the paired bootstrap", safe=False)
            else:
                message = (
                    f"`{comparison.name}` uses a t-test, which assumes normally distributed metrics; for independent "
                    "samples use `permutation`: no normality assumption, more robust for ML"
                )
                fix = None
            yield self.at(ctx, path, message, fix=fix)
