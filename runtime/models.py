"""Models: the spec's ``model`` section as a ``torch.nn.Module``.

Builtins are registered by name in :data:`BUILTIN_MODELS`; anything else is a user factory named
``module.path:function``, called with the input and output sizes and the spec's ``model.params``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import torch
from torch import nn

from .config import importable_from, resolve_callable

_ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh}


def _check_params(name: str, params: dict, allowed: set[str]) -> None:
    # Like the spec's own `extra="forbid"`: a misspelt parameter (`hidden_size`) must not be ignored.
    unknown = sorted(set(params) - allowed)
    if unknown:
        takes = ", ".join(sorted(allowed)) or "no parameters"
        raise ValueError(f"builtin:{name} does not take {', '.join(unknown)} (it takes {takes})")


def _logreg(input_dim: int, output_dim: int, params: dict) -> nn.Module:
    # One linear layer; the logistic/softmax is in the loss (cross-entropy/BCE take logits).
    _check_params("logreg", params, set())
    return nn.Linear(input_dim, output_dim)


def _linear(input_dim: int, output_dim: int, params: dict) -> nn.Module:
    _check_params("linear", params, set())
    return nn.Linear(input_dim, output_dim)


def _mlp(input_dim: int, output_dim: int, params: dict) -> nn.Module:
    _check_params("mlp", params, {"hidden_sizes", "dropout", "activation"})
    hidden_sizes = params.get("hidden_sizes", [64])
    dropout = params.get("dropout", 0.0)
    activation = params.get("activation", "relu")
    if isinstance(hidden_sizes, int):
        hidden_sizes = [hidden_sizes]
    if not all(isinstance(size, int) and not isinstance(size, bool) and size >= 1 for size in hidden_sizes):
        raise ValueError(f"builtin:mlp hidden_sizes must be a list of positive integers, got {hidden_sizes!r}")
    if not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
        raise ValueError(f"builtin:mlp dropout must be in [0, 1), got {dropout!r}")
    if activation not in _ACTIVATIONS:
        raise ValueError(f"builtin:mlp activation {activation!r} is not one of {', '.join(_ACTIVATIONS)}")
    layers: list[nn.Module] = []
    width = input_dim
    for size in hidden_sizes:
        layers += [nn.Linear(width, size), _ACTIVATIONS[activation]()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = size
    layers.append(nn.Linear(width, output_dim))
    return nn.Sequential(*layers)


#: Builtin model builders by name: ``(input_dim, output_dim, params) -> nn.Module``.
BUILTIN_MODELS: dict[str, Callable[[int, int, dict], nn.Module]] = {
    "logreg": _logreg,
    "linear": _linear,
    "mlp": _mlp,
}


def build_model(
    model_section: dict,
    input_dim: int,
    output_dim: int,
    *,
    base_dir: str | Path | None = None,
    seed: int | None = None,
) -> nn.Module:
    """Build the model a spec's ``model`` section names.

    Inputs: ``model_section``, the resolved ``model`` mapping (``source``, ``params``);
    ``input_dim``, features per example; ``output_dim``, outputs (classes for classification, 1 or
    the target width for regression); ``base_dir``, the spec's directory, searched first for a
    ``module:function`` factory; ``seed``, when given, the weights are initialised from
    ``torch.manual_seed(seed)`` inside a forked RNG, so they depend on the model seed only and the
    global torch RNG is left untouched (None: the global RNG initialises them).
    Builtins: ``logreg`` and ``linear`` (one ``nn.Linear``; no params), ``mlp`` (``hidden_sizes``
    list, default ``[64]``; ``dropout`` in [0, 1), default 0; ``activation`` relu|gelu|tanh, default
    relu). A factory is called as ``fn(input_dim=..., output_dim=..., **params)``.
    Output: the module, on the CPU (the caller moves it to its device).
    Errors: ValueError for an unknown builtin, unknown or invalid builtin params or non-positive
    dims; TypeError when a factory returns something other than an ``nn.Module``; ImportError /
    AttributeError when the factory cannot be found.
    """
    source = model_section["source"]
    params = dict(model_section.get("params") or {})
    for name, dim in (("input_dim", input_dim), ("output_dim", output_dim)):
        if not isinstance(dim, int) or isinstance(dim, bool) or dim < 1:
            raise ValueError(f"{name} must be a positive integer, got {dim!r}")
    if seed is None:
        return _build(source, params, input_dim, output_dim, base_dir)
    with torch.random.fork_rng(devices=[]):  # CPU only: models are built on the CPU
        torch.manual_seed(seed)
        return _build(source, params, input_dim, output_dim, base_dir)


def _build(source: str, params: dict, input_dim: int, output_dim: int, base_dir) -> nn.Module:
    if source.startswith("builtin:"):
        name = source.removeprefix("builtin:")
        if name not in BUILTIN_MODELS:
            raise ValueError(f"unknown builtin model {name!r} (builtins: {', '.join(BUILTIN_MODELS)})")
        return BUILTIN_MODELS[name](input_dim, output_dim, params)
    factory = resolve_callable(source, base_dir)
    with importable_from(base_dir):
        model = factory(input_dim=input_dim, output_dim=output_dim, **params)
    if not isinstance(model, nn.Module):
        raise TypeError(f"model factory {source} returned {type(model).__name__}; it must return a torch.nn.Module")
    return model
