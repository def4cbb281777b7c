"""Linting users' PyTorch training code: the libcst context, the shared analyses, and the PY rules on a
realistic script (each rule's own VALID/INVALID examples run in test_rule_examples.py)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest

from rigorml.compiler.diagnostics import Severity
from rigorml.compiler.fixes import apply_fixes
from rigorml.compiler.lint import fix_path, lint_path
from rigorml.rules.config import LintConfig
from rigorml.rules.python._metric_names import conventional_name, follows_convention
from rigorml.rules.python._tensors import SCALAR, TENSOR, tensor_kind
from rigorml.rules.python.context import PythonContext
from rigorml.runtime.nondeterministic_ops import (
    DETERMINISTIC_WHEN_REQUESTED,
    NONDETERMINISTIC_MODES,
    NONDETERMINISTIC_OPS,
)

REPO = Path(__file__).resolve().parent.parent


def parse(text: str) -> PythonContext:
    ctx, problems = PythonContext.parse("train.py", text)
    assert ctx is not None and problems == []
    return ctx


def lint(tmp_path, text: str, *codes: str):
    path = tmp_path / "train.py"
    path.write_text(text, encoding="utf-8")
    report = lint_path(str(path), LintConfig(select=list(codes) or ["PY"]))
    return [(d.code, d.span.line) for d in report.diagnostics]


# --- parsing ------------------------------------------------------------------------------------------


def test_a_syntax_error_is_a_located_py000_error_not_an_exception():
    ctx, problems = PythonContext.parse("train.py", "import torch\nloss = = criterion(x)\n")
    assert ctx is None
    [problem] = problems
    assert problem.code == "PY000" and problem.severity is Severity.ERROR
    assert (problem.span.file, problem.span.line, problem.span.col) == ("train.py", 2, 8)
    assert problem.message.startswith("cannot parse: ")


def test_linting_a_file_with_a_syntax_error_reports_py000(tmp_path):
    assert lint(tmp_path, "def main(:\n    pass\n") == [("PY000", 1)]


def test_an_unclosed_bracket_is_located_where_it_opens():
    _, [problem] = PythonContext.parse("train.py", "wandb.log({\n    'train/loss': loss,\n")
    assert (problem.span.line, problem.span.col) == (1, 11)
    assert "'{' was never closed" in problem.message


@pytest.mark.parametrize(
    "text",
    [
        "x = " + "(" * 3000 + ")" * 3000 + "\n",
        "x = " + "-" * 100_000 + "1\n",
        "x = " + "+".join(["a"] * 100_000) + "\n",
    ],
    ids=["nested-parentheses", "unary-chain", "long-sum"],
)
def test_pathological_nesting_is_a_py000_error_not_a_crash(text):
    # In a subprocess: libcst's parser can overflow the C stack on such input and kill the process.
    program = (
        "import json, sys\n"
        "from rigorml.rules.python.context import PythonContext\n"
        "ctx, problems = PythonContext.parse('train.py', sys.stdin.read())\n"
        "print(json.dumps([ctx is None, [p.code for p in problems]]))\n"
    )
    done = subprocess.run([sys.executable, "-c", program], input=text, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [True, ["PY000"]]


# --- what names mean ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import torch.nn.functional as F\nF.interpolate(x)\n", "torch.nn.functional.interpolate"),
        ("import torch\ntorch.nn.functional.interpolate(x)\n", "torch.nn.functional.interpolate"),
        ("from torch.nn.functional import interpolate\ninterpolate(x)\n", "torch.nn.functional.interpolate"),
        ("from torch.nn import functional\nfunctional.interpolate(x)\n", "torch.nn.functional.interpolate"),
        ("from torch.nn import functional as F\nF.interpolate(x)\n", "torch.nn.functional.interpolate"),
        ("from torch.utils.data import DataLoader\nDataLoader(ds)\n", "torch.utils.data.DataLoader"),
        ("import torch.utils.data as tud\ntud.DataLoader(ds)\n", "torch.utils.data.DataLoader"),
        ("import numpy as np\nnp.random.seed(0)\n", "numpy.random.seed"),
        ("import wandb\nwandb.log({})\n", "wandb.log"),
        ("def save(x, p):\n    import torch\n    torch.save(x, p)\n", "torch.save"),
        ("print(1)\n", "builtins.print"),
        ("criterion(out, y)\n", None),
        ("model.state_dict()\n", None),
    ],
)
def test_a_callee_resolves_to_its_qualified_name_whatever_the_import_style(source, expected):
    ctx = parse(source)
    call = ctx.nodes(cst.Call)[-1]
    assert ctx.qualified_name(call) == expected


def test_columns_count_characters_so_edits_after_non_ascii_text_land_in_place():
    text = 'note = "héllo wörld"; wandb.log({"train/loss": loss})\n'
    ctx = parse(text)
    value = ctx.nodes(cst.Name)[-1]
    assert ctx.source(value) == "loss"
    assert ctx.span(value).col == text.index("loss})") + 1
    fixed, applied = apply_fixes(text, [(ctx.insert_after(value, ".item()"),)])
    assert applied == 1 and fixed == 'note = "héllo wörld"; wandb.log({"train/loss": loss.item()})\n'


def test_insert_after_goes_past_the_parentheses_around_an_expression():
    text = "x = (a + b) * 2\n"
    ctx = parse(text)
    expr = ctx.nodes(cst.BinaryOperation)[-1]  # a + b, written in parentheses
    assert ctx.source(expr) == "a + b" and ctx.source(expr, parens=True) == "(a + b)"
    assert apply_fixes(text, [(ctx.insert_after(expr, ".item()"),)])[0] == "x = (a + b).item() * 2\n"


# --- is it a tensor? ---------------------------------------------------------------------------------------


def _kind_of_last_expression(body: str):
    ctx = parse("import numpy as np\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n\n"
                "def step(model, x, y, criterion, loader):\n" + body)
    return tensor_kind(ctx, ctx.nodes(cst.Expr)[-1].value)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("    loss = criterion(model(x), y)\n    loss\n", SCALAR),
        ("    loss = F.cross_entropy(model(x), y)\n    loss / len(x)\n", SCALAR),
        ("    ce = nn.CrossEntropyLoss()\n    loss = ce(model(x), y)\n    loss\n", SCALAR),
        ("    ce = nn.CrossEntropyLoss(reduction='none')\n    ce(model(x), y)\n", TENSOR),
        ("    losses = torch.stack([criterion(model(x), y)])\n    losses.mean()\n", SCALAR),
        ("    losses = torch.stack([criterion(model(x), y)])\n    losses.mean(dim=0)\n", TENSOR),
        ("    total = 0.0\n    for a, b in loader:\n        total += criterion(model(a), b)\n    total\n", TENSOR),
        ("    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)\n", SCALAR),
        ("    model(x).norm()\n", SCALAR),
        # nothing proves a tensor
        ("    loss = criterion(model(x), y)\n    loss.item()\n", None),
        ("    model(x)\n", None),
        ("    model(x).mean()\n", None),
        ("    np.mean(x)\n", None),
        ("    x\n", None),
        ("    total = 0.0\n    for a, b in loader:\n        total += criterion(model(a), b).item()\n    total\n", None),
        ("    for loss in loader:\n        pass\n    loss\n", None),
        ("    torch.cuda.memory_allocated()\n", None),
        ("    torch.max(x, 1)\n", None),
    ],
)
def test_tensor_kind_only_claims_what_the_code_justifies(body, expected):
    assert _kind_of_last_expression(body) == expected


# --- metric names ---


@pytest.mark.parametrize(
    ("name", "conventional"),
    [
        ("val_loss", "val/loss"),
        ("train-acc", "train/acc"),
        ("validation/f1", "val/f1"),
        ("loss_train", "train/loss"),
        ("Loss/train", "train/loss"),  # the PyTorch TensorBoard tutorial's spelling
        ("value_loss", None),  # an RL value loss, not a validation one
        ("loss", None),  # no split to move
        ("val/loss", None),  # already conventional
    ],
)
def test_a_name_that_says_its_split_gets_the_conventional_spelling(name, conventional):
    assert conventional_name(name) == conventional


def test_x_axis_keys_and_the_domain_examples_follow_the_convention():
    for name in ("train/loss", "eval/mmlu/accuracy", "system/gpu_memory", "epoch", "global_step"):
        assert follows_convention(name), name


# --- the shared list of non-deterministic ops ----------------------------------------------------------------


def test_the_nondeterministic_ops_list_needs_nothing_but_the_standard_library():
    tree = ast.parse((REPO / "runtime" / "nondeterministic_ops.py").read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"__future__"}


def _call_of(op: str) -> str:
    if op.startswith("torch.Tensor."):
        return f"out.{op.rsplit('.', 1)[1]}(0, index, src)"
    if op in NONDETERMINISTIC_MODES:
        return f"{op}(x, None, None, {sorted(NONDETERMINISTIC_MODES[op][1])[0]!r})"
    return f"{op}(x)"


@pytest.mark.parametrize("op", sorted(NONDETERMINISTIC_OPS))
def test_every_op_in_the_shared_list_is_flagged_where_only_cudnn_is_made_deterministic(tmp_path, op):
    source = f"import torch\nimport torch.nn\n\ntorch.backends.cudnn.deterministic = True\nresult = {_call_of(op)}\n"
    assert lint(tmp_path, source, "PY004") == [("PY004", 5)]


@pytest.mark.parametrize("op", sorted(NONDETERMINISTIC_OPS))
def test_under_use_deterministic_algorithms_only_ops_without_a_deterministic_kernel_are_flagged(tmp_path, op):
    source = f"import torch\nimport torch.nn\n\ntorch.use_deterministic_algorithms(True)\nresult = {_call_of(op)}\n"
    expected = [] if op in DETERMINISTIC_WHEN_REQUESTED else [("PY004", 5)]
    assert lint(tmp_path, source, "PY004") == expected


# --- a realistic training script -----------------------------------------------------------------------------

TRAINING_SCRIPT = '''\
"""Train a small CIFAR-10 classifier and log it to W&B."""
import torch
import torch.nn as nn
import torch.nn.functional as F
import wandb
from torch.utils.data import DataLoader
from torchvision import datasets, transforms


class Net(nn.Module):
    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.fc = nn.Linear(16 * 64 * 64, num_classes)

    def forward(self, x):
        x = F.interpolate(x, scale_factor=2, mode="bilinear")
        x = F.relu(self.conv(x))
        return self.fc(x.flatten(1))


def evaluate(model, loader):
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in loader:
            correct += (model(x).argmax(1) == y).sum().item()
    return correct / len(loader.dataset)


def main():
    torch.use_deterministic_algorithms(True)
    run = wandb.init(project="cifar10", config={"lr": 1e-3, "epochs": 5})
    model = Net()
    torch.manual_seed(42)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    to_tensor = transforms.ToTensor()
    train_set = datasets.CIFAR10("data", train=True, download=True, transform=to_tensor)
    val_set = datasets.CIFAR10("data", train=False, transform=to_tensor)
    train_loader = DataLoader(train_set, batch_size=64, shuffle=True, num_workers=4)
    val_loader = DataLoader(val_set, batch_size=256)
    global_step = 0
    for epoch in range(5):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            global_step += 1
            run.log({"train/loss": loss, "lr": optimizer.param_groups[0]["lr"]}, step=global_step)
        accuracy = evaluate(model, val_loader)
        run.log({"val_accuracy": accuracy}, step=global_step)
        torch.save(model.state_dict(), f"checkpoints/epoch{epoch}.pt")


if __name__ == "__main__":
    main()
'''


def test_a_realistic_training_script_gets_exactly_the_expected_findings(tmp_path):
    assert sorted(lint(tmp_path, TRAINING_SCRIPT)) == [
        ("PY001", 52),  # run.log of the loss tensor
        ("PY002", 33),  # wandb.init, never finished
        ("PY003", 41),  # num_workers=4 without worker_init_fn / generator
        ("PY004", 17),  # bilinear interpolate under use_deterministic_algorithms(True)
        ("PY005", 55),  # torch.save(model.state_dict(), ...)
        ("PY006", 35),  # torch.manual_seed after Net()
        ("PY007", 52),  # "lr"
        ("PY007", 54),  # "val_accuracy"
        ("PY008", 54),  # val metric at step=global_step
        ("PY009", 32),  # deterministic without CUBLAS_WORKSPACE_CONFIG
    ]


def test_safe_fixes_append_item_and_leave_a_script_that_still_compiles(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(TRAINING_SCRIPT, encoding="utf-8")
    report, changes = fix_path(str(path), LintConfig(), unsafe=False)
    original, fixed = changes[str(path)]
    assert original == TRAINING_SCRIPT
    assert 'run.log({"train/loss": loss.item(), "lr": optimizer.param_groups[0]["lr"]}, step=global_step)' in fixed
    assert '"val_accuracy"' in fixed  # renaming a metric is an unsafe fix
    assert fixed.count("\n") == TRAINING_SCRIPT.count("\n")
    compile(fixed, "train.py", "exec")
    assert "PY001" not in {d.code for d in report.diagnostics}


def test_unsafe_fixes_also_rename_metrics_to_the_convention(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(TRAINING_SCRIPT, encoding="utf-8")
    _, changes = fix_path(str(path), LintConfig(), unsafe=True)
    fixed = changes[str(path)][1]
    assert 'run.log({"val/accuracy": accuracy}, step=global_step)' in fixed
    compile(fixed, "train.py", "exec")


def test_a_dataloader_given_kwargs_is_left_alone(tmp_path):
    source = "from torch.utils.data import DataLoader\n\nloader = DataLoader(ds, num_workers=4, **loader_kwargs)\n"
    assert lint(tmp_path, source, "PY003") == []


def test_a_reference_to_wandb_finish_anywhere_counts_as_finishing(tmp_path):
    source = "import atexit\n\nimport wandb\n\nwandb.init()\natexit.register(wandb.finish)\n"
    assert lint(tmp_path, source, "PY002") == []


def test_a_suppression_comment_silences_a_python_finding(tmp_path):
    text = TRAINING_SCRIPT.replace(
        'torch.save(model.state_dict(), f"checkpoints/epoch{epoch}.pt")',
        'torch.save(model.state_dict(), f"checkpoints/epoch{epoch}.pt")  # rigorml: ignore[PY005]',
    )
    assert ("PY005", 55) not in lint(tmp_path, text)


# --- promises to pre-commit ------------------------------------------------------------------------------------


def test_linting_a_yaml_spec_never_imports_libcst():
    program = (
        "import json, sys\n"
        "from rigorml.compiler.lint import lint_path\n"
        "from rigorml.rules.config import LintConfig\n"
        f"report = lint_path({str(REPO / 'examples' / 'quickstart.yaml')!r}, LintConfig())\n"
        "print(json.dumps({'kind': report.kind, 'libcst': [m for m in sys.modules if m.split('.')[0] == 'libcst']}))\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result == {"kind": "spec", "libcst": []}
