"""REP001 deterministic-for-final-results: arms that are compared must be trained deterministically."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule
from ._arms import override_path, variant_overrides

_COMPARED = (
    "variants:\n"
    "  small: {}\n"
    "  wide:\n"
    "    overrides:\n"
    "      model.params.hidden_sizes: [256]\n"
    "evaluation:\n"
    "  baseline: small\n"
)


class DeterministicForFinalResults(SpecRule):
    code = "REP001"
    name = "deterministic-for-final-results"
    severity = Severity.WARNING
    message = "training.deterministic is false in a spec that compares arms"
    doc = RuleDoc(
        what="Flags `training.deterministic: false` (in the base spec or in a variant) when the spec declares "
        "comparisons (`evaluation.comparisons` or `evaluation.baseline`).",
        why="Comparisons are the experiment's final results, and the domain document's advice on deterministic "
        "PyTorch is 'WARNING: 10-20% slower. Use for final results only.' Without deterministic algorithms, "
        "cuDNN autotuning and non-deterministic kernels (index_add_, scatter_add_, bincount, ...) make a re-run "
        "of the same arm and seed differ, so part of the difference between arms is run-to-run noise that no "
        "one can reproduce.",
        example="training:\n  deterministic: false\nevaluation:\n  baseline: small",
        instead="training:\n  deterministic: true  # 10-20% slower; final results only\n"
        "evaluation:\n  baseline: small",
        reference="Reproducibility > Deterministic PyTorch: 'WARNING: 10-20% slower. Use for final results only.'",
        fix="unsafe",
        notes=(
            "The fix is unsafe because deterministic kernels cost 10-20% speed; for exploratory runs without "
            "comparisons the rule stays quiet.",
        ),
    )
    VALID = (
        BASE,
        BASE + "training:\n  deterministic: false\n",  # exploratory: nothing is compared
        BASE + "training:\n  deterministic: true\n" + _COMPARED,
    )
    INVALID = (
        Invalid(
            BASE + "training:\n  deterministic: false\n" + _COMPARED,
            line=10,
            col=18,
            message="deterministic: true",
            fixed=BASE + "training:\n  deterministic: true\n" + _COMPARED,
        ),
        Invalid(
            BASE
            + "variants:\n  small: {}\n  fast:\n    overrides:\n      training.deterministic: false\n"
            + "evaluation:\n  baseline: small\n",
            line=13,
            col=31,
            message="variant `fast`",
            fixed=BASE
            + "variants:\n  small: {}\n  fast:\n    overrides:\n      training.deterministic: true\n"
            + "evaluation:\n  baseline: small\n",
        ),
    )

    def check(self, ctx):
        evaluation = ctx.spec.evaluation
        if not evaluation.comparisons and evaluation.baseline is None:
            return
        offending = []
        if ctx.spec.training.deterministic is False:
            offending.append(("training.deterministic is false", ("training", "deterministic")))
        for variant, values in variant_overrides(ctx, "training.deterministic"):
            if values["training.deterministic"] is False:
                offending.append(
                    (f"variant `{variant}` sets training.deterministic to false",
                     override_path(variant, "training.deterministic"))
                )
        for what, path in offending:
            yield self.at(
                ctx,
                path,
                f"{what}, but this spec compares arms (evaluation): final results must be deterministic; "
                "write `deterministic: true` (10-20% slower), or drop the comparisons for an exploratory run",
                fix=self.replace_value(ctx, path, "true", "train deterministically (10-20% slower)", safe=False),
            )
