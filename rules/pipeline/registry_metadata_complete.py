"""PIP009 registry-metadata-complete: every registered model carries the metadata to reproduce it."""

from __future__ import annotations

from ...compiler.diagnostics import Fix, Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule
from ._lists import list_edit

#: What every model artifact must carry, in the domain's words and order.
REQUIRED = ("metrics", "config", "data_version", "git_hash", "training_duration")


class RegistryMetadataComplete(SpecRule):
    code = "PIP009"
    name = "registry-metadata-complete"
    severity = Severity.WARNING
    message = "Every model artifact: metrics, config, data version, git hash, training duration"
    doc = RuleDoc(
        what=(
            "Flags `registry.required_metadata` missing any of `metrics`, `config`, `data_version`, `git_hash`, "
            "`training_duration`."
        ),
        why=(
            "A registered model is only useful if it can be compared (metrics), rebuilt (config, data version, "
            "git hash) and budgeted (training duration). A model whose data version or commit is unknown cannot be "
            "reproduced or audited once the people who trained it have moved on ('Every model artifact: metrics, "
            "config, data version, git hash, training duration')."
        ),
        example="registry:\n  required_metadata: [metrics, config]",
        instead="registry:\n  required_metadata: [metrics, config, data_version, git_hash, training_duration]",
        reference="Pipeline Design > Model Registry Practices: 'Every model artifact: metrics, config, data version, "
        "git hash, training duration'",
        fix="unsafe",
        notes=(
            "The fix appends the missing fields to the list. Unsafe: registering a model without them then "
            "fails, which is the point but changes what the pipeline accepts.",
        ),
    )
    VALID = (
        BASE + "registry:\n  backend: mlflow\n",
        BASE + "registry:\n  required_metadata: [metrics, config, data_version, git_hash, training_duration, environment]\n",
    )
    INVALID = (
        Invalid(
            BASE + "registry:\n  required_metadata: [metrics, config]\n",
            line=10,
            col=22,
            message="data_version, git_hash, training_duration",
            fixed=BASE + "registry:\n  required_metadata: [metrics, config, data_version, git_hash, training_duration]\n",
        ),
    )

    def check(self, ctx):
        registry = ctx.spec.registry
        if registry is None:
            return
        present = list(registry.required_metadata)
        missing = [field for field in REQUIRED if field not in present]
        if not missing:
            return
        path = ("registry", "required_metadata")
        edit = list_edit(ctx, path, present + missing)
        yield self.at(
            ctx,
            path,
            f"registered models need not carry {', '.join(missing)}: Every model artifact: metrics, config, data "
            "version, git hash, training duration",
            fix=Fix("require the missing metadata", (edit,), False) if edit else None,
        )
