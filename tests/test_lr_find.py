"""`rigorml lr-find`: the learning-rate range test on real training (the quickstart MLP on digits).

The runtime tests run in this process with ``training.deterministic=false`` (deterministic mode sets
process-wide torch flags); the end-to-end CLI test runs the command as a process, as a user would.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import json
import random
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
np = pytest.importorskip("numpy")
pytest.importorskip("matplotlib")

from rigorml.compiler.cli import main as cli_main  # noqa: E402
from rigorml.compiler.compose import compose  # noqa: E402
from rigorml.compiler.resolve import resolve_spec  # noqa: E402
from rigorml.runtime.config import arm_config  # noqa: E402
from rigorml.runtime.lr_find import lr_range_test, save_plot, steepest_descent_window  # noqa: E402
from rigorml.runtime.train import prepare_training  # noqa: E402
from rigorml.schemas.spec import Spec  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
QUICKSTART = REPO / "examples" / "quickstart.yaml"
#: The quickstart made small and quick: a narrow MLP, small batches, no process-wide determinism.
FAST = ("training.deterministic=false", "data.loader.batch_size=32", "model.params.hidden_sizes=[16]")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def quickstart_setup(*overrides: str, arm: str = "baseline", replicate: int = 0):
    composed = compose(str(QUICKSTART), [*FAST, *overrides])
    assert not composed.diagnostics, composed.diagnostics
    _, resolved = resolve_spec(Spec.model_validate(composed.data))
    return prepare_training(arm_config(json.loads(json.dumps(resolved)), arm), replicate, QUICKSTART.parent)


def train_steps(setup, count: int) -> None:
    """A few plain training steps at the spec's learning rate (so the optimiser has moments)."""
    x, y = setup.tensors["train"]
    setup.model.train()
    for step in range(count):
        batch = slice(step * 32, (step + 1) * 32)
        setup.optimizer.zero_grad(set_to_none=True)
        setup.loss_fn(setup.model(x[batch]), y[batch]).backward()
        setup.optimizer.step()


def assert_same(before, after, where="state") -> None:
    """Bitwise equality of nested state dicts (tensors compared element by element, dtype included)."""
    if isinstance(before, torch.Tensor):
        assert isinstance(after, torch.Tensor) and before.dtype == after.dtype, where
        assert torch.equal(before, after), where
    elif isinstance(before, np.ndarray):
        assert np.array_equal(before, after), where
    elif isinstance(before, dict):
        assert set(before) == set(after), where
        for key in before:
            assert_same(before[key], after[key], f"{where}.{key}")
    elif isinstance(before, (list, tuple)):
        assert len(before) == len(after), where
        for index, (a, b) in enumerate(zip(before, after)):
            assert_same(a, b, f"{where}[{index}]")
    else:
        assert before == after, where


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli_main(["lr-find", *args])
    return code, out.getvalue(), err.getvalue()


# --- the runtime -----------------------------------------------------------------------------------


def test_the_learning_rate_grows_exponentially_from_start_to_end():
    setup = quickstart_setup()
    applied: list[float] = []
    hook = setup.optimizer.register_step_pre_hook(lambda opt, args, kwargs: applied.append(opt.param_groups[0]["lr"]))
    try:
        result = lr_range_test(setup, start_lr=1e-5, end_lr=1e-2, num_steps=20)
    finally:
        hook.remove()
    assert result.steps == 20 and not result.diverged and result.stop_reason == "completed"
    assert result.lrs[0] == pytest.approx(1e-5, rel=1e-12) and result.lrs[-1] == pytest.approx(1e-2, rel=1e-12)
    ratios = np.asarray(result.lrs[1:]) / np.asarray(result.lrs[:-1])
    assert ratios == pytest.approx(np.full(19, 1000 ** (1 / 19)), rel=1e-9)
    assert applied == result.lrs  # the rate each optimiser step really used


def test_the_smoothed_loss_is_the_bias_corrected_moving_average_of_the_raw_loss():
    result = lr_range_test(quickstart_setup(), start_lr=1e-5, end_lr=1e-2, num_steps=12, smoothing=0.9)
    average = 0.0
    for step, (raw, smoothed) in enumerate(zip(result.losses, result.smoothed)):
        average = 0.9 * average + 0.1 * raw
        assert smoothed == pytest.approx(average / (1 - 0.9 ** (step + 1)), rel=1e-12)
    assert result.smoothed[0] == result.losses[0]


