"""LLM001 judge-human-agreement: an LLM judge that is never checked against human labels."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

JUDGE = BASE + "llm_judge:\n  callable: mypkg.judge:judge\n"


class JudgeHumanAgreement(SpecRule):
    code = "LLM001"
    name = "judge-human-agreement"
    severity = Severity.WARNING
    message = "the LLM judge is not validated against human labels"
    doc = RuleDoc(
        what="Flags an `llm_judge` without `human_agreement`.",
        why="An LLM judge has biases of its own (length, style, position, its own model family's outputs) and "
        "may simply not measure what the rubric asks. Until its verdicts are shown to agree with people's on a "
        "labelled sample, its win rates are numbers without a known meaning: 'LLM-as-judge: always validate "
        "with human agreement checks before trusting'.",
        example="llm_judge:\n  callable: mypkg.judge:judge",
        instead="llm_judge:\n  callable: mypkg.judge:judge\n  human_agreement:\n"
        "    labels: data/judge_human_labels.jsonl\n    min_kappa: 0.6",
        reference="LLM Evaluation: 'LLM-as-judge: always validate with human agreement checks before trusting'",
    )
    VALID = (
        BASE,  # no judge
        JUDGE + "  human_agreement:\n    labels: data/labels.jsonl\n",
    )
    INVALID = (Invalid(JUDGE, line=9, col=1, message="human agreement"),)

    def check(self, ctx):
        judge = ctx.spec.llm_judge
        if judge is None or judge.human_agreement is not None:
            return
        yield self.at(
            ctx,
            ("llm_judge", "human_agreement"),
            "the LLM judge is never checked against people: add `human_agreement` with human `labels` (and "
            "`min_kappa`); always validate with human agreement checks before trusting a judge",
            key=True,
        )
