"""PY002 wandb-init-without-finish: a W&B run started outside ``with`` and never finished."""

from __future__ import annotations

import libcst as cst

from ...compiler.diagnostics import Severity
from ..base import Invalid, PythonRule, RuleDoc
from ._metric_logging import WANDB_INIT, wandb_runs
from .context import PythonContext, last_name

_FINISH = ("wandb.finish", "wandb.run.finish")


class WandbInitWithoutFinish(PythonRule):
    code = "PY002"
    name = "wandb-init-without-finish"
    severity = Severity.WARNING
    message = "wandb.init() outside a `with` block and no wandb.finish() in this module (data loss)"
    doc = RuleDoc(
        what=(
            "Flags `wandb.init(...)` that is not the context manager of a `with` statement when the module "
            "never calls (or refers to) `wandb.finish`, nor `.finish()` on a run bound from `wandb.init`."
        ),
        why=(
            "A run that is not finished may not flush what it buffered: the last metrics, the summary and "
            "files uploaded at the end can be lost, and the run stays 'running' in the UI (crashed runs "
            "show as such only after a timeout). `with wandb.init(...) as run:` finishes the run even when "
            "training raises."
        ),
        example='run = wandb.init(project="demo")\ntrain(run)',
        instead='with wandb.init(project="demo") as run:\n    train(run)',
        reference="Gotchas, Tracking: 'Forgetting wandb.finish() without with context manager (data loss)'",
        fix="none",
        notes=(
            "Any reference to `wandb.finish` counts (`atexit.register(wandb.finish)` too), wherever it is in "
            "the module: the rule does not check that every path reaches it.",
        ),
    )
    VALID = (
        'import wandb\n\nwith wandb.init(project="demo") as run:\n    run.log({"train/loss": 0.5})\n',
        'import wandb\n\nrun = wandb.init(project="demo")\ntry:\n    run.log({"train/loss": 0.5})\n'
        "finally:\n    run.finish()\n",
        'import wandb\n\nwandb.init(project="demo")\nwandb.log({"train/loss": 0.5})\nwandb.finish()\n',
    )
    INVALID = (
        Invalid(
            'import wandb\n\nrun = wandb.init(project="demo")\nrun.log({"train/loss": 0.5})\n',
            line=3,
            col=7,
            message="wandb.finish()",
        ),
        Invalid(
            'from wandb import init, log\n\n\ndef main():\n    init(project="demo")\n    log({"train/loss": 0.5})\n',
            line=5,
            col=5,
        ),
    )

    def check(self, ctx: PythonContext):
        inits = [call for call in ctx.nodes(cst.Call) if ctx.calls_to(call, *WANDB_INIT)]
        if not inits or _finishes(ctx):
            return
        for call in inits:
            parent = ctx.parent(call)
            if isinstance(parent, cst.WithItem) and parent.item is call:
                continue
            yield self.finding(ctx.span(call), hint='use `with wandb.init(...) as run:` or call `wandb.finish()`')


def _finishes(ctx: PythonContext) -> bool:
    """Whether the module refers to ``wandb.finish`` or calls ``<run>.finish()`` on a W&B run."""
    references = ctx.nodes((cst.Name, cst.Attribute))
    if any(last_name(node) == "finish" and ctx.calls_to(node, *_FINISH) for node in references):
        return True
    runs = wandb_runs(ctx)
    return any(
        isinstance(call.func, cst.Attribute)
        and call.func.attr.value == "finish"
        and ctx.dotted_name(call.func.value) in runs
        for call in ctx.nodes(cst.Call)
    )
