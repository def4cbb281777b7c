"""The metrics a run steers by: the sweep objective and the early-stopping metric, with where they are written."""

from __future__ import annotations

from typing import NamedTuple


class SteeringMetric(NamedTuple):
    """A metric something is chosen by: ``what`` chooses (for messages), ``path`` is where it is written."""

    name: str
    what: str
    path: tuple
    direction: str  # "maximize"/"minimize" (sweep) or "max"/"min" (early stopping)
    direction_path: tuple


def steering_metrics(spec) -> list[SteeringMetric]:
    """The sweep objective (when there is a sweep) and the early-stopping metric (when enabled)."""
    out = []
    if spec.sweep is not None:
        objective = spec.sweep.objective
        out.append(
            SteeringMetric(
                objective.metric,
                "the sweep objective",
                ("sweep", "objective", "metric"),
                objective.direction,
                ("sweep", "objective", "direction"),
            )
        )
    stopping = spec.training.early_stopping
    if stopping is not None:
        out.append(
            SteeringMetric(
                stopping.metric,
                "early stopping",
                ("training", "early_stopping", "metric"),
                stopping.mode,
                ("training", "early_stopping", "mode"),
            )
        )
    return out
