"""MET004 coarse-localization-prefers-map50: coarse-localization detection without mAP@0.5."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import Invalid, RuleDoc
from ._selection import PreferredMetricRule, example_spec

SPEC = example_spec("detection", ("coarse_localization",))


class CoarseLocalizationPrefersMap50(PreferredMetricRule):
    code = "MET004"
    name = "coarse-localization-prefers-map50"
    severity = Severity.INFO
    message = "coarse-localization detection without mAP@0.5"
    task = "detection"
    doc = RuleDoc(
        what="Suggests `map_50` for detection tasks with the trait `coarse_localization` that do not report it.",
        why="mAP@0.5:0.95 averages over overlap thresholds up to 0.95 and so rewards pixel-tight boxes. When "
        "a box only needs to find the object roughly, that strictness measures something the application does "
        "not need: 'mAP@0.5 for coarse localization'.",
        example="experiment:\n  task: detection\n  traits: [coarse_localization]\nmetrics:\n  primary: map",
        instead="experiment:\n  task: detection\n  traits: [coarse_localization]\nmetrics:\n  primary: map_50\n"
        "  secondary: [map]",
        reference="Metric Selection: Detection | mAP@0.5:0.95 | 'mAP@0.5 for coarse localization'",
    )
    VALID = (
        example_spec("detection"),
        SPEC + "metrics:\n  primary: map_50\n",
        SPEC + "metrics:\n  secondary: [map_50]\n",
    )
    INVALID = (
        Invalid(SPEC, line=5, col=12, message="add `map_50`"),
        Invalid(SPEC + "metrics:\n  primary: map\n", line=10, col=1),
    )
