"""LLM007 judge-kappa-threshold: a human-agreement bar below moderate agreement."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

#: Landis & Koch (1977): 0.21-0.40 fair, 0.41-0.60 moderate, 0.61-0.80 substantial, 0.81-1 almost perfect.
MODERATE_KAPPA = 0.41

JUDGE = BASE + "llm_judge:\n  callable: mypkg.judge:judge\n  human_agreement:\n    labels: data/labels.jsonl\n"


class JudgeKappaThreshold(SpecRule):
    code = "LLM007"
    name = "judge-kappa-threshold"
    severity = Severity.WARNING
    message = "the judge's human-agreement bar is below moderate agreement"
    doc = RuleDoc(
        what=f"Flags `llm_judge.human_agreement.min_kappa` below {MODERATE_KAPPA} (below moderate agreement).",
        why="'LLM-as-judge: always validate with human agreement checks before trusting': the check only "
        "means something if its bar does. On Landis & Koch's scale a Cohen's kappa of 0.40 or less is at best "
        "'fair' agreement (moderate starts at 0.41); a judge that passes such a bar disagrees with people "
        "on a large share of the items and its verdicts cannot be trusted. The default, 0.6, asks for the "
        "top of 'moderate'.",
        example="human_agreement:\n  labels: data/judge_labels.jsonl\n  min_kappa: 0.3",
        instead="human_agreement:\n  labels: data/judge_labels.jsonl\n  min_kappa: 0.6",
        reference="LLM Evaluation: 'LLM-as-judge: always validate with human agreement checks before trusting'; "
        "Landis & Koch (1977), The measurement of observer agreement for categorical data",
    )
    VALID = (JUDGE, JUDGE + "    min_kappa: 0.41\n")
    INVALID = (Invalid(JUDGE + "    min_kappa: 0.3\n", line=13, col=16, message="fair"),)

    def check(self, ctx):
        judge = ctx.spec.llm_judge
        if judge is None or judge.human_agreement is None:
            return
        kappa = judge.human_agreement.min_kappa
        if kappa >= MODERATE_KAPPA:
            return
        band = "poor" if kappa < 0 else "slight" if kappa <= 0.20 else "fair"
        yield self.at(
            ctx,
            ("llm_judge", "human_agreement", "min_kappa"),
            f"`min_kappa: {kappa:g}` accepts a judge with only {band} agreement with people (Landis & Koch); "
            f"ask for at least moderate agreement (kappa >= {MODERATE_KAPPA}; the default is 0.6) before "
            "trusting its verdicts",
        )
