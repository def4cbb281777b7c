"""TRK002 capture-command: every run records the exact command line."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

_PATH = ("tracking", "capture", "command")


class CaptureCommand(SpecRule):
    code = "TRK002"
    name = "capture-command"
    severity = Severity.WARNING
    message = "Not logging exact command/config to reproduce a run"
    doc = RuleDoc(
        what="Flags `tracking.capture.command: false`.",
        why="The domain document lists 'Not logging exact command/config to reproduce a run' among the "
        "tracking gotchas. The command line carries what the spec does not: overrides (`key=value`), the "
        "entry point, flags. Without it a run's numbers cannot be traced back to how they were produced.",
        example="tracking:\n  capture:\n    command: false",
        instead="tracking:\n  capture:\n    command: true",
        reference="Gotchas > Tracking: 'Not logging exact command/config to reproduce a run'",
        fix="safe",
    )
    VALID = (BASE, BASE + "tracking:\n  capture:\n    command: true\n")
    INVALID = (
        Invalid(
            BASE + "tracking:\n  capture:\n    command: false\n",
            line=11,
            col=14,
            message="command: true",
            fixed=BASE + "tracking:\n  capture:\n    command: true\n",
        ),
    )

    def check(self, ctx):
        if ctx.spec.tracking.capture.command is False:
            yield self.at(
                ctx,
                _PATH,
                "tracking.capture.command is false: Not logging exact command/config to reproduce a run; write "
                "`command: true` so every run records its exact command line (with overrides)",
                fix=self.replace_value(ctx, _PATH, "true", "capture the command line"),
            )
