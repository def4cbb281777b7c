"""LLM004 judge-repeats: each judgement made fewer than 3 times."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

#: "run each judgment 3x for stability"
MINIMUM_REPEATS = 3
_TIMES = {1: "once", 2: "twice"}

JUDGE = BASE + "llm_judge:\n  callable: mypkg.judge:judge\n"


class JudgeRepeats(SpecRule):
    code = "LLM004"
    name = "judge-repeats"
    severity = Severity.WARNING
    message = f"each judgement is made fewer than {MINIMUM_REPEATS} times"
    doc = RuleDoc(
        what=f"Flags an LLM judge with `repeats` below {MINIMUM_REPEATS}.",
        why="Even at temperature 0 an API judge is not perfectly deterministic (batching, model updates, "
        "ties broken differently). Judging each item three times and taking the majority makes one flaky "
        "verdict harmless, and gives the self-agreement rate that shows how flaky the judge is: 'run each "
        "judgment 3x for stability'.",
        example="llm_judge:\n  callable: mypkg.judge:judge\n  repeats: 1",
        instead="llm_judge:\n  callable: mypkg.judge:judge\n  repeats: 3",
        reference="LLM Evaluation: 'Use temperature=0 for judge calls; run each judgment 3x for stability'",
        fix="unsafe",
        notes=("Unsafe: three repeats cost three times the judge calls.",),
    )
    VALID = (JUDGE, JUDGE + "  repeats: 5\n")
    INVALID = (
        Invalid(JUDGE + "  repeats: 1\n", line=11, col=12, message="3x", fixed=JUDGE + "  repeats: 3\n"),
    )

    def check(self, ctx):
        judge = ctx.spec.llm_judge
        if judge is None or judge.repeats >= MINIMUM_REPEATS:
            return
        path = ("llm_judge", "repeats")
        yield self.at(
            ctx,
            path,
            f"each judgement is made {_TIMES.get(judge.repeats, f'{judge.repeats} times')}: run each judgment "
            f"{MINIMUM_REPEATS}x for stability (the majority counts)",
            fix=self.replace_value(
                ctx, path, str(MINIMUM_REPEATS), f"judge each item {MINIMUM_REPEATS} times", safe=False
            ),
        )
