"""Which device a run uses: the spec's ``training.device``, with ``auto`` preferring CUDA."""

from __future__ import annotations

import re

import torch

_CUDA = re.compile(r"^cuda(?::(\d+))?$")


class DeviceUnavailableError(RuntimeError):
    """The spec asks for a device this machine does not have."""


def pick_device(value: str | torch.device | None = "auto") -> torch.device:
    """The ``torch.device`` a spec's ``training.device`` value names.

    Input: ``auto`` (or None): CUDA device 0 when ``torch.cuda.is_available()``, else the CPU (MPS is
    used only when asked for: some ops are missing or non-deterministic there); ``cpu``; ``cuda`` or
    ``cuda:N``; ``mps``; or a ``torch.device``.
    Output: the device.
    Errors: DeviceUnavailableError (a RuntimeError) when CUDA/MPS or CUDA device N is asked for but
    not present (the message says what is); ValueError for any other value.
    """
    if value is None:
        value = "auto"
    if isinstance(value, torch.device):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(f"device must be a string such as 'auto', 'cpu', 'cuda:0' or 'mps', not {value!r}")
    text = value.strip().lower()
    if text == "auto":
        return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    if text == "cpu":
        return torch.device("cpu")
    if text == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise DeviceUnavailableError(
                "device 'mps' was requested but MPS is not available on this machine; use 'auto' or 'cpu'"
            )
        return torch.device("mps")
    match = _CUDA.match(text)
    if match is None:
        raise ValueError(f"unknown device {value!r}; use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'")
    if not torch.cuda.is_available():
        raise DeviceUnavailableError(
            f"device {value!r} was requested but CUDA is not available "
            f"(torch {torch.__version__}, built with CUDA {torch.version.cuda or 'none'}); use 'auto' or 'cpu'"
        )
    index = int(match.group(1) or 0)
    count = torch.cuda.device_count()
    if index >= count:
        raise DeviceUnavailableError(f"device {value!r} was requested but this machine has {count} CUDA device(s)")
    return torch.device("cuda", index)
