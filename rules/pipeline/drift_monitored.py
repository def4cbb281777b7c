"""PIP008 drift-monitored: a deployed model is monitored for data drift, prediction drift and latency."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

#: Monitoring switch -> what goes unnoticed without it.
WATCHES = {
    "data_drift": "input distribution shift",
    "prediction_drift": "prediction distribution shift",
    "latency": "latency degradation",
}


class DriftMonitored(SpecRule):
    code = "PIP008"
    name = "drift-monitored"
    severity = Severity.WARNING
    message = "Monitor drift: data distribution shift, prediction distribution shift, latency degradation"
    doc = RuleDoc(
        what="Flags each of `deployment.monitoring.data_drift`, `prediction_drift`, `latency` set to `false`.",
        why=(
            "A model's test score describes the data it was evaluated on. Once deployed, inputs drift (a new "
            "sensor, a new user segment), predictions shift with them, and latency degrades with load; none of "
            "this raises an error, so without monitoring the first sign is a business metric going wrong ('Monitor "
            "drift: data distribution shift, prediction distribution shift, latency degradation')."
        ),
        example="deployment:\n  monitoring:\n    latency: false",
        instead="deployment:\n  monitoring:\n    latency: true",
        reference="Pipeline Design > Model Registry Practices: 'Monitor drift: data distribution shift, prediction "
        "distribution shift, latency degradation'",
        fix="safe",
        notes=("The fix turns the monitor on; it observes and changes nothing the model does: safe.",),
    )
    VALID = (BASE + "deployment:\n  monitoring: {data_drift: true, prediction_drift: true, latency: true}\n",)
    INVALID = (
        Invalid(
            BASE + "deployment:\n  monitoring:\n    data_drift: false\n    latency: false\n",
            line=12,
            col=14,
            message="latency degradation",
            fixed=BASE + "deployment:\n  monitoring:\n    data_drift: true\n    latency: true\n",
        ),
    )

    def check(self, ctx):
        deployment = ctx.spec.deployment
        if deployment is None:
            return
        for key, what in WATCHES.items():
            if getattr(deployment.monitoring, key):
                continue
            path = ("deployment", "monitoring", key)
            yield self.at(
                ctx,
                path,
                f"`{key}` is not monitored, so {what} goes unnoticed: Monitor drift: data distribution shift, "
                "prediction distribution shift, latency degradation",
                fix=self.replace_value(ctx, path, "true", f"monitor {what}"),
            )
