"""HPO008 pruning-enabled: every study prunes unpromising trials."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

_LR = "  parameters:\n    training.optimizer.lr: {distribution: log_uniform, low: 1.0e-4, high: 0.1}\n"


class PruningEnabled(SpecRule):
    code = "HPO008"
    name = "pruning-enabled"
    severity = Severity.WARNING
    message = "Enable pruning in every Optuna study; unpruned runs waste GPU hours"
    doc = RuleDoc(
        what="Flags a sweep with `pruner: {type: none}`.",
        why=(
            "Most trials of a search are visibly worse than the best ones after a few epochs. Without a pruner "
            "each of them still trains to the last epoch, so most of the sweep's compute goes into configurations "
            "that were already lost ('Enable pruning in every Optuna study; unpruned runs waste GPU hours'). "
            "Hyperband (rigorml's default) stops them early and keeps the promising ones running."
        ),
        example="sweep:\n  pruner:\n    type: none",
        instead="sweep:\n  pruner:\n    type: hyperband",
        reference="Hyperparameter Optimization > Search Space Opinions: 'Enable pruning in every Optuna study; "
        "unpruned runs waste GPU hours'",
        fix="unsafe",
        notes=(
            "The fix switches to Hyperband with its defaults; trials that would have run to the end are stopped, "
            "so results change: unsafe.",
        ),
    )
    VALID = (
        BASE + "sweep:\n" + _LR,
        BASE + "sweep:\n  pruner: {type: median}\n" + _LR,
    )
    INVALID = (
        Invalid(
            BASE + "sweep:\n  pruner:\n    type: none # every trial to the end\n" + _LR,
            line=11,
            col=11,
            message="Enable pruning",
            fixed=BASE + "sweep:\n  pruner:\n    type: hyperband # every trial to the end\n" + _LR,
        ),
    )

    def check(self, ctx):
        sweep = ctx.spec.sweep
        if sweep is None or sweep.pruner.type != "none":
            return
        path = ("sweep", "pruner", "type")
        yield self.at(
            ctx,
            path,
            f"the study prunes nothing, so all {sweep.n_trials} trials run every epoch: Enable pruning in every "
            "Optuna study; unpruned runs waste GPU hours",
            hint="`type: hyperband` (or `asha` with parallel workers, `median` for cheap trials)",
            fix=self.replace_value(ctx, path, "hyperband", "prune with Hyperband", safe=False),
        )
