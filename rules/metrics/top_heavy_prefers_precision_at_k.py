"""MET008 top-heavy-prefers-precision-at-k: top-k ranking without precision@k."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import Invalid, RuleDoc
from ._selection import PreferredMetricRule, example_spec

SPEC = example_spec("ranking", ("top_k",))


class TopHeavyPrefersPrecisionAtK(PreferredMetricRule):
    code = "MET008"
    name = "top-heavy-prefers-precision-at-k"
    severity = Severity.INFO
    message = "top-heavy ranking without precision@k"
    task = "ranking"
    doc = RuleDoc(
        what="Suggests `precision@k` for ranking tasks with the trait `top_k` that report no precision metric.",
        why="When only the first k results are ever used (a results page, a prompt with k passages), the "
        "question is how many of those k are relevant; NDCG spreads credit over positions and depths that "
        "are never seen: 'Precision@K for top-heavy use'. Use the k the application actually shows.",
        example="experiment:\n  task: ranking\n  traits: [top_k]\nmetrics:\n  primary: ndcg@10",
        instead="experiment:\n  task: ranking\n  traits: [top_k]\nmetrics:\n  primary: precision@5\n"
        "  secondary: [ndcg@10]",
        reference="Metric Selection: Ranking/RAG | NDCG | 'Precision@K for top-heavy use'",
    )
    VALID = (
        example_spec("ranking", ("rag",)),
        SPEC + "metrics:\n  primary: precision@5\n",
        SPEC + "metrics:\n  secondary: [precision@10]\n",
    )
    INVALID = (
        Invalid(SPEC, line=5, col=12, message="add `precision@k`"),
        Invalid(SPEC + "metrics:\n  secondary: [recall@10]\n", line=11, col=3),
    )
