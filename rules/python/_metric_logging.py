"""Where a training script logs metrics: the tracker calls the logging rules (PY001, PY007, PY008) read.

Recognised, whatever the import style:

* W&B -- ``wandb.log({...}, step=...)``, and ``run.log({...})`` where ``run`` is bound from
  ``wandb.init(...)`` (``run = wandb.init(...)`` or ``with wandb.init(...) as run:``);
* MLflow -- ``mlflow.log_metric(key, value, step)`` and ``mlflow.log_metrics({...}, step)``;
* TensorBoard -- ``<writer>.add_scalar(tag, value, global_step)`` (``SummaryWriter`` from torch or
  tensorboardX; the method name is specific enough to accept any receiver).

Only dict literals are read for ``log({...})`` / ``log_metrics({...})``: a dict built elsewhere is
not followed. ``print`` and ``logging`` are out of scope (too noisy).
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from .context import PythonContext, argument

WANDB_INIT = ("wandb.init",)


@dataclass(frozen=True)
class LoggedMetric:
    """One metric in a logging call: its name expression (a key or tag) and its value expression."""

    name: cst.BaseExpression
    value: cst.BaseExpression


@dataclass(frozen=True)
class MetricLogCall:
    """A call that logs metrics: the metrics it logs, and the step it logs them at."""

    call: cst.Call
    metrics: tuple[LoggedMetric, ...]
    step: cst.BaseExpression | None


def metric_log_calls(ctx: PythonContext) -> list[MetricLogCall]:
    """Every metric-logging call in the module, in source order (computed once per file)."""
    return ctx.memo("metric_log_calls", lambda: _find(ctx))


def wandb_runs(ctx: PythonContext) -> frozenset[str]:
    """The spellings (``run``, ``self.run``) of everything bound from ``wandb.init(...)``."""

    def find() -> frozenset[str]:
        names = set()
        for node in ctx.nodes((cst.Assign, cst.WithItem)):
            value = node.value if isinstance(node, cst.Assign) else node.item
            if not (isinstance(value, cst.Call) and ctx.calls_to(value, *WANDB_INIT)):
                continue
            if isinstance(node, cst.Assign):
                targets = [t.target for t in node.targets]
            else:
                targets = [node.asname.name] if node.asname else []
            names.update(filter(None, (ctx.dotted_name(t) for t in targets)))
        return frozenset(names)

    return ctx.memo("wandb_runs", find)


def _find(ctx: PythonContext) -> list[MetricLogCall]:
    runs = wandb_runs(ctx)
    found = []
    for call in ctx.nodes(cst.Call):
        qualified = ctx.qualified_names(call)
        method = call.func.attr.value if isinstance(call.func, cst.Attribute) else None
        if qualified & {"wandb.log", "wandb.run.log"} or (
            method == "log" and ctx.dotted_name(call.func.value) in runs  # type: ignore[union-attr]
        ):
            found.append(_dict_call(call, argument(call, 0, "data"), argument(call, 1, "step")))
        elif "mlflow.log_metrics" in qualified:
            found.append(_dict_call(call, argument(call, 0, "metrics"), argument(call, 1, "step")))
        elif "mlflow.log_metric" in qualified:
            found.append(_pair_call(call, ("key", "value", "step")))
        elif method == "add_scalar":
            found.append(_pair_call(call, ("tag", "scalar_value", "global_step")))
    return found


def _dict_call(call: cst.Call, data: cst.Arg | None, step: cst.Arg | None) -> MetricLogCall:
    metrics = ()
    if data is not None and isinstance(data.value, cst.Dict):
        metrics = tuple(
            LoggedMetric(element.key, element.value)
            for element in data.value.elements
            if isinstance(element, cst.DictElement)
        )
    return MetricLogCall(call, metrics, step.value if step else None)


def _pair_call(call: cst.Call, keywords: tuple[str, str, str]) -> MetricLogCall:
    name, value, step = (argument(call, i, keyword) for i, keyword in enumerate(keywords))
    metrics = (LoggedMetric(name.value, value.value),) if name and value else ()
    return MetricLogCall(call, metrics, step.value if step else None)
