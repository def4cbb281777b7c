"""HPO011 no-tuning-on-test: nothing is tuned or early-stopped on the test split."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule
from ..naming._convention import split_of
from ._objectives import steering_metrics

_LR = "  parameters:\n    training.optimizer.lr: {distribution: log_uniform, low: 1.0e-4, high: 0.1}\n"


class NoTuningOnTest(SpecRule):
    code = "HPO011"
    name = "no-tuning-on-test"
    severity = Severity.ERROR
    message = "tuned or early-stopped on the test split"
    doc = RuleDoc(
        what=(
            "Flags a sweep objective (`sweep.objective.metric`) or an early-stopping metric "
            "(`training.early_stopping.metric`) measured on the test split (`test/...`), with or without a sweep."
        ),
        why=(
            "Whatever is chosen by a metric (a configuration by the sweep, an epoch by early stopping) is chosen "
            "because it scored well on that split, partly by luck; its score there is biased upwards. The test "
            "split exists to give the one unbiased estimate at the end, so tuning on it leaves no honest number "
            "at all. The domain's rule: validate the final configuration 'on held-out test set (not validation "
            "set used during tuning)' — the split used during tuning is the validation split."
        ),
        example="sweep:\n  objective:\n    metric: test/f1_macro",
        instead="sweep:\n  objective:\n    metric: val/f1_macro",
        reference="Hyperparameter Optimization > Post-HPO: 'Validate final config with 5+ seeds on held-out test set "
        "(not validation set used during tuning)'",
        fix="unsafe",
        notes=(
            "The fix moves the metric to the validation split (`test/X` -> `val/X`). It changes what is tuned on, "
            "and so the results: unsafe.",
            "`evaluation.split: test` is right and not this rule's concern: comparisons are reported on test, "
            "tuning happens on val.",
        ),
    )
    VALID = (
        BASE + "sweep:\n  objective:\n    metric: val/f1_macro\n    direction: maximize\n" + _LR,
        BASE + "training:\n  early_stopping:\n    metric: val/loss\n",
    )
    INVALID = (
        Invalid(
            BASE + "sweep:\n  objective:\n    metric: test/f1_macro\n    direction: maximize\n" + _LR,
            line=11,
            col=13,
            message="tuned on the test split",
            fixed=BASE + "sweep:\n  objective:\n    metric: val/f1_macro\n    direction: maximize\n" + _LR,
        ),
        Invalid(
            BASE + "training:\n  early_stopping: {metric: test/loss, mode: min}\n",
            line=10,
            col=28,
            message="early stopping",
            fixed=BASE + "training:\n  early_stopping: {metric: val/loss, mode: min}\n",
        ),
    )

    def check(self, ctx):
        for steering in steering_metrics(ctx.spec):
            if split_of(steering.name) != "test":
                continue
            instead = "val" + steering.name[len("test") :]
            chosen = "the configuration" if steering.what == "the sweep objective" else "the stopping epoch"
            yield self.at(
                ctx,
                steering.path,
                f"{steering.what} reads `{steering.name}`, so {chosen} is tuned on the test split: its test score "
                f"is then biased upwards and no held-out estimate is left; tune on the validation split (`{instead}`)",
                fix=self.replace_value(ctx, steering.path, instead, "tune on the validation split", safe=False),
            )
