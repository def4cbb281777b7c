"""REP005 gpu-count-documented: GPU runs say on how many GPUs they ran."""

from __future__ import annotations

import re

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

_CUDA_DEVICE = re.compile(r"cuda(:\d+)?")
_COUNT = ("environment", "gpu", "count")


class GpuCountDocumented(SpecRule):
    code = "REP005"
    name = "gpu-count-documented"
    severity = Severity.WARNING
    message = "GPU run without environment.gpu.count"
    doc = RuleDoc(
        what="Flags a spec that runs on GPUs (`training.device: cuda`/`cuda:N`, or `environment.gpu.type` "
        "written) but does not write `environment.gpu.count`, or writes `count: 0`.",
        why="The domain document warns: 'Parallel reductions (multi-GPU) change floating point accumulation "
        "order -- document exact GPU count'. The same spec and seed give different numbers on 1 and 4 GPUs, so "
        "a result is only reproducible together with the count it was produced on.",
        example="training:\n  device: cuda\nenvironment:\n  gpu:\n    type: A100-80GB",
        instead="training:\n  device: cuda\nenvironment:\n  gpu:\n    count: 4\n    type: A100-80GB",
        reference="Gotchas > Reproducibility: 'Parallel reductions (multi-GPU) change floating point "
        "accumulation order -- document exact GPU count'",
        fix="none",
        notes=("No fix: only the author knows how many GPUs the results come from.",),
    )
    VALID = (
        BASE,
        BASE + "training:\n  device: cuda\nenvironment:\n  gpu:\n    count: 1\n",
        BASE + "environment:\n  gpu: {count: 4, type: H100}\n",
    )
    INVALID = (
        Invalid(
            BASE + "training:\n  device: cuda:0\nenvironment:\n  python: '3.11'\n", line=11, col=1, message="count"
        ),
        Invalid(BASE + "environment:\n  gpu:\n    type: A100-80GB\n", line=10, col=3, message="count: N"),
        Invalid(BASE + "training:\n  device: cuda\nenvironment:\n  gpu:\n    count: 0\n", line=13, col=12),
    )

    def check(self, ctx):
        device = ctx.spec.training.device
        on_cuda = ctx.written(("training", "device")) and _CUDA_DEVICE.fullmatch(device) is not None
        gpu_type = ctx.spec.environment.gpu.type
        if not on_cuda and gpu_type is None:
            return
        why = f"training.device is {device}" if on_cuda else f"environment.gpu.type is {gpu_type}"
        if not ctx.written(_COUNT):
            yield self.at(
                ctx,
                _COUNT,
                f"{why} but environment.gpu.count is not written: parallel reductions change the floating-point "
                "accumulation order, so document the exact GPU count (`gpu: {count: N}`)",
                key=True,
            )
        elif ctx.spec.environment.gpu.count == 0:
            yield self.at(
                ctx,
                _COUNT,
                f"{why} but environment.gpu.count is 0: write the exact number of GPUs the results are produced on",
            )
