"""ENV002 image-for-gpu-runs: GPU runs name the container image they run in."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule


class ImageForGpuRuns(SpecRule):
    code = "ENV002"
    name = "image-for-gpu-runs"
    severity = Severity.INFO
    message = "GPU runs without a container image"
    doc = RuleDoc(
        what="Notes a spec that writes `environment.gpu.count` greater than 0 but no `environment.image`.",
        why="On GPUs the results depend on the CUDA and cuDNN libraries as much as on PyTorch, and the domain "
        "document's environment locking is to 'Pin CUDA version in Docker image tag, not just PyTorch "
        "version'. Without an image the CUDA stack is whatever the machine has installed, and it cannot be "
        "recreated on another machine.",
        example="environment:\n  gpu: {count: 1, type: A100-80GB}",
        instead="environment:\n  image: pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime\n"
        "  gpu: {count: 1, type: A100-80GB}",
        reference="Reproducibility > Environment Locking: 'Pin CUDA version in Docker image tag, not just "
        "PyTorch version'",
        fix="none",
        notes=("No fix: the image is the author's choice.",),
    )
    VALID = (
        BASE,
        BASE + "environment:\n  gpu: {count: 0}\n",
        BASE + "environment:\n  image: pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime\n  gpu: {count: 2}\n",
    )
    INVALID = (Invalid(BASE + "environment:\n  gpu: {count: 2}\n", line=9, col=1, message="image:"),)

    def check(self, ctx):
        environment = ctx.spec.environment
        if not ctx.written(("environment", "gpu", "count")) or environment.gpu.count <= 0 or environment.image:
            return
        yield self.at(
            ctx,
            ("environment", "image"),
            f"environment.gpu.count is {environment.gpu.count} but no environment.image is written: the CUDA stack "
            "is whatever the machine has; name a container image with the CUDA version in its tag, e.g. "
            "`image: pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime`",
            key=True,
        )
