"""MET007 first-hit-prefers-mrr: ranking where only the first hit matters, without MRR."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import Invalid, RuleDoc
from ._selection import PreferredMetricRule, example_spec

SPEC = example_spec("ranking", ("first_hit_only",))


class FirstHitPrefersMrr(PreferredMetricRule):
    code = "MET007"
    name = "first-hit-prefers-mrr"
    severity = Severity.INFO
    message = "first-hit ranking without MRR"
    task = "ranking"
    doc = RuleDoc(
        what="Suggests `mrr` for ranking tasks with the trait `first_hit_only` that do not report it.",
        why="When a user (or a system) stops at the first relevant result, what matters is how high that one "
        "result is; NDCG also credits the relevant results below it. Mean reciprocal rank scores exactly the "
        "first hit: 'MRR when only first hit matters'.",
        example="experiment:\n  task: ranking\n  traits: [first_hit_only]\nmetrics:\n  primary: ndcg@10",
        instead="experiment:\n  task: ranking\n  traits: [first_hit_only]\nmetrics:\n  primary: mrr\n"
        "  secondary: [ndcg@10]",
        reference="Metric Selection: Ranking/RAG | NDCG | 'MRR when only first hit matters'",
    )
    VALID = (
        example_spec("ranking"),
        SPEC + "metrics:\n  primary: mrr\n",
        SPEC + "metrics:\n  secondary: [mrr]\n",
    )
    INVALID = (
        Invalid(SPEC, line=5, col=12, message="add `mrr`"),
        Invalid(SPEC + "metrics:\n  primary: ndcg@10\n  secondary: [hit_rate@1]\n", line=12, col=3),
    )
