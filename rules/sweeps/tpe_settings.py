"""HPO002 tpe-settings: TPE with 20-100 trials uses n_startup_trials=10 and multivariate=True."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule
from ._space import is_tpe
from .strategy_for_budget import BANDIT_FROM, RANDOM_BELOW

#: The domain's key settings for TPE (Optuna) in the 20-100 trial band.
STARTUP_TRIALS = 10

_SWEEP = (
    "sweep:\n  method: tpe\n  n_trials: 40\n  parameters:\n"
    "    training.optimizer.lr: {distribution: log_uniform, low: 1.0e-4, high: 0.1}\n"
)


class TpeSettings(SpecRule):
    code = "HPO002"
    name = "tpe-settings"
    severity = Severity.INFO
    message = "TPE settings differ from n_startup_trials=10, multivariate=True"
    doc = RuleDoc(
        what=(
            "Flags a TPE sweep of 20-100 trials whose sampler does not use `n_startup_trials: 10` or sets "
            "`multivariate: false`."
        ),
        why=(
            "TPE samples at random for its start-up trials, then models the space from them. With 20-100 trials, "
            "fewer than 10 start-up trials give it too little to model, and more leave too few modelled trials. "
            "Independent (univariate) TPE models each parameter on its own and misses interactions such as "
            "learning rate with batch size; multivariate TPE models them jointly."
        ),
        example="sweep:\n  n_trials: 40\n  sampler:\n    n_startup_trials: 3\n    multivariate: false",
        instead="sweep:\n  n_trials: 40\n  sampler:\n    n_startup_trials: 10\n    multivariate: true",
        reference="Hyperparameter Optimization > Strategy Selection: '20-100 | TPE (Optuna) | n_startup_trials=10, "
        "multivariate=True'",
        fix="unsafe",
        notes=("The fix sets the domain's values; it changes which configurations are tried, so it is unsafe.",),
    )
    VALID = (
        BASE + _SWEEP,
        BASE + _SWEEP + "  sampler:\n    n_startup_trials: 10\n    multivariate: true\n",
        # Outside the 20-100 band, or not TPE: other advice applies (HPO001).
        BASE + _SWEEP.replace("40", "150") + "  sampler:\n    n_startup_trials: 20\n",
        BASE + _SWEEP.replace("tpe", "random") + "  sampler:\n    multivariate: false\n",
    )
    INVALID = (
        Invalid(
            BASE + _SWEEP + "  sampler:\n    n_startup_trials: 3\n",
            line=15,
            col=23,
            message="n_startup_trials=10",
            fixed=BASE + _SWEEP + "  sampler:\n    n_startup_trials: 10\n",
        ),
        Invalid(
            BASE + _SWEEP + "  sampler:\n    multivariate: false\n",
            line=15,
            col=19,
            message="multivariate=True",
            fixed=BASE + _SWEEP + "  sampler:\n    multivariate: true\n",
        ),
    )

    def check(self, ctx):
        sweep = ctx.spec.sweep
        if sweep is None or not is_tpe(sweep.method) or not RANDOM_BELOW <= sweep.n_trials < BANDIT_FROM:
            return
        n, sampler = sweep.n_trials, sweep.sampler
        if sampler.n_startup_trials != STARTUP_TRIALS:
            path = ("sweep", "sampler", "n_startup_trials")
            effect = (
                "too few random trials for TPE to model the space from"
                if sampler.n_startup_trials < STARTUP_TRIALS
                else f"{sampler.n_startup_trials} of {n} trials sampled at random before TPE models anything"
            )
            yield self.at(
                ctx,
                path,
                f"TPE with {n} trials: use n_startup_trials=10, multivariate=True; "
                f"`n_startup_trials: {sampler.n_startup_trials}` leaves {effect}",
                fix=self.replace_value(ctx, path, str(STARTUP_TRIALS), "use 10 start-up trials", safe=False),
            )
        if not sampler.multivariate:
            path = ("sweep", "sampler", "multivariate")
            yield self.at(
                ctx,
                path,
                f"TPE with {n} trials: use n_startup_trials=10, multivariate=True; independent TPE models each "
                "parameter on its own and misses interactions (learning rate with batch size)",
                fix=self.replace_value(ctx, path, "true", "model parameters jointly", safe=False),
            )
