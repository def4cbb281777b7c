"""How the model is trained: optimiser, schedule, precision, determinism, early stopping, checkpoints."""


from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from . import checks
from .base import StrictModel


class _OptimizerBase(StrictModel):
    lr: float = Field(1e-3, gt=0, description="Learning rate. Tune it log-uniformly.")
    weight_decay: float = Field(0.0, ge=0, description="Weight decay (L2 penalty, decoupled for AdamW).")


class AdamOptimizer(_OptimizerBase):
    """An Adam-family optimiser; only these take ``betas`` and ``eps``."""

    name: Literal["adam", "adamw", "nadam", "radam", "adamax"] = Field(description="Adam-family optimiser.")
    betas: tuple[float, float] = Field((0.9, 0.999), description="(beta1, beta2), each in [0, 1).")
    eps: float = Field(1e-8, gt=0, description="Numerical stabiliser.")
    amsgrad: bool = Field(False, description="Use the AMSGrad variant (adam/adamw only).")

    _betas_in_range = model_validator(mode="after")(checks.betas_in_range)


class SGDOptimizer(_OptimizerBase):
    """Stochastic gradient descent, optionally with (Nesterov) momentum."""

    name: Literal["sgd"] = Field(description="Stochastic gradient descent.")
    momentum: float = Field(0.0, ge=0, lt=1, description="Momentum factor.")
    nesterov: bool = Field(False, description="Nesterov momentum (needs momentum > 0).")

    _nesterov_needs_momentum = model_validator(mode="after")(checks.nesterov_needs_momentum)


class RMSpropOptimizer(_OptimizerBase):
    """RMSprop."""

    name: Literal["rmsprop"] = Field(description="RMSprop.")
    momentum: float = Field(0.0, ge=0, lt=1, description="Momentum factor.")
    alpha: float = Field(0.99, gt=0, lt=1, description="Smoothing constant.")
    eps: float = Field(1e-8, gt=0, description="Numerical stabiliser.")


class AdagradOptimizer(_OptimizerBase):
    """Adagrad."""

    name: Literal["adagrad"] = Field(description="Adagrad.")
    eps: float = Field(1e-10, gt=0, description="Numerical stabiliser.")


Optimizer = Annotated[
    Union[AdamOptimizer, SGDOptimizer, RMSpropOptimizer, AdagradOptimizer],
    Field(discriminator="name"),
]


class Scheduler(StrictModel):
    """Learning-rate schedule, stepped per optimiser step (``plateau`` per validation)."""

    name: Literal["none", "cosine", "linear", "step", "exponential", "plateau", "onecycle"] = Field(
        "none", description="Schedule shape."
    )
    warmup_steps: int = Field(0, ge=0, description="Linear warm-up steps before the schedule.")
    min_lr: float = Field(0.0, ge=0, description="Floor of the learning rate (cosine, plateau).")
    step_size: int | None = Field(None, ge=1, description="Epochs between decays (`step`).")
    gamma: float | None = Field(None, gt=0, le=1, description="Decay factor (`step`, `exponential`, `plateau`).")
    patience: int | None = Field(None, ge=0, description="Validations without improvement before decaying (`plateau`).")

    _required_settings = model_validator(mode="after")(checks.scheduler_settings)


class GradClip(StrictModel):
    """Gradient clipping by global norm (the standard fix for exploding gradients)."""

    max_norm: float = Field(1.0, gt=0, description="Maximum global gradient norm.")
    norm_type: float = Field(2.0, gt=0, description="p of the p-norm.")


class EarlyStopping(StrictModel):
    """Stop when a validation metric stops improving."""

    metric: str = Field("val/loss", description="A logged metric, `{split}/{metric}` (never a test metric).")
    mode: Literal["min", "max"] = Field("min", description="Whether smaller or larger is better.")
    patience: int = Field(5, ge=1, description="Evaluations without improvement before stopping.")
    min_delta: float = Field(0.0, ge=0, description="Smallest change that counts as improvement.")


class Checkpoint(StrictModel):
    """Full-state checkpoints (model, optimiser, scheduler, scaler, step, data-loader and RNG states)."""

    every_epochs: int | None = Field(1, ge=1, description="Write a checkpoint every N epochs.")
    every_steps: int | None = Field(None, ge=1, description="Also write one every N optimiser steps (mid-epoch resume).")
    keep: int = Field(2, ge=1, description="Keep the last N checkpoints.")
    keep_best: bool = Field(True, description="Also keep the best checkpoint by the early-stopping metric.")
    resume: Literal["auto", "never", "required"] = Field(
        "auto", description="`auto` resumes when a checkpoint exists; `required` fails without one."
    )


class Training(StrictModel):
    """The training loop."""

    epochs: int | None = Field(10, ge=1, description="Passes over the training split.")
    max_steps: int | None = Field(None, ge=1, description="Stop after this many optimiser steps (overrides epochs when smaller).")
    loss: Literal["auto", "cross_entropy", "bce", "mse", "l1", "huber"] = Field(
        "auto", description="Loss; `auto` picks from the task (cross-entropy for classification, MSE for regression)."
    )
    optimizer: Optimizer = Field(
        default_factory=checks.default_optimizer,
        validate_default=True,
        description="Optimiser; the keys allowed depend on `name` (betas only for the Adam family).",
    )
    scheduler: Scheduler = Field(default_factory=Scheduler, description="Learning-rate schedule.")
    grad_clip: GradClip | None = Field(None, description="Gradient clipping; null disables it.")
    grad_accumulation_steps: int = Field(1, ge=1, description="Micro-batches per optimiser step.")
    precision: Literal["fp32", "bf16", "fp16"] = Field(
        "fp32", description="Numeric precision; bf16/fp16 use autocast on CUDA (results vary across GPU architectures)."
    )
    deterministic: bool = Field(
        True, description="Deterministic algorithms, cuDNN flags and CUBLAS workspace (10-20% slower; use for final results)."
    )
    early_stopping: EarlyStopping | None = Field(None, description="Early stopping; null disables it.")
    checkpoint: Checkpoint = Field(default_factory=Checkpoint, description="Checkpoint policy.")
    device: str = Field("auto", pattern=r"^(auto|cpu|cuda(:\d+)?|mps)$", description="`auto` picks CUDA when present, else CPU.")
    eval_every_epochs: int = Field(1, ge=1, description="Evaluate on the validation split every N epochs.")
    log_every_steps: int = Field(10, ge=1, description="Log training metrics every N optimiser steps.")

    _has_a_length = model_validator(mode="after")(checks.training_has_a_length)
