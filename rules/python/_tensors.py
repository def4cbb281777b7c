"""Is this expression a ``torch.Tensor``? A conservative, local answer for the logging rules.

Python has no types to read, so the answer comes from what the code says, and only what it can
justify: ``tensor_kind(ctx, expr)`` is

* ``SCALAR`` -- certainly a 0-dim tensor: a loss (``criterion(...)``, ``loss_fn(...)``,
  ``F.cross_entropy(...)``, an ``nn.*Loss`` instance called), a full reduction (``x.mean()``,
  ``torch.sum(x)``, ``clip_grad_norm_(...)``), or arithmetic of those with numbers;
* ``TENSOR`` -- certainly a tensor of unknown shape (``torch.stack(...)``, ``F.softmax(...)``,
  a loss with ``reduction="none"``, ``x.mean(dim=0)``);
* ``None`` -- cannot tell (a parameter, a model's output, ``x.item()``, anything else).

A name counts when every assignment to it that its use can see (same function first, then the
enclosing ones, then the module) makes it a tensor. ``total = 0.0`` followed by ``total += loss``
makes ``total`` a ``TENSOR`` (a tensor once the loop has run, a plain number if it never did, so
``.item()`` is not certain to work). A name that is ever a loop target, unpacked, a parameter or
assigned something unknown counts as unknown.

Reductions (``.sum()``, ``.mean()``, ``.std()``, ``.max()``...) count only on a receiver already known
to be a tensor: NumPy arrays and pandas objects have the same methods and log fine. ``.norm()`` is the
exception: only tensors have it.
"""

from __future__ import annotations

import re

import libcst as cst
import libcst.matchers as m

from .context import PythonContext, argument, last_name, string_value

SCALAR = "scalar"
TENSOR = "tensor"

#: Callables named like a loss: ``criterion(out, y)``, ``self.loss_fn(out, y)``.
_LOSS_CALLABLE = re.compile(r"(.*_)?(criterion|loss_fn|loss_func|loss_function|lossfn)")
#: Reductions over every element when called without ``dim``: a 0-dim tensor.
_REDUCTIONS = {
    "sum", "mean", "std", "var", "norm", "prod", "max", "min", "amax", "amin", "logsumexp", "nansum", "nanmean",
}
#: Reductions that return (values, indices) when given a dimension.
_PAIRED_WITH_DIM = {"max", "min", "median", "mode"}
#: Tensor methods that keep the receiver a tensor of the same shape.
_SHAPE_PRESERVING = {
    "detach", "float", "double", "half", "bfloat16", "cpu", "cuda", "to", "clone", "abs", "sqrt", "exp", "log",
    "neg", "pow", "clamp", "contiguous", "requires_grad_", "squeeze",
}
#: ``torch.*`` functions that return one tensor: a 0-dim one (``"scalar"``), a reduction (0-dim
#: when given no dimension) or a tensor of any shape (``"tensor"``).
_TORCH_FUNCTIONS = {
    **dict.fromkeys(
        ("torch.nn.utils.clip_grad_norm_", "torch.dot", "torch.dist"), "scalar"  # clip_grad_norm_: the total norm
    ),
    **dict.fromkeys(
        (
            "torch.sum", "torch.mean", "torch.std", "torch.var", "torch.norm", "torch.prod", "torch.max",
            "torch.min", "torch.amax", "torch.amin", "torch.logsumexp", "torch.nansum", "torch.nanmean",
            "torch.count_nonzero", "torch.linalg.norm", "torch.linalg.vector_norm", "torch.linalg.matrix_norm",
        ),
        "reduction",
    ),
    **dict.fromkeys(
        (
            "torch.stack", "torch.cat", "torch.tensor", "torch.as_tensor", "torch.abs", "torch.sqrt", "torch.exp",
            "torch.log", "torch.clamp", "torch.zeros", "torch.ones", "torch.zeros_like", "torch.ones_like",
            "torch.softmax", "torch.sigmoid", "torch.matmul",
        ),
        "tensor",
    ),
}
_ARITHMETIC = (
    cst.Add, cst.Subtract, cst.Multiply, cst.Divide, cst.FloorDivide, cst.Modulo, cst.Power, cst.MatrixMultiply,
)


def tensor_kind(ctx: PythonContext, expr: cst.BaseExpression) -> str | None:
    """``SCALAR``, ``TENSOR`` or None (cannot tell) for ``expr``; see the module docstring."""
    try:
        kind = _kind(ctx, expr, {})
    except RecursionError:  # a chain of thousands of assignments: not worth an answer
        return None
    return kind if kind in (SCALAR, TENSOR) else None


#: Internal: certainly a plain Python number (a literal, ``len(...)``, arithmetic of numbers).
_NUMBER = "number"


def _kind(ctx: PythonContext, expr: cst.BaseExpression, assumed: dict) -> str | None:
    if isinstance(expr, (cst.Integer, cst.Float)):
        return _NUMBER
    if isinstance(expr, cst.Name):
        return _name_kind(ctx, expr, assumed)
    if isinstance(expr, cst.Call):
        return _call_kind(ctx, expr, assumed)
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, _ARITHMETIC):
        left, right = _kind(ctx, expr.left, assumed), _kind(ctx, expr.right, assumed)
        return _combine(left, right, matmul=isinstance(expr.operator, cst.MatrixMultiply))
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, (cst.Minus, cst.Plus)):
        return _kind(ctx, expr.expression, assumed)
    return None


