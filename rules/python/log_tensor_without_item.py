"""PY001 log-tensor-without-item: a metric logged as a torch.Tensor instead of a Python number."""

from __future__ import annotations

import libcst as cst

from ...compiler.diagnostics import Fix, Severity
from ..base import Invalid, PythonRule, RuleDoc
from ._metric_logging import metric_log_calls
from ._tensors import SCALAR, tensor_kind
from .context import PythonContext

#: Expressions ``.item()`` can follow without parentheses.
_ATOMS = (cst.Name, cst.Attribute, cst.Call, cst.Subscript)


class LogTensorWithoutItem(PythonRule):
    code = "PY001"
    name = "log-tensor-without-item"
    severity = Severity.WARNING
    message = "logs a torch.Tensor without .item() -- silently stores the whole tensor"
    doc = RuleDoc(
        what=(
            "Flags a metric value passed to `wandb.log` / `run.log`, `mlflow.log_metric(s)` or "
            "`SummaryWriter.add_scalar` that is certainly a torch.Tensor: a loss (`criterion(...)`, "
            "`loss_fn(...)`, `F.cross_entropy(...)`, an `nn.*Loss` instance called), a tensor-returning "
            "`torch.*` call, a reduction of a tensor (`loss.mean()`), arithmetic of those, or a name "
            "assigned only such values."
        ),
        why=(
            "What a tracker does with a tensor depends on the tracker and its version: it may store the "
            "whole tensor (an array or a histogram) instead of the number, convert it with a device sync on "
            "every call, or reject it. A tensor that still holds its autograd graph also keeps that graph "
            "(and its GPU memory) alive for as long as it is referenced. `.item()` hands every tracker the "
            "Python float the chart expects."
        ),
        example=(
            "loss = criterion(model(x), y)\n"
            'wandb.log({"train/loss": loss})'
        ),
        instead=(
            "loss = criterion(model(x), y)\n"
            'wandb.log({"train/loss": loss.item()})'
        ),
        reference="Gotchas, Tracking: 'Logging torch.Tensor instead of .item() -- silently stores the whole tensor'",
        fix="safe",
        notes=(
            "The analysis is local and conservative: a function parameter, a model's output or anything "
            "it cannot trace to a tensor-producing expression is left alone. Reductions such as `.sum()` "
            "or `.mean()` count only on a value already known to be a tensor (NumPy arrays have them too).",
            "The fix appends `.item()` (parenthesising when needed). It is safe when the value is certainly "
            "0-dim (a loss, a full reduction); when the shape is unknown (`torch.stack(...)`, a running total "
            "that starts as `0.0`) `.item()` may raise, so the fix is offered as unsafe.",
            "`print` and `logging` calls are out of scope.",
        ),
    )
    VALID = (
        # .item() already there
        "import torch.nn as nn\nimport wandb\n\ncriterion = nn.CrossEntropyLoss()\n\n\n"
        "def train_step(model, x, y):\n    loss = criterion(model(x), y)\n"
        '    wandb.log({"train/loss": loss.item()})\n',
        # a parameter and a NumPy mean: nothing proves a tensor
        "import numpy as np\nimport wandb\n\n\ndef report(loss, accuracies):\n"
        '    wandb.log({"train/loss": loss, "train/acc": np.mean(accuracies)})\n',
        # running total of numbers
        "import mlflow\n\n\ndef train(model, loader, criterion):\n    total = 0.0\n    for x, y in loader:\n"
        "        loss = criterion(model(x), y)\n        total += loss.item()\n"
        '    mlflow.log_metric("train/loss", total / len(loader))\n',
    )
    INVALID = (
        Invalid(
            "import torch.nn as nn\nimport wandb\n\ncriterion = nn.CrossEntropyLoss()\n\n\n"
            "def train_step(model, x, y):\n    loss = criterion(model(x), y)\n"
            '    wandb.log({"train/loss": loss})\n',
            line=9,
            col=30,
            message="without .item()",
            fixed="import torch.nn as nn\nimport wandb\n\ncriterion = nn.CrossEntropyLoss()\n\n\n"
            "def train_step(model, x, y):\n    loss = criterion(model(x), y)\n"
            '    wandb.log({"train/loss": loss.item()})\n',
        ),
        Invalid(
            "import torch.nn.functional as F\nfrom torch.utils.tensorboard import SummaryWriter\n\n"
            "writer = SummaryWriter()\n\n\ndef train_step(model, x, y, step):\n"
            "    loss = F.cross_entropy(model(x), y)\n"
            '    writer.add_scalar("train/loss", loss / len(x), step)\n',
            line=9,
            col=37,
            fixed="import torch.nn.functional as F\nfrom torch.utils.tensorboard import SummaryWriter\n\n"
            "writer = SummaryWriter()\n\n\ndef train_step(model, x, y, step):\n"
            "    loss = F.cross_entropy(model(x), y)\n"
            '    writer.add_scalar("train/loss", (loss / len(x)).item(), step)\n',
        ),
        Invalid(
            "import mlflow\nimport torch\n\n\ndef clip(model):\n"
            "    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)\n"
            '    mlflow.log_metric("train/grad_norm", grad_norm)\n',
            line=7,
            col=42,
            fixed="import mlflow\nimport torch\n\n\ndef clip(model):\n"
            "    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)\n"
            '    mlflow.log_metric("train/grad_norm", grad_norm.item())\n',
        ),
        # a running total that is a tensor once the loop ran: flagged, fix offered as unsafe
        Invalid(
            "import wandb\n\nrun = wandb.init()\n\n\ndef train(model, loader, loss_fn):\n    total = 0.0\n"
            "    for x, y in loader:\n        total += loss_fn(model(x), y)\n"
            '    run.log({"train/loss": total})\n',
            line=10,
            col=28,
            fixed="import wandb\n\nrun = wandb.init()\n\n\ndef train(model, loader, loss_fn):\n    total = 0.0\n"
            "    for x, y in loader:\n        total += loss_fn(model(x), y)\n"
            '    run.log({"train/loss": total.item()})\n',
        ),
    )

    def check(self, ctx: PythonContext):
        for log in metric_log_calls(ctx):
            for metric in log.metrics:
                kind = tensor_kind(ctx, metric.value)
                if kind is None:
                    continue
                yield self.finding(
                    ctx.span(metric.value),
                    f"{ctx.shown(metric.value)} is a torch.Tensor logged without .item() -- "
                    "silently stores the whole tensor",
                    fix=_append_item(ctx, metric.value, safe=kind == SCALAR),
                )


def _append_item(ctx: PythonContext, value: cst.BaseExpression, *, safe: bool) -> Fix:
    if isinstance(value, _ATOMS) or getattr(value, "lpar", ()):
        edit = ctx.insert_after(value, ".item()")
    else:
        edit = ctx.replace(value, f"({ctx.source(value)}).item()")
    return Fix("append .item() to log a Python number", (edit,), safe)
