"""HPO001 strategy-for-budget: the search strategy fits the trial budget (random < 20, TPE 20-100,
Hyperband/ASHA from 100)."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule
from ._space import at_value_or_key, searched

#: Below this many trials, a model-based sampler never leaves its random start-up phase.
RANDOM_BELOW = 20
#: From this many trials on, early stopping (Hyperband/ASHA) saves most of the compute.
BANDIT_FROM = 100
#: Most parameters worth tuning with a budget under RANDOM_BELOW.
FOCUS = 3

_MODEL_BASED = ("tpe", "bayes", "cmaes")
_LR = "    training.optimizer.lr: {distribution: log_uniform, low: 1.0e-4, high: 0.1}\n"


class StrategyForBudget(SpecRule):
    code = "HPO001"
    name = "strategy-for-budget"
    severity = Severity.WARNING
    message = "the search strategy does not fit the trial budget"
    doc = RuleDoc(
        what=(
            "Checks the sweep's strategy against its trial budget, as in the domain's strategy table: under 20 "
            "trials, a model-based sampler (`tpe`, `bayes`, `cmaes`) or more than 3 tuned parameters; 20-99 trials "
            "with `random` or `cmaes` instead of TPE; 100 or more trials with `median` or no pruning instead of "
            "Hyperband/ASHA."
        ),
        why=(
            "TPE and CMA-ES sample at random until they have seen enough trials to model the space (10 start-up "
            "trials by default), so under 20 trials they are random search with extra machinery; with so few "
            "trials, spread over more than 2-3 parameters, no parameter gets enough samples to be tuned ('< 20: "
            "Random search, focus on top 2-3 params only'). Between 20 and 100 trials, TPE's model of the space "
            "beats random search. From 100 trials, most of the compute goes into trials that are clearly bad "
            "after a few epochs: Hyperband/ASHA stops them early (grace period 10, reduction factor 3)."
        ),
        example="sweep:\n  method: tpe\n  n_trials: 12",
        instead="sweep:\n  method: random\n  n_trials: 12",
        reference="Hyperparameter Optimization > Strategy Selection: '< 20 | Random search | Focus on top 2-3 params "
        "only', '20-100 | TPE (Optuna)', '100+ | Hyperband/ASHA | grace_period=10, reduction_factor=3'",
        fix="unsafe",
        notes=(
            "The fix switches `method` (to `random` under 20 trials, to `tpe` for 20-99); it changes which "
            "configurations are tried, so it is unsafe. The pruner case has no fix: a `median` pruner's own "
            "settings do not carry over to Hyperband.",
            "`grid` is left alone: it enumerates a discrete space the author chose, whatever the budget.",
        ),
    )
    VALID = (
        BASE,
        BASE + "sweep:\n  method: random\n  n_trials: 12\n  parameters:\n" + _LR,
        BASE + "sweep:\n  n_trials: 40\n  parameters:\n" + _LR,
        BASE + "sweep:\n  n_trials: 150\n  pruner: {type: hyperband}\n  parameters:\n" + _LR,
    )
    INVALID = (
        Invalid(
            BASE + "sweep:\n  method: tpe\n  n_trials: 12\n  parameters:\n" + _LR,
            line=10,
            col=11,
            message="use random search",
            fixed=BASE + "sweep:\n  method: random\n  n_trials: 12\n  parameters:\n" + _LR,
        ),
        Invalid(
            BASE
            + "sweep:\n  method: random\n  n_trials: 10\n  parameters:\n"
            + _LR
            + "    training.optimizer.weight_decay: {distribution: log_uniform, low: 1.0e-6, high: 0.1}\n"
            + "    data.loader.batch_size: {values: [32, 64]}\n"
            + "    model.params.dropout: {distribution: uniform, low: 0.0, high: 0.5}\n",
            line=12,
            col=3,
            message="focus on the top 2-3",
        ),
        Invalid(
            BASE + "sweep:\n  method: random\n  n_trials: 40\n  parameters:\n" + _LR,
            line=10,
            col=11,
            message="TPE",
            fixed=BASE + "sweep:\n  method: tpe\n  n_trials: 40\n  parameters:\n" + _LR,
        ),
        Invalid(
            BASE + "sweep:\n  n_trials: 200\n  pruner:\n    type: median\n  parameters:\n" + _LR,
            line=12,
            col=11,
            message="Hyperband/ASHA",
        ),
    )

    def check(self, ctx):
        sweep = ctx.spec.sweep
        if sweep is None:
            return
        n, method = sweep.n_trials, sweep.method
        method_path = ("sweep", "method")
        if n < RANDOM_BELOW:
            if method in _MODEL_BASED:
                yield at_value_or_key(
                    self,
                    ctx,
                    method_path,
                    f"{n} trials with `{method}`: below {RANDOM_BELOW} trials use random search (`method: random`); "
                    "a model-based sampler has too few trials to learn the space from (TPE alone samples its first "
                    "10 at random), so it adds machinery and no better choices",
                    hint="focus the search on the top 2-3 parameters",
                    fix=self.replace_value(ctx, method_path, "random", "use random search", safe=False),
                )
            tuned = searched(sweep)
            if len(tuned) > FOCUS:
                yield self.at(
                    ctx,
                    ("sweep", "parameters"),
                    f"{n} trials tune {len(tuned)} parameters ({', '.join(tuned)}): with fewer than {RANDOM_BELOW} "
                    f"trials, focus on the top 2-3 parameters and fix the others at good values",
                    key=True,
                    hint="or raise `n_trials` to 20 or more",
                )
        elif n < BANDIT_FROM:
            if method in ("random", "cmaes"):
                yield self.at(
                    ctx,
                    method_path,
                    f"{n} trials with `{method}`: for 20-100 trials use TPE (`method: tpe`, n_startup_trials=10, "
                    "multivariate=True), which models the space from the trials so far",
                    fix=self.replace_value(ctx, method_path, "tpe", "use TPE", safe=False),
                )
        else:
            pruner_path = ("sweep", "pruner", "type")
            if sweep.pruner.type in ("none", "median"):
                kind = "no pruning" if sweep.pruner.type == "none" else "the median pruner"
                yield self.at(
                    ctx,
                    pruner_path,
                    f"{n} trials with {kind}: from {BANDIT_FROM} trials use Hyperband/ASHA (grace period 10, "
                    "reduction factor 3), which stops clearly bad trials after a few epochs",
                    hint="`pruner: {type: hyperband, min_resource: 10, reduction_factor: 3}`, or `type: asha` with "
                    "parallel workers",
                )
