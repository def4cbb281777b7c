"""MET005 extractive-prefers-rouge: extractive generation without ROUGE."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import Invalid, RuleDoc
from ._selection import PreferredMetricRule, example_spec

SPEC = example_spec("generation", ("extractive",))


class ExtractivePrefersRouge(PreferredMetricRule):
    code = "MET005"
    name = "extractive-prefers-rouge"
    severity = Severity.INFO
    message = "extractive generation without ROUGE"
    task = "generation"
    doc = RuleDoc(
        what="Suggests a ROUGE metric (`rouge1`, `rouge2`, `rougeL`) for generation tasks with the trait "
        "`extractive` that report none.",
        why="Extractive outputs copy spans of the source, so n-gram overlap with the reference measures exactly "
        "what matters, while BERTScore's tolerance for paraphrase adds nothing and blurs the comparison: "
        "'ROUGE for extractive'.",
        example="experiment:\n  task: generation\n  traits: [extractive]\nmetrics:\n  primary: bertscore_f1",
        instead="experiment:\n  task: generation\n  traits: [extractive]\nmetrics:\n  primary: rougeL\n"
        "  secondary: [bertscore_f1]",
        reference="Metric Selection: NLP Generation | BERTScore | 'ROUGE for extractive'",
    )
    VALID = (
        example_spec("generation", ("abstractive",)),
        SPEC + "metrics:\n  secondary: [rouge2]\n",
        SPEC + "metrics:\n  primary: rougeL\n",
    )
    INVALID = (
        Invalid(SPEC, line=5, col=12, message="add `rougeL`"),
        Invalid(SPEC + "metrics:\n  secondary: [bleu]\n", line=11, col=3),
    )
