"""The experiment spec, version 1: the one document a researcher writes.

``Spec`` is the single source of truth for the shape of a spec; the JSON Schema for editors is
generated from it (``rigorml schema``). Cross-field rules that make a spec meaningless (a comparison
naming an unknown arm, a sweep path that does not exist) live in :mod:`.references`.
"""


from typing import Any, Literal

from pydantic import Field

from .base import CallableRef, Name, StrictModel, unique_list
from .evaluation import Evaluation, LLMJudge
from .experiment import Data, Experiment, Model, Seeds
from .operations import Deployment, Environment, Pipeline, Registry
from .sweep import Sweep
from .tracking import Tracking
from .references import arms_of
from .training import Training
from .vocabulary import OVERRIDABLE_SECTIONS  # noqa: F401  (re-exported: part of the spec's vocabulary)

SPEC_VERSION = 1



class Variant(StrictModel):
    """A named arm of the experiment: the base spec with some values overridden."""

    description: str = Field("", description="What this arm changes and why.")
    role: Literal["baseline", "treatment", "ablation"] = Field(
        "treatment", description="The arm's role: the baseline, a treatment, or an ablation (something removed)."
    )
    overrides: dict[str, Any] = Field(
        default_factory=dict,
        description="Values replaced in this arm, keyed by dotted path under data/model/training, e.g. `model.params.dropout: 0.0`.",
        examples=[{"training.optimizer.lr": 0.01, "model.params.hidden_sizes": [256]}],
    )


class Metrics(StrictModel):
    """Which metrics decide the experiment. Logged names follow `{split}/{metric}`."""

    primary: str | None = Field(
        None,
        description="The metric comparisons and the report lead with; defaults to the task's standard metric (F1 macro, mAP, BERTScore, MAE, NDCG, perplexity).",
        examples=["f1_macro", "ndcg@10"],
    )
    secondary: unique_list(str) = Field(default_factory=list, description="Further metrics reported for every arm.")
    custom: dict[str, CallableRef] = Field(
        default_factory=dict,
        description="User metrics: name -> `module:function(y_true, y_pred) -> float`.",
    )
    logged: unique_list(str) = Field(
        default_factory=list,
        description="Extra metric names your own code logs (`{split}/{metric}`, `{split}/{task}/{metric}`, `system/{resource}`).",
    )


class Spec(StrictModel):
    """A rigorml experiment spec."""

    version: Literal[1] = Field(description="Spec format version; this is version 1.")
    extends: unique_list(str) = Field(
        default_factory=list,
        exclude=True,
        description="Other spec files (relative to this one) deep-merged underneath this one, in order.",
    )
    experiment: Experiment = Field(description="Identity and task.")
    seeds: Seeds = Field(default_factory=Seeds, description="Per-component and replicate seeds.")
    data: Data = Field(description="Data source, splits, version and loader.")
    model: Model = Field(description="Model factory and parameters.")
    training: Training = Field(default_factory=Training, description="Training loop.")
    variants: dict[Name, Variant] = Field(
        default_factory=dict,
        description="Named arms (baseline, treatments, ablations); each runs over every replicate seed. Empty: one arm, `base`.",
    )
    metrics: Metrics = Field(default_factory=Metrics, description="Primary and secondary metrics.")
    tracking: Tracking = Field(default_factory=Tracking, description="Experiment tracking.")
    sweep: Sweep | None = Field(None, description="Hyperparameter search.")
    evaluation: Evaluation = Field(default_factory=Evaluation, description="Preregistered comparisons and statistics.")
    llm_judge: LLMJudge | None = Field(None, description="LLM-as-judge protocol.")
    environment: Environment = Field(default_factory=Environment, description="Software and hardware environment.")
    pipeline: Pipeline | None = Field(None, description="Pipeline stages.")
    registry: Registry | None = Field(None, description="Model registry practice.")
    deployment: Deployment | None = Field(None, description="Deployment strategy and gate.")

    @property
    def arms(self) -> list[str]:
        """The arms that run: the declared variants, or the single arm ``base``."""
        return arms_of(self)
