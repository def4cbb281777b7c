"""Data-parallel training across the processes of a ``torchrun`` launch (DistributedDataParallel).

``torchrun --nproc-per-node N train.py ...`` starts N copies of the same run; each learns its place
from the environment torchrun sets (``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``).
:func:`process_group` joins them into one process group (NCCL on CUDA, gloo on the CPU) and always
leaves it again; the :class:`World` it yields is what the training loop asks:

* which examples of a global batch this rank trains on (:meth:`World.shard`): the spec's
  ``data.loader.batch_size`` stays the *global* batch size, each rank takes its contiguous
  ``batch_size / world_size`` slice of every batch, so the ranks together see exactly the examples
  one process would see in that step;
* how to weigh its loss (:meth:`World.shard_loss`): the mean over its shard, scaled so that DDP's
  gradient average equals the gradient of the mean over the whole batch, even for a short last batch;
* which rank writes (:attr:`World.is_main`): rank 0 tracks and writes checkpoints, ``result.json``,
  predictions and ``model.pt``; the others train and keep quiet (:class:`NullTracker`);
* how to agree (:meth:`World.from_main`, :meth:`World.mean`, :meth:`World.gather`): decisions such
  as early stopping are taken on rank 0 and broadcast, so every rank stops at the same step.

Outside torchrun (or with one process) the :class:`World` is a single process and every method is
the identity: the single-process training path runs exactly the operations it always ran.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

#: Each process group of a launch gets its own key prefix in torchrun's store: a second run in the
#: same processes (``train.py --all``) must not read the first one's rendezvous keys (it hangs).
_generations = itertools.count()


class DistributedConfigError(ValueError):
    """The spec cannot be trained data-parallel with this many processes (the message says why)."""


def launched_ranks() -> tuple[int, int, int]:
    """``(rank, local_rank, world_size)`` as torchrun set them; ``(0, 0, 1)`` outside torchrun."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return 0, 0, 1
    return int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0")), world_size


def is_main() -> bool:
    """True in the process that writes: rank 0 of a torchrun launch, or the only process."""
    return launched_ranks()[0] == 0


def all_reduce_mean(value: float) -> float:
    """The mean of ``value`` over every rank of the process group; ``value`` itself without one."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return value
    total = torch.tensor([float(value)], dtype=torch.float64, device=_collective_device())
    dist.all_reduce(total)
    return float(total.item()) / dist.get_world_size()


def barrier() -> None:
    """Wait until every rank of the process group gets here; nothing to wait for without one."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def _collective_device() -> torch.device:
    import torch.distributed as dist

    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


@dataclass(frozen=True)
class World:
    """This process's place in a data-parallel run: ``rank`` of ``size`` processes (one on a machine
    without torchrun), ``local_rank`` picking its GPU."""

    rank: int = 0
    local_rank: int = 0
    size: int = 1

    @property
    def distributed(self) -> bool:
        return self.size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def check_batch_size(self, batch_size: int) -> None:
        """Raise :class:`DistributedConfigError` unless ``batch_size`` splits evenly over the ranks."""
        if batch_size % self.size:
            raise DistributedConfigError(
                f"data.loader.batch_size {batch_size} is the global batch size and must be divisible by "
                f"the {self.size} training processes (each takes an equal share of every batch): use a "
                f"batch size that is a multiple of {self.size}, or another number of processes"
            )

    def device(self, device: torch.device) -> torch.device:
        """The device this rank trains on: its own GPU (``cuda:LOCAL_RANK``) when the run uses CUDA."""
        if not self.distributed or device.type != "cuda":
            return device
        torch.cuda.set_device(self.local_rank)
        return torch.device("cuda", self.local_rank)

    def wrap(self, model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
        """``model`` wrapped in DistributedDataParallel (which averages the gradients over the ranks);
        ``model`` itself in a single process. Keep the unwrapped model for state dicts and evaluation."""
        if not self.distributed:
            return model
        from torch.nn.parallel import DistributedDataParallel

        return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)

    def shard(self, batch: torch.Tensor, batch_size: int) -> torch.Tensor:
        """This rank's examples of a global ``batch`` (indices): the slice ``[rank * b, (rank + 1) * b)``
        with ``b = batch_size / size``. A short last batch leaves the last ranks fewer (maybe none)."""
        if not self.distributed:
            return batch
        share = batch_size // self.size
        return batch[self.rank * share : (self.rank + 1) * share]

    def shard_loss(self, loss_fn, outputs: torch.Tensor, target: torch.Tensor, batch_examples: int) -> torch.Tensor:
        """The loss this rank back-propagates for its shard of a batch of ``batch_examples`` examples.

        ``loss_fn`` averages over the shard; the factor ``len(shard) * size / batch_examples`` (1 for
        equal shards) makes DDP's average of the ranks' gradients the gradient of the mean over the
        whole batch. An empty shard contributes a zero loss that still joins the gradient average.
        """
        if not self.distributed:
            return loss_fn(outputs, target)
        if len(target) == 0:
            return outputs.sum() * 0.0
        return loss_fn(outputs, target) * (len(target) * self.size / batch_examples)

    def accumulating(self, net: torch.nn.Module, last: bool):
        """Context for one micro-batch's forward and backward: gradients are averaged over the ranks
        only on the ``last`` micro-batch of an optimiser step (DDP's ``no_sync`` before it)."""
        if self.distributed and not last:
            return net.no_sync()
        return contextlib.nullcontext()

    def mean(self, value: float) -> float:
        """The mean of ``value`` over the ranks (a step's loss: each rank saw part of the batch)."""
        return all_reduce_mean(value) if self.distributed else value

    def from_main(self, value: Any) -> Any:
        """Rank 0's ``value`` on every rank (a picklable object): decisions all ranks must share."""
        if not self.distributed:
            return value
        import torch.distributed as dist

        box = [value]
        dist.broadcast_object_list(box, src=0, device=_collective_device())
        return box[0]

    def gather(self, value: Any) -> list[Any] | None:
        """Every rank's ``value`` (a picklable object), in rank order; None in a single process."""
        if not self.distributed:
            return None
        import torch.distributed as dist

        values: list[Any] = [None] * self.size
        dist.all_gather_object(values, value)
        return values

    def own_rng_state(self, checkpoint: Mapping[str, Any]) -> Any:
        """The RNG state this rank resumes with: its own when the checkpoint holds one per rank of a
        launch of this size (``rng_by_rank``), else the checkpoint's ``rng`` (rank 0's)."""
        per_rank = checkpoint.get("rng_by_rank")
        if self.distributed and per_rank is not None and len(per_rank) == self.size:
            return per_rank[self.rank]
        return checkpoint["rng"]


