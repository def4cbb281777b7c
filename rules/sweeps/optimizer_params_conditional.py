"""HPO007 optimizer-params-conditional: optimizer-specific parameters are sampled only for the
optimizers that take them."""

from __future__ import annotations

from ...compiler.diagnostics import Fix, Severity, TextEdit
from ...schemas.vocabulary import ADAM_FAMILY
from ..base import BASE, Invalid, RuleDoc, SpecRule
from ._space import OPTIMIZER_NAME, parameter_path

#: Optimizer field -> the optimizers that take it (the union of training.py's optimizer models).
TAKEN_BY = {
    "betas": ADAM_FAMILY,
    "amsgrad": ADAM_FAMILY,
    "eps": (*ADAM_FAMILY, "rmsprop", "adagrad"),
    "momentum": ("sgd", "rmsprop"),
    "nesterov": ("sgd",),
    "alpha": ("rmsprop",),
}
_PREFIX = "training.optimizer."

_ADAM_SGD = (
    "training:\n  optimizer: {name: adam}\nsweep:\n  parameters:\n"
    "    training.optimizer.name: {values: [adam, sgd]}\n"
)
_SGD_ADAMW = (
    "training:\n  optimizer: {name: sgd}\nsweep:\n  parameters:\n"
    "    training.optimizer.name: {values: [sgd, adamw]}\n"
)
_EPS = "    training.optimizer.eps: {distribution: log_uniform, low: 1.0e-9, high: 1.0e-6"
_MOMENTUM = "    training.optimizer.momentum:\n      distribution: uniform\n      low: 0.8\n      high: 0.99  # heavy ball\n"


def optimizer_field(key: str) -> str | None:
    """``training.optimizer.betas.0`` -> ``betas``; None for a path outside the optimizer."""
    if not key.startswith(_PREFIX):
        return None
    return key[len(_PREFIX) :].split(".", 1)[0]


class OptimizerParamsConditional(SpecRule):
    code = "HPO007"
    name = "optimizer-params-conditional"
    severity = Severity.WARNING
    message = "Optimizer-specific params: conditional (beta1/beta2 only if Adam family)"
    doc = RuleDoc(
        what=(
            "When the sweep chooses the optimizer (`training.optimizer.name` is categorical), flags a swept "
            "optimizer-specific parameter (`betas`, `eps`, `amsgrad` of the Adam family; `momentum`, `nesterov` "
            "of SGD/RMSprop; `alpha` of RMSprop) that is not conditioned with `when` on the optimizers that take "
            "it."
        ),
        why=(
            "A parameter sampled for an optimizer that has no such setting is either an invalid configuration "
            "(the trial fails) or silently ignored; either way the sampler records a value that had no effect and "
            "learns a false relation between it and the objective. Conditioning it on the optimizer keeps the "
            "search space to configurations that exist ('Optimizer-specific params: conditional (beta1/beta2 only "
            "if Adam family)')."
        ),
        example=(
            "training.optimizer.name: {values: [adam, sgd]}\n"
            "training.optimizer.betas.0: {distribution: uniform, low: 0.8, high: 0.95}"
        ),
        instead=(
            "training.optimizer.name: {values: [adam, sgd]}\n"
            "training.optimizer.betas.0:\n  distribution: uniform\n  low: 0.8\n  high: 0.95\n"
            "  when: {training.optimizer.name: [adam]}"
        ),
        reference="Hyperparameter Optimization > Search Space Opinions: 'Optimizer-specific params: conditional "
        "(beta1/beta2 only if Adam family)'",
        fix="unsafe",
        notes=(
            "The fix adds `when: {training.optimizer.name: [...]}` listing the swept optimizers that take the "
            "parameter. It changes the search space the sampler models, so it is unsafe. There is no fix when the "
            "parameter already has a `when` (the condition needs merging by hand).",
        ),
    )
    VALID = (
        BASE + _ADAM_SGD + _EPS + ", when: {training.optimizer.name: [adam]}}\n",
        # Every optimizer the sweep can pick takes betas: nothing to condition.
        BASE
        + "training:\n  optimizer: {name: adam}\nsweep:\n  parameters:\n"
        + "    training.optimizer.name: {values: [adam, adamw]}\n"
        + "    training.optimizer.betas.0: {distribution: uniform, low: 0.8, high: 0.95}\n",
    )
    INVALID = (
        Invalid(
            BASE + _ADAM_SGD + _EPS + "}\n",
            line=14,
            col=5,
            message="beta1/beta2 only if Adam family",
            fixed=BASE + _ADAM_SGD + _EPS + ", when: {training.optimizer.name: [adam]}}\n",
        ),
        Invalid(
            BASE + _SGD_ADAMW + _MOMENTUM,
            line=14,
            col=5,
            message="`adamw`",
            fixed=BASE + _SGD_ADAMW + _MOMENTUM + "      when: {training.optimizer.name: [sgd]}\n",
        ),
    )

    def check(self, ctx):
        sweep = ctx.spec.sweep
        if sweep is None:
            return
        chooser = sweep.parameters.get(OPTIMIZER_NAME)
        if chooser is None or chooser.distribution != "categorical":
            return
        for key, param in sweep.parameters.items():
            field = optimizer_field(key)
            if field not in TAKEN_BY:
                continue
            takers = [name for name in chooser.values if name in TAKEN_BY[field]]
            allowed = (param.when or {}).get(OPTIMIZER_NAME, chooser.values)
            lacking = [name for name in allowed if name not in TAKEN_BY[field]]
            if not lacking:
                continue
            family = "the Adam family" if TAKEN_BY[field] == ADAM_FAMILY else ", ".join(TAKEN_BY[field])
            condition = f"when: {{{OPTIMIZER_NAME}: [{', '.join(takers)}]}}"
            message = (
                f"`{key}` is sampled with {', '.join(f'`{n}`' for n in lacking)}, which has no `{field}` (only "
                f"{family} takes it): Optimizer-specific params: conditional (beta1/beta2 only if Adam family)"
            )
            if not takers:
                message += f"; none of the swept optimizers takes `{field}`: remove the parameter"
            yield self.at(
                ctx,
                parameter_path(key),
                message,
                key=True,
                hint=f"`{condition}`" if takers else None,
                fix=self._add_condition(ctx, key, condition) if takers and param.when is None else None,
            )

    def _add_condition(self, ctx, key: str, condition: str) -> Fix | None:
        """Insert ``condition`` into the parameter's mapping, flow (``{...}``) or block."""
        span = ctx.value_span(parameter_path(key))
        text = ctx.texts.get(span.file) if span is not None else None
        if text is None:
            return None
        lines = text.splitlines()
        first = lines[span.line - 1][span.col - 1 :]
        if first.startswith("{"):
            if lines[span.end_line - 1][span.end_col - 2 : span.end_col - 1] != "}":
                return None
            edit = TextEdit.insert(span.file, span.end_line, span.end_col - 1, ", " + condition)
        else:
            last = lines[span.end_line - 1]
            edit = TextEdit.insert(span.file, span.end_line, len(last) + 1, "\n" + " " * (span.col - 1) + condition)
        return Fix(f"sample `{key}` only for the optimizers that take it", (edit,), False)
