"""PIP011 canary-steps: a canary rollout says how traffic grows."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule


class CanarySteps(SpecRule):
    code = "PIP011"
    name = "canary-steps"
    severity = Severity.WARNING
    message = "Canary: Incremental rollout with rollback capability"
    doc = RuleDoc(
        what="Flags `deployment.strategy: canary` without `canary_steps`.",
        why=(
            "A canary is worth its complexity because traffic moves to the new model in increments, each one a "
            "chance to compare it with the current model and roll back before most users are affected. Without "
            "steps there are no increments: the rollout is a cutover under another name ('Canary | Incremental "
            "rollout with rollback capability')."
        ),
        example="deployment:\n  strategy: canary",
        instead="deployment:\n  strategy: canary\n  canary_steps: [0.05, 0.25, 0.5, 1.0]",
        reference="Pipeline Design > Deployment Strategy Selection: 'Canary | Incremental rollout with rollback "
        "capability'",
        fix="none",
        notes=(
            "No fix: the traffic fractions depend on traffic volume and risk.",
            "A/B tests are covered by the gate rules (PIP005, PIP012): `deployment.gate.test` is always a "
            "statistical test, so there is nothing more to check here.",
        ),
    )
    VALID = (BASE + "deployment:\n  strategy: canary\n  canary_steps: [0.05, 0.25, 1.0]\n",)
    INVALID = (Invalid(BASE + "deployment:\n  strategy: canary\n", line=10, col=13, message="canary_steps"),)

    def check(self, ctx):
        deployment = ctx.spec.deployment
        if deployment is None or deployment.strategy != "canary" or deployment.canary_steps is not None:
            return
        yield self.at(
            ctx,
            ("deployment", "strategy"),
            "a canary without `canary_steps` has no increments to watch and roll back from: Canary: Incremental "
            "rollout with rollback capability",
            hint="`canary_steps: [0.05, 0.25, 0.5, 1.0]`",
        )
