"""LLM003 judge-temperature-zero: judge calls sampled at a temperature above 0."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

JUDGE = BASE + "llm_judge:\n  callable: mypkg.judge:judge\n"


class JudgeTemperatureZero(SpecRule):
    code = "LLM003"
    name = "judge-temperature-zero"
    severity = Severity.WARNING
    message = "the judge samples at a temperature above 0"
    doc = RuleDoc(
        what="Flags an LLM judge with `temperature` above 0.",
        why="Sampling makes the judge's verdict on the same pair a random variable: the noise lands in the "
        "comparison, and a rerun gives different numbers. 'Use temperature=0 for judge calls'; the repeats "
        "then measure the judge's residual inconsistency rather than sampling noise.",
        example="llm_judge:\n  callable: mypkg.judge:judge\n  temperature: 0.7",
        instead="llm_judge:\n  callable: mypkg.judge:judge\n  temperature: 0",
        reference="LLM Evaluation: 'Use temperature=0 for judge calls; run each judgment 3x for stability'",
        fix="safe",
        notes=("The fix sets `temperature: 0`: the judge still judges the same pairs, deterministically.",),
    )
    VALID = (JUDGE, JUDGE + "  temperature: 0\n")
    INVALID = (
        Invalid(
            JUDGE + "  temperature: 0.7\n",
            line=11,
            col=16,
            message="temperature=0",
            fixed=JUDGE + "  temperature: 0\n",
        ),
    )

    def check(self, ctx):
        judge = ctx.spec.llm_judge
        if judge is None or judge.temperature <= 0:
            return
        path = ("llm_judge", "temperature")
        yield self.at(
            ctx,
            path,
            f"judge calls at temperature {judge.temperature:g} turn each verdict into a sample: use temperature=0 "
            "for judge calls",
            fix=self.replace_value(ctx, path, "0", "judge at temperature 0", safe=True),
        )
