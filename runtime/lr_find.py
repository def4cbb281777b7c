"""The learning-rate range test (Smith 2015, as fastai and pytorch-lr-finder run it).

``lr_range_test(setup)`` trains the model of a :class:`~rigorml.runtime.train.TrainingSetup` for a
few dozen optimiser steps while the learning rate grows exponentially from ``start_lr`` to
``end_lr``, records the loss of every step, and suggests the learning rate where the smoothed loss
falls fastest against log10(lr). Then it puts everything back: weights, optimiser state (learning
rates included), AMP scaler, gradients, train/eval mode and every RNG, so a training run that
follows starts exactly as if the test had never run. ``save_plot`` draws the curve and writes the
result as JSON next to the picture.

Why the steepest descent and not the minimum: at the minimum the loss is about to blow up; the
learning rate there trains for a step or two and then diverges. Where the loss falls fastest the
model learns quickly and is still stable. The minimum (and a tenth of it, fastai's other rule of
thumb) are reported for reference only.

The steps are the training loop's steps: batches in the data seed's order (cycling epochs when the
test outlasts one), the spec's loss, AMP settings, gradient accumulation and gradient clipping. The
scheduler is not stepped: the test sets the learning rate itself.
"""

from __future__ import annotations

import copy
import io
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from . import checkpoint as ckpt
from .tracking import write_atomic, write_json_atomic

#: The fewest steps that leave a window to look for the steepest descent in.
MIN_STEPS = 10

#: Why a test ended: every step ran, the smoothed loss passed ``diverge_factor`` x its best, or the
#: loss became NaN or infinite.
STOP_COMPLETED, STOP_DIVERGED, STOP_NON_FINITE = "completed", "diverged", "non_finite"


@dataclass
class LRFindResult:
    """What a range test recorded and what it suggests.

    ``lrs[i]`` is the learning rate of step ``i`` and ``losses[i]`` the training loss of that step's
    batch (computed before that step's update, as fastai records it); ``smoothed[i]`` is the
    bias-corrected exponential moving average of ``losses[: i + 1]``. The suggestion is searched in
    ``lrs[window[0] : window[1]]`` (the first and last few points left out: the start is mostly
    noise, the end is divergence). ``suggested_lr`` is None when the curve never falls there, with
    the reason in ``note``.
    """

    lrs: list[float]
    losses: list[float]
    smoothed: list[float]
    suggested_lr: float | None
    suggested_index: int | None
    min_loss_lr: float | None
    min_loss_index: int | None
    diverged: bool
    stop_reason: str
    window: tuple[int, int]
    start_lr: float
    end_lr: float
    num_steps: int
    smoothing: float
    diverge_factor: float
    seconds: float
    note: str = ""
    #: Who the test was run for (spec, arm, replicate seed...), written into the JSON as is.
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def steps(self) -> int:
        """Steps actually run (fewer than ``num_steps`` when the test stopped on divergence)."""
        return len(self.lrs)

    @property
    def min_loss_lr_tenth(self) -> float | None:
        """A tenth of the minimum-loss learning rate: fastai's older rule of thumb, for reference."""
        return None if self.min_loss_lr is None else self.min_loss_lr / 10

    def to_json(self) -> dict[str, Any]:
        """The result as JSON data (non-finite losses become "NaN"/"Infinity" when written)."""
        payload = asdict(self)
        payload["window"] = list(self.window)
        payload["steps"] = self.steps
        payload["min_loss_lr_tenth"] = self.min_loss_lr_tenth
        return payload


def lr_schedule(start_lr: float, end_lr: float, num_steps: int) -> np.ndarray:
    """The ``num_steps`` learning rates of a test: exponential from ``start_lr`` to ``end_lr``
    (both included), i.e. evenly spaced in log10(lr)."""
    return start_lr * (end_lr / start_lr) ** (np.arange(num_steps) / (num_steps - 1))


