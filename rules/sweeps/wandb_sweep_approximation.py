"""HPO016 wandb-sweep-approximation: what a W&B sweep configuration loses on its way to Optuna."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

_HEAD = (
    "sweep:\n"
    "  format: wandb\n"
    "  method: random\n"
    "  run_cap: 30\n"
    "  metric: {name: val/loss, goal: minimize}\n"
    "  early_terminate: {type: hyperband, min_iter: 2}\n"
    "  parameters:\n"
)


class WandbSweepApproximation(SpecRule):
    code = "HPO016"
    name = "wandb-sweep-approximation"
    severity = Severity.WARNING
    message = "a W&B sweep setting is converted approximately, or not used"
    doc = RuleDoc(
        what=(
            "Flags every place where a sweep written as a W&B configuration (`sweep: {format: wandb}`) does not "
            "run exactly as W&B would run it: a prior Optuna cannot express (`normal`, `log_normal`, `beta`, "
            "weighted `probabilities`, a log prior on a stepped grid), bounds that are not multiples of `q`, a "
            "metric name read as `{split}/{metric}` (`val_loss` -> `val/loss`), a budget W&B leaves open, "
            "`max_iter` bands, and the settings rigorml does not use (`program`, `command`, `project`, "
            "`entity`, `metric.target`, `impute`). Each finding says exactly what rigorml does instead."
        ),
        why=(
            "A sweep ported from W&B should search what it searched there. Where Optuna has no equivalent, "
            "rigorml picks the closest search it can run; a silent substitution would make the ported sweep's "
            "results incomparable without anyone knowing. The W&B semantics are easy to get wrong too: "
            "`log_uniform` takes natural-log exponents, `log_uniform_values` the values themselves."
        ),
        example=(
            "sweep:\n  format: wandb\n  method: random\n  parameters:\n    model.params.dropout:\n"
            "      distribution: normal   # unbounded: Optuna has no normal prior\n      mu: 0.2\n      sigma: 0.05"
        ),
        instead=(
            "sweep:\n  format: wandb\n  method: random\n  run_cap: 30\n  metric: {name: val/loss}\n  parameters:\n"
            "    model.params.dropout:\n      distribution: uniform\n      min: 0.1\n      max: 0.3"
        ),
        reference=(
            "W&B sweep configuration options (docs.wandb.ai, 'Sweep configuration options': distributions, "
            "early_terminate); rigorml's mapping: docs/wandb-sweeps.md"
        ),
        notes=(
            "No fix: the finding's hint says what to write so the section says what runs (e.g. "
            "`distribution: uniform` with your own `min`/`max`). Errors -- what cannot be converted at all "
            "(several metrics, `method: custom`, a grid over a continuous range, a metric name without a split) "
            "-- are validation errors (SPC019), not findings of this rule.",
            "`rigorml import wandb-sweep FILE` writes the converted section in rigorml's own form, with each of "
            "these notes as a comment.",
        ),
    )
    VALID = (
        BASE
        + _HEAD
        + "    training.optimizer.lr: {distribution: log_uniform_values, min: 1.0e-5, max: 1.0e-2}\n"
        + "    model.params.dropout: {min: 0.0, max: 0.5}\n"
        + "    data.loader.batch_size: {values: [32, 64, 128]}\n",
        BASE + "sweep:\n  parameters:\n    training.optimizer.lr: {distribution: log_uniform, low: 1.0e-4, high: 0.1}\n",
    )
    INVALID = (
        Invalid(
            BASE + _HEAD + "    model.params.dropout:\n      distribution: normal\n      mu: 0.2\n      sigma: 0.05\n",
            line=17,
            col=21,
            message="uniform on mu +- 2 sigma = [0.1, 0.3]",
        ),
        Invalid(
            BASE
            + _HEAD.replace("name: val/loss", "name: val_loss")
            + "    training.optimizer.lr: {distribution: log_uniform_values, min: 1.0e-5, max: 1.0e-2}\n",
            line=13,
            col=18,
            message="read as `val/loss`",
        ),
        Invalid(
            BASE + "sweep:\n  format: wandb\n  program: train.py\n" + _HEAD.removeprefix("sweep:\n  format: wandb\n")
            + "    training.optimizer.lr: {distribution: log_uniform_values, min: 1.0e-5, max: 1.0e-2}\n",
            line=11,
            col=3,
            message="does not run your training script",
        ),
    )

    def check(self, ctx):
        # The translation (compiler/dialects.py) located each warning at the W&B text it concerns.
        for warning in ctx.translation_warnings:
            yield self.finding(warning.span, warning.message, hint=warning.hint, path=warning.path)
