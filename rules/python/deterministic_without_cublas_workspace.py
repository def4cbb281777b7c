"""PY009 deterministic-without-cublas-workspace: deterministic mode without ``CUBLAS_WORKSPACE_CONFIG``."""

from __future__ import annotations

import libcst as cst

from ...compiler.diagnostics import Severity
from ..base import Invalid, PythonRule, RuleDoc
from ._determinism import use_deterministic_calls
from .context import PythonContext, string_value

VARIABLE = "CUBLAS_WORKSPACE_CONFIG"
_ENV_SETTERS = ("os.environ.setdefault", "os.environ.update", "os.putenv")


class DeterministicWithoutCublasWorkspace(PythonRule):
    code = "PY009"
    name = "deterministic-without-cublas-workspace"
    severity = Severity.WARNING
    message = "torch.use_deterministic_algorithms(True) but CUBLAS_WORKSPACE_CONFIG is never set in this module"
    doc = RuleDoc(
        what=(
            "Flags `torch.use_deterministic_algorithms(True)` in a module that never sets the "
            "`CUBLAS_WORKSPACE_CONFIG` environment variable (`os.environ[...] = ...`, `os.environ.setdefault`, "
            "`os.environ.update`, `os.putenv`)."
        ),
        why=(
            "cuBLAS (CUDA >= 10.2) is only deterministic with a fixed workspace: without "
            "`CUBLAS_WORKSPACE_CONFIG=:4096:8` (or `:16:8`), PyTorch in deterministic mode raises a RuntimeError "
            "at the first matrix multiply on the GPU -- typically minutes into a job, after data loading."
        ),
        example="torch.use_deterministic_algorithms(True)",
        instead='os.environ["CUBLAS_WORKSPACE_CONFIG"] = ":4096:8"  # before any CUDA work\n'
        "torch.use_deterministic_algorithms(True)",
        reference=(
            "Deterministic PyTorch: enable_deterministic sets "
            "os.environ[\"CUBLAS_WORKSPACE_CONFIG\"] = \":4096:8\" with use_deterministic_algorithms(True)"
        ),
        fix="none",
        notes=(
            "No fix: the assignment must run before the CUDA context is created, which only the author can place.",
            "If the variable is set outside Python (the job script, the container), suppress with "
            "`# rigorml: ignore[PY009]`.",
        ),
    )
    VALID = (
        'import os\n\nimport torch\n\nos.environ["CUBLAS_WORKSPACE_CONFIG"] = ":4096:8"\n'
        "torch.use_deterministic_algorithms(True)\n",
        'import os\n\nimport torch\n\nos.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":16:8")\n'
        "torch.use_deterministic_algorithms(True, warn_only=True)\n",
        "import torch\n\ntorch.use_deterministic_algorithms(False)\n",
    )
    INVALID = (
        Invalid(
            "import torch\n\n\ndef enable_deterministic():\n    torch.use_deterministic_algorithms(True)\n"
            "    torch.backends.cudnn.benchmark = False\n",
            line=5,
            col=5,
            message="CUBLAS_WORKSPACE_CONFIG",
        ),
        Invalid(
            'import os\n\nfrom torch import use_deterministic_algorithms\n\nos.environ["PYTHONHASHSEED"] = "0"\n'
            "use_deterministic_algorithms(mode=True)\n",
            line=6,
            col=1,
        ),
    )

    def check(self, ctx: PythonContext):
        calls = use_deterministic_calls(ctx)
        if not calls or _sets_workspace(ctx):
            return
        for call in calls:
            yield self.finding(
                ctx.span(call),
                f"{self.message}: cuBLAS raises at run time on CUDA without it",
                hint='set os.environ["CUBLAS_WORKSPACE_CONFIG"] = ":4096:8" before any CUDA work',
            )


def _sets_workspace(ctx: PythonContext) -> bool:
    for assign in ctx.nodes(cst.Assign):
        for target in assign.targets:
            subscript = target.target
            if (
                isinstance(subscript, cst.Subscript)
                and ctx.calls_to(subscript.value, "os.environ")
                and any(_names_variable(element.slice) for element in subscript.slice)
            ):
                return True
    for call in ctx.nodes(cst.Call):
        if ctx.calls_to(call, *_ENV_SETTERS) and any(
            (arg.keyword is not None and arg.keyword.value == VARIABLE) or _names_variable(arg.value)
            for arg in call.args
        ):
            return True
    return False


def _names_variable(node: cst.CSTNode) -> bool:
    """Whether the variable's name is written as a string literal in ``node`` (a key of a dict, too)."""
    if isinstance(node, cst.Index):
        node = node.value
    if isinstance(node, cst.Dict):
        return any(isinstance(e, cst.DictElement) and string_value(e.key) == VARIABLE for e in node.elements)
    return string_value(node) == VARIABLE
