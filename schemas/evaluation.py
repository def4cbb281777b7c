"""The preregistered evaluation plan, and the LLM-as-judge protocol.

The plan is declared before anything runs: which arms are compared, on which metric and split, with
which test, which correction over which family, and what effect would matter.
"""


from typing import Literal

from pydantic import Field, model_validator

from . import checks
from .base import CallableRef, Name, StrictModel

Test = Literal["paired_bootstrap", "permutation", "mcnemar", "wilcoxon", "t_test"]
Correction = Literal["auto", "bh", "by", "bonferroni", "holm", "none"]
EffectSize = Literal["cohens_dz", "cohens_dav", "cohens_d", "hedges_g"]


class Comparison(StrictModel):
    """One preregistered comparison: ``treatment`` against ``control`` on one metric."""

    name: str | None = Field(None, description="Label; defaults to `treatment-vs-control`.")
    treatment: Name = Field(description="The arm (variant) under test.")
    control: Name = Field(description="The arm it is compared against (usually the baseline).")
    metric: str | None = Field(None, description="Metric name; defaults to `metrics.primary`.")
    test: Test = Field(
        "paired_bootstrap",
        description="Statistical test: paired_bootstrap (default; no normality assumption), permutation, mcnemar (classifiers on one test set), wilcoxon, t_test.",
    )
    paired: bool = Field(True, description="Paired test (arms share test data and seeds); false for independent samples.")
    alternative: Literal["two-sided", "greater", "less"] = Field("two-sided", description="Alternative hypothesis.")

    _coherent = model_validator(mode="after")(checks.comparison_coherent)


class Bootstrap(StrictModel):
    """Bootstrap settings."""

    method: Literal["percentile", "bca"] = Field("percentile", description="Confidence interval method.")
    level: Literal["seeds_x_examples", "examples", "seeds"] = Field(
        "seeds_x_examples", description="What is resampled: seeds and examples (two-level), examples only, or seeds only."
    )


class Evaluation(StrictModel):
    """How arms are compared: tests, corrections, effect sizes."""

    split: Literal["train", "val", "test"] = Field("test", description="Split the comparisons are made on.")
    baseline: Name | None = Field(
        None, description="Arm to compare every other arm against when `comparisons` is not given."
    )
    comparisons: list[Comparison] = Field(default_factory=list, description="The preregistered comparisons.")
    alpha: float = Field(0.05, gt=0, lt=1, description="Significance level for the family.")
    family: Literal["exploratory", "confirmatory"] = Field(
        "exploratory",
        description="Purpose of the family of comparisons: exploratory (ablations; `auto` -> Benjamini-Hochberg) or confirmatory (claims; `auto` -> Bonferroni).",
    )
    correction: Correction = Field(
        "auto",
        description="Multiple-comparison correction: bh, by, bonferroni, holm, none; `auto` follows `family`.",
    )
    effect_size: EffectSize = Field(
        "cohens_dz", description="Effect size reported with every p-value: cohens_dz / cohens_dav (paired), cohens_d, hedges_g (independent)."
    )
    minimum_effect: float = Field(
        0.0, ge=0, description="Smallest difference in metric units that would matter (the verdict requires it)."
    )
    confidence: float = Field(0.95, gt=0, lt=1, description="Confidence level of intervals.")
    resamples: int = Field(10_000, ge=100, description="Bootstrap/permutation resamples.")
    bootstrap: Bootstrap = Field(default_factory=Bootstrap, description="How bootstrap intervals are computed and what is resampled.")
    seed: int | None = Field(None, ge=0, description="Seed for resampling; defaults to `seeds.global`.")

    @property
    def resolved_correction(self) -> str:
        """The correction actually applied (``auto`` resolved through ``family``)."""
        if self.correction != "auto":
            return self.correction
        return "bh" if self.family == "exploratory" else "bonferroni"


class HumanAgreement(StrictModel):
    """Validate the judge against human labels before trusting it."""

    labels: str = Field(description="Path to human labels (JSONL/CSV with item id and label).")
    min_kappa: float = Field(0.6, ge=-1, le=1, description="Minimum Cohen's kappa between judge and humans.")


class LLMJudge(StrictModel):
    """An LLM-as-judge protocol (pairwise, temperature 0, repeated, validated against humans)."""

    callable: CallableRef | None = Field(None, description="`module:function` judge, called in-process.")
    command: list[str] | None = Field(None, min_length=1, description="Judge as a command (argv list); reads JSON on stdin.")
    model: str | None = Field(None, description="Judge model identifier, recorded with every judgement.")
    mode: Literal["pairwise", "absolute"] = Field("pairwise", description="Pairwise (A vs B, more reliable) or absolute scoring.")
    scale: tuple[int, int] | None = Field(None, description="Score range for `absolute` mode, e.g. [1, 5].")
    temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature of judge calls (should be 0).")
    repeats: int = Field(3, ge=1, description="Times each judgement is made (3 for stability).")
    position_swap: bool = Field(True, description="Judge both orders (A,B) and (B,A) to cancel position bias.")
    human_agreement: HumanAgreement | None = Field(None, description="Human-agreement check.")
    track_self_agreement: bool = Field(True, description="Report self-agreement across repeats as a meta-metric.")
    rubric: str | None = Field(None, description="Judging instructions, or a path to them.")

    _one_judge = model_validator(mode="after")(checks.one_judge)
