"""STA003 mcnemar-for-classifiers: accuracy of two classifiers on one test set is McNemar's case."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

#: Metrics that are a mean of per-example correct/incorrect outcomes (what McNemar's test tabulates).
PER_EXAMPLE_CORRECTNESS = ("accuracy",)
#: Tests that only see a per-seed summary of those outcomes (and, for the t-test, assume normality).
SUMMARY_TESTS = ("wilcoxon", "t_test")

ARMS = "variants:\n  a: {}\n  b: {}\n"
COMPARISON = "evaluation:\n  comparisons:\n    - treatment: b\n      control: a\n"


class McNemarForClassifiers(SpecRule):
    code = "STA003"
    name = "mcnemar-for-classifiers"
    severity = Severity.INFO
    message = "accuracy of two classifiers on one test set: consider McNemar's test"
    doc = RuleDoc(
        what="Suggests McNemar's test (or the paired bootstrap) for paired classification comparisons of "
        "`accuracy` that use `wilcoxon` or `t_test`.",
        why="Accuracy is the mean of per-example correct/incorrect outcomes. When two classifiers answer "
        "the same test examples, what differs are the examples one gets right and the other wrong; "
        "McNemar's test uses exactly those discordant pairs, while a Wilcoxon or t-test over a few per-seed "
        "accuracies throws the examples away. 'McNemar's test for classifier comparison on same test set'.",
        example="metrics:\n  primary: accuracy\nevaluation:\n  comparisons:\n    - {treatment: wide, control: baseline, test: wilcoxon}",
        instead="metrics:\n  primary: accuracy\nevaluation:\n  comparisons:\n    - {treatment: wide, control: baseline, test: mcnemar}",
        reference="Statistical Comparison: 'McNemar's test for classifier comparison on same test set'",
        notes=("Independent (`paired: false`) comparisons are left alone: McNemar's test needs one shared test set.",),
    )
    VALID = (
        BASE + ARMS + COMPARISON + "      metric: accuracy\n",  # paired bootstrap
        BASE + ARMS + COMPARISON + "      metric: accuracy\n      test: mcnemar\n",
        BASE + ARMS + COMPARISON + "      metric: f1_macro\n      test: wilcoxon\n",  # not per-example
    )
    INVALID = (
        Invalid(
            BASE + ARMS + COMPARISON + "      metric: accuracy\n      test: wilcoxon\n",
            line=17,
            col=13,
            message="McNemar",
        ),
        Invalid(
            BASE + "metrics:\n  primary: accuracy\n" + ARMS + COMPARISON + "      test: t_test\n",
            line=18,
            col=13,
            message="McNemar",
        ),
    )

    def check(self, ctx):
        if ctx.task != "classification":
            return
        for comparison in ctx.comparisons:
            if comparison.metric in PER_EXAMPLE_CORRECTNESS and comparison.test in SUMMARY_TESTS and comparison.paired:
                yield self.at(
                    ctx,
                    comparison.path + ("test",),
                    f"`{comparison.name}` compares {comparison.metric}, a per-example correct/incorrect metric, with "
                    f"{comparison.test}: McNemar's test compares two classifiers on the same test set directly "
                    "(`test: mcnemar`), or use `paired_bootstrap`",
                )
