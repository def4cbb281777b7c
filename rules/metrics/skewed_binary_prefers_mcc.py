"""MET003 skewed-binary-prefers-mcc: binary classification with skewed classes without MCC."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import Invalid, RuleDoc
from ._selection import PreferredMetricRule, example_spec

SPEC = example_spec("classification", ("binary", "skewed"))


class SkewedBinaryPrefersMcc(PreferredMetricRule):
    code = "MET003"
    name = "skewed-binary-prefers-mcc"
    severity = Severity.WARNING
    message = "skewed binary classification without MCC"
    task = "classification"
    doc = RuleDoc(
        what="Flags classification tasks with the traits `binary` and `skewed` that do not report `mcc`.",
        why="On a skewed binary problem accuracy and even F1 reward predicting the majority class. The Matthews "
        "correlation coefficient uses all four cells of the confusion matrix and is high only when the model "
        "does well on both classes ('MCC for binary with skew').",
        example="experiment:\n  task: classification\n  traits: [binary, skewed]\nmetrics:\n  primary: f1_macro",
        instead="experiment:\n  task: classification\n  traits: [binary, skewed]\nmetrics:\n  primary: f1_macro\n"
        "  secondary: [mcc]",
        reference="Metric Selection: Classification | F1 (macro) | 'MCC for binary with skew'",
    )
    VALID = (
        example_spec("classification", ("binary",)),
        SPEC + "metrics:\n  secondary: [mcc]\n",
        SPEC + "metrics:\n  primary: mcc\n",
    )
    INVALID = (
        Invalid(SPEC, line=5, col=20, message="prefers MCC for binary with skew; add `mcc`"),
        Invalid(SPEC + "metrics:\n  secondary: [auroc]\n", line=11, col=3),
    )
