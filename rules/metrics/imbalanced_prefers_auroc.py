"""MET002 imbalanced-prefers-auroc: imbalanced classification without AUC-ROC (or AUC-PR)."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import Invalid, RuleDoc
from ._selection import PreferredMetricRule, example_spec

SPEC = example_spec("classification", ("imbalanced",))


class ImbalancedPrefersAuroc(PreferredMetricRule):
    code = "MET002"
    name = "imbalanced-prefers-auroc"
    severity = Severity.WARNING
    message = "imbalanced classification without AUC-ROC"
    task = "classification"
    doc = RuleDoc(
        what="Flags classification tasks with the trait `imbalanced` that report neither `auroc` nor `auprc`.",
        why="With imbalanced classes, metrics computed at one decision threshold move with the threshold and "
        "the class ratio: a model can look good by favouring the majority class. AUC-ROC measures how well the "
        "model ranks positives above negatives over every threshold, independent of the class ratio "
        "('AUC-ROC for imbalanced'); AUC-PR is the stricter choice when the positive class is rare.",
        example="experiment:\n  task: classification\n  traits: [imbalanced]\nmetrics:\n  primary: f1_macro",
        instead="experiment:\n  task: classification\n  traits: [imbalanced]\nmetrics:\n  primary: f1_macro\n"
        "  secondary: [auroc]",
        reference="Metric Selection: Classification | F1 (macro) | 'AUC-ROC for imbalanced'",
        notes=("`auprc` (area under the precision-recall curve) also satisfies the rule.",),
    )
    VALID = (
        example_spec("classification"),
        SPEC + "metrics:\n  secondary: [auroc]\n",
        SPEC + "metrics:\n  primary: auprc\n",
    )
    INVALID = (
        Invalid(SPEC, line=5, col=12, message="prefers AUC-ROC for imbalanced classes; add `auroc`"),
        Invalid(SPEC + "metrics:\n  secondary: [accuracy]\n", line=11, col=3),
        Invalid(SPEC + "metrics:\n  primary: f1_macro\n", line=10, col=1),
    )
