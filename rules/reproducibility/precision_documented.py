"""REP006 precision-documented: mixed-precision results say which GPU architecture produced them."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule
from ._arms import override_path, variant_overrides

_MIXED = ("bf16", "fp16")


class PrecisionDocumented(SpecRule):
    code = "REP006"
    name = "precision-documented"
    severity = Severity.WARNING
    message = "mixed precision without the GPU type or precision notes"
    doc = RuleDoc(
        what="Flags `training.precision: bf16`/`fp16` (in the base spec or a variant) when neither "
        "`environment.gpu.type` nor `environment.precision_notes` is written.",
        why="The domain document warns: 'FP16/BF16 results vary across GPU architectures (A100 vs V100 vs "
        "H100)'. A mixed-precision result re-run on another architecture differs even with the same seeds, "
        "so the spec must say which GPU it was produced on, or note the expected cross-hardware variance.",
        example="training:\n  precision: bf16",
        instead="training:\n  precision: bf16\nenvironment:\n  gpu: {count: 1, type: A100-80GB}",
        reference="Gotchas > Reproducibility: 'FP16/BF16 results vary across GPU architectures (A100 vs V100 vs H100)'",
        fix="none",
        notes=("No fix: only the author knows the GPU the results come from.",),
    )
    VALID = (
        BASE,
        BASE + "training:\n  precision: bf16\nenvironment:\n  gpu: {count: 1, type: A100-80GB}\n",
        BASE
        + "training:\n  precision: fp16\n"
        + "environment:\n  precision_notes: fp16 autocast; expect small differences on other GPUs\n",
    )
    INVALID = (
        Invalid(BASE + "training:\n  precision: bf16\n", line=10, col=14, message="environment.gpu.type"),
        Invalid(
            BASE + "variants:\n  fp32: {}\n  half:\n    overrides:\n      training.precision: fp16\n",
            line=13,
            col=27,
            message="variant `half`",
        ),
    )

    def check(self, ctx):
        environment = ctx.spec.environment
        if environment.gpu.type is not None or environment.precision_notes is not None:
            return
        arms = []
        if ctx.spec.training.precision in _MIXED:
            arms.append(("training.precision", ctx.spec.training.precision, ("training", "precision")))
        for variant, values in variant_overrides(ctx, "training.precision"):
            if values["training.precision"] in _MIXED:
                path = override_path(variant, "training.precision")
                arms.append((f"variant `{variant}` trains in", values["training.precision"], path))
        for what, precision, path in arms:
            yield self.at(
                ctx,
                path,
                f"{what} {precision}, but neither environment.gpu.type nor environment.precision_notes is written: "
                f"{precision} results vary across GPU architectures (A100 vs V100 vs H100); write the GPU "
                "(`gpu: {count: 1, type: A100-80GB}`) or `precision_notes:`",
            )
