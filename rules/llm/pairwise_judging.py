"""LLM002 pairwise-judging: absolute scoring where a pairwise judgement is more reliable."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

JUDGE = BASE + "llm_judge:\n  callable: mypkg.judge:judge\n"


class PairwiseJudging(SpecRule):
    code = "LLM002"
    name = "pairwise-judging"
    severity = Severity.INFO
    message = "absolute scoring: pairwise judging is more reliable"
    doc = RuleDoc(
        what="Suggests `mode: pairwise` for an LLM judge in `mode: absolute`.",
        why="A score on a fixed scale asks the judge for a calibration it does not have: scores drift with the "
        "prompt, cluster on a few values and do not transfer between judge versions. Asking which of two "
        "outputs is better is an easier, more stable judgement: 'Pairwise comparison (A vs B) more reliable "
        "than absolute scoring'.",
        example="llm_judge:\n  callable: mypkg.judge:judge\n  mode: absolute\n  scale: [1, 5]",
        instead="llm_judge:\n  callable: mypkg.judge:judge\n  mode: pairwise\n  position_swap: true",
        reference="LLM Evaluation: 'Pairwise comparison (A vs B) more reliable than absolute scoring'",
    )
    VALID = (JUDGE, JUDGE + "  mode: pairwise\n")
    INVALID = (Invalid(JUDGE + "  mode: absolute\n  scale: [1, 5]\n", line=11, col=9, message="pairwise"),)

    def check(self, ctx):
        judge = ctx.spec.llm_judge
        if judge is None or judge.mode != "absolute":
            return
        yield self.at(
            ctx,
            ("llm_judge", "mode"),
            "absolute scoring: a pairwise comparison (A vs B) is more reliable than an absolute score; use "
            "`mode: pairwise` with `position_swap: true`",
        )
