"""PIP012 gate-minimum-improvement: a promotion gate asks for an improvement that matters."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule


class GateMinimumImprovement(SpecRule):
    code = "PIP012"
    name = "gate-minimum-improvement"
    severity = Severity.INFO
    message = "the deployment gate accepts any improvement, however small"
    doc = RuleDoc(
        what="Flags a `deployment.gate` whose `min_improvement` is 0 (written, or left at its default).",
        why=(
            "With enough evaluation data a statistical test finds differences too small to matter, and every "
            "promotion has costs: a rollout, new failure modes, retrained downstream consumers. A gate against "
            "the baseline should ask for the smallest improvement that pays for those ('Gate deployments: "
            "automated metric comparison against baseline before promotion'), as `evaluation.minimum_effect` "
            "does for the experiment's own claims."
        ),
        example="deployment:\n  gate:\n    metric: f1_macro",
        instead="deployment:\n  gate:\n    metric: f1_macro\n    min_improvement: 0.01",
        reference="Pipeline Design > Principles: 'Gate deployments: automated metric comparison against baseline before "
        "promotion'; Statistical Comparison: 'Always report: effect size'",
        fix="none",
        notes=("No fix: the improvement that matters is in the metric's units and the author's to choose.",),
    )
    VALID = (BASE + "deployment:\n  gate: {metric: f1_macro, min_improvement: 0.01}\n",)
    INVALID = (
        Invalid(BASE + "deployment:\n  gate: {metric: f1_macro}\n", line=10, col=3, message="min_improvement"),
        Invalid(
            BASE + "deployment:\n  gate:\n    metric: f1_macro\n    min_improvement: 0.0\n",
            line=12,
            col=22,
            message="min_improvement",
        ),
    )

    def check(self, ctx):
        deployment = ctx.spec.deployment
        if deployment is None or deployment.gate is None or deployment.gate.min_improvement > 0:
            return
        path = ("deployment", "gate", "min_improvement")
        yield self.at(
            ctx,
            path,
            f"the gate promotes a model that beats the baseline on `{deployment.gate.metric}` by any amount, however "
            "small: set `min_improvement` to the smallest gain worth a rollout",
            key=not ctx.written(path),
            hint="e.g. `min_improvement: 0.01`",
        )