def _combine(left: str | None, right: str | None, *, matmul: bool = False) -> str | None:
    """The kind of ``left <op> right``: a tensor with anything stays a tensor; a 0-dim tensor stays
    0-dim only with numbers (an unknown operand may broadcast it to any shape)."""
    tensors = {left, right} & {SCALAR, TENSOR}
    if not tensors:
        return _NUMBER if left == right == _NUMBER and not matmul else None
    if matmul or None in (left, right) or TENSOR in tensors:
        return TENSOR
    return SCALAR


def _join(kinds: list[str]) -> str:
    """The kind of a name bound several times: one kind if all agree; a tensor on some path and a
    number on another is a ``TENSOR`` (flagged, but ``.item()`` is not certain to work)."""
    distinct = set(kinds)
    if len(distinct) == 1:
        return kinds[0]
    return TENSOR


def _call_kind(ctx: PythonContext, call: cst.Call, assumed: dict) -> str | None:
    qualified = ctx.qualified_name(call) or ""
    if qualified.startswith("torch."):
        return _library_call_kind(qualified, call)
    if qualified in ("builtins.len", "builtins.int", "builtins.float"):
        return _NUMBER
    if isinstance(call.func, cst.Attribute):
        method, receiver = call.func.attr.value, call.func.value
        if method in _REDUCTIONS:
            if method != "norm" and _kind(ctx, receiver, assumed) not in (SCALAR, TENSOR):
                return None
            if _reduces_everything(call):
                return SCALAR
            return None if method in _PAIRED_WITH_DIM else TENSOR
        if method in _PAIRED_WITH_DIM:
            return None
        if method in _SHAPE_PRESERVING:
            kind = _kind(ctx, receiver, assumed)
            if kind not in (SCALAR, TENSOR):
                return None
            return TENSOR if method == "squeeze" and call.args else kind
    name = last_name(call)
    if name and _LOSS_CALLABLE.fullmatch(name):
        return SCALAR
    if isinstance(call.func, cst.Name):
        return _loss_instance_kind(ctx, call.func)
    return None


def _library_call_kind(qualified: str, call: cst.Call) -> str | None:
    """What a call into torch returns (None outside torch's tensor-returning functions)."""
    if qualified.startswith("torch.nn.functional."):
        name = qualified.rsplit(".", 1)[1]
        if "loss" in name or "cross_entropy" in name or name == "kl_div":
            return TENSOR if _reduction_none(call) else SCALAR
        return TENSOR if name.islower() else None
    returns = _TORCH_FUNCTIONS.get(qualified)
    if returns == "scalar":
        return SCALAR
    if returns == "tensor":
        if qualified == "torch.tensor" and call.args and isinstance(call.args[0].value, (cst.Integer, cst.Float)):
            return SCALAR
        return TENSOR
    if returns == "reduction":
        positional = [a for a in call.args if a.keyword is None and not a.star]
        if qualified.rsplit(".", 1)[1] in _PAIRED_WITH_DIM and (len(positional) > 1 or argument(call, None, "dim")):
            return None
        return SCALAR if _reduces_everything(call, skip=1) else TENSOR
    return None


def _loss_instance_kind(ctx: PythonContext, callee: cst.Name) -> str | None:
    """``ce(out, y)`` where ``ce = nn.CrossEntropyLoss(...)``: a scalar unless ``reduction="none"``."""
    bindings = ctx.bindings_of(callee)
    if not bindings or any(b.kind != "assign" or not isinstance(b.value, cst.Call) for b in bindings):
        return None
    kinds = []
    for binding in bindings:
        constructor = ctx.qualified_name(binding.value) or ""
        if not (constructor.startswith("torch.nn.") and constructor.endswith("Loss")):
            return None
        kinds.append(TENSOR if _reduction_none(binding.value) else SCALAR)  # type: ignore[arg-type]
    return _join(kinds)


def _name_kind(ctx: PythonContext, name: cst.Name, assumed: dict) -> str | None:
    """The kind of a name from every binding its use can see. Bindings that read the name itself
    (``x = x + y``, ``x += y``) are solved from the others (the loop runs at most a few times: the
    kinds only ever move towards ``TENSOR``)."""
    bindings = ctx.bindings_of(name)
    key = (name.value, id(bindings))
    if key in assumed:
        return assumed[key]
    if not bindings or any(b.kind not in ("assign", "augassign") or b.value is None for b in bindings):
        return None
    base = [b for b in bindings if b.kind == "assign" and not _mentions(b.value, name.value)]
    derived = [b for b in bindings if not any(b is kept for kept in base)]
    if not base:
        return None
    base_kinds = [_kind(ctx, b.value, assumed) for b in base]
    if None in base_kinds:
        return None
    kind = _join(base_kinds)
    for _ in range(4):
        inner = {**assumed, key: kind}
        derived_kinds = [
            _kind(ctx, b.value, inner) if b.kind == "assign" else _combine(kind, _kind(ctx, b.value, inner))
            for b in derived
        ]
        if None in derived_kinds:
            return None
        joined = _join(base_kinds + derived_kinds)
        if joined == kind:
            break
        kind = joined
    return kind


def _mentions(expr: cst.CSTNode, name: str) -> bool:
    return bool(m.findall(expr, m.Name(name)))


def _reduces_everything(call: cst.Call, skip: int = 0) -> bool:
    """No dimension given: ``x.mean()``, ``torch.sum(x)``, ``x.sum(dtype=...)``."""
    positional = [a for a in call.args if a.keyword is None]
    if any(a.star for a in call.args) or len(positional) > skip:
        return False
    return not any(a.keyword.value in ("dim", "axis") for a in call.args if a.keyword)


def _reduction_none(call: cst.Call) -> bool:
    arg = argument(call, None, "reduction")
    return arg is not None and string_value(arg.value) == "none"