def test_the_suggestion_is_at_the_steepest_descent_not_at_the_minimum_loss():
    result = lr_range_test(quickstart_setup(), start_lr=1e-6, end_lr=10.0, num_steps=60)
    finite = len(result.smoothed) - (result.stop_reason == "non_finite")
    slope = np.gradient(np.asarray(result.smoothed[:finite]), np.log10(result.lrs[:finite]))
    first, end = result.window
    assert (first, end) == steepest_descent_window(finite) and end - first >= 3
    assert first <= result.suggested_index < end
    assert slope[result.suggested_index] == slope[first:end].min() < 0
    assert result.suggested_lr == result.lrs[result.suggested_index]
    assert result.min_loss_index == int(np.argmin(result.smoothed[:finite]))
    assert result.min_loss_lr == result.lrs[result.min_loss_index]
    # The minimum is further right, where the loss is about to turn up: not what is suggested.
    assert result.suggested_lr < result.min_loss_lr
    assert result.min_loss_lr_tenth == pytest.approx(result.min_loss_lr / 10)


def test_divergence_stops_the_sweep_early_at_large_learning_rates():
    result = lr_range_test(quickstart_setup(), start_lr=1e-3, end_lr=1e4, num_steps=60)
    assert result.diverged and result.stop_reason in ("diverged", "non_finite")
    assert result.steps < 60
    assert result.lrs[-1] > 1.0
    last, best = result.smoothed[-1], min(result.smoothed[:-1])
    assert not np.isfinite(last) or last > 4.0 * best


def test_model_optimizer_scaler_and_rng_states_are_restored_bitwise():
    setup = quickstart_setup("model.params.dropout=0.2")  # dropout: the test consumes the torch RNG
    train_steps(setup, 3)  # moments in the optimiser, gradients on the parameters
    model_before = copy.deepcopy(setup.model.state_dict())
    optimizer_before = copy.deepcopy(setup.optimizer.state_dict())
    scaler_before = copy.deepcopy(setup.scaler.state_dict())
    grads_before = [p.grad.clone() for p in setup.model.parameters()]
    setup.model.eval()
    torch_rng, numpy_rng, python_rng = torch.random.get_rng_state(), np.random.get_state(), random.getstate()

    result = lr_range_test(setup, start_lr=1e-4, end_lr=1e3, num_steps=30)

    assert result.steps > 5  # it really trained (and wrecked the weights) before restoring them
    assert_same(model_before, setup.model.state_dict(), "model")
    assert_same(optimizer_before, setup.optimizer.state_dict(), "optimizer")
    assert_same(scaler_before, setup.scaler.state_dict(), "scaler")
    assert_same(grads_before, [p.grad for p in setup.model.parameters()], "grads")
    assert not setup.model.training
    assert torch.equal(torch_rng, torch.random.get_rng_state())
    assert_same(list(numpy_rng), list(np.random.get_state()), "numpy rng")
    assert python_rng == random.getstate()


def test_an_enabled_amp_scaler_is_restored_with_the_model():
    # CPU autocast in bfloat16 with a live GradScaler: the AMP path train_run takes on CUDA.
    setup = dataclasses.replace(
        quickstart_setup(), scaler=torch.amp.GradScaler("cpu", enabled=True), use_amp=True, amp_dtype=torch.bfloat16
    )
    x, y = setup.tensors["train"]
    setup.scaler.scale(setup.loss_fn(setup.model(x[:32]), y[:32])).backward()
    setup.scaler.step(setup.optimizer)
    setup.scaler.update()  # the scaler now counts steps towards its next growth
    scaler_before, model_before = copy.deepcopy(setup.scaler.state_dict()), copy.deepcopy(setup.model.state_dict())
    result = lr_range_test(setup, start_lr=1e-5, end_lr=1e4, num_steps=30)
    assert result.steps > 5
    assert_same(scaler_before, setup.scaler.state_dict(), "scaler")
    assert_same(model_before, setup.model.state_dict(), "model")


def test_training_after_the_test_is_the_training_without_it():
    tested, untouched = quickstart_setup("model.params.dropout=0.2"), quickstart_setup("model.params.dropout=0.2")
    torch.manual_seed(7)
    lr_range_test(tested, start_lr=1e-4, end_lr=10.0, num_steps=20)
    train_steps(tested, 4)
    torch.manual_seed(7)
    train_steps(untouched, 4)
    assert_same(untouched.model.state_dict(), tested.model.state_dict(), "model")
    assert_same(untouched.optimizer.state_dict(), tested.optimizer.state_dict(), "optimizer")


def test_the_plot_is_a_png_with_the_result_as_json_next_to_it(tmp_path):
    result = lr_range_test(quickstart_setup(), start_lr=1e-6, end_lr=10.0, num_steps=40)
    png, written = save_plot(result, tmp_path / "curve" / "lr_find.png")
    assert png.read_bytes().startswith(PNG_SIGNATURE) and png.stat().st_size > 1000
    assert written == tmp_path / "curve" / "lr_find.json"
    payload = json.loads(written.read_text())
    assert payload["suggested_lr"] == result.suggested_lr and payload["steps"] == result.steps
    assert len(payload["lrs"]) == len(payload["losses"]) == len(payload["smoothed"]) == result.steps


