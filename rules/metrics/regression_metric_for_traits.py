"""MET009 regression-metric-for-traits: MSE when outliers are costly, MAPE for interpretability."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import Invalid, RuleDoc
from ._selection import PreferredMetricRule, example_spec


class RegressionMetricForTraits(PreferredMetricRule):
    code = "MET009"
    name = "regression-metric-for-traits"
    severity = Severity.INFO
    message = "regression traits without their preferred metric"
    task = "regression"
    doc = RuleDoc(
        what="Suggests `mse` (or `rmse`) for regression tasks with the trait `outlier_sensitive`, and `mape` for "
        "those with `interpretable`, when they are not reported.",
        why="MAE weighs every error by its size, so a few large misses barely move it; when a large miss is "
        "costly, squared error penalises it in proportion ('MSE when outlier penalty matters'). When the "
        "numbers must be read by people outside the project, a percentage error says more than an error in "
        "the target's units ('MAPE for interpretability'; it needs targets away from zero).",
        example="experiment:\n  task: regression\n  traits: [outlier_sensitive]\nmetrics:\n  primary: mae",
        instead="experiment:\n  task: regression\n  traits: [outlier_sensitive]\nmetrics:\n  primary: mse\n"
        "  secondary: [mae]",
        reference="Metric Selection: Regression | MAE | 'MSE when outlier penalty matters; MAPE for interpretability'",
    )
    VALID = (
        example_spec("regression"),
        example_spec("regression", ("outlier_sensitive",)) + "metrics:\n  secondary: [rmse]\n",
        example_spec("regression", ("interpretable",)) + "metrics:\n  primary: mape\n",
    )
    INVALID = (
        Invalid(example_spec("regression", ("outlier_sensitive",)), line=5, col=12, message="add `mse`"),
        Invalid(
            example_spec("regression", ("outlier_sensitive", "interpretable")) + "metrics:\n  secondary: [mse]\n",
            line=11,
            col=3,
            message="add `mape`",
        ),
    )
