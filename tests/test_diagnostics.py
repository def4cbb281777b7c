"""rigorml.runtime.diagnostics: the debugging checklist on real (tiny) torch models and curves."""

from __future__ import annotations

import logging

import pytest
import torch
from torch import nn

from rigorml.runtime.diagnostics import (
    GRADIENT_EXPLOSION,
    LOSS_NOT_DECREASING,
    NAN_LOSS,
    NON_FINITE_METRIC,
    OVERFITTING,
    ZERO_GRADIENT,
    Finding,
    TrainingDiverged,
    TrainingMonitor,
)


class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(8, 16)
        self.head = nn.Linear(16, 1)

    def forward(self, x):
        return self.head(torch.relu(self.hidden(x)))


def data(n: int = 64):
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(n, 8, generator=generator)
    return x, x.sum(dim=1, keepdim=True) + 0.1 * torch.randn(n, 1, generator=generator)


def train(model, monitor, steps: int, lr: float = 0.01):
    """Plain SGD on the regression task; returns every finding on_step produced."""
    x, y = data()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    found = []
    for step in range(steps):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        found += monitor.on_step(step, loss, model)
        optimizer.step()
    return found


def quiet_monitor(**thresholds) -> TrainingMonitor:
    return TrainingMonitor(report=None, **thresholds)


def test_a_huge_learning_rate_diverges_with_the_causes_and_fixes():
    torch.manual_seed(0)
    monitor = quiet_monitor()
    with pytest.raises(TrainingDiverged) as raised:
        train(TinyNet(), monitor, steps=200, lr=1e4)
    finding = raised.value.finding
    assert finding.check == NAN_LOSS and finding.severity == "error" and finding.step is not None
    message = str(raised.value)
    for cause in ("log(0)", "division by zero", "extreme logits"):
        assert cause in message
    for fix in ("clip", "max_norm=1.0", "lower the learning rate", "normalize the inputs"):
        assert fix in message
    assert "last finite loss" in message
    assert monitor.findings[-1] == finding


def test_a_nan_loss_tensor_stops_at_the_step_it_appears():
    monitor = quiet_monitor()
    monitor.on_step(0, torch.tensor(1.0))
    with pytest.raises(TrainingDiverged, match="the loss is nan at step 1"):
        monitor.on_step(1, torch.tensor(float("nan")))


def test_a_gradient_made_huge_warns_naming_its_layer():
    torch.manual_seed(0)
    model = TinyNet()
    model.head.weight.register_hook(lambda grad: grad * 1e6)
    found = train(model, quiet_monitor(), steps=3, lr=1e-9)
    (finding,) = [f for f in found if f.check == GRADIENT_EXPLOSION]
    assert "`head` (Linear)" in finding.message and "`hidden`" not in finding.message
    assert finding.severity == "warning" and finding.step == 0
    assert "max_norm=1.0" in finding.fix
    assert len([f for f in found if f.check == GRADIENT_EXPLOSION]) == 1  # reported once, not every step


def test_ordinary_gradients_do_not_warn_and_the_threshold_is_an_argument():
    torch.manual_seed(0)
    assert train(TinyNet(), quiet_monitor(), steps=5) == []
    torch.manual_seed(0)
    found = train(TinyNet(), quiet_monitor(grad_norm_max=1e-3), steps=1)
    assert [f.check for f in found] == [GRADIENT_EXPLOSION]


def test_a_dead_relu_layer_warns_of_zero_gradients():
    torch.manual_seed(0)
    model = TinyNet()
    with torch.no_grad():
        model.hidden.bias.fill_(-1e3)  # every ReLU unit is off: no gradient reaches `hidden`
    found = train(model, quiet_monitor(zero_grad_steps=5), steps=8)
    (finding,) = [f for f in found if f.check == ZERO_GRADIENT]
    assert finding.step == 4
    assert "`hidden` (Linear): weight, bias" in finding.message and "5 consecutive" in finding.message
    assert "activation" in finding.fix and "initialization" in finding.fix


def test_a_layer_cut_off_from_the_loss_warns_that_it_gets_no_gradient():
    class Detached(TinyNet):
        def forward(self, x):
            return self.head(torch.relu(self.hidden(x)).detach())

    torch.manual_seed(0)
    found = train(Detached(), quiet_monitor(zero_grad_steps=3), steps=3)
    (finding,) = [f for f in found if f.check == ZERO_GRADIENT]
    assert "`hidden` (Linear): weight, bias (no gradient at all)" in finding.message
    assert "`head`" not in finding.message


