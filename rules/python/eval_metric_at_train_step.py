"""PY008 eval-metric-at-train-step: validation/test metrics logged against the training step counter."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import Invalid, PythonRule, RuleDoc
from ._metric_logging import metric_log_calls
from ._metric_names import EVAL_SPLITS, split_of
from .context import PythonContext, string_value

#: Parts of a step variable's name that say it counts training steps or batches.
_TRAIN_COUNTERS = ("step", "batch", "iter")


class EvalMetricAtTrainStep(PythonRule):
    code = "PY008"
    name = "eval-metric-at-train-step"
    severity = Severity.WARNING
    message = "Logging eval metrics at training step count (misaligns x-axis in charts)"
    doc = RuleDoc(
        what=(
            "Flags a logging call whose metrics include val/eval/test ones (`val/loss`, `eval/f1`, `val_acc`) "
            "and whose step is a training counter: `wandb.log({...}, step=global_step)`, "
            "`writer.add_scalar(\"val/loss\", v, batch_idx)`, `mlflow.log_metric(\"val/loss\", v, step=it)` -- "
            "a name containing `step`, `batch` or `iter` and not `epoch`."
        ),
        why=(
            "Evaluation runs once per epoch (or every N steps), so its points land at scattered training-step "
            "values: plotted against train metrics or other runs with a different batch size or dataset size, "
            "the curves no longer line up, and W&B drops any point logged at a step lower than one already "
            "logged."
        ),
        example='wandb.log({"val/loss": val_loss}, step=global_step)',
        instead='wandb.log({"val/loss": val_loss, "epoch": epoch})  # plotted against epoch',
        reference="Gotchas, Tracking: 'Logging eval metrics at training step count (misaligns x-axis in charts)'",
        fix="none",
        notes=(
            "Only a step written as a name or attribute is judged (`global_step`, `self.global_step`); "
            "an expression is left alone.",
            "In W&B, `wandb.define_metric(\"val/*\", step_metric=\"epoch\")` gives eval metrics their own axis.",
        ),
    )
    VALID = (
        'import wandb\n\n\ndef evaluate(val_loss, epoch):\n    wandb.log({"val/loss": val_loss}, step=epoch)\n',
        'import wandb\n\n\ndef train_step(loss, global_step):\n    wandb.log({"train/loss": loss}, step=global_step)\n',
    )
    INVALID = (
        Invalid(
            "import wandb\n\n\ndef evaluate(val_loss, global_step):\n"
            '    wandb.log({"val/loss": val_loss}, step=global_step)\n',
            line=5,
            col=44,
            message="'val/loss'",
        ),
        Invalid(
            "from torch.utils.tensorboard import SummaryWriter\n\nwriter = SummaryWriter()\n\n\n"
            "def evaluate(acc, batch_idx):\n    writer.add_scalar(\"test/accuracy\", acc, batch_idx)\n",
            line=7,
            col=45,
        ),
    )

    def check(self, ctx: PythonContext):
        for log in metric_log_calls(ctx):
            if log.step is None or not _counts_training_steps(ctx.dotted_name(log.step)):
                continue
            names = [string_value(m.name) for m in log.metrics]
            evaluated = [n for n in names if n is not None and split_of(n) in EVAL_SPLITS]
            if evaluated:
                shown = ", ".join(repr(n) for n in evaluated[:3]) + (", ..." if len(evaluated) > 3 else "")
                yield self.finding(
                    ctx.span(log.step),
                    f"eval metric {shown} logged at the training step `{ctx.source(log.step)}` "
                    "(misaligns x-axis in charts): log it against the epoch or an eval counter",
                )


def _counts_training_steps(name: str | None) -> bool:
    if name is None:
        return False
    last = name.rsplit(".", 1)[-1].lower()
    return "epoch" not in last and any(part in last for part in _TRAIN_COUNTERS)
