"""PIP010 registry-promotion-stages: models are promoted through dev -> staging -> production."""

from __future__ import annotations

from ...compiler.diagnostics import Fix, Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule
from ._lists import list_edit

PROMOTION = ("dev", "staging", "production")


class RegistryPromotionStages(SpecRule):
    code = "PIP010"
    name = "registry-promotion-stages"
    severity = Severity.WARNING
    message = "Promote through stages: dev -> staging -> production"
    doc = RuleDoc(
        what="Flags `registry.stages` that are not exactly `[dev, staging, production]`: a stage missing, or out of order.",
        why=(
            "Each stage is a check a model passes before more people depend on it: dev for whoever trained it, "
            "staging for an environment like production without its users, production last. Skipping staging "
            "sends a model to users without that rehearsal; a reversed order promotes the untested one ('Promote "
            "through stages: dev -> staging -> production')."
        ),
        example="registry:\n  stages: [dev, production]",
        instead="registry:\n  stages: [dev, staging, production]",
        reference="Pipeline Design > Model Registry Practices: 'Promote through stages: dev -> staging -> production'",
        fix="unsafe",
        notes=(
            "The fix writes `[dev, staging, production]`. Reordering the same three stages is safe; adding a "
            "missing stage adds a promotion step, so it is unsafe.",
        ),
    )
    VALID = (BASE + "registry:\n  stages: [dev, staging, production]\n", BASE + "registry:\n  backend: local\n")
    INVALID = (
        Invalid(
            BASE + "registry:\n  stages: [dev, production]\n",
            line=10,
            col=11,
            message="missing `staging`",
            fixed=BASE + "registry:\n  stages: [dev, staging, production]\n",
        ),
        Invalid(
            BASE + "registry:\n  stages:\n    - staging\n    - dev\n    - production\n",
            line=11,
            col=5,
            message="out of order",
            fixed=BASE + "registry:\n  stages: [dev, staging, production]\n",
        ),
    )

    def check(self, ctx):
        registry = ctx.spec.registry
        if registry is None or tuple(registry.stages) == PROMOTION:
            return
        stages = list(registry.stages)
        missing = [s for s in PROMOTION if s not in stages]
        problem = f"missing `{'`, `'.join(missing)}`" if missing else "out of order"
        path = ("registry", "stages")
        edit = list_edit(ctx, path, list(PROMOTION))
        yield self.at(
            ctx,
            path,
            f"registry stages [{', '.join(stages)}] are {problem}: Promote through stages: dev -> staging -> production",
            fix=Fix("promote through dev, staging, production", (edit,), not missing) if edit else None,
        )