def test_deliberately_frozen_layers_are_not_dead_but_are_named_when_the_loss_stalls():
    torch.manual_seed(0)
    model = TinyNet()
    model.hidden.requires_grad_(False)
    monitor = quiet_monitor(zero_grad_steps=2, plateau_epochs=2)
    assert train(model, monitor, steps=4) == []
    found = [f for epoch, loss in enumerate([1.0, 1.0, 1.0]) for f in monitor.on_epoch(epoch, loss)]
    (finding,) = found
    assert finding.check == LOSS_NOT_DECREASING and "frozen (requires_grad=False) in `hidden`" in finding.message


def test_a_widening_train_val_gap_flags_overfitting_once():
    monitor = quiet_monitor()
    train_losses = [1.0, 0.8, 0.6, 0.45, 0.35, 0.28, 0.22, 0.18, 0.15]
    val_losses = [1.05, 0.9, 0.8, 0.75, 0.74, 0.75, 0.77, 0.8, 0.84]
    found = {epoch: monitor.on_epoch(epoch, t, v) for epoch, (t, v) in enumerate(zip(train_losses, val_losses))}
    flagged = {epoch: f for epoch, fs in found.items() for f in fs if f.check == OVERFITTING}
    # the gap grows at every epoch from 1 on: the fifth widening is at epoch 5
    assert list(flagged) == [5]
    finding = flagged[5]
    assert "widened at each of the last 5 epochs" in finding.message and finding.epoch == 5
    for fix in ("dropout", "weight decay", "augmentation", "stop early"):
        assert fix in finding.fix


def test_four_widenings_or_a_gap_that_narrows_are_not_overfitting():
    monitor = quiet_monitor()
    train_losses = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.45, 0.4, 0.35, 0.3]
    val_losses = [1.0, 0.95, 0.9, 0.85, 0.8, 0.6, 0.62, 0.64, 0.66, 0.6]  # widens 4x, narrows, widens 3x, narrows
    found = [f for e, (t, v) in enumerate(zip(train_losses, val_losses)) for f in monitor.on_epoch(e, t, v)]
    assert [f for f in found if f.check == OVERFITTING] == []


def test_a_flat_loss_warns_that_it_is_not_decreasing():
    monitor = quiet_monitor()
    losses = [2.30, 2.30, 2.31, 2.30, 2.30, 2.30, 2.30, 2.30]
    found = {epoch: monitor.on_epoch(epoch, loss, loss + 0.01) for epoch, loss in enumerate(losses)}
    flagged = [(epoch, f) for epoch, fs in found.items() for f in fs if f.check == LOSS_NOT_DECREASING]
    assert [epoch for epoch, _ in flagged] == [5]  # 5 epochs with no improvement on epoch 0's 2.30, once
    finding = flagged[0][1]
    assert "has not decreased for 5 epochs" in finding.message
    assert "LR finder" in finding.fix and "gradient norms" in finding.fix and "unfreeze" in finding.fix


def test_a_decreasing_loss_is_quiet():
    monitor = quiet_monitor()
    assert [f for e in range(20) for f in monitor.on_epoch(e, 1.0 / (e + 1), 1.1 / (e + 1))] == []


def test_a_nan_validation_loss_diverges_and_a_nan_metric_warns():
    monitor = quiet_monitor()
    (finding,) = monitor.on_epoch(0, 1.0, 1.1, {"val/f1": float("nan"), "val/accuracy": 0.5})
    assert finding.check == NON_FINITE_METRIC and "`val/f1`" in finding.message
    with pytest.raises(TrainingDiverged, match="the validation loss is inf at epoch 1"):
        monitor.on_epoch(1, 1.0, float("inf"))


def test_checks_continue_across_a_resume_from_state_dict():
    first = quiet_monitor()
    for epoch in range(4):
        first.on_epoch(epoch, 1.0)
    resumed = quiet_monitor()
    resumed.load_state_dict(first.state_dict())
    assert [f.check for f in resumed.on_epoch(4, 1.0)] == []
    assert [f.check for f in resumed.on_epoch(5, 1.0)] == [LOSS_NOT_DECREASING]


def test_findings_are_logged_by_default_and_read_as_check_message_fix(caplog):
    monitor = TrainingMonitor(plateau_epochs=1)
    with caplog.at_level(logging.WARNING, logger="rigorml.runtime.diagnostics"):
        monitor.on_epoch(0, 1.0)
        monitor.on_epoch(1, 1.0)
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith("warning: loss_not_decreasing: ") and ". Fix: " in record.getMessage()
    assert isinstance(monitor.findings[0], Finding)


def test_thresholds_are_validated():
    with pytest.raises(ValueError, match="zero_grad_steps"):
        TrainingMonitor(zero_grad_steps=0)
