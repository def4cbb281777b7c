"""PY007 logged-metric-name-convention: metric names logged in code that are not ``{split}/{metric}``."""

from __future__ import annotations

import libcst as cst

from ...compiler.diagnostics import Fix, Severity
from ..base import Invalid, PythonRule, RuleDoc
from ._metric_logging import metric_log_calls
from ._metric_names import conventional_name, follows_convention
from .context import PythonContext, string_value


class MetricNameConvention(PythonRule):
    code = "PY007"
    name = "logged-metric-name-convention"
    severity = Severity.WARNING
    message = "metric name does not follow {split}/{metric}, {split}/{task}/{metric} or system/{resource}"
    doc = RuleDoc(
        what=(
            "Flags string-literal metric names -- `wandb.log` / `run.log` dict keys, `mlflow.log_metric(s)` "
            "names, `add_scalar` tags -- that are not `{split}/{metric}`, `{split}/{task}/{metric}` or "
            "`system/{resource}`, with the splits train, val, test and eval -- the check NAM001 applies to "
            "the names a spec writes."
        ),
        why=(
            "Names are how runs are compared: `val_loss` in one script and `val/loss` in another are two "
            "different charts, W&B groups panels by the part before `/`, and sweeps and reports select "
            "metrics by name. A convention fixed before the first experiment keeps every run comparable."
        ),
        example='wandb.log({"val_loss": val_loss, "acc": acc})',
        instead='wandb.log({"val/loss": val_loss, "val/accuracy": acc})',
        reference=(
            "Metric Naming Convention: '{split}/{metric_name}', '{split}/{task}/{metric_name}', 'system/{resource}'"
        ),
        fix="unsafe",
        notes=(
            "The fix renames names that already say their split (`val_loss` -> `val/loss`, `loss_train` and "
            "`Loss/train` -> `train/loss`, `validation/acc` -> `val/acc`). It is unsafe because renaming breaks "
            "continuity with dashboards, alerts and earlier runs logged under the old name.",
            "x-axis keys (`epoch`, `step`, `global_step`, `iteration`) are accepted; f-strings and names built "
            "at run time are not checked.",
        ),
    )
    VALID = (
        "import wandb\n\n"
        'wandb.log({"train/loss": 0.5, "eval/mmlu/accuracy": 0.7, "system/gpu_memory": 3.2, "epoch": 1})\n',
        'import mlflow\n\nmlflow.log_metric("val/f1", 0.8)\nmlflow.log_metric(f"val/{name}", 0.8)\n',
    )
    INVALID = (
        Invalid(
            'import wandb\n\nwandb.log({"val_loss": 0.4})\n',
            line=3,
            col=12,
            message="'val_loss'",
            fixed='import wandb\n\nwandb.log({"val/loss": 0.4})\n',
        ),
        Invalid(
            "from torch.utils.tensorboard import SummaryWriter\n\nwriter = SummaryWriter()\n"
            "writer.add_scalar('Loss/train', 0.5, 1)\n",
            line=4,
            col=19,
            fixed="from torch.utils.tensorboard import SummaryWriter\n\nwriter = SummaryWriter()\n"
            "writer.add_scalar('train/loss', 0.5, 1)\n",
        ),
        Invalid(
            'import mlflow\n\nmlflow.log_metrics({"accuracy": 0.9, "loss_train": 0.1})\n',
            line=3,
            col=38,
            fixed='import mlflow\n\nmlflow.log_metrics({"accuracy": 0.9, "train/loss": 0.1})\n',
        ),
    )

    def check(self, ctx: PythonContext):
        for log in metric_log_calls(ctx):
            for metric in log.metrics:
                name = string_value(metric.name)
                if name is None or follows_convention(name):
                    continue
                yield self.finding(
                    ctx.span(metric.name),
                    f"metric name {name!r} does not follow {{split}}/{{metric}}, {{split}}/{{task}}/{{metric}} or "
                    "system/{resource} (splits: train, val, test, eval; segments start lowercase)",
                    fix=_rename(ctx, metric.name, name),
                )


def _rename(ctx: PythonContext, node: cst.BaseExpression, name: str) -> Fix | None:
    new = conventional_name(name)
    if new is None or not isinstance(node, cst.SimpleString) or node.raw_value != name:
        return None  # no split to move, or an escape/concatenation the rename would have to re-spell
    literal = f"{node.prefix}{node.quote}{new}{node.quote}"
    description = f"rename to {new!r} (breaks continuity with runs logged as {name!r})"
    return Fix(description, (ctx.replace(node, literal),), safe=False)
