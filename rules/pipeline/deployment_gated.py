"""PIP005 deployment-gated: a deployment is gated by a metric comparison against the baseline."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule


class DeploymentGated(SpecRule):
    code = "PIP005"
    name = "deployment-gated"
    severity = Severity.WARNING
    message = "Gate deployments: automated metric comparison against baseline before promotion"
    doc = RuleDoc(
        what="Flags a `deployment` section without a `gate`.",
        why=(
            "Without an automated comparison, whether a new model is better than the one users have is decided "
            "by whoever promotes it, on whatever numbers they look at. A gate compares the candidate with the "
            "baseline on the same data with a statistical test and blocks a promotion that is not an improvement "
            "('Gate deployments: automated metric comparison against baseline before promotion')."
        ),
        example="deployment:\n  strategy: canary\n  canary_steps: [0.1, 0.5, 1.0]",
        instead=(
            "deployment:\n  strategy: canary\n  canary_steps: [0.1, 0.5, 1.0]\n  gate:\n    metric: f1_macro\n"
            "    baseline: production\n    min_improvement: 0.01"
        ),
        reference="Pipeline Design > Principles: 'Gate deployments: automated metric comparison against baseline "
        "before promotion'",
        fix="none",
        notes=("No fix: the gate's metric and the improvement that matters are the author's decisions.",),
    )
    VALID = (BASE + "deployment:\n  gate: {metric: f1_macro, min_improvement: 0.01}\n",)
    INVALID = (Invalid(BASE + "deployment:\n  strategy: shadow\n", line=9, col=1, message="Gate deployments"),)

    def check(self, ctx):
        deployment = ctx.spec.deployment
        if deployment is None or deployment.gate is not None:
            return
        # A first deployment has no production model to beat: gate it against an arm of the experiment.
        baseline = (ctx.spec.evaluation.baseline or ctx.arms[0]) if deployment.first_deployment else "production"
        yield self.at(
            ctx,
            ("deployment", "gate"),
            "the deployment has no `gate`, so nothing compares the new model with a baseline before it ships: Gate "
            "deployments: automated metric comparison against baseline before promotion",
            key=True,
            hint=f"`gate: {{metric: {ctx.primary_metric}, baseline: {baseline}, min_improvement: ...}}`",
        )
