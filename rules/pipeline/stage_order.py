"""PIP001 stage-order: pipeline stages run in the domain's order."""

from __future__ import annotations

from ...compiler.diagnostics import Fix, Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule
from ._lists import STAGES, in_stage_order, list_edit


class StageOrder(SpecRule):
    code = "PIP001"
    name = "stage-order"
    severity = Severity.ERROR
    message = "pipeline stages out of order"
    doc = RuleDoc(
        what=(
            "Flags `pipeline.stages` not in the order ingestion -> validation -> features -> training -> "
            "evaluation -> deployment."
        ),
        why=(
            "Each stage consumes what the one before produced: validation checks ingested data before anything "
            "learns from it, features are built from validated data, evaluation needs a trained model and "
            "deployment an evaluated one. A stage listed before its input either runs on stale artifacts from a "
            "previous run or on nothing ('Data ingestion -> validation -> feature engineering -> training -> "
            "evaluation -> deployment')."
        ),
        example="pipeline:\n  stages: [ingestion, training, validation, evaluation]",
        instead="pipeline:\n  stages: [ingestion, validation, training, evaluation]",
        reference="Pipeline Design > Stage Ordering: 'Data ingestion -> validation -> feature engineering -> training "
        "-> evaluation -> deployment'",
        fix="safe",
        notes=(
            "The fix reorders the same stages (it adds or removes none), written as a flow list `[a, b]`. It is "
            "offered when the list can be replaced exactly: no comments among its items, no alias.",
        ),
    )
    VALID = (
        BASE + "pipeline:\n  data_versioning: dvc\n",
        BASE + "pipeline:\n  stages: [ingestion, validation, features, training, evaluation, deployment]\n",
    )
    INVALID = (
        Invalid(
            BASE + "pipeline:\n  stages: [ingestion, training, validation, evaluation]\n",
            line=10,
            col=11,
            message="ingestion -> validation -> features -> training",
            fixed=BASE + "pipeline:\n  stages: [ingestion, validation, training, evaluation]\n",
        ),
        Invalid(
            BASE + "pipeline:\n  stages:\n    - training\n    - ingestion\n    - validation\n  cache: content_hash\n",
            line=11,
            col=5,
            message="`training` before `ingestion`",
            fixed=BASE + "pipeline:\n  stages: [ingestion, validation, training]\n  cache: content_hash\n",
        ),
    )

    def check(self, ctx):
        pipeline = ctx.spec.pipeline
        if pipeline is None:
            return
        stages = list(pipeline.stages)
        ordered = in_stage_order(stages)
        if stages == ordered:
            return
        first = next(i for i, (a, b) in enumerate(zip(stages, ordered)) if a != b)
        late = next(s for s in stages[first + 1 :] if STAGES.index(s) < STAGES.index(stages[first]))
        path = ("pipeline", "stages")
        edit = list_edit(ctx, path, ordered)
        yield self.at(
            ctx,
            path,
            f"`{stages[first]}` before `{late}`: stages run ingestion -> validation -> features -> training -> "
            "evaluation -> deployment, each on the output of the one before",
            hint=f"`stages: [{', '.join(ordered)}]`",
            fix=Fix("put the stages in pipeline order", (edit,), True) if edit else None,
        )
