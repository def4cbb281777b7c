"""PIP006 first-deployment-shadow: a first deployment goes out in shadow mode."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule


class FirstDeploymentShadow(SpecRule):
    code = "PIP006"
    name = "first-deployment-shadow"
    severity = Severity.WARNING
    message = "Shadow: First deployment; validate without user impact"
    doc = RuleDoc(
        what="Flags `deployment.first_deployment: true` with a `strategy` other than `shadow`.",
        why=(
            "A first model has never met live traffic: the input pipeline, latency and the predictions on real "
            "data are all untested, and there is no previous model to roll back to. In shadow mode it receives "
            "live requests and its predictions are logged, but users see none of them, so it can be validated "
            "without user impact ('Shadow | First deployment; validate without user impact')."
        ),
        example="deployment:\n  strategy: blue_green\n  first_deployment: true",
        instead="deployment:\n  strategy: shadow\n  first_deployment: true",
        reference="Pipeline Design > Deployment Strategy Selection: 'Shadow | First deployment; validate without user "
        "impact'",
        fix="unsafe",
        notes=(
            "The fix switches the strategy to `shadow`; users then get no predictions from the model until it is "
            "promoted, which changes the rollout: unsafe. No fix when `canary_steps` is written (it only applies "
            "to `canary`).",
        ),
    )
    VALID = (
        BASE + "deployment:\n  strategy: shadow\n  first_deployment: true\n",
        BASE + "deployment:\n  strategy: blue_green\n",
    )
    INVALID = (
        Invalid(
            BASE + "deployment:\n  strategy: blue_green\n  first_deployment: true\n",
            line=10,
            col=13,
            message="validate without user impact",
            fixed=BASE + "deployment:\n  strategy: shadow\n  first_deployment: true\n",
        ),
    )

    def check(self, ctx):
        deployment = ctx.spec.deployment
        if deployment is None or not deployment.first_deployment or deployment.strategy == "shadow":
            return
        path = ("deployment", "strategy")
        fix = None
        if not ctx.written(("deployment", "canary_steps")):
            fix = self.replace_value(ctx, path, "shadow", "deploy in shadow mode first", safe=False)
        yield self.at(
            ctx,
            path,
            f"a first deployment with `{deployment.strategy}` puts an untested model in front of users: Shadow: "
            "First deployment; validate without user impact",
            hint="`strategy: shadow`, then promote",
            fix=fix,
        )
