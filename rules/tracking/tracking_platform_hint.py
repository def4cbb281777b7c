"""TRK005 tracking-platform-hint: the domain's platform decision rule, for MLOps specs tracked with W&B."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

_PATH = ("tracking", "backend")
_REGISTRY = "registry:\n  stages: [dev, staging, production]\n"


class TrackingPlatformHint(SpecRule):
    code = "TRK005"
    name = "tracking-platform-hint"
    severity = Severity.INFO
    message = "an MLOps pipeline tracked with W&B"
    doc = RuleDoc(
        what="Notes a spec with a `registry` or `deployment` section (a production MLOps pipeline) that tracks "
        "with `wandb` while its model registry is not W&B's.",
        why="The domain document's decision rule: 'Research/experimentation-heavy -> W&B. Production MLOps on "
        "Databricks -> MLflow. Budget-conscious or simple needs -> Neptune or MLflow self-hosted.' A spec that "
        "registers and deploys models is on the MLOps side, where MLflow is 'Best for MLOps pipelines, "
        "Databricks shops': runs link to registered model versions, which the registry practice needs "
        "('Every model artifact: metrics, config, data version, git hash, training duration'). This is the "
        "rule's only condition, chosen because it is the one the table decides clearly. Other combinations "
        "are fine and stay quiet: a sweep tracked with MLflow (MLflow has no built-in sweeps, but rigorml runs "
        "Optuna itself with any backend), Neptune with a sweep, W&B for research specs, or W&B with a W&B "
        "registry (a team that has chosen W&B for both).",
        example="tracking:\n  backend: wandb\nregistry:\n  backend: mlflow",
        instead="tracking:\n  backend: mlflow\nregistry:\n  backend: mlflow",
        reference="Experiment Tracking > Platform Selection: 'Decision rule: Research/experimentation-heavy -> "
        "W&B. Production MLOps on Databricks -> MLflow.'",
        fix="none",
        notes=("A hint, not a defect: keep W&B where the team's tooling lives there, and silence it with "
               "`# rigorml: ignore[TRK005]`.",),
    )
    VALID = (
        BASE + "tracking:\n  backend: wandb\n",
        BASE + "tracking:\n  backend: mlflow\n" + _REGISTRY,
        BASE + "tracking:\n  backend: wandb\nregistry:\n  backend: wandb\n",
    )
    INVALID = (
        Invalid(BASE + "tracking:\n  backend: wandb\n" + _REGISTRY, line=10, col=12, message="MLflow"),
        Invalid(
            BASE + "tracking:\n  backend: wandb\ndeployment:\n  strategy: shadow\n",
            line=10,
            col=12,
            message="deployment",
        ),
    )

    def check(self, ctx):
        spec = ctx.spec
        if spec.tracking.backend != "wandb" or (spec.registry is None and spec.deployment is None):
            return
        if spec.registry is not None and spec.registry.backend == "wandb":
            return
        sections = " and ".join(name for name in ("registry", "deployment") if getattr(spec, name) is not None)
        yield self.at(
            ctx,
            _PATH,
            f"this spec has a {sections} section (a production MLOps pipeline) and tracks with wandb: the domain's "
            "decision rule picks MLflow for MLOps pipelines (Databricks shops), where runs link to registered "
            "model versions; consider `backend: mlflow` (W&B suits research- and experimentation-heavy work)",
        )
