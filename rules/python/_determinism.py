"""Does a training script ask PyTorch for deterministic algorithms? (read by PY004 and PY009)

The switches, as the domain's ``enable_deterministic`` sets them ("Deterministic PyTorch"):
``torch.use_deterministic_algorithms(True, ...)``, ``torch.backends.cudnn.deterministic = True``, or
a call to an ``enable_deterministic(...)`` helper (rigorml's runtime one or the script's own).
"""

from __future__ import annotations

import libcst as cst

from .context import PythonContext, argument, is_true, last_name

USE_DETERMINISTIC = "torch.use_deterministic_algorithms"
CUDNN_DETERMINISTIC = "torch.backends.cudnn.deterministic"


def use_deterministic_calls(ctx: PythonContext) -> list[cst.Call]:
    """Every ``torch.use_deterministic_algorithms(True, ...)`` call (``mode=True`` too)."""
    return [
        call
        for call in ctx.nodes(cst.Call)
        if ctx.calls_to(call, USE_DETERMINISTIC) and is_true(getattr(argument(call, 0, "mode"), "value", None))
    ]


def determinism_switches(ctx: PythonContext) -> list[cst.CSTNode]:
    """Every place the module turns deterministic mode on, in source order."""

    def find() -> list[cst.CSTNode]:
        found: list[cst.CSTNode] = list(use_deterministic_calls(ctx))
        found += [call for call in ctx.nodes(cst.Call) if last_name(call) == "enable_deterministic"]
        for assign in ctx.nodes(cst.Assign):
            if is_true(assign.value) and any(ctx.calls_to(t.target, CUDNN_DETERMINISTIC) for t in assign.targets):
                found.append(assign)
        return sorted(found, key=lambda node: (ctx.span(node).line, ctx.span(node).col))

    return ctx.memo("determinism_switches", find)
