"""HPO010 final-validation-held-out: the final configuration is validated on the held-out test split."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

_LR = "  parameters:\n    training.optimizer.lr: {distribution: log_uniform, low: 1.0e-4, high: 0.1}\n"


class FinalValidationHeldOut(SpecRule):
    code = "HPO010"
    name = "final-validation-held-out"
    severity = Severity.ERROR
    message = "validate the final config on held-out test set (not validation set used during tuning)"
    doc = RuleDoc(
        what="Flags `sweep.final_validation.split: val` or `train`.",
        why=(
            "The search chose the configuration that scored best on the validation split, so its validation score "
            "is biased upwards by the choice itself; the training split is worse still. Only a split the search "
            "never saw gives an honest estimate ('Validate final config with 5+ seeds on held-out test set (not "
            "validation set used during tuning)')."
        ),
        example="sweep:\n  final_validation:\n    split: val",
        instead="sweep:\n  final_validation:\n    split: test",
        reference="Hyperparameter Optimization > Post-HPO: 'Validate final config with 5+ seeds on held-out test set "
        "(not validation set used during tuning)'",
        fix="safe",
        notes=(
            "The fix points the final validation at `test`, which is what a final validation is for: it keeps the "
            "author's intent (an honest estimate of the chosen configuration), so it is safe.",
        ),
    )
    VALID = (
        BASE + "sweep:\n" + _LR,
        BASE + "sweep:\n  final_validation:\n    split: test\n" + _LR,
    )
    INVALID = (
        Invalid(
            BASE + "sweep:\n  final_validation:\n    split: val\n" + _LR,
            line=11,
            col=12,
            message="held-out test set",
            fixed=BASE + "sweep:\n  final_validation:\n    split: test\n" + _LR,
        ),
        Invalid(
            BASE + "sweep:\n  final_validation: {split: train}\n" + _LR,
            line=10,
            col=29,
            message="training split",
            fixed=BASE + "sweep:\n  final_validation: {split: test}\n" + _LR,
        ),
    )

    def check(self, ctx):
        sweep = ctx.spec.sweep
        if sweep is None or sweep.final_validation.split == "test":
            return
        split = sweep.final_validation.split
        why = (
            "the split the search tuned on, so the best trial's score there is biased upwards"
            if split == "val"
            else "the training split, which measures fit rather than generalisation"
        )
        path = ("sweep", "final_validation", "split")
        yield self.at(
            ctx,
            path,
            f"final validation on `{split}`, {why}: validate the final config on held-out test set (not validation "
            "set used during tuning)",
            fix=self.replace_value(ctx, path, "test", "validate on the held-out test split"),
        )
