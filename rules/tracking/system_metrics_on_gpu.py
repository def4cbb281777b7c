"""TRK007 system-metrics-on-gpu: GPU runs log `system/...` metrics."""

from __future__ import annotations

import re

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

_PATH = ("tracking", "system_metrics")
_CUDA_DEVICE = re.compile(r"cuda(:\d+)?")


class SystemMetricsOnGpu(SpecRule):
    code = "TRK007"
    name = "system-metrics-on-gpu"
    severity = Severity.INFO
    message = "GPU runs without system metrics"
    doc = RuleDoc(
        what="Notes `tracking.system_metrics: false` when the spec runs on GPUs (`environment.gpu.count` greater "
        "than 0, or `training.device: cuda`/`cuda:N`).",
        why="The domain document's metric naming reserves `system/{resource}` for exactly this: "
        "`system/gpu_memory`, `system/gpu_utilization`. On GPUs they are how a slow, starved or memory-bound "
        "run is told from a bad configuration, and how sweep trials' costs are compared; a run that did not "
        "log them cannot be diagnosed afterwards.",
        example="tracking:\n  system_metrics: false\nenvironment:\n  gpu: {count: 4}",
        instead="tracking:\n  system_metrics: true\nenvironment:\n  gpu: {count: 4}",
        reference="Experiment Tracking > Metric Naming Convention: 'system/{resource} # system/gpu_memory, "
        "system/gpu_utilization'",
        fix="safe",
    )
    VALID = (
        BASE + "tracking:\n  system_metrics: false\n",  # CPU: little to learn from system metrics
        BASE + "tracking:\n  system_metrics: true\nenvironment:\n  gpu: {count: 4}\n",
    )
    INVALID = (
        Invalid(
            BASE + "tracking:\n  system_metrics: false\nenvironment:\n  gpu: {count: 4}\n",
            line=10,
            col=19,
            message="system_metrics: true",
            fixed=BASE + "tracking:\n  system_metrics: true\nenvironment:\n  gpu: {count: 4}\n",
        ),
        Invalid(
            BASE + "training:\n  device: cuda\ntracking:\n  system_metrics: false\n",
            line=12,
            col=19,
            fixed=BASE + "training:\n  device: cuda\ntracking:\n  system_metrics: true\n",
        ),
    )

    def check(self, ctx):
        spec = ctx.spec
        if spec.tracking.system_metrics is not False:
            return
        on_gpu = spec.environment.gpu.count > 0 or _CUDA_DEVICE.fullmatch(spec.training.device) is not None
        if on_gpu:
            yield self.at(
                ctx,
                _PATH,
                "tracking.system_metrics is false on a GPU run: system/gpu_memory and system/gpu_utilization are how "
                "a starved or memory-bound run is diagnosed; write `system_metrics: true`",
                fix=self.replace_value(ctx, _PATH, "true", "log system metrics"),
            )
