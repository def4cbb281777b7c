"""TRK006 artifacts-versioned: the tracker versions the artifacts it keeps."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

_PATH = ("tracking", "artifacts", "versioned")


class ArtifactsVersioned(SpecRule):
    code = "TRK006"
    name = "artifacts-versioned"
    severity = Severity.INFO
    message = "artifacts are not versioned"
    doc = RuleDoc(
        what="Notes `tracking.artifacts.versioned: false`.",
        why="The domain document's pipeline principle is 'Version everything: data (DVC), code (git), models "
        "(registry), configs (alongside checkpoints)', and its trackers all keep versioned artifacts (W&B "
        "Artifacts, MLflow model versions, Neptune Artifacts). Unversioned artifacts are overwritten by the "
        "next run under the same name, so a result can no longer be traced to the model that produced it.",
        example="tracking:\n  artifacts:\n    versioned: false",
        instead="tracking:\n  artifacts:\n    versioned: true",
        reference="Pipeline Design > Principles: 'Version everything: data (DVC), code (git), models (registry), "
        "configs (alongside checkpoints)'; Experiment Tracking > Artifact Versioning",
        fix="safe",
    )
    VALID = (BASE, BASE + "tracking:\n  artifacts:\n    versioned: true\n")
    INVALID = (
        Invalid(
            BASE + "tracking:\n  artifacts:\n    versioned: false\n",
            line=11,
            col=16,
            message="versioned: true",
            fixed=BASE + "tracking:\n  artifacts:\n    versioned: true\n",
        ),
    )

    def check(self, ctx):
        if ctx.spec.tracking.artifacts.versioned is False:
            yield self.at(
                ctx,
                _PATH,
                "tracking.artifacts.versioned is false: the next run overwrites these artifacts and results lose "
                "the model that produced them; write `versioned: true` (Version everything)",
                fix=self.replace_value(ctx, _PATH, "true", "version artifacts"),
            )
