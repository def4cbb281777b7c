"""Where the experiment runs and what happens after it: environment, pipeline, registry, deployment."""


from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from . import checks
from .base import StrictModel, unique_list

STAGES = ("ingestion", "validation", "features", "training", "evaluation", "deployment")
Stage = Literal["ingestion", "validation", "features", "training", "evaluation", "deployment"]


class GPU(StrictModel):
    """The accelerators results were produced on (parallel reductions change with the count)."""

    count: int = Field(0, ge=0, description="Number of GPUs (0 for CPU-only).")
    type: str | None = Field(None, description="GPU model, e.g. `A100-80GB`, `H100` (bf16/fp16 results vary by architecture).")


class Environment(StrictModel):
    """The software and hardware the results depend on."""

    python: str | None = Field(None, pattern=r"^3\.\d+(\.\d+)?$", description="Python version, e.g. `3.11`.")
    torch: str | None = Field(None, description="PyTorch version (weight init changed between versions).")
    cuda: str | None = Field(None, description="CUDA version, or `none` for CPU-only.")
    image: str | None = Field(None, description="Container image; pin the CUDA version in its tag.")
    lockfile: str | None = Field(None, description="Lockfile with hashes (`pip-compile --generate-hashes`).")
    gpu: GPU = Field(default_factory=GPU, description="Accelerators.")
    precision_notes: str | None = Field(None, description="Notes on numeric precision and expected cross-hardware variance.")


class Pipeline(StrictModel):
    """The stages from data to deployment (ingestion -> validation -> features -> training -> evaluation -> deployment)."""

    stages: unique_list(Stage) = Field(
        default_factory=checks.default_stages,
        description="Stages in the order they run.",
    )
    idempotent: bool = Field(True, description="Re-running a stage produces the same output (cached by content hash).")
    cache: Literal["content_hash", "none"] = Field("content_hash", description="Stage cache key.")
    data_versioning: Literal["hash", "dvc", "none"] = Field("hash", description="How data versions are recorded.")


RegistryStage = Literal["dev", "staging", "production"]
RegistryField = Literal["metrics", "config", "data_version", "git_hash", "training_duration", "environment"]


class Registry(StrictModel):
    """Model registry practice: promotion stages and required metadata."""

    backend: Literal["local", "mlflow", "wandb"] = Field("local", description="Registry backend.")
    stages: unique_list(RegistryStage) = Field(
        default_factory=checks.default_registry_stages, description="Promotion stages, in order."
    )
    required_metadata: unique_list(RegistryField) = Field(
        default_factory=checks.default_registry_metadata,
        description="Metadata every registered model must carry.",
    )
    keep_previous_production: bool = Field(True, description="Keep the previous production model for rollback.")


class Gate(StrictModel):
    """Promotion gate: a statistical comparison against the current baseline."""

    metric: str = Field(description="Metric compared, e.g. `f1_macro`.")
    baseline: str = Field("production", description="What the candidate must beat: `production` or an arm name.")
    test: Literal["paired_bootstrap", "permutation", "mcnemar", "wilcoxon", "t_test"] = Field(
        "paired_bootstrap", description="Test used by the gate."
    )
    min_improvement: float = Field(0.0, ge=0, description="Required improvement in metric units.")
    alpha: float = Field(0.05, gt=0, lt=1, description="Significance level of the gate.")


class Monitoring(StrictModel):
    """Drift monitoring after deployment."""

    data_drift: bool = Field(True, description="Monitor input distribution shift.")
    prediction_drift: bool = Field(True, description="Monitor prediction distribution shift.")
    latency: bool = Field(True, description="Monitor latency degradation.")


class Deployment(StrictModel):
    """How a model reaches users."""

    strategy: Literal["shadow", "canary", "blue_green", "ab_test"] = Field(
        "shadow", description="Shadow (first deployment), canary, blue_green, or ab_test."
    )
    first_deployment: bool = Field(False, description="Whether no model is in production yet.")
    canary_steps: Annotated[list[float] | None, AfterValidator(checks.increasing_fractions)] = Field(None, description="Traffic fractions for a canary rollout, increasing to 1.")
    gate: Gate | None = Field(None, description="Automated comparison against the baseline before promotion.")
    rollback: bool = Field(True, description="Keep the previous model ready for rollback.")
    monitoring: Monitoring = Field(default_factory=Monitoring, description="Drift monitoring.")

    _canary_only_for_canary = model_validator(mode="after")(checks.canary_only_for_canary)
