"""REP008 amp-on-cpu: mixed precision is asked for on a CPU run."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule
from ._arms import override_path, variant_overrides

_MIXED = ("bf16", "fp16")
_PRECISION, _DEVICE = "training.precision", "training.device"


class AmpOnCpu(SpecRule):
    code = "REP008"
    name = "amp-on-cpu"
    severity = Severity.WARNING
    message = "mixed precision on a CPU run"
    doc = RuleDoc(
        what="Flags `training.precision: bf16`/`fp16` together with `training.device: cpu`, in the base spec or "
        "in a variant.",
        why="`bf16`/`fp16` in a spec mean CUDA autocast, as on the GPUs the domain document compares "
        "('FP16/BF16 results vary across GPU architectures (A100 vs V100 vs H100)'). fp16 autocast is "
        "CUDA-only and CPU autocast is a different, slower code path with its own numerics, so the recorded "
        "precision would not describe what actually ran, and the results match neither an fp32 run nor a "
        "GPU mixed-precision run.",
        example="training:\n  precision: fp16\n  device: cpu",
        instead="training:\n  precision: fp32\n  device: cpu",
        reference="Gotchas > Reproducibility: 'FP16/BF16 results vary across GPU architectures (A100 vs V100 vs H100)'",
        fix="none",
        notes=("No fix: whether the run should be fp32 on CPU or mixed precision on CUDA is the author's choice.",),
    )
    VALID = (
        BASE,
        BASE + "training:\n  precision: fp32\n  device: cpu\n",
        BASE + "training:\n  precision: bf16\n  device: cuda\nenvironment:\n  gpu: {count: 1, type: H100}\n",
    )
    INVALID = (
        Invalid(BASE + "training:\n  precision: fp16\n  device: cpu\n", line=10, col=14, message="precision: fp32"),
        Invalid(
            BASE
            + "training:\n  device: cpu\n"
            + "variants:\n  full: {}\n  half:\n    overrides:\n      training.precision: bf16\n",
            line=15,
            col=27,
            message="variant `half`",
        ),
    )

    def check(self, ctx):
        training = ctx.spec.training
        if training.precision in _MIXED and training.device == "cpu":
            yield self._finding(ctx, "training.precision is", training.precision, ("training", "precision"))
        for variant, values in variant_overrides(ctx, _PRECISION, _DEVICE):
            precision = values.get(_PRECISION, training.precision)
            device = values.get(_DEVICE, training.device)
            if precision in _MIXED and device == "cpu":
                changed = _PRECISION if _PRECISION in values else _DEVICE
                yield self._finding(ctx, f"variant `{variant}` trains in", precision, override_path(variant, changed))

    def _finding(self, ctx, what: str, precision: str, path: tuple):
        return self.at(
            ctx,
            path,
            f"{what} {precision} on device cpu: mixed-precision autocast is meant for CUDA (fp16 is CUDA-only); "
            "write `precision: fp32` for a CPU run, or `device: cuda` for mixed precision",
        )