@contextlib.contextmanager
def process_group(device_spec: str | None) -> Iterator[World]:
    """Join the process group of a torchrun launch for the length of the block, and always leave it.

    Input: the spec's ``training.device`` (``auto``, ``cpu``, ``cuda``...), which picks the backend:
    NCCL when the run trains on CUDA, gloo otherwise. Yields the :class:`World`; a single process
    (no torchrun, or ``WORLD_SIZE`` 1) gets ``World()`` and no process group. Inside a block that
    already holds a group (a caller's), yields that group's world and leaves it to the caller.
    On ranks other than 0, the runtime's warnings (training diagnostics) are left to rank 0.
    """
    rank, local_rank, size = launched_ranks()
    if size == 1:
        yield World()
        return
    import torch.distributed as dist

    if dist.is_initialized():
        yield World(dist.get_rank(), local_rank, dist.get_world_size())
        return
    from .device import pick_device

    backend = "nccl" if pick_device(device_spec).type == "cuda" else "gloo"
    store, rank, size = next(dist.rendezvous("env://"))
    dist.init_process_group(backend, store=dist.PrefixStore(f"rigorml/{next(_generations)}", store), rank=rank, world_size=size)
    runtime_logger = logging.getLogger("rigorml.runtime")
    level = runtime_logger.level
    if rank != 0:
        runtime_logger.setLevel(logging.ERROR)
    try:
        yield World(rank, local_rank, size)
        # Leave together: a rank that tears its group down while rank 0 is still writing the run
        # can abort gloo's connection threads (std::terminate) instead of exiting cleanly.
        dist.barrier()
    finally:
        runtime_logger.setLevel(level)
        dist.destroy_process_group()


def exit_worker(code: int) -> None:
    """End the process with exit status ``code``; in a torchrun worker, without running the C++
    static destructors.

    After the group is destroyed, tearing gloo's connection threads down at interpreter exit can
    abort a worker (``terminate called without an active exception``, SIGABRT) although its work
    is done, and torchrun then reports the whole launch as failed and kills the other ranks. A
    worker has closed its tracker and written its files by now, so it flushes Python's streams and
    leaves with ``os._exit``. Outside torchrun this is ``sys.exit(code)``.
    """
    import sys

    if launched_ranks()[2] == 1:
        sys.exit(code)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


class NullTracker:
    """The tracker of a rank other than 0: rank 0 records the run, the others record nothing."""

    def __init__(self, run_dir: str | os.PathLike = "."):
        self.run_dir = Path(run_dir)

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Nothing: rank 0 records the parameters."""

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None, axis: str = "step") -> None:
        """Nothing: rank 0 records the metrics."""

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Nothing: rank 0 records the tags."""

    def log_artifact(self, path: str | os.PathLike, name: str | None = None) -> str:
        """Nothing is kept; returns ``path``."""
        return str(path)

    def close(self, status: str = "finished") -> None:
        """Nothing to close."""

    def __enter__(self) -> NullTracker:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        return None
