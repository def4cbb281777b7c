"""PY005 checkpoint-without-full-state: ``torch.save`` of model weights without what a resume needs."""

from __future__ import annotations

import libcst as cst

from ...compiler.diagnostics import Severity
from ..base import Invalid, PythonRule, RuleDoc
from .context import PythonContext, argument, last_name, string_value

#: Calls that capture a random number generator's state.
_RNG_STATE_CALLS = (
    "torch.get_rng_state",
    "torch.random.get_rng_state",
    "torch.cuda.get_rng_state",
    "torch.cuda.get_rng_state_all",
    "random.getstate",
    "numpy.random.get_state",
)
#: Methods that return a generator's state (``generator.get_state()``, ``rng.getstate()``).
_RNG_STATE_METHODS = ("get_rng_state", "get_rng_state_all", "get_state", "getstate")


class CheckpointWithoutFullState(PythonRule):
    code = "PY005"
    name = "checkpoint-without-full-state"
    severity = Severity.WARNING
    message = "Saving model weights without optimizer/scheduler/RNG state makes resume non-deterministic"
    doc = RuleDoc(
        what=(
            "Flags `torch.save(obj, path)` where `obj` is a model's `state_dict()` alone, or a checkpoint dict "
            "(written inline or built in the same function) holding a model `state_dict()` but no optimizer "
            "state, no RNG state, or -- when the module creates an LR scheduler -- no scheduler state."
        ),
        why=(
            "Resuming from weights alone restarts the optimizer's moments (Adam's running averages), the "
            "learning-rate schedule and every random number generator: the resumed run follows a different "
            "trajectory than an uninterrupted one, so results depend on where the job was preempted."
        ),
        example="torch.save(model.state_dict(), path)",
        instead=(
            "torch.save({\n"
            '    "model": model.state_dict(),\n'
            '    "optimizer": optimizer.state_dict(),\n'
            '    "scheduler": scheduler.state_dict(),\n'
            '    "epoch": epoch,\n'
            '    "rng_states": {\n'
            '        "python": random.getstate(),\n'
            '        "numpy": np.random.get_state(),\n'
            '        "torch": torch.random.get_rng_state(),\n'
            '        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,\n'
            "    },\n"
            "}, path)"
        ),
        reference=(
            "Gotchas, Reproducibility: 'Saving model weights without optimizer/scheduler/RNG state makes resume "
            "non-deterministic'; Checkpoint State"
        ),
        fix="none",
        notes=(
            "Optimizer state is recognised by a key containing 'optim' or an `<optimizer>.state_dict()` value; "
            "RNG state by a key containing 'rng' or a call such as `torch.get_rng_state()`, `random.getstate()`, "
            "`np.random.get_state()`.",
            "Saving final weights for inference (not for resuming) is a legitimate use: suppress with "
            "`# rigorml: ignore[PY005]`.",
            "A dict with `**` entries, or one built somewhere the rule cannot follow, is left alone.",
        ),
    )
    VALID = (
        "import random\n\nimport torch\n\n\ndef save(model, optimizer, path):\n    torch.save(\n"
        '        {\n            "model": model.state_dict(),\n            "optimizer": optimizer.state_dict(),\n'
        '            "rng_states": {"python": random.getstate(), "torch": torch.get_rng_state()},\n'
        "        },\n        path,\n    )\n",
        "import torch\n\n\ndef save(model, optimizer, path):\n    checkpoint = {\"model\": model.state_dict()}\n"
        '    checkpoint["optimizer"] = optimizer.state_dict()\n    checkpoint["rng"] = torch.get_rng_state()\n'
        "    torch.save(checkpoint, path)\n",
        "import torch\n\n\ndef export(embeddings, path):\n    torch.save(embeddings, path)\n",
    )
    INVALID = (
        Invalid(
            'import torch\n\n\ndef save(model, path):\n    torch.save(model.state_dict(), path)\n',
            line=5,
            col=16,
            message="without optimizer state and RNG state",
        ),
        Invalid(
            "import torch\n\n\ndef save(model, optimizer, epoch, path):\n    checkpoint = {\n"
            '        "model": model.state_dict(),\n        "optimizer": optimizer.state_dict(),\n'
            '        "epoch": epoch,\n    }\n    torch.save(checkpoint, path)\n',
            line=10,
            col=16,
            message="without RNG state",
        ),
        Invalid(
            "import torch\n\nscheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10)\n"
            'torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), '
            '"rng": torch.get_rng_state()}, "ckpt.pt")\n',
            line=4,
            col=12,
            message="without scheduler state",
        ),
    )

    def check(self, ctx: PythonContext):
        has_scheduler = any(
            name.startswith("torch.optim.lr_scheduler.")
            for call in ctx.nodes(cst.Call)
            for name in ctx.qualified_names(call)
        )
        for call in ctx.nodes(cst.Call):
            if not ctx.calls_to(call, "torch.save"):
                continue
            saved = argument(call, 0, "obj")
            entries = _entries(ctx, saved.value) if saved else None
            if not entries or not any(_role(value) == "model" for _, value in entries):
                continue
            missing = []
            if not _holds(entries, "optim", "optimizer"):
                missing.append("optimizer state")
            if has_scheduler and not _holds(entries, "sched", "scheduler"):
                missing.append("scheduler state")
            if not any("rng" in (key or "").lower() or _captures_rng(ctx, value) for key, value in entries):
                missing.append("RNG state")
            if missing:
                yield self.finding(
                    ctx.span(saved.value),  # type: ignore[union-attr]
                    f"checkpoint saves model weights without {' and '.join(missing)}: "
                    "resuming from it is non-deterministic",
                    hint="save optimizer.state_dict(), the scheduler's state and the RNG states with the model",
                )


