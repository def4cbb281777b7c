"""What is logged, where, and under which names."""


from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from . import checks
from .base import StrictModel, unique_list


class Capture(StrictModel):
    """What every run records so it can be reproduced exactly."""

    git_commit: bool = Field(True, description="The git commit hash.")
    git_dirty: bool = Field(True, description="Whether the work tree had uncommitted changes.")
    git_diff: bool = Field(True, description="The full diff of uncommitted changes.")
    command: bool = Field(True, description="The exact command line.")
    resolved_config: bool = Field(True, description="The fully resolved spec (JSON) next to every checkpoint.")
    environment: bool = Field(True, description="Python/torch/CUDA versions, GPU count and name, precision.")


class Artifacts(StrictModel):
    """Which artifacts are kept in the tracker."""

    checkpoints: Literal["none", "best", "last", "all"] = Field("best", description="Which checkpoints to upload.")
    predictions: bool = Field(True, description="Per-example predictions (needed for paired statistics).")
    versioned: bool = Field(True, description="Version artifacts (W&B Artifacts / MLflow model versions).")


class Tracking(StrictModel):
    """Experiment tracking backend and naming."""

    backend: Literal["local", "mlflow", "wandb", "neptune"] = Field(
        "local",
        description="`local` (default, crash-safe store in the run directory), `mlflow`, `wandb` (offline unless `mode: online`), `neptune`.",
    )
    project: str | None = Field(None, description="Project in the tracker; defaults to `experiment.project` or the name.")
    uri: str | None = Field(None, description="Tracking URI (MLflow) or base URL; default: a store under the run directory.")
    mode: Literal["offline", "online"] = Field("offline", description="W&B/Neptune connection mode.")
    run_name: Annotated[str, AfterValidator(checks.run_name_template)] = Field(
        "{experiment}-{variant}-s{seed}",
        description=(
            "Run-name template; placeholders: {experiment}, {variant}, {seed}, {trial}. A sweep trial's name "
            "gets `-t{trial}` appended when the template has no {trial}, so trials never share a name."
        ),
    )
    group: str | None = Field(None, description="Run group; defaults to `experiment.group` or the name. Set it for sweeps.")
    tags: unique_list(str) = Field(default_factory=list, description="Tags added to every run.")
    capture: Capture = Field(default_factory=Capture, description="What every run records for reproduction.")
    artifacts: Artifacts = Field(default_factory=Artifacts, description="Artifact policy.")
    system_metrics: bool = Field(True, description="Log `system/...` metrics (CPU/GPU memory, GPU utilisation).")
    system_interval_s: float = Field(10.0, gt=0, description="Seconds between system metric samples.")
