"""HPO009 final-validation-seeds: the best configuration is re-run over 5 or more seeds."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

#: Replicate seeds the final configuration needs (the domain's minimum for a reliable comparison).
MIN_SEEDS = 5

_LR = "  parameters:\n    training.optimizer.lr: {distribution: log_uniform, low: 1.0e-4, high: 0.1}\n"


class FinalValidationSeeds(SpecRule):
    code = "HPO009"
    name = "final-validation-seeds"
    severity = Severity.WARNING
    message = "Validate final config with 5+ seeds"
    doc = RuleDoc(
        what="Flags a sweep whose `final_validation` is disabled or uses fewer than 5 seeds.",
        why=(
            "The best trial of a search is the maximum of many noisy scores, so part of its lead is luck with its "
            "one seed (the winner's curse). Re-running the chosen configuration over fresh seeds measures what it "
            "is really worth and how much it varies; with fewer than 5 seeds that spread is itself too noisy to "
            "trust ('Validate final config with 5+ seeds'; 'Minimum seeds: 5-10 ... 3 is insufficient')."
        ),
        example="sweep:\n  final_validation:\n    seeds: 3",
        instead="sweep:\n  final_validation:\n    seeds: 5",
        reference="Hyperparameter Optimization > Post-HPO: 'Validate final config with 5+ seeds on held-out test "
        "set'; Statistical Comparison: 'Minimum seeds: 5-10 for reliable multi-seed comparison; 3 is insufficient'",
        fix="unsafe",
        notes=("The fixes (enable it, 5 seeds) cost more compute and change the reported result: unsafe.",),
    )
    VALID = (
        BASE + "sweep:\n" + _LR,
        BASE + "sweep:\n  final_validation:\n    seeds: 10\n" + _LR,
    )
    INVALID = (
        Invalid(
            BASE + "sweep:\n  final_validation:\n    seeds: 3\n" + _LR,
            line=11,
            col=12,
            message="5+ seeds",
            fixed=BASE + "sweep:\n  final_validation:\n    seeds: 5\n" + _LR,
        ),
        Invalid(
            BASE + "sweep:\n  final_validation: {enabled: false}\n" + _LR,
            line=10,
            col=31,
            message="disabled",
            fixed=BASE + "sweep:\n  final_validation: {enabled: true}\n" + _LR,
        ),
    )

    def check(self, ctx):
        sweep = ctx.spec.sweep
        if sweep is None:
            return
        final = sweep.final_validation
        if not final.enabled:
            path = ("sweep", "final_validation", "enabled")
            yield self.at(
                ctx,
                path,
                "final validation is disabled, so the best trial's single-seed score is the result: Validate final "
                "config with 5+ seeds on the held-out test set",
                fix=self.replace_value(ctx, path, "true", "validate the final configuration", safe=False),
            )
        elif final.seeds < MIN_SEEDS:
            path = ("sweep", "final_validation", "seeds")
            yield self.at(
                ctx,
                path,
                f"final validation with {final.seeds} seed{'s' if final.seeds != 1 else ''}: Validate final config "
                "with 5+ seeds (3 is insufficient to measure seed-to-seed spread)",
                fix=self.replace_value(ctx, path, str(MIN_SEEDS), "validate with 5 seeds", safe=False),
            )
