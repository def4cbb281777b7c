"""Training diagnostics: the domain's Model Debugging Checklist, checked while the model trains.

=========================  ==================================  ==================================================
symptom (check)            check first                         common fix
=========================  ==================================  ==================================================
NaN loss (``nan_loss``)    log(0), div-by-zero, extreme logits gradient clipping, lower LR, input normalization
gradient explosion         norm > 100 on any layer             clip gradients (max_norm=1.0)
(``gradient_explosion``)
dead neurons               zero gradient norms                 check activation functions, initialization
(``zero_gradient``)
loss not decreasing        LR, gradient norms, frozen params   LR finder; unfreeze layers
(``loss_not_decreasing``)
overfitting                train/val gap trend over 5+ epochs  dropout, weight decay, augmentation, early stopping
(``overfitting``)
=========================  ==================================  ==================================================

:class:`TrainingMonitor` is called from the training loop::

    monitor = TrainingMonitor()
    for step, batch in ...:
        loss.backward()
        scaler.unscale_(optimizer)              # AMP: look at the true gradients
        monitor.on_step(step, loss, model)      # before clipping and optimizer.step()
        ...
    monitor.on_epoch(epoch, train_loss, val_loss, val_metrics)

A non-finite loss raises :class:`TrainingDiverged` (its message names the likely causes and the
fixes). Everything else is a :class:`Finding` (check, severity, message, fix): returned by the call
that found it, kept in :attr:`TrainingMonitor.findings` and reported (logged as a warning by
default). A finding is reported once, not at every step it still holds: a layer's explosion once,
a parameter's zero gradient once per run of zero steps, a plateau or a widening gap once per streak.

Torch is imported by the gradient checks only (a model has already imported it).
"""

from __future__ import annotations

import copy
import logging
import math
import numbers
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

NAN_LOSS = "nan_loss"
GRADIENT_EXPLOSION = "gradient_explosion"
ZERO_GRADIENT = "zero_gradient"
LOSS_NOT_DECREASING = "loss_not_decreasing"
OVERFITTING = "overfitting"
NON_FINITE_METRIC = "non_finite_metric"

#: The fix each check suggests (the checklist's "Common Fix" column, spelled out).
FIXES = {
    NAN_LOSS: (
        "clip gradients (torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0); training.grad_clip), "
        "lower the learning rate, normalize the inputs; compute log-probabilities with log_softmax or "
        "*WithLogits losses rather than log(softmax(x)) or log(sigmoid(x))"
    ),
    GRADIENT_EXPLOSION: (
        "clip gradients: torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0) "
        "(training.grad_clip.max_norm: 1.0); if it persists, lower the learning rate"
    ),
    ZERO_GRADIENT: (
        "dead neurons: check the activation functions (LeakyReLU/GELU instead of ReLU units that never fire) and "
        "the initialization (e.g. Kaiming for ReLU), and that the learning rate is not so high it kills units; a "
        "parameter with no gradient at all is cut off from the loss (a .detach(), an unused module): reconnect it, "
        "or set requires_grad=False if it is meant to stay frozen"
    ),
    LOSS_NOT_DECREASING: (
        "run an LR range test (LR finder, 1e-7 to 10; pick the LR at the steepest descent) and adjust the learning "
        "rate; check the gradient norms (vanishing when near 0) and unfreeze layers left at requires_grad=False"
    ),
    OVERFITTING: (
        "regularize: dropout, weight decay, data augmentation; stop early on the validation loss "
        "(training.early_stopping)"
    ),
    NON_FINITE_METRIC: (
        "check the metric's inputs: NaN predictions, an empty split or class (a division by zero in F1, "
        "precision or a mean over nothing)"
    ),
}

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Finding:
    """One diagnosis: which ``check`` found it, ``severity`` ("error" or "warning"), what was seen
    (``message``), what usually fixes it (``fix``), and when (``step`` and/or ``epoch``)."""

    check: str
    severity: str
    message: str
    fix: str
    step: int | None = None
    epoch: int | None = None

    def __str__(self) -> str:
        return f"{self.severity}: {self.check}: {self.message}. Fix: {self.fix}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite: training cannot continue. ``finding`` holds the diagnosis."""

    def __init__(self, finding: Finding):
        super().__init__(str(finding))
        self.finding = finding


def _log_finding(finding: Finding) -> None:
    (_logger.error if finding.severity == "error" else _logger.warning)("%s", finding)


def _as_float(name: str, value: Any) -> float:
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise TypeError(f"{name} must be one number, not a tensor of shape {tuple(value.shape)}")
        return float(value.detach().item())
    if isinstance(value, numbers.Real):
        return float(value)
    if hasattr(value, "item"):  # numpy scalars and 0-dim arrays
        return float(value.item())
    raise TypeError(f"{name} must be a number, not {type(value).__name__}")


