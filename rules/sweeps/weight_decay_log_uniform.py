"""HPO004 weight-decay-log-uniform: weight decay is searched log-uniformly, switched on and off by a flag."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule
from ._space import is_flag, parameter_path
from .learning_rate_log_uniform import log_uniform_fix

_KEY = "training.optimizer.weight_decay"


def flag_snippet(key: str, high: float) -> str:
    """The conditional search space for weight decay, as a user would write it."""
    top = f"{high:g}" if high > 0 else "0.1"
    return (
        f"`flag.use_weight_decay: {{values: [true, false]}}` and `{key}: {{distribution: log_uniform, "
        f"low: 1.0e-6, high: {top}, when: {{flag.use_weight_decay: [true]}}}}`; when the flag is false the "
        "spec's own value applies (leave it at 0)"
    )


class WeightDecayLogUniform(SpecRule):
    code = "HPO004"
    name = "weight-decay-log-uniform"
    severity = Severity.WARNING
    message = "Weight decay: log-uniform with conditional enable/disable"
    doc = RuleDoc(
        what="Flags a swept weight decay (a path ending in `weight_decay`) with `distribution: uniform`.",
        why=(
            "Useful weight decays span orders of magnitude (1e-6 to 1e-1), so a uniform range hardly ever tries "
            "the small ones. A range starting at 0 usually means 'maybe no weight decay at all': log-uniform "
            "cannot reach 0, so the domain's answer is a log-uniform range switched on and off by a condition "
            "('Weight decay: log-uniform with conditional enable/disable'). In rigorml that switch is a "
            "`flag.*` sweep parameter named in the weight decay's `when`."
        ),
        example="training.optimizer.weight_decay:\n  distribution: uniform\n  low: 0.0\n  high: 0.1",
        instead=(
            "flag.use_weight_decay:\n  values: [true, false]\ntraining.optimizer.weight_decay:\n"
            "  distribution: log_uniform\n  low: 1.0e-6\n  high: 0.1\n  when: {flag.use_weight_decay: [true]}"
        ),
        reference="Hyperparameter Optimization > Search Space Opinions: 'Weight decay: log-uniform with conditional "
        "enable/disable'",
        fix="safe",
        notes=(
            "When `low` > 0 (and there is no `step`) the fix changes `uniform` to `log_uniform`, keeping the "
            "range: safe. A range from 0 has no fix, because the conditional parameter it needs is a new "
            "search dimension; the message shows what to write.",
        ),
    )
    VALID = (
        BASE + "sweep:\n  parameters:\n    " + _KEY + ": {distribution: log_uniform, low: 1.0e-6, high: 0.1}\n",
        BASE
        + "sweep:\n  parameters:\n    flag.use_weight_decay: {values: [true, false]}\n    "
        + _KEY
        + ":\n      distribution: log_uniform\n      low: 1.0e-6\n      high: 0.1\n"
        + "      when: {flag.use_weight_decay: [true]}\n",
    )
    INVALID = (
        Invalid(
            BASE
            + "sweep:\n  parameters:\n    "
            + _KEY
            + ":\n      distribution: uniform\n      low: 0.0001\n      high: 0.1\n",
            line=12,
            col=21,
            message="log-uniform",
            fixed=BASE
            + "sweep:\n  parameters:\n    "
            + _KEY
            + ":\n      distribution: log_uniform\n      low: 0.0001\n      high: 0.1\n",
        ),
        Invalid(
            BASE + "sweep:\n  parameters:\n    " + _KEY + ":\n      distribution: uniform\n      low: 0.0\n      high: 0.1\n",
            line=12,
            col=21,
            message="flag.use_weight_decay",
        ),
        Invalid(
            BASE
            + "sweep:\n  parameters:\n    flag.wd: {values: [true, false]}\n    "
            + _KEY
            + ": {distribution: uniform, low: 0.0, high: 0.1, when: {flag.wd: [true]}}\n",
            line=12,
            col=53,
            message="`flag.wd` already switches it off",
        ),
    )

    def check(self, ctx):
        sweep = ctx.spec.sweep
        if sweep is None:
            return
        for key, param in sweep.parameters.items():
            if not key.endswith("weight_decay") or param.distribution != "uniform":
                continue
            path = parameter_path(key, "distribution")
            if param.low > 0:
                message = (
                    f"`{key}` is sampled uniformly: Weight decay: log-uniform, since useful values span orders of "
                    "magnitude"
                )
                if param.step is not None:
                    message += "; log-uniform takes no `step`: remove it"
                fix = log_uniform_fix(self, ctx, key, param)
                yield self.at(ctx, path, message, hint="`distribution: log_uniform`", fix=fix)
            else:
                switch = next((k for k in (param.when or {}) if is_flag(k)), None)
                advice = (
                    f"`{switch}` already switches it off, so sample it log-uniformly from a small positive `low` "
                    "(e.g. `distribution: log_uniform, low: 1.0e-6`)"
                    if switch
                    else f"write {flag_snippet(key, param.high)}"
                )
                yield self.at(
                    ctx,
                    path,
                    f"`{key}` is sampled uniformly from {param.low:g}: Weight decay: log-uniform with conditional "
                    f"enable/disable; {advice}",
                )