def steepest_descent_window(count: int) -> tuple[int, int]:
    """The indices ``[first, stop)`` of a curve of ``count`` finite points in which the steepest
    descent is searched: the first tenth (at most 10 points) and the last twentieth (at most 5, at
    least 1) are left out, as fastai and pytorch-lr-finder leave out 10 and 5 of their 100 steps."""
    return max(1, min(10, count // 10)), count - max(1, min(5, count // 20))


def lr_range_test(
    setup,
    *,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_steps: int = 100,
    smoothing: float = 0.98,
    diverge_factor: float = 4.0,
) -> LRFindResult:
    """Run the learning-rate range test on a ``TrainingSetup`` (``runtime.train.prepare_training``).

    Inputs: ``setup``, fresh from ``prepare_training`` (or at any point of training: its state is
    restored afterwards); ``start_lr`` < ``end_lr``, both > 0; ``num_steps`` >= ``MIN_STEPS``
    optimiser steps; ``smoothing``, the moving-average factor in [0, 1); ``diverge_factor`` > 1: the
    test stops once the smoothed loss exceeds that multiple of the best smoothed loss so far (losses
    are taken to be non-negative, as every builtin loss is).
    Output: an :class:`LRFindResult`. Model, optimiser, scaler, gradients, train/eval mode and the
    Python/NumPy/torch/CUDA RNG states are exactly what they were before, also when it raises.
    Errors: ValueError for arguments out of range.
    """
    if not (start_lr > 0 and math.isfinite(end_lr) and end_lr > start_lr):
        raise ValueError(f"the learning rates must satisfy 0 < start ({start_lr:g}) < end ({end_lr:g})")
    if num_steps < MIN_STEPS:
        raise ValueError(f"the test needs at least {MIN_STEPS} steps, not {num_steps}")
    if not 0 <= smoothing < 1:
        raise ValueError(f"smoothing must be in [0, 1), not {smoothing:g}")
    if not diverge_factor > 1:
        raise ValueError(f"diverge_factor must be > 1, not {diverge_factor:g}")

    lrs = lr_schedule(start_lr, end_lr, num_steps)
    saved = _capture(setup)
    started = time.perf_counter()
    try:
        # Dropout and other training-time draws come from the train seed, as in train_run.
        torch.manual_seed(setup.seeds.train)
        recorded, losses, smoothed, stop = _sweep(setup, lrs, smoothing, diverge_factor)
    finally:
        _restore(setup, saved)
    seconds = time.perf_counter() - started
    return _summarise(
        recorded, losses, smoothed, stop,
        start_lr=start_lr, end_lr=end_lr, num_steps=num_steps, smoothing=smoothing,
        diverge_factor=diverge_factor, seconds=seconds,
    )  # fmt: skip


def _sweep(setup, lrs: np.ndarray, smoothing: float, diverge_factor: float):
    """The training steps of the test: returns the lrs used, raw and smoothed losses, why it stopped."""
    training = setup.config["training"]
    model, optimizer, scaler, loss_fn, device = setup.model, setup.optimizer, setup.scaler, setup.loss_fn, setup.device
    x_train, y_train = setup.tensors["train"]
    clip = training["grad_clip"]
    recorded: list[float] = []
    losses: list[float] = []
    smoothed: list[float] = []
    average, best = 0.0, math.inf
    stop = STOP_COMPLETED
    model.train()
    for step, (lr, chunk) in enumerate(zip(lrs, _step_batches(setup))):
        for group in optimizer.param_groups:
            group["lr"] = float(lr)
        optimizer.zero_grad(set_to_none=True)
        step_loss = 0.0
        for indices in chunk:
            x, y = x_train[indices].to(device), y_train[indices].to(device)
            with torch.autocast(device.type, dtype=setup.amp_dtype, enabled=setup.use_amp):
                loss = loss_fn(model(x), y) / len(chunk)
            scaler.scale(loss).backward()
            step_loss += float(loss.detach().item())
        scaler.unscale_(optimizer)
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip["max_norm"], clip["norm_type"])
        scaler.step(optimizer)
        scaler.update()

        average = smoothing * average + (1 - smoothing) * step_loss
        current = average / (1 - smoothing ** (step + 1))  # bias correction: no pull towards 0 early on
        recorded.append(float(lr))
        losses.append(step_loss)
        smoothed.append(current)
        if not math.isfinite(current):
            stop = STOP_NON_FINITE
            break
        if step > 0 and best > 0 and current > diverge_factor * best:
            stop = STOP_DIVERGED
            break
        best = min(best, current)
    return recorded, losses, smoothed, stop


def _step_batches(setup) -> Iterator[list[torch.Tensor]]:
    """The batches of each optimiser step, in the order train_run draws them (data seed, epoch by
    epoch, ``grad_accumulation_steps`` batches a step), for as many epochs as the test needs."""
    from .train import epoch_batches  # the training loop's own batch order, one definition

    loader = setup.config["data"]["loader"]
    batch_size, accumulation = loader["batch_size"], setup.config["training"]["grad_accumulation_steps"]
    count = len(setup.tensors["train"][0])
    epoch = 0
    while True:
        bounds = epoch_batches(count, batch_size, setup.seeds.data, epoch, loader["shuffle"], loader["drop_last"])
        if not bounds:
            raise ValueError(f"the training split ({count} examples) holds no batch of {batch_size}")
        for start in range(0, len(bounds), accumulation):
            yield bounds[start : start + accumulation]
        epoch += 1


def _summarise(recorded, losses, smoothed, stop, **settings) -> LRFindResult:
    """Find the steepest descent of the smoothed loss against log10(lr), and the minimum."""
    finite = len(smoothed) if stop != STOP_NON_FINITE else len(smoothed) - 1
    first, end = steepest_descent_window(finite)
    suggested_index = min_index = None
    note = ""
    if finite > 0:
        min_index = int(np.argmin(smoothed[:finite]))
    if end - first >= 3:
        # The curve's slope per decade of learning rate; lrs are evenly spaced in log10.
        slope = np.gradient(np.asarray(smoothed[:finite]), np.log10(recorded[:finite]))
        candidate = first + int(np.argmin(slope[first:end]))
        if slope[candidate] < 0:
            suggested_index = candidate
        else:
            note = "the smoothed loss never falls in the range tested: start from a lower learning rate (--start)"
    else:
        note = (
            f"only {finite} usable step(s) before the loss diverged: too few to find the steepest descent "
            "(start lower, or run more steps)"
        )
    return LRFindResult(
        lrs=recorded,
        losses=losses,
        smoothed=smoothed,
        suggested_lr=recorded[suggested_index] if suggested_index is not None else None,
        suggested_index=suggested_index,
        min_loss_lr=recorded[min_index] if min_index is not None else None,
        min_loss_index=min_index,
        diverged=stop != STOP_COMPLETED,
        stop_reason=stop,
        window=(first, max(first, end)),
        note=note,
        **settings,
    )


def _capture(setup) -> dict[str, Any]:
    """Copies of every state the test changes (deep: the optimiser steps tensors in place)."""
    model = setup.model
    return {
        "model": {name: value.detach().clone() for name, value in model.state_dict().items()},
        "grads": [None if p.grad is None else p.grad.detach().clone() for p in model.parameters()],
        "training": {name: module.training for name, module in model.named_modules()},
        "optimizer": copy.deepcopy(setup.optimizer.state_dict()),
        "scaler": copy.deepcopy(setup.scaler.state_dict()),
        "rng": ckpt.capture_rng_state(),
    }


def _restore(setup, saved: dict[str, Any]) -> None:
    model = setup.model
    model.load_state_dict(saved["model"])  # copies into the same parameters the optimiser holds
    for parameter, grad in zip(model.parameters(), saved["grads"]):
        parameter.grad = grad
    for name, module in model.named_modules():
        module.training = saved["training"][name]
    setup.optimizer.load_state_dict(saved["optimizer"])  # learning rates and moments
    if saved["scaler"]:
        setup.scaler.load_state_dict(saved["scaler"])
    ckpt.restore_rng_state(saved["rng"])


def save_plot(result: LRFindResult, path: str | Path) -> tuple[Path, Path]:
    """Draw the smoothed loss against the learning rate (log axis), the suggestion marked, as a PNG
    at ``path``; write ``result`` as JSON next to it (same name, ``.json``). Both atomically.

    Output: the paths of the PNG and the JSON.
    Errors: ImportError naming the extra when matplotlib is missing; OSError when writing fails.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:  # pragma: no cover - matplotlib comes with the `run` extra
        raise ImportError("the lr-find plot needs matplotlib: pip install 'rigorml[run]'") from error

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A Figure with its own Agg canvas: no pyplot, no global backend switch, nothing left open.
    figure = Figure(figsize=(7, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    lrs, raw, smooth = np.asarray(result.lrs), np.asarray(result.losses), np.asarray(result.smoothed)
    shown = np.isfinite(smooth)
    axes.plot(lrs[np.isfinite(raw)], raw[np.isfinite(raw)], color="0.75", linewidth=0.8, label="loss")
    axes.plot(lrs[shown], smooth[shown], color="C0", linewidth=1.8, label="smoothed loss")
    if result.suggested_lr is not None:
        suggested, at = result.suggested_lr, result.suggested_index
        axes.axvline(suggested, color="C3", linestyle="--", linewidth=1)
        axes.plot([suggested], [smooth[at]], "o", color="C3", label=f"steepest descent: {suggested:.3g}")
    if result.min_loss_lr is not None:
        minimum, at = result.min_loss_lr, result.min_loss_index
        axes.plot([minimum], [smooth[at]], "v", color="0.3", label=f"minimum loss: {minimum:.3g}")
    if shown.any():
        # The diverging tail would squash the interesting part: cap the axis a little above the start.
        low = float(min(smooth[shown].min(), raw[np.isfinite(raw)].min()))
        high = float(smooth[shown][: max(1, result.window[0]) + 1].max())
        margin = 0.1 * max(high - low, 1e-12)
        axes.set_ylim(low - margin, max(high, low) + 3 * margin)
    axes.set_xscale("log")
    axes.set_xlabel("learning rate (log scale)")
    axes.set_ylabel("training loss")
    title = f"LR range test: {result.steps} steps" + (f", stopped: {result.stop_reason}" if result.diverged else "")
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="best", fontsize="small")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    write_atomic(path, buffer.getvalue())
    json_path = path.with_suffix(".json")
    write_json_atomic(json_path, result.to_json())
    return path, json_path