def _layer_of(parameter: str) -> str:
    """``encoder.0.weight`` -> ``encoder.0``; a top-level parameter is its own layer."""
    return parameter.rpartition(".")[0] or parameter


def gradient_norms(model) -> tuple[dict[str, float], list[str]]:
    """The L2 norm of each trainable parameter's gradient, with one device sync per device.

    Returns ``(norms, without_grad)``: ``norms`` maps parameter name -> norm for parameters whose
    ``.grad`` is set; ``without_grad`` names the trainable parameters whose ``.grad`` is None (not
    reached by the backward pass). Frozen parameters (``requires_grad=False``) are in neither.
    """
    import torch

    names, norms, without_grad = [], [], []
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        grad = parameter.grad
        if grad is None:
            without_grad.append(name)
            continue
        if grad.is_sparse:
            grad = grad.coalesce().values()
        names.append(name)
        norms.append(torch.linalg.vector_norm(grad.detach(), dtype=torch.float32))
    values: list[float] = [0.0] * len(norms)
    by_device: dict[Any, list[int]] = {}
    for index, norm in enumerate(norms):
        by_device.setdefault(norm.device, []).append(index)
    for indices in by_device.values():
        for index, value in zip(indices, torch.stack([norms[i] for i in indices]).tolist()):
            values[index] = value
    return dict(zip(names, values)), without_grad


def layer_norms(parameter_norms: Mapping[str, float]) -> dict[str, float]:
    """Per-layer gradient norms: the L2 norm over each layer's parameters (weight and bias)."""
    squares: dict[str, float] = {}
    for name, norm in parameter_norms.items():
        layer = _layer_of(name)
        squares[layer] = squares.get(layer, 0.0) + norm * norm
    return {layer: math.sqrt(total) for layer, total in squares.items()}