@pytest.mark.parametrize(
    "settings",
    [{"start_lr": 1.0, "end_lr": 1.0}, {"start_lr": 0.0}, {"num_steps": 9}, {"smoothing": 1.0}, {"diverge_factor": 1.0}],
    ids=["start-not-below-end", "start-zero", "too-few-steps", "smoothing-1", "diverge-factor-1"],
)
def test_arguments_out_of_range_are_refused_before_training(settings):
    setup = quickstart_setup()
    before = copy.deepcopy(setup.model.state_dict())
    with pytest.raises(ValueError):
        lr_range_test(setup, **settings)
    assert_same(before, setup.model.state_dict())


# --- the command -----------------------------------------------------------------------------------


def test_the_command_writes_the_plot_and_json_and_prints_the_suggestion(run_cli, tmp_path):
    code, out, err = run_cli("lr-find", QUICKSTART, *FAST, "--steps", "40", "--start", "1e-6", cwd=tmp_path, timeout=120)
    assert code == 0, err
    folder = tmp_path / "runs" / "digits-mlp" / "lr-find"  # the default: next to `rigorml run`'s runs
    png = folder / "lr_find.png"
    assert png.read_bytes()[:8] == PNG_SIGNATURE and png.stat().st_size > 0
    payload = json.loads((folder / "lr_find.json").read_text())
    assert payload["context"]["arm"] == "baseline" and payload["context"]["replicate"] == 0
    assert payload["steps"] <= 40 and payload["suggested_lr"] is not None
    shown = float(f"{payload['suggested_lr']:.2g}")  # printed to two significant digits
    assert f"training.optimizer.lr: {shown:g}" in out
    assert "steepest descent" in out and "log-uniform" in out


def test_the_command_honours_arm_seed_and_output_directory(tmp_path):
    code, out, err = cli(str(QUICKSTART), *FAST, "--arm", "wide", "--seed", "3", "--steps", "30", "-o", str(tmp_path / "lr"))
    assert code == 0, err
    assert "arm wide, seed 3" in err and "training.optimizer.lr: " in out
    payload = json.loads((tmp_path / "lr" / "lr_find.json").read_text())
    assert payload["context"]["arm"] == "wide" and payload["context"]["replicate"] == 3
    assert (tmp_path / "lr" / "lr_find.png").read_bytes()[:8] == PNG_SIGNATURE


def test_a_range_that_diverges_at_once_gives_no_suggestion_and_exit_1(tmp_path):
    code, out, err = cli(str(QUICKSTART), *FAST, "--start", "10", "--end", "1e6", "--steps", "20", "-o", str(tmp_path))
    assert code == 1, err
    assert "no suggestion" in out and "training.optimizer.lr:" not in out
    payload = json.loads((tmp_path / "lr_find.json").read_text())
    assert payload["suggested_lr"] is None and payload["diverged"] and payload["steps"] < 20
    assert (tmp_path / "lr_find.png").read_bytes()[:8] == PNG_SIGNATURE  # the curve is still worth a look


def test_a_bad_spec_gives_located_errors_and_exit_1(write_spec, tmp_path):
    spec = write_spec(
        """\
        version: 1
        experiment: {name: bad, task: classification}
        data: {source: builtin:digits}
        model: {source: builtin:mlp}
        training:
          epochs: many
        """
    )
    code, out, err = cli(str(spec), "-o", str(tmp_path / "out"))
    assert code == 1
    assert f"{spec}:6:11: SPC003" in err and "training.epochs" in err
    assert "Traceback" not in err and not (tmp_path / "out").exists()


def test_a_bad_override_gives_a_located_error_and_exit_1(tmp_path):
    code, _, err = cli(str(QUICKSTART), "training.optimizer.lr=fast", "-o", str(tmp_path / "out"))
    assert code == 1 and "training.optimizer.lr" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "args, message",
    [
        (("--start", "1", "--end", "1"), "--start (1) must be below --end (1)"),
        (("--start", "0.1", "--end", "0.01"), "must be below --end"),
        (("--start", "0"), "--start must be a positive learning rate"),
        (("--steps", "9"), "--steps must be at least 10"),
        (("--arm", "nonexistent"), "unknown arm 'nonexistent'"),
    ],
    ids=["start-equals-end", "start-above-end", "start-zero", "too-few-steps", "unknown-arm"],
)
def test_bad_arguments_exit_2_with_a_clear_message(tmp_path, args, message):
    code, _, err = cli(str(QUICKSTART), *FAST, *args, "-o", str(tmp_path / "out"))
    assert code == 2 and message in err
    assert "Traceback" not in err and not (tmp_path / "out").exists()


def test_help_states_the_purpose():
    with pytest.raises(SystemExit) as exited, contextlib.redirect_stdout(io.StringIO()) as out:
        cli_main(["lr-find", "--help"])
    assert exited.value.code == 0
    assert "usage: rigorml lr-find" in out.getvalue() and "steepest" in " ".join(out.getvalue().split())
