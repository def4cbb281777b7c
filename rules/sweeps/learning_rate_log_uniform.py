"""HPO003 learning-rate-log-uniform: learning rates are searched log-uniformly."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule
from ._space import leaf, parameter_path

_HEAD = "sweep:\n  parameters:\n    training.optimizer.lr:\n"


def is_learning_rate(key: str) -> bool:
    """``training.optimizer.lr``, ``model.params.learning_rate``, ``model.params.head_learning_rate``."""
    return leaf(key) == "lr" or key.endswith("learning_rate")


def log_uniform_fix(rule, ctx, key: str, param):
    """The fix ``uniform`` -> ``log_uniform`` when the range allows it (low > 0, no ``step``), else None."""
    if param.low <= 0 or param.step is not None:
        return None
    return rule.replace_value(ctx, parameter_path(key, "distribution"), "log_uniform", "sample it log-uniformly")


class LearningRateLogUniform(SpecRule):
    code = "HPO003"
    name = "learning-rate-log-uniform"
    severity = Severity.WARNING
    message = "Learning rate: always log-uniform"
    doc = RuleDoc(
        what="Flags a swept learning rate (a path ending in `.lr` or `learning_rate`) with `distribution: uniform`.",
        why=(
            "Good learning rates span orders of magnitude (1e-5 to 1e-2). A uniform range over [1e-5, 1e-2] puts "
            "90% of its samples above 1e-3, so the small rates are hardly ever tried; log-uniform gives every "
            "order of magnitude the same share of trials ('Learning rate: always log-uniform')."
        ),
        example="training.optimizer.lr:\n  distribution: uniform\n  low: 0.00001\n  high: 0.01",
        instead="training.optimizer.lr:\n  distribution: log_uniform\n  low: 0.00001\n  high: 0.01",
        reference="Hyperparameter Optimization > Search Space Opinions: 'Learning rate: always log-uniform'",
        fix="safe",
        notes=(
            "The fix keeps the range and changes only how it is sampled: the author meant to search that range "
            "of learning rates, so it is safe. It is offered only when `low` > 0 and there is no `step` "
            "(log-uniform needs a positive range and takes no step).",
        ),
    )
    VALID = (
        BASE + _HEAD + "      distribution: log_uniform\n      low: 0.00001\n      high: 0.01\n",
        BASE + "sweep:\n  parameters:\n    model.params.dropout: {distribution: uniform, low: 0.0, high: 0.5}\n",
    )
    INVALID = (
        Invalid(
            BASE + _HEAD + "      distribution: uniform  # try everything\n      low: 0.00001\n      high: 0.01\n",
            line=12,
            col=21,
            message="Learning rate: always log-uniform",
            fixed=BASE + _HEAD + "      distribution: log_uniform  # try everything\n      low: 0.00001\n      high: 0.01\n",
        ),
        Invalid(
            BASE + "sweep:\n  parameters:\n    model.params.learning_rate: {distribution: uniform, low: 0.0, high: 0.01}\n",
            line=11,
            col=48,
            message="low > 0",
        ),
        Invalid(
            BASE + _HEAD + "      distribution: uniform\n      low: 0.001\n      high: 0.01\n      step: 0.001\n",
            line=12,
            col=21,
            message="takes no `step`",
        ),
    )

    def check(self, ctx):
        sweep = ctx.spec.sweep
        if sweep is None:
            return
        for key, param in sweep.parameters.items():
            if not is_learning_rate(key) or param.distribution != "uniform":
                continue
            message = (
                f"`{key}` is sampled uniformly: Learning rate: always log-uniform; a uniform range spends almost "
                "every trial in its top order of magnitude"
            )
            if param.low <= 0:
                message += f"; log-uniform needs low > 0 (not {param.low:g}), e.g. `low: 1.0e-5`"
            elif param.step is not None:
                message += "; log-uniform takes no `step`: remove it"
            yield self.at(
                ctx,
                parameter_path(key, "distribution"),
                message,
                hint="`distribution: log_uniform`",
                fix=log_uniform_fix(self, ctx, key, param),
            )