class TrainingMonitor:
    """Checks a training run against the debugging checklist.

    Thresholds (the domain's defaults):

    * ``grad_norm_max`` (100.0): a layer whose gradient norm exceeds it (or is not finite) warns;
    * ``zero_grad_steps`` (10): a trainable parameter whose gradient is zero or missing for that many
      checked steps in a row warns (dead neurons, or a parameter cut off from the loss);
    * ``plateau_epochs`` (5) and ``plateau_min_delta`` (1e-4, relative): the training loss (the
      validation loss when no training loss is given) not improving on its earlier best by that
      fraction for that many epochs warns;
    * ``overfit_epochs`` (5): the gap ``val_loss - train_loss`` widening at each of that many
      consecutive epochs, and positive, flags overfitting;
    * ``grad_every_steps`` (1): the gradient checks run every that many steps (the loss check runs
      every step).

    ``report`` receives each new finding (default: logged through ``logging`` at warning level, at
    error level for errors); None only collects them.
    """

    def __init__(
        self,
        *,
        grad_norm_max: float = 100.0,
        zero_grad_steps: int = 10,
        plateau_epochs: int = 5,
        plateau_min_delta: float = 1e-4,
        overfit_epochs: int = 5,
        grad_every_steps: int = 1,
        report: Callable[[Finding], None] | None = _log_finding,
    ):
        for name, value in (
            ("zero_grad_steps", zero_grad_steps),
            ("plateau_epochs", plateau_epochs),
            ("overfit_epochs", overfit_epochs),
            ("grad_every_steps", grad_every_steps),
        ):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, not {value!r}")
        if not grad_norm_max > 0 or not plateau_min_delta >= 0:
            raise ValueError("grad_norm_max must be positive and plateau_min_delta non-negative")
        self.grad_norm_max, self.zero_grad_steps = float(grad_norm_max), zero_grad_steps
        self.plateau_epochs, self.plateau_min_delta = plateau_epochs, float(plateau_min_delta)
        self.overfit_epochs, self.grad_every_steps = overfit_epochs, grad_every_steps
        self.report = report
        self.findings: list[Finding] = []
        #: Per-layer gradient norms at the last checked step (for logging ``train/grad_norm``).
        self.last_layer_norms: dict[str, float] = {}
        #: The global gradient norm at the last checked step (what clip_grad_norm_ would see).
        self.last_grad_norm: float | None = None
        self._layer_kinds: dict[str, str] = {}  # layer -> module class, for messages
        self._layer_kinds_of: int | None = None
        self._state = {
            "last_finite_loss": None,  # (step, loss)
            "exploded_layers": [],
            "zero_steps": {},  # parameter -> consecutive checked steps with a zero or missing gradient
            "frozen": [],  # parameters with requires_grad=False at the last checked step
            "losses": [],  # per epoch: the loss the plateau check follows
            "gaps": [],  # per epoch: (epoch, val_loss - train_loss)
            "plateau_reported": False,
            "overfit_reported": False,
        }

    # -- checkpointing --------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """What the monitor has seen, as plain data: save it with a checkpoint so a resumed run's
        checks continue (a plateau or a widening gap spans the interruption)."""
        return {
            "state": {key: copy.deepcopy(value) for key, value in self._state.items()},
            "findings": [finding.to_dict() for finding in self.findings],
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from :meth:`state_dict`'s output."""
        self._state.update(state["state"])
        self.findings = [Finding(**finding) for finding in state.get("findings", [])]

    # -- the checks -----------------------------------------------------------------------

    def _found(self, finding: Finding) -> Finding:
        self.findings.append(finding)
        if self.report is not None:
            self.report(finding)
        return finding

    def _diverged(self, what: str, value: float, step: int | None, epoch: int | None) -> TrainingDiverged:
        where = f"step {step}" if step is not None else f"epoch {epoch}"
        message = (
            f"{what} is {value} at {where}: training diverged. Likely causes: log(0) (a log of a probability or "
            "value that reached 0), division by zero, extreme logits overflowing"
        )
        last = self._state["last_finite_loss"]
        if last is not None:
            message += f"; the last finite loss was {last[1]:.6g} at step {last[0]}"
        if self.last_layer_norms:
            layer, norm = max(self.last_layer_norms.items(), key=lambda item: _sort_key(item[1]))
            message += f"; the largest layer gradient norm last seen was {norm:.3g} (`{layer}`)"
        finding = self._found(Finding(NAN_LOSS, "error", message, FIXES[NAN_LOSS], step=step, epoch=epoch))
        return TrainingDiverged(finding)

    def on_step(self, step: int, loss: Any, model: Any = None) -> list[Finding]:
        """Check one optimisation step: after ``backward()`` (and ``scaler.unscale_``), before
        gradient clipping and ``optimizer.step()``.

        ``loss``: a number or a one-element tensor (``.item()`` synchronises a GPU). ``model``: the
        ``nn.Module`` whose gradients to check (None: the loss only). Returns the new findings.
        Raises TrainingDiverged when the loss is NaN or infinite.
        """
        value = _as_float("loss", loss)
        if not math.isfinite(value):
            raise self._diverged("the loss", value, step, None)
        self._state["last_finite_loss"] = (step, value)
        if model is None or step % self.grad_every_steps:
            return []
        norms, without_grad = gradient_norms(model)
        if self._layer_kinds_of != id(model):
            self._layer_kinds = {name: type(module).__name__ for name, module in model.named_modules() if name}
            self._layer_kinds_of = id(model)
        self._state["frozen"] = [name for name, p in model.named_parameters() if not p.requires_grad]
        self.last_layer_norms = layer_norms(norms)
        total = math.sqrt(sum(n * n for n in norms.values())) if norms else 0.0
        self.last_grad_norm = total
        found = []
        exploded = self._check_explosion(step)
        if exploded:
            found.append(exploded)
        dead = self._check_zero_gradients(step, norms, without_grad)
        if dead:
            found.append(dead)
        return found

    def _layer(self, layer: str) -> str:
        """A layer as messages name it: ```encoder.0` (Linear)`` (the module class when known)."""
        kind = self._layer_kinds.get(layer)
        return f"`{layer}` ({kind})" if kind else f"`{layer}`"

    def _check_explosion(self, step: int) -> Finding | None:
        reported = self._state["exploded_layers"]
        high = {
            layer: norm
            for layer, norm in self.last_layer_norms.items()
            if (not math.isfinite(norm) or norm > self.grad_norm_max) and layer not in reported
        }
        if not high:
            return None
        reported.extend(sorted(high))
        ordered = sorted(high.items(), key=lambda item: _sort_key(item[1]), reverse=True)
        listed = ", ".join(f"{self._layer(layer)}: {norm:.3g}" for layer, norm in ordered)
        message = (
            f"gradient norm above {self.grad_norm_max:g} at step {step} on layer{'s' if len(ordered) > 1 else ''} "
            f"{listed}: exploding gradients"
        )
        return self._found(Finding(GRADIENT_EXPLOSION, "warning", message, FIXES[GRADIENT_EXPLOSION], step=step))

    def _check_zero_gradients(self, step: int, norms: Mapping[str, float], without_grad: list[str]) -> Finding | None:
        counts = self._state["zero_steps"]
        missing = set(without_grad)
        newly_dead = []
        for name in [*norms, *without_grad]:
            if name in missing or norms[name] == 0.0:
                counts[name] = counts.get(name, 0) + 1
                if counts[name] == self.zero_grad_steps:
                    newly_dead.append(name)
            else:
                counts[name] = 0
        if not newly_dead:
            return None
        by_layer: dict[str, list[str]] = {}
        for name in newly_dead:
            by_layer.setdefault(_layer_of(name), []).append(name)
        listed = "; ".join(
            f"{self._layer(layer)}: {', '.join(n.rpartition('.')[2] for n in names)}"
            f"{' (no gradient at all)' if all(n in missing for n in names) else ''}"
            for layer, names in by_layer.items()
        )
        message = (
            f"zero gradient for {self.zero_grad_steps} consecutive checked steps (to step {step}) on layer"
            f"{'s' if len(by_layer) > 1 else ''} {listed}: dead neurons or parameters cut off from the loss; "
            "they do not learn"
        )
        return self._found(Finding(ZERO_GRADIENT, "warning", message, FIXES[ZERO_GRADIENT], step=step))

    def on_epoch(
        self,
        epoch: int,
        train_loss: Any,
        val_loss: Any = None,
        val_metrics: Mapping[str, Any] | None = None,
    ) -> list[Finding]:
        """Check the curves after an epoch's evaluation.

        ``train_loss``: the epoch's mean training loss; ``val_loss``: the validation loss (None when
        not evaluated this epoch, and the same for ``train_loss``); ``val_metrics``: name -> value
        of the epoch's other metrics (non-finite ones warn). Returns the new findings. Raises
        TrainingDiverged when either loss is NaN or infinite.
        """
        train = None if train_loss is None else _as_float("train_loss", train_loss)
        val = None if val_loss is None else _as_float("val_loss", val_loss)
        for what, value in (("the training loss", train), ("the validation loss", val)):
            if value is not None and not math.isfinite(value):
                raise self._diverged(what, value, None, epoch)
        found = []
        followed = train if train is not None else val
        if followed is not None:
            self._state["losses"].append(followed)
            plateau = self._check_plateau(epoch, "training" if train is not None else "validation")
            if plateau:
                found.append(plateau)
        if train is not None and val is not None:
            self._state["gaps"].append((epoch, val - train))
            overfit = self._check_overfitting(epoch)
            if overfit:
                found.append(overfit)
        bad = sorted(
            name
            for name, value in (val_metrics or {}).items()
            if isinstance(value, numbers.Real) and not math.isfinite(value)
        )
        if bad:
            message = f"non-finite metric value{'s' if len(bad) > 1 else ''} at epoch {epoch}: " + ", ".join(
                f"`{name}` = {float(val_metrics[name])}" for name in bad
            )
            found.append(self._found(Finding(NON_FINITE_METRIC, "warning", message, FIXES[NON_FINITE_METRIC], epoch=epoch)))
        return found

    def _check_plateau(self, epoch: int, which: str) -> Finding | None:
        losses, k = self._state["losses"], self.plateau_epochs
        if len(losses) <= k:
            return None
        best_before, best_since = min(losses[:-k]), min(losses[-k:])
        if best_since < best_before - self.plateau_min_delta * abs(best_before):
            self._state["plateau_reported"] = False  # improving again: a later plateau is news
            return None
        if self._state["plateau_reported"]:
            return None
        self._state["plateau_reported"] = True
        message = (
            f"the {which} loss has not decreased for {k} epochs (to epoch {epoch}): best {best_since:.6g} in the "
            f"last {k} epochs against {best_before:.6g} before"
        )
        if self.last_grad_norm is not None:
            message += f"; the global gradient norm at the last checked step was {self.last_grad_norm:.3g}"
        frozen = self._state["frozen"]
        if frozen:
            layers = sorted({_layer_of(name) for name in frozen})
            message += f"; {len(frozen)} parameters are frozen (requires_grad=False) in " + ", ".join(
                f"`{layer}`" for layer in layers[:10]
            ) + (" ..." if len(layers) > 10 else "")
        return self._found(Finding(LOSS_NOT_DECREASING, "warning", message, FIXES[LOSS_NOT_DECREASING], epoch=epoch))

    def _check_overfitting(self, epoch: int) -> Finding | None:
        gaps, k = self._state["gaps"], self.overfit_epochs
        recent = gaps[-(k + 1) :]
        widening = len(recent) == k + 1 and recent[-1][1] > 0 and all(b[1] > a[1] for a, b in zip(recent, recent[1:]))
        if not widening:
            if len(gaps) >= 2 and gaps[-1][1] <= gaps[-2][1]:
                self._state["overfit_reported"] = False  # the streak ended
            return None
        if self._state["overfit_reported"]:
            return None
        self._state["overfit_reported"] = True
        (first_epoch, first_gap), (_, last_gap) = recent[0], recent[-1]
        message = (
            f"overfitting: the train/val gap (val_loss - train_loss) widened at each of the last {k} epochs, from "
            f"{first_gap:.4g} at epoch {first_epoch} to {last_gap:.4g} at epoch {epoch}"
        )
        return self._found(Finding(OVERFITTING, "warning", message, FIXES[OVERFITTING], epoch=epoch))


def _sort_key(norm: float) -> float:
    return math.inf if math.isnan(norm) else norm
