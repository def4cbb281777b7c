"""ENV004 cuda-version-declared: GPU runs declare the CUDA version."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

_PATH = ("environment", "cuda")


class CudaVersionDeclared(SpecRule):
    code = "ENV004"
    name = "cuda-version-declared"
    severity = Severity.WARNING
    message = "GPU runs without a CUDA version"
    doc = RuleDoc(
        what="Flags a spec with `environment.gpu.count` greater than 0 whose `environment.cuda` is not written "
        "or is `none`.",
        why="The domain document's environment locking pins the CUDA version, 'not just PyTorch version': "
        "one PyTorch release is built against several CUDA versions, whose kernels (and so whose numbers) "
        "differ. A GPU result needs the CUDA version next to it to be reproduced.",
        example="environment:\n  torch: 2.3.1\n  gpu: {count: 1}",
        instead="environment:\n  torch: 2.3.1\n  cuda: '12.1'\n  gpu: {count: 1}",
        reference="Reproducibility > Environment Locking: 'Pin CUDA version in Docker image tag, not just "
        "PyTorch version'",
        fix="none",
        notes=("No fix: rigorml never inspects the machine while linting; the version is the author's to write.",),
    )
    VALID = (
        BASE,
        BASE + "environment:\n  cuda: none\n  gpu: {count: 0}\n",
        BASE + "environment:\n  cuda: '12.1'\n  gpu: {count: 1}\n",
    )
    INVALID = (
        Invalid(BASE + "environment:\n  gpu: {count: 1}\n", line=9, col=1, message="cuda: '12.1'"),
        Invalid(BASE + "environment:\n  cuda: none\n  gpu: {count: 4}\n", line=10, col=9, message="none"),
    )

    def check(self, ctx):
        environment = ctx.spec.environment
        count = environment.gpu.count
        if count <= 0:
            return
        if environment.cuda is None:
            yield self.at(
                ctx,
                _PATH,
                f"environment.gpu.count is {count} but environment.cuda is not written: write the CUDA version the "
                "results come from, e.g. `cuda: '12.1'` (quoted, so YAML keeps it a string)",
                key=True,
            )
        elif environment.cuda.strip().lower() == "none":
            yield self.at(
                ctx,
                _PATH,
                f"environment.cuda is none but environment.gpu.count is {count}: write the CUDA version the GPU "
                "runs use, e.g. `cuda: '12.1'`",
            )
