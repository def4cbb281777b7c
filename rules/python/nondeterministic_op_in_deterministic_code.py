"""PY004 nondeterministic-op-in-deterministic-code: a known non-deterministic op where determinism is asked for."""

from __future__ import annotations

import libcst as cst

from ...compiler.diagnostics import Severity
from ...runtime.nondeterministic_ops import DETERMINISTIC_WHEN_REQUESTED, NONDETERMINISTIC_MODES, NONDETERMINISTIC_OPS
from ..base import Invalid, PythonRule, RuleDoc
from ._determinism import determinism_switches
from .context import PythonContext, argument, string_value

_METHOD_PREFIX = "torch.Tensor."


class NondeterministicOpInDeterministicCode(PythonRule):
    code = "PY004"
    name = "nondeterministic-op-in-deterministic-code"
    severity = Severity.WARNING
    message = "a known non-deterministic PyTorch op in a module that enables deterministic algorithms"
    doc = RuleDoc(
        what=(
            "In a module that turns deterministic mode on (`torch.use_deterministic_algorithms(True)`, "
            "`torch.backends.cudnn.deterministic = True`, or an `enable_deterministic(...)` call), flags calls "
            "to the known non-deterministic ops: `bincount`, `histc`, `F.interpolate` in modes "
            "linear/bilinear/bicubic/trilinear, `F.grid_sample`, `nn.ReflectionPad2d`, `F.ctc_loss` / "
            "`nn.CTCLoss`; and `index_add_` / `scatter_add_` when only `cudnn.deterministic` is set."
        ),
        why=(
            "These ops have no deterministic CUDA kernel (most of them for their backward pass): with "
            "`use_deterministic_algorithms(True)` training stops with a RuntimeError the first time one runs "
            "on the GPU (or only warns with `warn_only=True`, leaving the results non-deterministic), and "
            "with `cudnn.deterministic = True` alone they silently stay non-deterministic (it covers cuDNN "
            "kernels only: that is also why `index_add_` and `scatter_add_`, which "
            "`use_deterministic_algorithms(True)` does make deterministic, are flagged then)."
        ),
        example=(
            "torch.use_deterministic_algorithms(True)\n"
            'up = F.interpolate(x, scale_factor=2, mode="bilinear")'
        ),
        instead=(
            "torch.use_deterministic_algorithms(True)\n"
            'up = F.interpolate(x, scale_factor=2, mode="nearest")  # or a deterministic alternative'
        ),
        reference="Known Non-Deterministic PyTorch Ops; Deterministic PyTorch",
        fix="none",
        notes=(
            "The list lives in `rigorml.runtime.nondeterministic_ops`, shared with the runtime.",
            "`index_add_` / `scatter_add_` are not flagged once `use_deterministic_algorithms(True)` (or "
            "`enable_deterministic()`) is called: PyTorch 2.x then picks a slower deterministic kernel.",
            "`F.interpolate` is flagged only for a literal non-deterministic `mode`; its default, 'nearest', "
            "is deterministic.",
            "Tensor methods (`x.index_add_(...)`) are recognised by name, whatever `x` is.",
        ),
    )
    VALID = (
        # the default interpolation mode is deterministic
        "import torch\nimport torch.nn.functional as F\n\ntorch.use_deterministic_algorithms(True)\n\n\n"
        "def up(x):\n    return F.interpolate(x, scale_factor=2)\n",
        # the op without deterministic mode: nothing promised
        "import torch\n\n\ndef counts(labels):\n    return torch.bincount(labels)\n",
        # a NumPy bincount is not torch's
        "import numpy as np\nimport torch\n\ntorch.backends.cudnn.deterministic = True\ncounts = np.bincount(labels)\n",
        # use_deterministic_algorithms(True) gives index_add_ a deterministic kernel
        "import torch\n\ntorch.use_deterministic_algorithms(True)\n\n\n"
        "def pool(out, index, src):\n    return out.index_add_(0, index, src)\n",
    )
    INVALID = (
        Invalid(
            "import torch\nimport torch.nn.functional as F\n\ntorch.use_deterministic_algorithms(True)\n\n\n"
            'def up(x):\n    return F.interpolate(x, scale_factor=2, mode="bilinear")\n',
            line=8,
            col=12,
            message="deterministic",
        ),
        Invalid(
            "import torch\n\ntorch.backends.cudnn.deterministic = True\n\n\n"
            "def pool(out, index, src):\n    return out.index_add_(0, index, src)\n",
            line=7,
            col=12,
            message="index_add_",
        ),
        Invalid(
            "from torch import nn\nfrom rigorml.runtime import enable_deterministic\n\nenable_deterministic()\n"
            "pad = nn.ReflectionPad2d(2)\n",
            line=5,
            col=7,
        ),
    )

    def check(self, ctx: PythonContext):
        switches = determinism_switches(ctx)
        if not switches:
            return
        switch_line = ctx.span(switches[0]).line
        # use_deterministic_algorithms(True) (enable_deterministic calls it) swaps some ops for a
        # deterministic kernel; cudnn.deterministic = True alone does not.
        algorithms_requested = any(not isinstance(switch, cst.Assign) for switch in switches)
        for call in ctx.nodes(cst.Call):
            op = _op(ctx, call)
            if op is None or not _in_nondeterministic_mode(call, op):
                continue
            if algorithms_requested and op in DETERMINISTIC_WHEN_REQUESTED:
                continue
            shown = ctx.source(call.func)
            if op.startswith(_METHOD_PREFIX):
                shown = "." + op[len(_METHOD_PREFIX) :] + "()"
            elif op in NONDETERMINISTIC_MODES:
                index = NONDETERMINISTIC_MODES[op][0]
                shown += f"(mode={ctx.source(argument(call, index, 'mode').value)})"  # type: ignore[union-attr]
            yield self.finding(
                ctx.span(call),
                f"`{shown}` in a module that enables deterministic algorithms (line {switch_line}): "
                f"{NONDETERMINISTIC_OPS[op]}",
            )


def _op(ctx: PythonContext, call: cst.Call) -> str | None:
    """The ``NONDETERMINISTIC_OPS`` key this call is, or None."""
    qualified = ctx.qualified_names(call)
    for name in sorted(qualified):
        if name in NONDETERMINISTIC_OPS:
            return name
    if not qualified and isinstance(call.func, cst.Attribute):
        method = _METHOD_PREFIX + call.func.attr.value
        if method in NONDETERMINISTIC_OPS:
            return method
    return None


def _in_nondeterministic_mode(call: cst.Call, op: str) -> bool:
    """True unless ``op`` is non-deterministic only in some modes and the call uses another one."""
    if op not in NONDETERMINISTIC_MODES:
        return True
    index, modes = NONDETERMINISTIC_MODES[op]
    mode = argument(call, index, "mode")
    return mode is not None and string_value(mode.value) in modes
