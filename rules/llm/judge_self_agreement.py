"""LLM005 judge-self-agreement: the judge's consistency is not tracked."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

JUDGE = BASE + "llm_judge:\n  callable: mypkg.judge:judge\n"


class JudgeSelfAgreement(SpecRule):
    code = "LLM005"
    name = "judge-self-agreement"
    severity = Severity.WARNING
    message = "the judge's self-agreement is not tracked"
    doc = RuleDoc(
        what="Flags an LLM judge with `track_self_agreement: false`.",
        why="How often the judge agrees with itself across repeats bounds how much its verdicts can be "
        "trusted: a judge that flips on a third of the pairs cannot resolve differences smaller than that. "
        "'Track judge consistency (self-agreement rate) as a meta-metric', reported with the results.",
        example="llm_judge:\n  callable: mypkg.judge:judge\n  track_self_agreement: false",
        instead="llm_judge:\n  callable: mypkg.judge:judge\n  track_self_agreement: true",
        reference="LLM Evaluation: 'Track judge consistency (self-agreement rate) as a meta-metric'",
        fix="safe",
        notes=(
            "The fix only adds a reported meta-metric; the verdicts do not change.",
            "Self-agreement needs `repeats` of at least 2 (LLM004 asks for 3).",
        ),
    )
    VALID = (JUDGE, JUDGE + "  track_self_agreement: true\n")
    INVALID = (
        Invalid(
            JUDGE + "  track_self_agreement: false\n",
            line=11,
            col=25,
            message="self-agreement rate",
            fixed=JUDGE + "  track_self_agreement: true\n",
        ),
    )

    def check(self, ctx):
        judge = ctx.spec.llm_judge
        if judge is None or judge.track_self_agreement:
            return
        path = ("llm_judge", "track_self_agreement")
        yield self.at(
            ctx,
            path,
            "the judge's consistency is not tracked: report its self-agreement rate across repeats as a meta-metric",
            fix=self.replace_value(ctx, path, "true", "track the judge's self-agreement", safe=True),
        )
