"""STA009 comparisons-vs-seeds: more preregistered comparisons than replicate seeds."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

SEVEN_ARMS = "variants: {a: {}, b: {}, c: {}, d: {}, e: {}, f: {}, g: {}}\n"
THREE_WAYS = (
    "variants:\n  a: {}\n  b: {}\n  c: {}\nevaluation:\n  comparisons:\n"
    "    - {treatment: b, control: a}\n    - {treatment: c, control: a}\n    - {treatment: c, control: b}\n"
)


class ComparisonsVsSeeds(SpecRule):
    code = "STA009"
    name = "comparisons-vs-seeds"
    severity = Severity.WARNING
    message = "more comparisons than replicate seeds"
    doc = RuleDoc(
        what="Flags plans with more comparisons (written, or every arm against `baseline`) than replicate seeds.",
        why="Every comparison rests on the same n seed replicates. Each added comparison tightens the "
        "correction (Bonferroni tests each at alpha/m) while the seed-to-seed noise of every difference stays "
        "what n seeds give, so a long family measured on few seeds has little power for any one claim, and "
        "invites reading the winners out of many noisy contrasts. 'Minimum seeds: 5-10 for reliable "
        "multi-seed comparison' assumes a focused plan; as a rule of thumb, have at least as many seeds as "
        "comparisons.",
        example="seeds:\n  replicates: 5\nevaluation:\n  baseline: base  # with seven other arms",
        instead="seeds:\n  replicates: 10\nevaluation:\n  comparisons:  # only the contrasts that decide the question\n"
        "    - {treatment: wide, control: base}\n    - {treatment: deep, control: base}",
        reference="Statistical Comparison: 'Minimum seeds: 5-10 for reliable multi-seed comparison'; "
        "'Multiple comparisons: Benjamini-Hochberg for exploratory ablations, Bonferroni for confirmatory claims'",
        notes=("A heuristic, not a theorem: STA008 checks whether a seed-level test can reach significance at all.",),
    )
    VALID = (
        BASE,
        BASE + "variants:\n  a: {}\n  b: {}\n  c: {}\nevaluation:\n  baseline: a\n",
        BASE + "seeds:\n  replicates: 6\n" + SEVEN_ARMS + "evaluation:\n  baseline: a\n",
    )
    INVALID = (
        Invalid(BASE + SEVEN_ARMS + "evaluation:\n  baseline: a\n", line=11, col=13, message="6 comparisons"),
        Invalid(BASE + "seeds:\n  replicates: [7, 8]\n" + THREE_WAYS, line=16, col=3, message="2 replicate seeds"),
    )

    def check(self, ctx):
        m, n = len(ctx.comparisons), len(ctx.replicate_seeds)
        if m <= n:
            return
        written = ctx.written(("evaluation", "comparisons"))
        path = ("evaluation", "comparisons") if written else ("evaluation", "baseline")
        yield self.at(
            ctx,
            path,
            f"{m} comparisons on {n} replicate seed{'s' if n != 1 else ''}: more comparisons than the seeds can "
            f"support; preregister only the comparisons that decide the question, or use at least {max(m, 5)} seeds",
            key=written,
        )
