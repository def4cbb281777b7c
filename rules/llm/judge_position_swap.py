"""LLM006 judge-position-swap: pairwise judging in one order only."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

JUDGE = BASE + "llm_judge:\n  callable: mypkg.judge:judge\n"


class JudgePositionSwap(SpecRule):
    code = "LLM006"
    name = "judge-position-swap"
    severity = Severity.WARNING
    message = "pairwise judging without position swap"
    doc = RuleDoc(
        what="Flags a pairwise LLM judge with `position_swap: false`.",
        why="LLM judges favour an answer for its position (often the first) independently of its content. "
        "Judging only (A, B) adds that bias to one arm; judging (A, B) and (B, A) cancels it and exposes "
        "verdicts that flip with the order. Position swap is what makes 'Pairwise comparison (A vs B) more "
        "reliable than absolute scoring' hold.",
        example="llm_judge:\n  callable: mypkg.judge:judge\n  position_swap: false",
        instead="llm_judge:\n  callable: mypkg.judge:judge\n  position_swap: true",
        reference="LLM Evaluation: 'Pairwise comparison (A vs B) more reliable than absolute scoring'",
        fix="safe",
        notes=("The fix judges both orders: twice the judge calls, but the same question asked without bias.",),
    )
    VALID = (
        JUDGE,
        JUDGE + "  mode: absolute\n  scale: [1, 5]\n  position_swap: false\n",  # nothing to swap
    )
    INVALID = (
        Invalid(
            JUDGE + "  position_swap: false\n",
            line=11,
            col=18,
            message="position bias",
            fixed=JUDGE + "  position_swap: true\n",
        ),
    )

    def check(self, ctx):
        judge = ctx.spec.llm_judge
        if judge is None or judge.mode != "pairwise" or judge.position_swap:
            return
        path = ("llm_judge", "position_swap")
        yield self.at(
            ctx,
            path,
            "pairwise judging in one order only: the judge's position bias lands on one arm; judge both (A, B) "
            "and (B, A)",
            fix=self.replace_value(ctx, path, "true", "judge both orders", safe=True),
        )
