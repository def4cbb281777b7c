"""MET006 language-modeling-perplexity: a language-modeling task that does not report perplexity."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import Invalid, RuleDoc, SpecRule
from ._selection import example_spec, reported

SPEC = example_spec("language_modeling")


class LanguageModelingPerplexity(SpecRule):
    code = "MET006"
    name = "language-modeling-perplexity"
    severity = Severity.WARNING
    message = "language modeling without perplexity"
    doc = RuleDoc(
        what="Flags `language_modeling` tasks that report no `perplexity` (as primary or secondary metric).",
        why="Perplexity is the exponentiated per-token cross-entropy on held-out text: the quantity a language "
        "model is trained to minimise, comparable across runs that share a tokenizer, and the one readers "
        "expect ('perplexity for language modeling'). Task metrics such as exact match say how a model "
        "does downstream, not how well it models the language.",
        example="experiment:\n  task: language_modeling\nmetrics:\n  primary: exact_match",
        instead="experiment:\n  task: language_modeling\nmetrics:\n  primary: perplexity\n  secondary: [exact_match]",
        reference="Metric Selection: NLP Generation | BERTScore | 'perplexity for language modeling'",
    )
    VALID = (
        SPEC,  # perplexity is the default primary metric
        SPEC + "metrics:\n  primary: exact_match\n  secondary: [perplexity]\n",
    )
    INVALID = (
        Invalid(SPEC + "metrics:\n  primary: exact_match\n", line=10, col=12, message="add `perplexity`"),
    )

    def check(self, ctx):
        if ctx.task != "language_modeling" or "perplexity" in reported(ctx):
            return
        yield self.at(
            ctx,
            ("metrics", "primary"),  # written: the default primary is perplexity
            f"language_modeling reports `{ctx.primary_metric}` but not perplexity, the standard metric for "
            "language modeling: add `perplexity` to `metrics.secondary`, or make it the primary metric",
        )
