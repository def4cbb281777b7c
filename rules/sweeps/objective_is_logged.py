"""HPO012 objective-is-logged: the sweep objective and the early-stopping metric are metrics the run logs."""

from __future__ import annotations


from ...compiler.diagnostics import Severity
from ...schemas.vocabulary import parse_metric
from ..base import BASE, Invalid, RuleDoc, SpecRule
from ..naming._convention import metric_of
from ._objectives import steering_metrics

_LR = "  parameters:\n    training.optimizer.lr: {distribution: log_uniform, low: 1.0e-4, high: 0.1}\n"


def closest(name: str, logged: set[str], n: int = 3) -> list[str]:
    """The logged names most like ``name`` (a few of the same split when none is close)."""
    names = sorted(logged)
    import difflib  # only when a name is not logged

    found = difflib.get_close_matches(name, names, n=n, cutoff=0.5)
    if not found:
        split = name.split("/", 1)[0] + "/"
        found = [x for x in names if x.startswith(split)][:n] or names[:n]
    return found


class ObjectiveIsLogged(SpecRule):
    code = "HPO012"
    name = "objective-is-logged"
    severity = Severity.ERROR
    message = "the objective metric is not logged by the run"
    doc = RuleDoc(
        what=(
            "Flags a sweep objective or early-stopping metric that is not among the names a run logs: the "
            "runtime's `train/loss`, `val/loss`, `test/loss`, `{val,test}/METRIC` for the primary, secondary and "
            "custom metrics, and `metrics.logged`."
        ),
        why=(
            "The study and the early-stopping callback read the metric by name from what the run logs. A name "
            "nothing logs (a typo, `val/f1` for `val/f1_macro`, a metric not declared under `metrics`) leaves "
            "them with no value: trials fail or are never pruned, early stopping never triggers. Consistent names "
            "are what make a comparison possible ('Inconsistent names make comparison impossible')."
        ),
        example="metrics:\n  primary: f1_macro\nsweep:\n  objective:\n    metric: val/f1",
        instead="metrics:\n  primary: f1_macro\nsweep:\n  objective:\n    metric: val/f1_macro",
        reference="Experiment Tracking > Metric Naming Convention: 'Establish naming conventions before the first "
        "experiment, not after. Inconsistent names make comparison impossible.'",
        fix="none",
        notes=("No fix: the closest logged names are listed, but which one was meant is the author's call.",),
    )
    VALID = (
        BASE + "sweep:\n  objective: {metric: val/f1_macro, direction: maximize}\n" + _LR,
        BASE + "metrics:\n  secondary: [accuracy]\ntraining:\n  early_stopping: {metric: val/accuracy, mode: max}\n",
        BASE
        + "metrics:\n  logged: [val/my_score]\n"
        + "sweep:\n  objective: {metric: val/my_score, direction: maximize}\n"
        + _LR,
    )
    INVALID = (
        Invalid(
            BASE + "sweep:\n  objective:\n    metric: val/f1\n    direction: maximize\n" + _LR,
            line=11,
            col=13,
            message="val/f1_macro",
        ),
        Invalid(
            BASE + "training:\n  early_stopping:\n    metric: val/accuracy\n    mode: max\n",
            line=11,
            col=13,
            message="metrics.secondary",
        ),
    )

    def check(self, ctx):
        logged = ctx.logged_metrics
        for steering in steering_metrics(ctx.spec):
            if steering.name in logged:
                continue
            near = ", ".join(f"`{n}`" for n in closest(steering.name, logged))
            metric = metric_of(steering.name)
            info, _ = parse_metric(metric)
            if info is not None and ctx.task in info.tasks:
                remedy = f"add `{metric}` to `metrics.secondary` and the runtime logs it"
            else:
                remedy = "if your own code logs it, list it under `metrics.logged`"
            yield self.at(
                ctx,
                steering.path,
                f"{steering.what} reads `{steering.name}`, which the run does not log (closest logged: {near}); "
                + remedy,
            )
