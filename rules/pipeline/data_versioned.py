"""PIP003 data-versioned: the pipeline records which data every model was trained on."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule


class DataVersioned(SpecRule):
    code = "PIP003"
    name = "data-versioned"
    severity = Severity.WARNING
    message = "Version everything: data (DVC), code (git), models (registry), configs"
    doc = RuleDoc(
        what=(
            "Flags `pipeline.data_versioning: none`; the message says so when `data.version` is a fixed label "
            "that nothing then checks."
        ),
        why=(
            "A model is reproducible only if the data it was trained on can be named and fetched again. Without "
            "data versioning, data that changed under the same path is indistinguishable from data that did not, "
            "and a hand-written label such as `v3` stays the same while the files change ('Version everything: "
            "data (DVC), code (git), models (registry), configs (alongside checkpoints)')."
        ),
        example="data:\n  version: v3\npipeline:\n  data_versioning: none",
        instead="data:\n  version: dvc:defects@v3\npipeline:\n  data_versioning: dvc",
        reference="Pipeline Design > Principles: 'Version everything: data (DVC), code (git), models (registry), "
        "configs (alongside checkpoints)'",
        fix="none",
        notes=("No fix: `hash` (content hash, rigorml's default) or `dvc` depends on how the data is stored.",),
    )
    VALID = (BASE + "pipeline:\n  data_versioning: hash\n",)
    INVALID = (
        Invalid(BASE + "pipeline:\n  data_versioning: none\n", line=10, col=20, message="Version everything"),
        Invalid(
            BASE.replace("  source: builtin:digits\n", "  source: builtin:digits\n  version: v3\n")
            + "pipeline:\n  data_versioning: none\n",
            line=11,
            col=20,
            message="`data.version: v3` is a label nothing checks",
        ),
    )

    def check(self, ctx):
        pipeline = ctx.spec.pipeline
        if pipeline is None or pipeline.data_versioning != "none":
            return
        message = "data is not versioned, so no model can be traced to the data it was trained on"
        label = ctx.get(("data", "version"))
        if isinstance(label, str) and label != "auto":
            message += f"; `data.version: {label}` is a label nothing checks, and the files can change under it"
        yield self.at(
            ctx,
            ("pipeline", "data_versioning"),
            message + ": Version everything: data (DVC), code (git), models (registry), configs",
            hint="`data_versioning: hash` (content hash) or `dvc`",
        )
