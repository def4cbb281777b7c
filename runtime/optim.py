"""Optimisers and learning-rate schedules from the spec's ``training.optimizer`` / ``training.scheduler``.

Every schedule but ``plateau`` is a closed-form ``LambdaLR`` stepped once per optimiser step: warm-up
and the shape are one function of the step count, so resuming from a checkpoint (``last_epoch``)
gives exactly the learning rate an uninterrupted run has, and stepping past the end holds the final
value instead of failing. ``plateau`` is ``ReduceLROnPlateau``, stepped with the validation metric.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Literal

import torch
from torch.optim.lr_scheduler import LambdaLR, LRScheduler, ReduceLROnPlateau

#: When the training loop steps a scheduler: after every optimiser step, after every epoch, or
#: after every validation with the monitored metric (``scheduler.step(metric)``). The builtin
#: schedules use "step" and "plateau"; a loop should still honour "epoch".
SchedulerInterval = Literal["step", "epoch", "plateau"]


def _adam_family(cls, *, supports_amsgrad: bool):
    def build(parameters, section: dict) -> torch.optim.Optimizer:
        kwargs: dict[str, Any] = {
            "lr": section.get("lr", 1e-3),
            "weight_decay": section.get("weight_decay", 0.0),
            "betas": tuple(section.get("betas", (0.9, 0.999))),
            "eps": section.get("eps", 1e-8),
        }
        if section.get("amsgrad", False):
            if not supports_amsgrad:
                raise ValueError(
                    f"optimizer {section['name']!r} has no AMSGrad variant; amsgrad applies to adam and adamw"
                )
            kwargs["amsgrad"] = True
        return cls(parameters, **kwargs)

    return build


def _sgd(parameters, section: dict) -> torch.optim.Optimizer:
    momentum, nesterov = section.get("momentum", 0.0), section.get("nesterov", False)
    if nesterov and momentum <= 0:
        raise ValueError("sgd with nesterov=true needs momentum > 0")
    return torch.optim.SGD(
        parameters, lr=section.get("lr", 1e-3), momentum=momentum, nesterov=nesterov, weight_decay=section.get("weight_decay", 0.0)
    )


def _rmsprop(parameters, section: dict) -> torch.optim.Optimizer:
    return torch.optim.RMSprop(
        parameters,
        lr=section.get("lr", 1e-3),
        alpha=section.get("alpha", 0.99),
        eps=section.get("eps", 1e-8),
        momentum=section.get("momentum", 0.0),
        weight_decay=section.get("weight_decay", 0.0),
    )


def _adagrad(parameters, section: dict) -> torch.optim.Optimizer:
    return torch.optim.Adagrad(
        parameters, lr=section.get("lr", 1e-3), eps=section.get("eps", 1e-10), weight_decay=section.get("weight_decay", 0.0)
    )


#: Optimiser builders by the spec's ``training.optimizer.name``.
OPTIMIZERS: dict[str, Callable[[Iterable, dict], torch.optim.Optimizer]] = {
    "adam": _adam_family(torch.optim.Adam, supports_amsgrad=True),
    "adamw": _adam_family(torch.optim.AdamW, supports_amsgrad=True),
    "nadam": _adam_family(torch.optim.NAdam, supports_amsgrad=False),
    "radam": _adam_family(torch.optim.RAdam, supports_amsgrad=False),
    "adamax": _adam_family(torch.optim.Adamax, supports_amsgrad=False),
    "sgd": _sgd,
    "rmsprop": _rmsprop,
    "adagrad": _adagrad,
}


def build_optimizer(parameters: Iterable, section: dict) -> torch.optim.Optimizer:
    """The optimiser a spec's ``training.optimizer`` section names.

    Inputs: ``parameters``, what ``torch.optim`` takes (``model.parameters()`` or param groups);
    ``section``, the resolved optimizer mapping: ``name`` (adam, adamw, nadam, radam, adamax, sgd,
    rmsprop, adagrad), ``lr``, ``weight_decay`` and the name's own settings: ``betas``, ``eps``,
    ``amsgrad`` (Adam family; AMSGrad for adam/adamw only), ``momentum``, ``nesterov`` (sgd),
    ``momentum``, ``alpha``, ``eps`` (rmsprop), ``eps`` (adagrad). Keys that belong to another
    optimiser are ignored: an arm that overrides ``name`` keeps the base spec's other keys.
    Output: the optimiser.
    Errors: ValueError for an unknown name, ``amsgrad`` on nadam/radam/adamax, ``nesterov`` without
    momentum, or values torch rejects (negative lr, betas outside [0, 1)).
    """
    name = section.get("name")
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r} (optimizers: {', '.join(OPTIMIZERS)})")
    return OPTIMIZERS[name](parameters, section)


# --- schedules -------------------------------------------------------------------------------------


def _warmup_then(shape: Callable[[float], float], warmup: int, decay_steps: int) -> Callable[[int], float]:
    """A multiplier of the base lr at step t: a linear ramp over ``warmup`` steps, then ``shape``
    of the progress through the remaining ``decay_steps`` (0 -> 1, held at 1 past the end)."""

    def factor(step: int) -> float:
        if step < warmup:
            # (t + 1) / warmup: the first step already learns; the last warm-up step reaches the base lr.
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / decay_steps) if decay_steps > 0 else 1.0
        return shape(progress)

    return factor


def _cosine(floor: float) -> Callable[[float], float]:
    return lambda p: floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * p))


def _linear(floor: float) -> Callable[[float], float]:
    return lambda p: floor + (1.0 - floor) * (1.0 - p)


def _staircase(gamma: float, every_steps: int, floor: float, warmup: int) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(floor, gamma ** ((step - warmup) // every_steps))

    return factor


def _onecycle(total: int, warmup: int, min_ratio: float | None) -> Callable[[int], float]:
    # The shape of torch's OneCycleLR (cosine annealing, div_factor 25, final_div_factor 1e4),
    # written in closed form so that a step past the end holds the last value rather than raising.
    initial, peak = 1.0 / 25.0, 1.0
    final = min_ratio if min_ratio else initial / 1e4
    pct_start = warmup / total if warmup > 0 else 0.3
    rise_end = float(pct_start * total) - 1
    fall_end = float(total) - 1

    def anneal(start: float, end: float, pct: float) -> float:
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)

    def factor(step: int) -> float:
        if step <= rise_end:
            return anneal(initial, peak, step / rise_end) if rise_end > 0 else peak
        span = fall_end - rise_end
        return anneal(peak, final, min(1.0, (step - rise_end) / span) if span > 0 else 1.0)

    return factor


def build_scheduler(
    optimizer: torch.optim.Optimizer,
    section: dict,
    steps_per_epoch: int,
    epochs: int | None,
    *,
    total_steps: int | None = None,
    mode: Literal["min", "max"] = "min",
) -> tuple[LRScheduler | ReduceLROnPlateau | None, SchedulerInterval]:
    """The learning-rate schedule a spec's ``training.scheduler`` section names, and when to step it.

    Inputs: the optimiser; ``section`` (``name``, ``warmup_steps``, ``min_lr``, ``step_size``,
    ``gamma``, ``patience``); ``steps_per_epoch``, optimiser steps per epoch (batches divided by
    gradient accumulation, rounded up); ``epochs``; ``total_steps``, the run's optimiser steps when
    ``training.max_steps`` ends it earlier (default ``steps_per_epoch * epochs``); ``mode``, whether
    the metric a ``plateau`` schedule watches is minimised or maximised.
    Schedules (per optimiser step, after a linear warm-up of ``warmup_steps`` steps from
    ``lr / warmup_steps`` to ``lr``): ``none`` (constant), ``cosine`` (to ``min_lr`` at the last step),
    ``linear`` (to ``min_lr``), ``step`` (times ``gamma``, default 0.1, every ``step_size`` epochs),
    ``exponential`` (times ``gamma`` every epoch), ``onecycle`` (torch's OneCycleLR shape with
    ``lr`` as the peak; the warm-up sets the rising fraction, default 30%; ``min_lr``, if set, is
    the final lr); ``step``/``exponential`` never go below ``min_lr``. ``plateau``: ReduceLROnPlateau
    (``factor=gamma`` default 0.1, ``patience`` default 10, ``min_lr``).
    Output: ``(scheduler, interval)``; ``scheduler`` is None for ``none`` without warm-up; interval
    is "step" (call ``scheduler.step()`` after each ``optimizer.step()``) or "plateau" (call
    ``scheduler.step(metric)`` after each validation).
    Errors: ValueError for an unknown name, a missing total length, ``min_lr`` above an lr,
    ``exponential`` without ``gamma``, ``step`` without ``step_size``, or warm-up with ``plateau``.
    """
    name = section.get("name", "none")
    warmup = int(section.get("warmup_steps") or 0)
    min_lr = float(section.get("min_lr") or 0.0)
    gamma = section.get("gamma")
    if steps_per_epoch < 1:
        raise ValueError(f"steps_per_epoch must be at least 1, got {steps_per_epoch}")

    if name == "plateau":
        if warmup:
            raise ValueError(
                "the plateau schedule reacts to validations and cannot also warm up per step; "
                "set training.scheduler.warmup_steps: 0 or use another schedule"
            )
        patience = section.get("patience")
        scheduler = ReduceLROnPlateau(
            optimizer,
            mode=mode,
            factor=0.1 if gamma is None else gamma,
            patience=10 if patience is None else patience,
            min_lr=min_lr,
        )
        return scheduler, "plateau"

    if total_steps is None:
        if epochs is None:
            raise ValueError("build_scheduler needs epochs or total_steps to know the schedule's length")
        total_steps = steps_per_epoch * epochs
    if total_steps < 1:
        raise ValueError(f"the schedule needs at least one step, got total_steps={total_steps}")
    decay_steps = max(0, total_steps - warmup)

    base_lrs = [group["lr"] for group in optimizer.param_groups]
    if any(min_lr > lr for lr in base_lrs):
        raise ValueError(f"min_lr ({min_lr}) is above the learning rate ({min(base_lrs)})")
    # Each param group keeps its own lr; the floor is the same absolute min_lr for all.
    floors = [min_lr / lr for lr in base_lrs]

    if name == "none":
        if not warmup:
            return None, "step"
        factors = [_warmup_then(lambda p: 1.0, warmup, decay_steps) for _ in floors]
    elif name == "cosine":
        factors = [_warmup_then(_cosine(floor), warmup, decay_steps) for floor in floors]
    elif name == "linear":
        factors = [_warmup_then(_linear(floor), warmup, decay_steps) for floor in floors]
    elif name == "step":
        step_size = section.get("step_size")
        if not step_size:
            raise ValueError("the step schedule needs training.scheduler.step_size (epochs between decays)")
        decay = 0.1 if gamma is None else gamma
        factors = [_staircase(decay, step_size * steps_per_epoch, floor, warmup) for floor in floors]
    elif name == "exponential":
        if gamma is None:
            raise ValueError("the exponential schedule needs training.scheduler.gamma (the decay per epoch, e.g. 0.95)")
        factors = [_staircase(gamma, steps_per_epoch, floor, warmup) for floor in floors]
    elif name == "onecycle":
        factors = [_onecycle(total_steps, warmup, floor or None) for floor in floors]
    else:
        raise ValueError(
            f"unknown scheduler {name!r} (schedulers: none, cosine, linear, step, exponential, plateau, onecycle)"
        )
    return LambdaLR(optimizer, lr_lambda=factors), "step"
