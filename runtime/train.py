"""Training one arm over one replicate seed: what a compiled ``train.py`` calls.

``train_run(resolved, arm, replicate, run_dir)`` seeds every component, loads and splits the data,
builds the model and optimiser, trains with checkpoints, early stopping and tracking, and saves the
per-example predictions the evaluation needs. Run it again on the same directory and it resumes from
the latest checkpoint (mid-epoch included) and ends in exactly the state an uninterrupted run ends in;
run it on a finished directory and it does nothing.

Why the pieces are ordered as they are:

* the split uses ``data.split_seed`` only, never the replicate, so every arm and every replicate is
  evaluated on the same examples (the pairing the statistics rely on);
* weights are initialised right after seeding with the replicate's *model* seed, batches are ordered
  by the *data* seed, dropout draws from the *train* seed: changing ``seeds.data`` changes the batches
  but not the initial weights, and the other way round;
* the batch order of an epoch is a permutation derived from (data seed, epoch), so a resumed run needs
  only the epoch and the batch index to continue, plus the RNG states saved in the checkpoint.

Launched by ``torchrun`` with several processes, the run trains data-parallel (:mod:`.distributed`):
``data.loader.batch_size`` stays the global batch size, each rank trains on its share of every batch,
and rank 0 alone writes the run's files.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from . import checkpoint as ckpt
from . import distributed
from .config import arm_config, spec_hash
from .data import load_data, split_indices, standardize
from .device import pick_device
from .metrics import metric_function
from .models import build_model
from .optim import build_optimizer, build_scheduler
from .seeding import SeedConfig, seed_everything
from .tracking import write_json_atomic


#: The outcome of a run (status, epochs, steps, final metrics); the tracker owns run.json.
RESULT_FILE = "result.json"


@dataclass
class RunResult:
    """What a run ended with. ``status``: finished, early_stopped, pruned, or skipped (already ended)."""

    run_dir: Path
    arm: str
    replicate: int
    status: str
    epochs: int = 0
    steps: int = 0
    best: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)



def _epoch_order(n: int, seed: int, epoch: int, shuffle: bool) -> torch.Tensor:
    if not shuffle:
        return torch.arange(n)
    generator = torch.Generator().manual_seed(int(seed) * 1_000_003 + epoch)
    return torch.randperm(n, generator=generator)


def epoch_batches(count: int, batch_size: int, seed: int, epoch: int, shuffle: bool, drop_last: bool) -> list[torch.Tensor]:
    """The example indices of each batch of ``epoch``, in training order: a permutation of
    (data seed, epoch) cut into batches of ``batch_size`` (a short last one dropped when
    ``drop_last``). The training loop and the LR range test both draw their batches from here."""
    order = _epoch_order(count, seed, epoch, shuffle)
    bounds = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if drop_last and bounds and len(bounds[-1]) < batch_size:
        bounds = bounds[:-1]
    return bounds


def _loss_function(name: str, task: str):
    if name in ("auto", "cross_entropy") and task == "classification":
        return lambda out, y: F.cross_entropy(out, y)
    if name == "bce":
        return lambda out, y: F.binary_cross_entropy_with_logits(out.reshape(-1), y.float())
    if name in ("auto", "mse"):
        return lambda out, y: F.mse_loss(out.reshape(-1), y)
    if name == "l1":
        return lambda out, y: F.l1_loss(out.reshape(-1), y)
    if name == "huber":
        return lambda out, y: F.huber_loss(out.reshape(-1), y)
    raise ValueError(f"loss {name!r} does not apply to task {task!r}")


class _Evaluator:
    """Loss and metrics of a split, and the per-example scores the evaluation issue consumes."""

    def __init__(self, model, features, target, ids, loss_fn, batch_size, device, task, metric_names):
        self.model, self.features, self.target, self.ids = model, features, target, ids
        self.loss_fn, self.batch_size, self.device, self.task = loss_fn, batch_size, device, task
        self.metrics = {name: fn for name in metric_names if (fn := metric_function(name, task)) is not None}

    @torch.no_grad()
    def run(self, split: str) -> tuple[dict[str, float], np.ndarray]:
        self.model.eval()
        outputs, total = [], 0.0
        for start in range(0, len(self.features), self.batch_size):
            x = self.features[start : start + self.batch_size].to(self.device)
            y = self.target[start : start + self.batch_size].to(self.device)
            out = self.model(x)
            total += float(self.loss_fn(out, y).item()) * len(x)
            outputs.append(out.float().cpu())
        self.model.train()
        scores = torch.cat(outputs).numpy() if outputs else np.zeros((0,))
        values = {f"{split}/loss": total / max(1, len(self.features))}
        y_true = self.target.numpy()
        for name, fn in self.metrics.items():
            values[f"{split}/{name}"] = fn(y_true, scores)
        return values, scores


@dataclass
class TrainingSetup:
    """Everything a run trains with, built in the order that makes the seeds independent: data split
    (split seed), weights (model seed); batches (data seed) and dropout (train seed) are drawn later.
    ``lr-find`` and the training loop share it, so both see exactly the same model and data."""

    config: dict[str, Any]
    seeds: SeedConfig
    device: torch.device
    tensors: dict[str, tuple[torch.Tensor, torch.Tensor]]  # split -> (features, target)
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any
    schedule_every: str
    scaler: Any
    loss_fn: Any
    use_amp: bool
    amp_dtype: torch.dtype
    evaluators: dict[str, Any]
    steps_per_epoch: int
    epochs: int
    max_steps: int


def prepare_training(
    config: dict[str, Any], replicate: int, base_dir: str | Path = ".", world: distributed.World = distributed.World()
) -> TrainingSetup:
    """Seed, load and split the data, build the model, optimiser, scheduler and loss for one arm's
    config (``arm_config``) at replicate seed ``replicate``. Deterministic mode is switched on first
    when the config asks for it (before anything touches CUDA). ``world``: this process's place in a
    data-parallel launch (its GPU); a single process by default."""
    training, data_section, task = config["training"], config["data"], config["experiment"]["task"]
    seeds = SeedConfig.for_replicate(config["seeds"], replicate)
    if training["deterministic"]:
        from .determinism import enable_deterministic

        enable_deterministic()
    seed_everything(seeds.global_)
    device = world.device(pick_device(training["device"]))

    # Data: one split for every arm and replicate (pairing), features standardised on train only.
    dataset = load_data(data_section, task, base_dir)
    split = split_indices(
        dataset.target,
        data_section["splits"],
        data_section["split_seed"],
        data_section["stratify"],
        split_column_values=dataset.split,
    )
    _, _, *scaled = standardize(*(dataset.features[split[s]] for s in ("train", "val", "test")))
    as_target = torch.long if task == "classification" else torch.float32
    tensors = {
        name: (torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(dataset.target[split[name]], dtype=as_target))
        for name, x in zip(("train", "val", "test"), scaled)
    }
    output_dim = len(dataset.classes) if task == "classification" else 1
    x_train, y_train = tensors["train"]

    # Model initialised from the model seed alone.
    torch.manual_seed(seeds.model)
    model = build_model(config["model"], x_train.shape[1], output_dim).to(device)
    loader = data_section["loader"]
    batch_size, accumulation = loader["batch_size"], training["grad_accumulation_steps"]
    batches_per_epoch = (
        len(x_train) // batch_size if loader["drop_last"] else math.ceil(len(x_train) / batch_size)
    )
    steps_per_epoch = max(1, math.ceil(batches_per_epoch / accumulation))
    epochs = training["epochs"] or math.ceil(training["max_steps"] / steps_per_epoch)
    max_steps = training["max_steps"] or epochs * steps_per_epoch
    optimizer = build_optimizer(model.parameters(), training["optimizer"])
    scheduler, schedule_every = build_scheduler(optimizer, training["scheduler"], steps_per_epoch, epochs)
    loss_fn = _loss_function(training["loss"], task)
    use_amp = device.type == "cuda" and training["precision"] in ("bf16", "fp16")
    amp_dtype = torch.bfloat16 if training["precision"] == "bf16" else torch.float16
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and training["precision"] == "fp16")

    metric_names = [config["metrics"]["primary"], *config["metrics"]["secondary"]]
    evaluators = {
        name: _Evaluator(model, *tensors[name], dataset.ids[split[name]], loss_fn, loader["eval_batch_size"], device, task, metric_names)
        for name in ("val", "test")
    }
    return TrainingSetup(
        config, seeds, device, tensors, model, optimizer, scheduler, schedule_every, scaler, loss_fn,
        use_amp, amp_dtype, evaluators, steps_per_epoch, epochs, max_steps,
    )  # fmt: skip


def train_run(
    resolved: dict[str, Any],
    arm: str,
    replicate: int,
    run_dir: str | Path,
    *,
    base_dir: str | Path = ".",
    tracker_factory=None,
    on_epoch=None,
    splits: tuple[str, ...] = ("val", "test"),
) -> RunResult:
    """Train ``arm`` of the resolved spec over replicate seed ``replicate`` in ``run_dir``.

    Resumes from the newest checkpoint in ``run_dir/checkpoints`` (per ``training.checkpoint.resume``);
    returns immediately with status ``skipped`` when ``run_dir/result.json`` says the run finished.
    (``run.json`` belongs to the tracker: command, git state, environment.)
    ``tracker_factory(config, run_dir, run_name)`` opens the tracker (the spec's backend by default).
    ``on_epoch(epoch, values)`` is called after each validation with the logged ``val/...`` values;
    returning true stops the run with status ``pruned`` (a sweep's pruner), which is final: the run is
    not resumed and has no final evaluation. ``splits`` are the splits evaluated at the end, whose
    per-example predictions are saved (a sweep trial passes ``("val",)``: tuning never sees test).
    Raises ``diagnostics.TrainingDiverged`` when the loss becomes NaN or infinite.

    Under ``torchrun`` with several processes every rank calls this; they train data-parallel
    (:mod:`.distributed`) and only rank 0 tracks and writes (the others return their RunResult with
    no metrics). Raises ``distributed.DistributedConfigError`` when ``data.loader.batch_size`` does not
    split evenly over the processes.
    """
    config = arm_config(resolved, arm)
    with distributed.process_group(config["training"]["device"]) as world:
        world.check_batch_size(config["data"]["loader"]["batch_size"])
        return _train(resolved, config, arm, replicate, Path(run_dir), base_dir, tracker_factory, on_epoch, splits, world)


def _train(resolved, config, arm, replicate, run_dir: Path, base_dir, tracker_factory, on_epoch, splits, world) -> RunResult:
    """``train_run`` of ``config`` (the arm's), in this process's place of ``world``."""
    run_dir.mkdir(parents=True, exist_ok=True)
    status_path = run_dir / RESULT_FILE
    digest = spec_hash(resolved)
    if status_path.exists():
        previous = json.loads(status_path.read_text(encoding="utf-8"))
        if previous.get("config_sha256") not in (None, digest):
            raise RuntimeError(
                f"{run_dir} holds a run of a different configuration (sha256 {previous['config_sha256'][:12]}..., "
                f"this one {digest[:12]}...): use another run directory, or delete that one to start over"
            )
        if previous.get("status") in ("finished", "early_stopped", "pruned"):
            return RunResult(run_dir, arm, replicate, "skipped", metrics=previous.get("metrics", {}))

    setup = prepare_training(config, replicate, base_dir, world)
    config, training, seeds, device = setup.config, setup.config["training"], setup.seeds, setup.device
    model, optimizer, scheduler, scaler = setup.model, setup.optimizer, setup.scheduler, setup.scaler
    x_train, y_train = setup.tensors["train"]
    loader, loss_fn, evaluators = setup.config["data"]["loader"], setup.loss_fn, setup.evaluators
    batch_size, accumulation = loader["batch_size"], training["grad_accumulation_steps"]
    epochs, max_steps, schedule_every = setup.epochs, setup.max_steps, setup.schedule_every
    use_amp, amp_dtype = setup.use_amp, setup.amp_dtype
    stopping = training["early_stopping"]
    checkpointing = training["checkpoint"]
    checkpoint_dir = run_dir / "checkpoints"

    # Position in training, and what a checkpoint restores.
    epoch, batch_index, global_step = 0, 0, 0
    best, bad_epochs, best_metrics = None, 0, {}
    epoch_losses: list[float] = []  # this epoch's step losses so far (part of the checkpoint)
    monitor = _monitor()
    latest = ckpt.latest_checkpoint(checkpoint_dir) if checkpointing["resume"] != "never" else None
    latest = world.from_main(latest)  # every rank resumes from the same checkpoint
    if checkpointing["resume"] == "required" and latest is None:
        raise FileNotFoundError(f"training.checkpoint.resume is `required` and {checkpoint_dir} has no checkpoint")
    if latest is not None:
        state = ckpt.load_checkpoint(latest, map_location=device)
        if state.get("config_sha256") not in (None, digest):
            raise RuntimeError(f"{latest} was written by a different configuration: it cannot be resumed here")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None and state.get("scheduler") is not None:
            scheduler.load_state_dict(state["scheduler"])
        scaler.load_state_dict(state["scaler"])
        epoch, batch_index, global_step = state["epoch"], state["batch_index"], state["step"]
        best, bad_epochs = state["best"], state["bad_epochs"]
        best_metrics = state.get("best_metrics", {})
        epoch_losses = list(state["epoch_losses"])
        if monitor is not None and state.get("monitor") is not None:
            monitor.load_state_dict(state["monitor"])
        ckpt.restore_rng_state(world.own_rng_state(state))
    else:
        torch.manual_seed(seeds.train + world.rank)  # dropout and other training-time draws, per rank
    net = world.wrap(model, device)  # what trains; `model` (unwrapped) is saved and evaluated

    def save(epoch_: int, batch_: int) -> None:
        rng_by_rank = world.gather(ckpt.capture_rng_state())  # every rank's dropout stream, on rank 0
        if not world.is_main:
            return
        state = {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict() if scheduler is not None else None,
            "scaler": scaler.state_dict(),
            "epoch": epoch_,
            "batch_index": batch_,
            "step": global_step,
            "best": best,
            "bad_epochs": bad_epochs,
            "best_metrics": best_metrics,
            "epoch_losses": list(epoch_losses),
            "monitor": monitor.state_dict() if monitor is not None else None,
            "rng": ckpt.capture_rng_state(),
            "config_sha256": spec_hash(resolved),
        }
        if rng_by_rank is not None:
            state["rng_by_rank"] = rng_by_rank
        ckpt.save_checkpoint(ckpt.checkpoint_path(checkpoint_dir, global_step), state)
        ckpt.prune(checkpoint_dir, checkpointing["keep"])

    # A resumed run logs the steps after its checkpoint again: the tracker forgets the earlier copies.
    resume_after = {"step": global_step, "epoch": epoch} if latest is not None else None
    if world.is_main:
        tracker = (tracker_factory or _default_tracker)(config, resolved, run_dir, arm, replicate, resume_after)
        write_json_atomic(status_path, {"status": "running", "arm": arm, "replicate": replicate, "config_sha256": spec_hash(resolved)})
    else:
        tracker = distributed.NullTracker(run_dir)
    status = "finished"
    started = time.time()
    _terminate_as_interrupt()  # a preempted job (SIGTERM) closes its tracker as "killed", like Ctrl-C
    with tracker:
        model.train()
        while epoch < epochs and global_step < max_steps:
            bounds = epoch_batches(len(x_train), batch_size, seeds.data, epoch, loader["shuffle"], loader["drop_last"])
            while batch_index < len(bounds) and global_step < max_steps:
                chunk = bounds[batch_index : batch_index + accumulation]
                optimizer.zero_grad(set_to_none=True)
                step_loss = 0.0
                for position, batch in enumerate(chunk):
                    indices = world.shard(batch, batch_size)
                    x, y = x_train[indices].to(device), y_train[indices].to(device)
                    with world.accumulating(net, last=position == len(chunk) - 1):
                        with torch.autocast(device.type, dtype=amp_dtype, enabled=use_amp):
                            loss = world.shard_loss(loss_fn, net(x), y, len(batch)) / len(chunk)
                        scaler.scale(loss).backward()
                    step_loss += float(loss.detach().item())
                step_loss = world.mean(step_loss)  # the whole batch's loss, the same on every rank
                scaler.unscale_(optimizer)
                if monitor is not None:
                    monitor.on_step(global_step, step_loss, model)
                if training["grad_clip"] is not None:
                    torch.nn.utils.clip_grad_norm_(
                        model.parameters(), training["grad_clip"]["max_norm"], training["grad_clip"]["norm_type"]
                    )
                scaler.step(optimizer)
                scaler.update()
                if scheduler is not None and schedule_every == "step":
                    scheduler.step()
                batch_index += len(chunk)
                global_step += 1
                epoch_losses.append(step_loss)
                if global_step % training["log_every_steps"] == 0:
                    tracker.log_metrics({"train/loss": step_loss}, step=global_step, axis="step")
                if checkpointing["every_steps"] and global_step % checkpointing["every_steps"] == 0 and batch_index < len(bounds):
                    save(epoch, batch_index)
            # End of an epoch: validate, schedule, stop early, checkpoint.
            epoch += 1
            batch_index = 0
            values = {}
            mean_loss = float(np.mean(epoch_losses)) if epoch_losses else None
            epoch_losses = []
            if epoch % training["eval_every_epochs"] == 0 or epoch == epochs:
                # Rank 0 validates and decides; the others take its values, so all stop alike.
                if world.is_main:
                    values, _ = evaluators["val"].run("val")
                    if mean_loss is not None:
                        values["train/epoch_loss"] = mean_loss
                values = world.from_main(values)
                tracker.log_metrics(values, step=epoch, axis="epoch")
                if monitor is not None:
                    monitor.on_epoch(epoch, mean_loss, values["val/loss"], values)
                if world.from_main(on_epoch is not None and world.is_main and bool(on_epoch(epoch, dict(values)))):
                    status = "pruned"
                    break
            if scheduler is not None and schedule_every == "epoch":
                scheduler.step()
            elif scheduler is not None and schedule_every == "plateau" and values:
                scheduler.step(values["val/loss"])
            if stopping is not None and values:
                current = values.get(stopping["metric"])
                if current is not None:
                    better = (
                        best is None
                        or (stopping["mode"] == "min" and current < best - stopping["min_delta"])
                        or (stopping["mode"] == "max" and current > best + stopping["min_delta"])
                    )
                    if better:
                        best, bad_epochs, best_metrics = current, 0, dict(values)
                    else:
                        bad_epochs += 1
            if checkpointing["every_epochs"] and epoch % checkpointing["every_epochs"] == 0:
                save(epoch, 0)
            if stopping is not None and bad_epochs >= stopping["patience"]:
                status = "early_stopped"
                break

        # Final evaluation: per-example scores of each split, matched by example id (rank 0 only).
        final: dict[str, float] = {}
        predictions = run_dir / "predictions"
        if world.is_main:
            predictions.mkdir(exist_ok=True)
        for name in splits if status != "pruned" and world.is_main else ():
            values, scores = evaluators[name].run(name)
            final.update(values)
            np.savez(
                predictions / f"{name}.npz",
                ids=evaluators[name].ids,
                y_true=evaluators[name].target.numpy(),
                scores=scores,
            )
        if "test" in splits and status != "pruned" and world.is_main:
            tracker.log_metrics({k: v for k, v in final.items() if k.startswith("test/")}, step=epoch, axis="epoch")

    result = RunResult(run_dir, arm, replicate, status, epoch, global_step, best, final)
    if not world.is_main:
        return result
    write_json_atomic(
        status_path,
        {
            "status": status,
            "arm": arm,
            "replicate": replicate,
            "epochs": epoch,
            "steps": global_step,
            "metrics": final,
            "config_sha256": spec_hash(resolved),
            "seconds": time.time() - started,
        },
    )
    torch.save(model.state_dict(), run_dir / "model.pt")
    return result


def _terminate_as_interrupt() -> None:
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():

        def interrupt(signum, frame):
            raise KeyboardInterrupt(f"signal {signum}")

        signal.signal(signal.SIGTERM, interrupt)


def _monitor():
    try:
        from .diagnostics import TrainingMonitor
    except ImportError:  # pragma: no cover - the module ships with the runtime
        return None
    return TrainingMonitor()


def _default_tracker(config, resolved, run_dir, arm, replicate, resume_after=None):
    from .tracking import open_tracker

    tracking = config["tracking"]
    name = tracking["run_name"].format(
        experiment=config["experiment"]["name"], variant=arm, seed=replicate, trial=""
    )
    return open_tracker(tracking, run_dir, name, tracking["group"], resolved, resume_after=resume_after)
