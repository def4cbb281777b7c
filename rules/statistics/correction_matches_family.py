"""STA005 correction-matches-family: family-wise control for confirmatory claims, FDR for exploration."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

#: Control the false discovery rate: the expected share of false positives among the discoveries.
FDR_CORRECTIONS = ("bh", "by")
#: Control the family-wise error rate: the chance of any false positive at all.
FWER_CORRECTIONS = ("bonferroni", "holm")

_PATH = ("evaluation", "correction")


class CorrectionMatchesFamily(SpecRule):
    code = "STA005"
    name = "correction-matches-family"
    severity = Severity.WARNING
    message = "the multiple-comparison correction does not match the family's purpose"
    doc = RuleDoc(
        what="Flags `family: confirmatory` with an FDR correction (`bh`, `by`), and `family: exploratory` "
        "with a family-wise one (`bonferroni`, `holm`).",
        why="'Benjamini-Hochberg for exploratory ablations, Bonferroni for confirmatory claims'. A "
        "confirmatory claim needs family-wise error control (no false positive among the claims, with "
        "probability 1 - alpha); Benjamini-Hochberg only bounds the expected share of false discoveries, "
        "which does not support a claim about any one comparison. Conversely, family-wise control of an "
        "exploratory set of ablations is needlessly conservative: it throws away power that FDR control keeps.",
        example="evaluation:\n  family: confirmatory\n  correction: bh",
        instead="evaluation:\n  family: confirmatory\n  correction: holm  # or bonferroni",
        reference="Statistical Comparison: 'Multiple comparisons: Benjamini-Hochberg for exploratory ablations, "
        "Bonferroni for confirmatory claims'",
        notes=(
            "`correction: auto` always matches the family (exploratory -> bh, confirmatory -> bonferroni).",
            "Holm controls the same family-wise error rate as Bonferroni and is never less powerful, so it is "
            "accepted for confirmatory claims.",
        ),
    )
    VALID = (
        BASE,  # auto follows the family
        BASE + "evaluation:\n  family: confirmatory\n  correction: holm\n",
        BASE + "evaluation:\n  family: exploratory\n  correction: by\n",
        BASE + "evaluation:\n  family: confirmatory\n",  # auto -> bonferroni
    )
    INVALID = (
        Invalid(
            BASE + "evaluation:\n  family: confirmatory\n  correction: bh\n",
            line=11,
            col=15,
            message="bonferroni or holm",
        ),
        Invalid(
            BASE + "evaluation:\n  correction: bonferroni\n",  # exploratory is the default family
            line=10,
            col=15,
            message="Benjamini-Hochberg",
        ),
    )

    def check(self, ctx):
        evaluation = ctx.spec.evaluation
        correction = evaluation.correction
        if evaluation.family == "confirmatory" and correction in FDR_CORRECTIONS:
            message = (
                f"`correction: {correction}` controls the false discovery rate, which does not support confirmatory "
                "claims: use bonferroni or holm (family-wise error control)"
            )
        elif evaluation.family == "exploratory" and correction in FWER_CORRECTIONS:
            message = (
                f"`correction: {correction}` is needlessly conservative for an exploratory family (ablations): "
                "Benjamini-Hochberg (`bh`) controls the false discovery rate with more power; if these "
                "comparisons are claims, declare `family: confirmatory`"
            )
        else:
            return
        yield self.at(ctx, _PATH, message)
