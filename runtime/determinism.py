"""Deterministic PyTorch, as the domain document's "Deterministic PyTorch" recipe.

Deterministic algorithms are 10-20% slower; the spec's ``training.deterministic`` (default true)
asks for them. Operations without a deterministic kernel are listed in
:mod:`rigorml.runtime.nondeterministic_ops`; under ``enable_deterministic()`` they raise on CUDA
(or warn with ``warn_only=True``).
"""

from __future__ import annotations

import os
import warnings

import torch

#: cuBLAS needs a fixed workspace configuration for reproducible results (CUDA >= 10.2).
CUBLAS_WORKSPACE_CONFIG = ":4096:8"

_UNSET = object()
#: The environment value before the first enable_deterministic(), restored by disable_deterministic().
_previous_cublas_config: object = _UNSET


def enable_deterministic(warn_only: bool = False) -> None:
    """Make PyTorch deterministic: cuBLAS workspace, cuDNN flags, deterministic algorithms.

    Sets ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` first (cuBLAS reads it when it creates its handle, so it
    must be set before anything touches CUDA), then ``torch.backends.cudnn.deterministic = True``,
    ``torch.backends.cudnn.benchmark = False`` (benchmarking picks kernels by timing, which varies
    between runs) and ``torch.use_deterministic_algorithms(True, warn_only=warn_only)``.
    Input: ``warn_only``, warn instead of raising when an op has no deterministic implementation.
    Output: None. Warns (RuntimeWarning) when CUDA was already initialised, since the cuBLAS setting
    may then come too late for this process.
    """
    global _previous_cublas_config
    if _previous_cublas_config is _UNSET:
        _previous_cublas_config = os.environ.get("CUBLAS_WORKSPACE_CONFIG")
    os.environ["CUBLAS_WORKSPACE_CONFIG"] = CUBLAS_WORKSPACE_CONFIG
    if torch.cuda.is_initialized():
        warnings.warn(
            "enable_deterministic() was called after CUDA was initialised: CUBLAS_WORKSPACE_CONFIG may not "
            "take effect; call it before creating any CUDA tensor or model",
            RuntimeWarning,
            stacklevel=2,
        )
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(True, warn_only=warn_only)


def disable_deterministic() -> None:
    """Undo :func:`enable_deterministic`: torch's defaults, and the environment as it was before.

    Meant for tests and interactive sessions that must not leak the setting into later work.
    Output: None.
    """
    global _previous_cublas_config
    torch.use_deterministic_algorithms(False)
    torch.backends.cudnn.deterministic = False
    torch.backends.cudnn.benchmark = False
    if _previous_cublas_config is not _UNSET:
        if _previous_cublas_config is None:
            os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
        else:
            os.environ["CUBLAS_WORKSPACE_CONFIG"] = _previous_cublas_config
        _previous_cublas_config = _UNSET
