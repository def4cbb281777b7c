"""Full-state checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint holds the model, optimizer, scheduler and AMP scaler states, the position in training
(epoch, optimizer step, batches already done in the current epoch), the early-stopping counters, and
every random-number state (Python, NumPy, torch CPU, CUDA). The domain document's gotcha: saving
weights without optimizer/scheduler/RNG state makes resume non-deterministic.

Files are written atomically -- a temporary file in the same directory, flushed and fsynced, renamed
over the target, then the directory fsynced -- so a kill at any moment leaves either the previous
checkpoint or the new one, never a torn file. States are stored as tensors and plain Python values
only, so they load with ``torch.load(weights_only=True)`` (no arbitrary pickles are executed).
"""

from __future__ import annotations

import os
import random
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

_NAME = re.compile(r"^ckpt-(\d+)\.pt$")


def checkpoint_path(directory: str | Path, step: int) -> Path:
    """``directory/ckpt-<step>.pt``, zero-padded so names sort by step."""
    return Path(directory) / f"ckpt-{step:09d}.pt"


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # some filesystems do not allow opening directories
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Write ``state`` to ``path`` atomically; returns the path.

    Raises OSError when the directory cannot be written (nothing is left half-written).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=".ckpt-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(state, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    _fsync_directory(path.parent)
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint` (tensors and plain values only)."""
    return torch.load(Path(path), map_location=map_location, weights_only=True)


def list_checkpoints(directory: str | Path) -> list[tuple[int, Path]]:
    """(step, path) for every complete checkpoint in ``directory``, oldest first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = []
    for entry in directory.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append((int(match[1]), entry))
    return sorted(found)


def latest_checkpoint(directory: str | Path) -> Path | None:
    """The checkpoint with the highest step, or None."""
    found = list_checkpoints(directory)
    return found[-1][1] if found else None


def prune(directory: str | Path, keep: int, protect: tuple[Path, ...] = ()) -> None:
    """Delete all but the newest ``keep`` checkpoints (never one in ``protect``, e.g. the best)."""
    found = list_checkpoints(directory)
    protected = {Path(p).resolve() for p in protect}
    for _, path in found[: max(0, len(found) - keep)]:
        if path.resolve() not in protected:
            path.unlink(missing_ok=True)
    for stray in Path(directory).glob(".ckpt-*.tmp"):  # left by a kill during a write
        stray.unlink(missing_ok=True)


# --- random-number states ---------------------------------------------------------------------


def capture_rng_state() -> dict[str, Any]:
    """Every RNG state a training step can consume, in types ``weights_only`` loading accepts."""
    kind, keys, position, has_gauss, cached = np.random.get_state()
    version, internal, gauss = random.getstate()
    state: dict[str, Any] = {
        "python": {"version": version, "state": torch.tensor(internal, dtype=torch.int64), "gauss": gauss},
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "position": int(position),
            "has_gauss": int(has_gauss),
            "cached": float(cached),
        },
        "torch": torch.random.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
    }
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`capture_rng_state` captured."""
    python = state["python"]
    random.setstate((python["version"], tuple(int(x) for x in python["state"].tolist()), python["gauss"]))
    numpy_state = state["numpy"]
    np.random.set_state(
        (
            numpy_state["kind"],
            numpy_state["keys"].numpy().astype(np.uint32),
            numpy_state["position"],
            numpy_state["has_gauss"],
            numpy_state["cached"],
        )
    )
    torch.random.set_rng_state(state["torch"])
    if state.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
