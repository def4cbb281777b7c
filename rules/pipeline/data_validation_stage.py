"""PIP004 data-validation-stage: a pipeline that trains validates its data first."""

from __future__ import annotations

from ...compiler.diagnostics import Fix, Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule
from ._lists import STAGES, list_edit


def with_validation(stages: list[str]) -> list[str]:
    """``stages`` with ``validation`` inserted before the first stage that comes after it."""
    after = STAGES.index("validation")
    at = next((i for i, s in enumerate(stages) if STAGES.index(s) > after), len(stages))
    return [*stages[:at], "validation", *stages[at:]]


class DataValidationStage(SpecRule):
    code = "PIP004"
    name = "data-validation-stage"
    severity = Severity.WARNING
    message = "pipeline trains without a data validation stage"
    doc = RuleDoc(
        what="Flags `pipeline.stages` that include `training` but not `validation`.",
        why=(
            "Ingested data breaks in ways training does not notice: a renamed column, a new category, a shifted "
            "distribution, an empty partition. The model trains anyway and the problem surfaces, if at all, as a "
            "worse model in production. A validation stage between ingestion and everything else stops the "
            "pipeline at the data ('Data ingestion -> validation -> feature engineering -> training')."
        ),
        example="pipeline:\n  stages: [ingestion, training, evaluation]",
        instead="pipeline:\n  stages: [ingestion, validation, training, evaluation]",
        reference="Pipeline Design > Stage Ordering: 'Data ingestion -> validation -> feature engineering -> training "
        "-> evaluation -> deployment'",
        fix="unsafe",
        notes=("The fix adds the `validation` stage; a new stage runs (and can stop the pipeline): unsafe.",),
    )
    VALID = (
        BASE + "pipeline:\n  stages: [ingestion, validation, training]\n",
        BASE + "pipeline:\n  stages: [ingestion, features]\n",
    )
    INVALID = (
        Invalid(
            BASE + "pipeline:\n  stages: [ingestion, training, evaluation]\n",
            line=10,
            col=11,
            message="validation",
            fixed=BASE + "pipeline:\n  stages: [ingestion, validation, training, evaluation]\n",
        ),
    )

    def check(self, ctx):
        pipeline = ctx.spec.pipeline
        if pipeline is None or "training" not in pipeline.stages or "validation" in pipeline.stages:
            return
        path = ("pipeline", "stages")
        fixed = with_validation(list(pipeline.stages))
        edit = list_edit(ctx, path, fixed)
        yield self.at(
            ctx,
            path,
            "the pipeline trains on data no stage has validated (schema, ranges, distribution): Data ingestion -> "
            "validation -> feature engineering -> training",
            hint=f"`stages: [{', '.join(fixed)}]`",
            fix=Fix("add a data validation stage", (edit,), False) if edit else None,
        )
