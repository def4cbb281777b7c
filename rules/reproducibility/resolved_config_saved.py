"""REP004 resolved-config-saved: the resolved spec is saved next to every checkpoint."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

_PATH = ("tracking", "capture", "resolved_config")


class ResolvedConfigSaved(SpecRule):
    code = "REP004"
    name = "resolved-config-saved"
    severity = Severity.ERROR
    message = "the resolved config is not saved with checkpoints"
    doc = RuleDoc(
        what="Flags `tracking.capture.resolved_config: false`.",
        why="The domain document's config practice is 'Save resolved config JSON alongside every checkpoint'. "
        "The spec file alone does not say what ran: `extends`, command-line overrides, variant overrides, "
        "sweep values and derived defaults all change it. Without the resolved config a checkpoint cannot be "
        "traced to the settings that produced it, nor resumed or re-run with them.",
        example="tracking:\n  capture:\n    resolved_config: false",
        instead="tracking:\n  capture:\n    resolved_config: true",
        reference="Config Management: 'Save resolved config JSON alongside every checkpoint'; Pipeline Design > "
        "Principles: 'Version everything: ... configs (alongside checkpoints)'",
        fix="safe",
    )
    VALID = (BASE, BASE + "tracking:\n  capture:\n    resolved_config: true\n")
    INVALID = (
        Invalid(
            BASE + "tracking:\n  capture:\n    resolved_config: false\n",
            line=11,
            col=22,
            message="resolved_config: true",
            fixed=BASE + "tracking:\n  capture:\n    resolved_config: true\n",
        ),
    )

    def check(self, ctx):
        if ctx.spec.tracking.capture.resolved_config is False:
            yield self.at(
                ctx,
                _PATH,
                "the resolved config is not saved: a checkpoint cannot be traced to the settings that produced it; "
                "write `resolved_config: true` (the resolved spec JSON next to every checkpoint)",
                fix=self.replace_value(ctx, _PATH, "true", "save the resolved config with every checkpoint"),
            )
