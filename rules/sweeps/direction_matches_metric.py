"""HPO013 direction-matches-metric: the sweep's direction and early stopping's mode follow the metric."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ...schemas.vocabulary import parse_metric
from ..base import BASE, Invalid, RuleDoc, SpecRule
from ..naming._convention import metric_of
from ._objectives import steering_metrics
from ._space import at_value_or_key

_LR = "  parameters:\n    training.optimizer.lr: {distribution: log_uniform, low: 1.0e-4, high: 0.1}\n"


class DirectionMatchesMetric(SpecRule):
    code = "HPO013"
    name = "direction-matches-metric"
    severity = Severity.ERROR
    message = "the optimisation direction contradicts the metric"
    doc = RuleDoc(
        what=(
            "Flags a sweep objective whose `direction` (or an early-stopping `mode`) contradicts its metric: "
            "`minimize`/`min` for a metric where higher is better (F1, accuracy, mAP, NDCG...), "
            "`maximize`/`max` for one where lower is better (loss, MAE, perplexity...). Unset directions count "
            "at their defaults (`minimize`, `min`)."
        ),
        why=(
            "A sweep that minimises F1 searches for the worst configuration and reports it as the best; early "
            "stopping in the wrong mode stops at the first epoch that improves and keeps the worst checkpoint. "
            "Nothing fails, so the mistake shows only in the results. The defaults suit `val/loss`, so changing "
            "the metric without the direction is the usual way in."
        ),
        example="sweep:\n  objective:\n    metric: val/f1_macro   # direction defaults to minimize",
        instead="sweep:\n  objective:\n    metric: val/f1_macro\n    direction: maximize",
        reference="Hyperparameter Optimization > Strategy Selection (the study's objective); metric directions from "
        "rigorml's metric vocabulary (Metric Selection)",
        fix="safe",
        notes=(
            "The fix flips a written direction or mode to the one the metric needs: the author meant to find the "
            "best configuration, so it is safe. An unset direction gets no fix (add it by hand); metrics rigorml "
            "does not know (custom ones) are not checked.",
        ),
    )
    VALID = (
        BASE + "sweep:\n  objective: {metric: val/f1_macro, direction: maximize}\n" + _LR,
        BASE + "training:\n  early_stopping: {metric: val/loss}\n",
        BASE + "metrics:\n  logged: [val/score]\nsweep:\n  objective: {metric: val/score, direction: maximize}\n" + _LR,
    )
    INVALID = (
        Invalid(
            BASE + "sweep:\n  objective:\n    metric: val/f1_macro\n    direction: minimize\n" + _LR,
            line=12,
            col=16,
            message="maximize",
            fixed=BASE + "sweep:\n  objective:\n    metric: val/f1_macro\n    direction: maximize\n" + _LR,
        ),
        Invalid(
            BASE + "sweep:\n  objective:\n    metric: val/f1_macro\n" + _LR,
            line=10,
            col=3,
            message="defaults to `minimize`",
        ),
        Invalid(
            BASE + "training:\n  early_stopping: {metric: val/loss, mode: max}\n",
            line=10,
            col=44,
            message="lower is better",
            fixed=BASE + "training:\n  early_stopping: {metric: val/loss, mode: min}\n",
        ),
    )

    def check(self, ctx):
        custom = set(ctx.spec.metrics.custom)
        for steering in steering_metrics(ctx.spec):
            metric = metric_of(steering.name)
            info, _ = parse_metric(metric)
            if info is None or metric in custom:
                continue
            is_sweep = steering.direction_path[-1] == "direction"
            words = ("maximize", "minimize") if is_sweep else ("max", "min")
            wanted = words[0] if info.higher_is_better else words[1]
            if steering.direction == wanted:
                continue
            better = "higher" if info.higher_is_better else "lower"
            key = steering.direction_path[-1]
            written = ctx.written(steering.direction_path)
            current = f"`{key}: {steering.direction}`" if written else f"`{key}` defaults to `{steering.direction}`"
            yield at_value_or_key(
                self,
                ctx,
                steering.direction_path,
                f"{steering.what} reads `{steering.name}`, where {better} is better, but {current}: it would "
                f"{'search for the worst configuration' if is_sweep else 'keep the worst epoch'}; use `{key}: {wanted}`",
                fix=self.replace_value(ctx, steering.direction_path, wanted, f"{key} {wanted}"),
            )
