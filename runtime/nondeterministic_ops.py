"""The PyTorch operations known to be non-deterministic, in one place for the linter and the runtime.

The list is the domain document's ("Known Non-Deterministic PyTorch Ops": index_add_, scatter_add_,
bincount, histc, F.interpolate (some modes), F.grid_sample, ReflectionPad2d, ctc_loss), spelled out
in every form a training script can call it.

:data:`NONDETERMINISTIC_OPS` maps what a call refers to -> why it is non-deterministic:

* a module-level function or class by its qualified name (``"torch.bincount"``,
  ``"torch.nn.ReflectionPad2d"``), whatever the import style in the script
  (``F.grid_sample`` is ``"torch.nn.functional.grid_sample"``);
* a tensor method as ``"torch.Tensor.<method>"`` (``x.index_add_(...)`` is
  ``"torch.Tensor.index_add_"``).

Each note says what is non-deterministic and what ``torch.use_deterministic_algorithms(True)`` does
about it: most of these ops have no deterministic CUDA kernel (for the backward pass, where the note
says so) and raise a ``RuntimeError`` under it on CUDA (a warning with ``warn_only=True``); without
it they change results from run to run. (Checked against the ``torch.use_deterministic_algorithms``
documentation of PyTorch 2.x.)

:data:`DETERMINISTIC_WHEN_REQUESTED` lists the ops ``torch.use_deterministic_algorithms(True)``
makes deterministic (a slower kernel) rather than refusing. :data:`NONDETERMINISTIC_MODES` narrows
an op to some values of its ``mode`` argument: an op listed there is non-deterministic only in
those modes (``F.interpolate`` defaults to ``"nearest"``, which is deterministic).

Pure data: no imports beyond the standard library (no torch), so the pre-commit linter can read it.
"""

from __future__ import annotations

_ATOMIC_ADD = (
    "the CUDA kernel accumulates with atomic adds, so the summation order (and the result) changes between runs; "
    "torch.use_deterministic_algorithms(True) switches it to a slower deterministic kernel, "
    "torch.backends.cudnn.deterministic does not"
)
_WEIGHTED_BINCOUNT = (
    "with `weights` the CUDA kernel accumulates with atomic adds: it raises under use_deterministic_algorithms(True)"
)
_HISTC = "it has no deterministic CUDA implementation: it raises under use_deterministic_algorithms(True)"
_NO_DETERMINISTIC_BACKWARD = (
    "its backward pass has no deterministic CUDA implementation: it raises under use_deterministic_algorithms(True)"
)

NONDETERMINISTIC_OPS: dict[str, str] = {
    "torch.Tensor.index_add_": _ATOMIC_ADD,
    "torch.Tensor.index_add": _ATOMIC_ADD,
    "torch.index_add": _ATOMIC_ADD,
    "torch.Tensor.scatter_add_": _ATOMIC_ADD,
    "torch.Tensor.scatter_add": _ATOMIC_ADD,
    "torch.scatter_add": _ATOMIC_ADD,
    "torch.bincount": _WEIGHTED_BINCOUNT,
    "torch.Tensor.bincount": _WEIGHTED_BINCOUNT,
    "torch.histc": _HISTC,
    "torch.Tensor.histc": _HISTC,
    "torch.nn.functional.interpolate": "in modes linear, bilinear, bicubic and trilinear " + _NO_DETERMINISTIC_BACKWARD,
    "torch.nn.functional.grid_sample": _NO_DETERMINISTIC_BACKWARD,
    "torch.nn.ReflectionPad2d": _NO_DETERMINISTIC_BACKWARD,
    "torch.nn.functional.ctc_loss": _NO_DETERMINISTIC_BACKWARD,
    "torch.nn.CTCLoss": _NO_DETERMINISTIC_BACKWARD,
}

#: The ops above for which ``torch.use_deterministic_algorithms(True)`` selects a deterministic
#: (slower) kernel instead of raising, as PyTorch 2.x documents them: a concern only where
#: determinism is asked for some other way (``torch.backends.cudnn.deterministic = True``, which
#: covers cuDNN only) or not at all.
DETERMINISTIC_WHEN_REQUESTED: frozenset[str] = frozenset(
    {
        "torch.Tensor.index_add_",
        "torch.Tensor.index_add",
        "torch.index_add",
        "torch.Tensor.scatter_add_",
        "torch.Tensor.scatter_add",
        "torch.scatter_add",
    }
)

#: Ops that are non-deterministic only for some values of their ``mode`` argument (positional
#: index, then the modes). Other modes, and the default, are deterministic.
NONDETERMINISTIC_MODES: dict[str, tuple[int, frozenset[str]]] = {
    "torch.nn.functional.interpolate": (3, frozenset({"linear", "bilinear", "bicubic", "trilinear"})),
}
