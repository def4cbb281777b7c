"""PIP002 idempotent-stages: re-running a stage produces the same output."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule


class IdempotentStages(SpecRule):
    code = "PIP002"
    name = "idempotent-stages"
    severity = Severity.WARNING
    message = "Idempotent stages: re-running any stage produces same output"
    doc = RuleDoc(
        what="Flags `pipeline.idempotent: false` and `pipeline.cache: none`.",
        why=(
            "A pipeline is re-run all the time: after a failure, for a new model, to reproduce a result. When a "
            "stage's output depends on when or how often it ran (appends, timestamps, unseeded sampling), a re-run "
            "silently produces different data or models and nothing downstream can be trusted to match. Content-"
            "hash caching is what lets a re-run skip unchanged stages and prove they are unchanged ('Idempotent "
            "stages: re-running any stage produces same output')."
        ),
        example="pipeline:\n  idempotent: false\n  cache: none",
        instead="pipeline:\n  idempotent: true\n  cache: content_hash",
        reference="Pipeline Design > Principles: 'Idempotent stages: re-running any stage produces same output'",
        fix="none",
        notes=("No fix: a stage that is not idempotent has to be changed in code before the spec can say it is.",),
    )
    VALID = (BASE + "pipeline:\n  idempotent: true\n  cache: content_hash\n",)
    INVALID = (
        Invalid(BASE + "pipeline:\n  idempotent: false\n", line=10, col=15, message="re-running any stage"),
        Invalid(BASE + "pipeline:\n  cache: none\n", line=10, col=10, message="content hash"),
    )

    def check(self, ctx):
        pipeline = ctx.spec.pipeline
        if pipeline is None:
            return
        if not pipeline.idempotent:
            yield self.at(
                ctx,
                ("pipeline", "idempotent"),
                "stages are declared non-idempotent, so a re-run can produce different data or models: Idempotent "
                "stages: re-running any stage produces same output",
                hint="make each stage a pure function of its inputs (seeded, no appends or timestamps)",
            )
        if pipeline.cache == "none":
            yield self.at(
                ctx,
                ("pipeline", "cache"),
                "without a content hash per stage nothing shows that a re-run reproduced the same output "
                "(Idempotent stages: re-running any stage produces same output)",
                hint="`cache: content_hash`",
            )