def _entries(ctx: PythonContext, saved: cst.BaseExpression) -> list[tuple[str | None, cst.BaseExpression]] | None:
    """(key, value) pairs of what is saved: ``[(None, expr)]`` for a single object, the items of a
    dict (inline, ``dict(...)``, or a local name assigned one and filled by ``name["key"] = value``),
    or None when the rule cannot see them all."""
    if isinstance(saved, cst.Dict):
        if any(not isinstance(element, cst.DictElement) for element in saved.elements):
            return None
        return [(string_value(e.key), e.value) for e in saved.elements]  # type: ignore[union-attr]
    if isinstance(saved, cst.Call) and ctx.calls_to(saved, "builtins.dict"):
        if any(arg.keyword is None for arg in saved.args):
            return None
        return [(arg.keyword.value, arg.value) for arg in saved.args]  # type: ignore[union-attr]
    if isinstance(saved, cst.Name):
        bindings = ctx.bindings_of(saved)
        if len(bindings) != 1 or bindings[0].kind != "assign" or isinstance(bindings[0].value, cst.Name):
            return None
        entries = _entries(ctx, bindings[0].value)  # type: ignore[arg-type]
        if entries is None:
            return None
        return entries + _item_assignments(ctx, saved.value, ctx.scope_of(bindings[0].node))
    return [(None, saved)]


def _item_assignments(ctx: PythonContext, name: str, scope: cst.CSTNode) -> list[tuple[str | None, cst.BaseExpression]]:
    """``name["key"] = value`` statements in ``scope``."""
    found = []
    for assign in ctx.nodes(cst.Assign, scope):
        for target in assign.targets:
            subscript = target.target
            if (
                isinstance(subscript, cst.Subscript)
                and isinstance(subscript.value, cst.Name)
                and subscript.value.value == name
                and len(subscript.slice) == 1
                and isinstance(subscript.slice[0].slice, cst.Index)
            ):
                found.append((string_value(subscript.slice[0].slice.value), assign.value))
    return found


def _role(value: cst.BaseExpression) -> str | None:
    """Whose ``state_dict()`` ``value`` is: "optimizer", "scheduler", "scaler" or "model"."""
    if not (isinstance(value, cst.Call) and last_name(value) == "state_dict" and isinstance(value.func, cst.Attribute)):
        return None
    owner = (last_name(value.func.value) or "").lower()
    if "optim" in owner or owner == "opt":
        return "optimizer"
    if "sched" in owner:
        return "scheduler"
    if "scaler" in owner:
        return "scaler"
    return "model"


def _holds(entries, key_part: str, role: str) -> bool:
    """Whether a key mentions ``key_part`` or a value (at any depth) is a ``<role>.state_dict()``."""
    for key, value in entries:
        if key_part in (key or "").lower():
            return True
        if any(_role(call) == role for call in _calls_in(value)):
            return True
    return False


def _captures_rng(ctx: PythonContext, value: cst.BaseExpression) -> bool:
    for call in _calls_in(value):
        if ctx.calls_to(call, *_RNG_STATE_CALLS) or (
            isinstance(call.func, cst.Attribute) and call.func.attr.value in _RNG_STATE_METHODS
        ):
            return True
    return False


def _calls_in(node: cst.CSTNode) -> list[cst.Call]:
    collector = _Calls()
    node.visit(collector)
    return collector.found


class _Calls(cst.CSTVisitor):
    def __init__(self):
        self.found: list[cst.Call] = []

    def visit_Call(self, node: cst.Call) -> None:
        self.found.append(node)
