"""PIP007 rollback-kept: the previous production model stays ready for rollback."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule


class RollbackKept(SpecRule):
    code = "PIP007"
    name = "rollback-kept"
    severity = Severity.WARNING
    message = "Maintain rollback to previous production model at all times"
    doc = RuleDoc(
        what="Flags `deployment.rollback: false` and `registry.keep_previous_production: false`.",
        why=(
            "Problems with a new model often show only under live traffic (drift, latency, a segment it fails "
            "on). Rolling back is the fast, safe answer only while the previous production model is still kept "
            "and deployable; once it is gone, the fix is an emergency retraining ('Maintain rollback to previous "
            "production model at all times')."
        ),
        example="deployment:\n  rollback: false\nregistry:\n  keep_previous_production: false",
        instead="deployment:\n  rollback: true\nregistry:\n  keep_previous_production: true",
        reference="Pipeline Design > Model Registry Practices: 'Maintain rollback to previous production model at all "
        "times'",
        fix="safe",
        notes=("The fix keeps the previous model (`true`); it changes nothing the new model does: safe.",),
    )
    VALID = (BASE + "deployment:\n  rollback: true\nregistry:\n  keep_previous_production: true\n",)
    INVALID = (
        Invalid(
            BASE + "deployment:\n  rollback: false # saves a replica\n",
            line=10,
            col=13,
            message="Maintain rollback",
            fixed=BASE + "deployment:\n  rollback: true # saves a replica\n",
        ),
        Invalid(
            BASE + "registry:\n  keep_previous_production: false\n",
            line=10,
            col=29,
            message="previous production model",
            fixed=BASE + "registry:\n  keep_previous_production: true\n",
        ),
    )

    def check(self, ctx):
        checks = []
        if ctx.spec.deployment is not None and not ctx.spec.deployment.rollback:
            checks.append((("deployment", "rollback"), "the deployment keeps no previous model to roll back to"))
        if ctx.spec.registry is not None and not ctx.spec.registry.keep_previous_production:
            checks.append(
                (("registry", "keep_previous_production"), "the registry drops the previous production model on promotion")
            )
        for path, what in checks:
            yield self.at(
                ctx,
                path,
                f"{what}: Maintain rollback to previous production model at all times",
                fix=self.replace_value(ctx, path, "true", "keep the previous production model"),
            )
