"""TRK004 predictions-for-paired-stats: paired comparisons have the per-example predictions they need."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

_PATH = ("tracking", "artifacts", "predictions")
_COMPARED = "variants:\n  small: {}\n  wide: {}\nevaluation:\n  baseline: small\n"


class PredictionsForPairedStats(SpecRule):
    code = "TRK004"
    name = "predictions-for-paired-stats"
    severity = Severity.ERROR
    message = "paired comparisons without per-example predictions"
    doc = RuleDoc(
        what="Flags `tracking.artifacts.predictions: false` when any comparison is paired (every comparison "
        "`evaluation.baseline` expands to is).",
        why="The domain document prefers 'Paired bootstrap over t-test' and 'Paired tests when models share test "
        "data'; McNemar's test for classifiers works on the same test set. Every paired test works on "
        "per-example results: the two arms' predictions on the same test examples, matched one by one. "
        "Without the saved predictions the planned comparison cannot be computed.",
        example="tracking:\n  artifacts:\n    predictions: false\nevaluation:\n  baseline: small",
        instead="tracking:\n  artifacts:\n    predictions: true\nevaluation:\n  baseline: small",
        reference="Statistical Comparison: 'Paired bootstrap over t-test: no normality assumption, more robust for "
        "ML'; 'Paired tests when models share test data; independent otherwise'",
        fix="safe",
    )
    VALID = (
        BASE + "tracking:\n  artifacts:\n    predictions: false\n",  # nothing is compared
        BASE + "tracking:\n  artifacts:\n    predictions: true\n" + _COMPARED,
    )
    INVALID = (
        Invalid(
            BASE + "tracking:\n  artifacts:\n    predictions: false\n" + _COMPARED,
            line=11,
            col=18,
            message="predictions: true",
            fixed=BASE + "tracking:\n  artifacts:\n    predictions: true\n" + _COMPARED,
        ),
    )

    def check(self, ctx):
        if ctx.spec.tracking.artifacts.predictions is not False:
            return
        paired = [c.name for c in ctx.comparisons if c.paired]
        if not paired:
            return
        names = ", ".join(f"`{name}`" for name in paired[:3])
        if len(paired) > 3:
            names += f" and {len(paired) - 3} more"
        subject, verb = ("the paired comparisons", "need") if len(paired) > 1 else ("the paired comparison", "needs")
        yield self.at(
            ctx,
            _PATH,
            f"tracking.artifacts.predictions is false, but {subject} {names} {verb} per-example predictions of "
            "both arms; write `predictions: true`",
            fix=self.replace_value(ctx, _PATH, "true", "keep per-example predictions"),
        )
