"""NAM001 metric-name-convention: metric names follow `{split}/{metric_name}`."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule
from ._convention import NAME_SPLITS, conventional_form, follows_convention

_LR = "  parameters:\n    training.optimizer.lr: {distribution: log_uniform, low: 1.0e-4, high: 0.1}\n"


def named_metrics(ctx) -> list[tuple[str, tuple]]:
    """Every metric name the spec writes, with its path: the sweep objective, early stopping, `metrics.logged`."""
    found = []
    for path in (("sweep", "objective", "metric"), ("training", "early_stopping", "metric")):
        name = ctx.get(path)
        if isinstance(name, str):
            found.append((name, path))
    for i, name in enumerate(ctx.spec.metrics.logged):
        found.append((name, ("metrics", "logged", i)))
    return found


class MetricNameConvention(SpecRule):
    code = "NAM001"
    name = "metric-name-convention"
    severity = Severity.WARNING
    message = "metric name does not follow {split}/{metric_name}"
    doc = RuleDoc(
        what=(
            "Flags metric names in `sweep.objective.metric`, `training.early_stopping.metric` and `metrics.logged` "
            "that follow none of `{split}/{metric_name}`, `{split}/{task}/{metric_name}` (split: train, val, "
            "test, eval) or `system/{resource}`, with lowercase-led names."
        ),
        why=(
            "Runs are compared by metric name: `val_loss` in one experiment and `val/loss` in the next are two "
            "unrelated series to every dashboard, sweep and report, and the split a number came from is only "
            "recoverable when the name says it ('Establish naming conventions before the first experiment, not "
            "after. Inconsistent names make comparison impossible.')."
        ),
        example="metrics:\n  logged: [val_loss, GPU_Memory]",
        instead="metrics:\n  logged: [val/loss, system/gpu_memory]",
        reference="Experiment Tracking > Metric Naming Convention: '{split}/{metric_name}', '{split}/{task}/{metric_name}', "
        "'system/{resource}'; 'Establish naming conventions before the first experiment, not after'",
        fix="unsafe",
        notes=(
            "The fix rewrites a known split glued to its metric (`val_loss`, `val-loss`, `val.loss`) as "
            "`val/loss`. It is unsafe: the spec only names what the code logs, so the code must be renamed too, "
            "and the renamed series no longer lines up with earlier runs on dashboards; rename before the first "
            "experiment, not after.",
        ),
    )
    VALID = (
        BASE + "sweep:\n  objective: {metric: val/loss}\n" + _LR,
        BASE + "metrics:\n  logged: [train/loss, eval/mmlu/accuracy, system/gpu_memory, val/rougeL, val/ndcg@10]\n",
    )
    INVALID = (
        Invalid(
            BASE + "sweep:\n  objective:\n    metric: val_loss\n" + _LR,
            line=11,
            col=13,
            message="`val/loss`",
            fixed=BASE + "sweep:\n  objective:\n    metric: val/loss\n" + _LR,
        ),
        Invalid(
            BASE + "metrics:\n  logged: [val/f1, GPU_Memory]\n",
            line=10,
            col=20,
            message="system/{resource}",
        ),
        Invalid(
            BASE + "training:\n  early_stopping:\n    metric: validation/loss\n",
            line=11,
            col=13,
            message="{split}/{metric_name}",
        ),
    )

    def check(self, ctx):
        for name, path in named_metrics(ctx):
            if follows_convention(name):
                continue
            fixed = conventional_form(name)
            message = (
                f"metric name `{name}` follows none of `{{split}}/{{metric_name}}`, `{{split}}/{{task}}/{{metric_name}}` "
                f"or `system/{{resource}}` (splits: {', '.join(NAME_SPLITS)}): Establish naming conventions before "
                "the first experiment"
            )
            if fixed is not None:
                message += f"; write `{fixed}`"
            yield self.at(
                ctx,
                path,
                message,
                hint="e.g. `val/loss`, `eval/mmlu/accuracy`, `system/gpu_memory`",
                fix=self.replace_value(ctx, path, fixed, f"rename to `{fixed}`", safe=False) if fixed else None,
            )
