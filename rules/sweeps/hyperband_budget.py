"""HPO014 hyperband-budget: with TPE, Hyperband's brackets each need their own start-up trials."""

from __future__ import annotations

import math

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule
from ._space import at_value_or_key, is_tpe

_LR = "  parameters:\n    training.optimizer.lr: {distribution: log_uniform, low: 1.0e-4, high: 0.1}\n"


def hyperband_brackets(min_resource: int, max_resource: int, reduction_factor: int) -> int:
    """The number of brackets Optuna's HyperbandPruner runs: ``floor(log_eta(max / min)) + 1``.

    Computed with Optuna's own expression, floating point included, so the count is the one the study
    will have: at some exact powers the float logarithm falls just short (``math.log(243, 3)`` is
    4.999...) and Optuna runs one bracket fewer than the exact formula gives.
    """
    return math.floor(math.log(max_resource / min_resource, reduction_factor)) + 1


class HyperbandBudget(SpecRule):
    code = "HPO014"
    name = "hyperband-budget"
    severity = Severity.WARNING
    message = "Hyperband brackets x TPE start-up trials use up the trial budget: the search is mostly random"
    doc = RuleDoc(
        what=(
            "With a TPE sampler and a Hyperband pruner, computes Hyperband's bracket count, "
            "floor(log_eta(max_resource / min_resource)) + 1 (`max_resource: auto` is `training.epochs`, eta is "
            "`reduction_factor`), and flags a sweep whose brackets x `n_startup_trials` reaches `n_trials`."
        ),
        why=(
            "Hyperband runs several successive-halving brackets, and TPE models each bracket from that bracket's "
            "own trials, so each bracket spends `n_startup_trials` random trials before TPE starts modelling "
            "(Optuna's HyperbandPruner documentation: 'if HyperbandPruner has 4 pruners in it, at least 4 x 10 "
            "trials are consumed for startup'). When that reaches the budget, the 'TPE + Hyperband' study the "
            "domain recommends is random search with pruning."
        ),
        example="training:\n  epochs: 10\nsweep:\n  n_trials: 20        # 3 brackets x 10 start-up trials = 30",
        instead=(
            "training:\n  epochs: 10\nsweep:\n  n_trials: 40\n"
            "  pruner: {type: hyperband, min_resource: 3}   # 2 brackets x 10 = 20 start-up trials of 40"
        ),
        reference="Hyperparameter Optimization > Preferred Stack: 'Optuna (default): TPE + Hyperband pruner'; "
        "Strategy Selection: '20-100 | TPE (Optuna) | n_startup_trials=10'",
        fix="none",
        notes=(
            "No fix: more trials, a larger `min_resource` (fewer brackets) or a one-bracket pruner "
            "(`asha`/`successive_halving`) are each a different cost trade-off.",
            "Fires from brackets x n_startup_trials >= n_trials: at equality every trial is a start-up trial.",
            "The bracket count is computed with Optuna's own expression, so it is the count the study runs.",
        ),
    )
    VALID = (
        BASE + "training:\n  epochs: 12\nsweep:\n  n_trials: 12\n  sampler: {n_startup_trials: 4}\n"
        "  pruner: {type: hyperband, min_resource: 2}\n" + _LR,
        BASE + "sweep:\n  n_trials: 20\n  pruner: {type: asha}\n" + _LR,
        BASE + "sweep:\n  method: random\n  n_trials: 20\n" + _LR,
    )
    INVALID = (
        Invalid(
            BASE + "sweep:\n  n_trials: 20\n" + _LR,
            line=9,
            col=1,
            message="3 brackets x 10 n_startup_trials = 30",
        ),
        Invalid(
            BASE + "sweep:\n  n_trials: 40\n  pruner:\n    type: hyperband\n    max_resource: 27\n" + _LR,
            line=12,
            col=11,
            message="4 brackets x 10 n_startup_trials = 40",
        ),
    )

    def check(self, ctx):
        sweep = ctx.spec.sweep
        if sweep is None or not is_tpe(sweep.method) or sweep.pruner.type != "hyperband":
            return
        pruner = sweep.pruner
        auto = pruner.max_resource == "auto"
        max_resource = ctx.spec.training.epochs if auto else pruner.max_resource
        if max_resource is None or max_resource < pruner.min_resource:
            return
        brackets = hyperband_brackets(pruner.min_resource, max_resource, pruner.reduction_factor)
        startup = sweep.sampler.n_startup_trials
        if brackets < 2 or brackets * startup < sweep.n_trials:
            return
        source = f"{max_resource} = training.epochs" if auto else str(max_resource)
        yield at_value_or_key(
            self,
            ctx,
            ("sweep", "pruner", "type"),
            f"Hyperband runs {brackets} brackets (floor(log_{pruner.reduction_factor}({source} / min_resource "
            f"{pruner.min_resource})) + 1) and TPE models each bracket from its own trials: {brackets} brackets x "
            f"{startup} n_startup_trials = {brackets * startup} random trials before TPE models anything, against "
            f"n_trials {sweep.n_trials}: the search is mostly random",
            hint=f"raise `n_trials` well above {brackets * startup}, raise `min_resource` (fewer brackets), or use "
            "`type: asha` (one bracket)",
        )
