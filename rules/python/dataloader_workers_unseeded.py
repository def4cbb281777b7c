"""PY003 dataloader-workers-unseeded: worker processes without ``worker_init_fn=`` and a seeded ``generator=``."""

from __future__ import annotations

import libcst as cst

from ...compiler.diagnostics import Severity
from ..base import Invalid, PythonRule, RuleDoc
from .context import PythonContext, argument, has_star_kwargs

DATALOADER = ("torch.utils.data.DataLoader", "torch.utils.data.dataloader.DataLoader")
#: Positions in ``DataLoader(dataset, batch_size, shuffle, sampler, batch_sampler, num_workers,
#: collate_fn, pin_memory, drop_last, timeout, worker_init_fn, multiprocessing_context, generator)``.
_NUM_WORKERS, _WORKER_INIT_FN, _GENERATOR = 5, 10, 12


class DataloaderWorkersUnseeded(PythonRule):
    code = "PY003"
    name = "dataloader-workers-unseeded"
    severity = Severity.WARNING
    message = "num_workers > 0 introduces OS-level scheduling non-determinism -- use worker_init_fn"
    doc = RuleDoc(
        what=(
            "Flags `DataLoader(..., num_workers=N)` with N a non-zero literal or any expression, that does not "
            "pass both `worker_init_fn=` and `generator=` (or passes an unseeded `torch.Generator()`)."
        ),
        why=(
            "Each worker process gets its own copy of the Python and NumPy random state: without a "
            "`worker_init_fn` that reseeds them from `torch.initial_seed()`, augmentations repeat across "
            "workers or differ between runs, and without a seeded `generator` the shuffle order and the "
            "workers' base seed come from the global RNG, however far it has advanced."
        ),
        example="loader = DataLoader(dataset, batch_size=32, num_workers=4)",
        instead=(
            "def worker_init_fn(worker_id: int) -> None:\n"
            "    seed = torch.initial_seed() % 2**32\n"
            "    np.random.seed(seed + worker_id)\n"
            "    random.seed(seed + worker_id)\n\n"
            "loader = DataLoader(\n"
            "    dataset, batch_size=32, num_workers=4,\n"
            "    worker_init_fn=worker_init_fn,\n"
            "    generator=torch.Generator().manual_seed(42),\n"
            ")"
        ),
        reference=(
            "Gotchas, Reproducibility: 'num_workers > 0 introduces OS-level scheduling non-determinism -- use "
            "worker_init_fn'; DataLoader Determinism"
        ),
        fix="none",
        notes=(
            "A `num_workers` that is not a literal (`args.workers`) is treated as possibly non-zero.",
            "A call that passes `**kwargs` is left alone: the missing arguments may be in it.",
        ),
    )
    VALID = (
        "from torch.utils.data import DataLoader\n\nloader = DataLoader(dataset, batch_size=32)\n",
        "from torch.utils.data import DataLoader\n\nloader = DataLoader(dataset, batch_size=32, num_workers=0)\n",
        "import torch\nfrom torch.utils.data import DataLoader\n\n\ndef worker_init_fn(worker_id):\n    pass\n\n\n"
        "loader = DataLoader(\n    dataset, batch_size=32, num_workers=4,\n    worker_init_fn=worker_init_fn,\n"
        "    generator=torch.Generator().manual_seed(42),\n)\n",
    )
    INVALID = (
        Invalid(
            "from torch.utils.data import DataLoader\n\nloader = DataLoader(dataset, batch_size=32, num_workers=4)\n",
            line=3,
            col=45,
            message="no worker_init_fn= and no generator=",
        ),
        Invalid(
            "import torch.utils.data as data\n\n\ndef loaders(dataset, args):\n"
            "    return data.DataLoader(dataset, num_workers=args.workers, worker_init_fn=seed_worker)\n",
            line=5,
            col=37,
            message="no generator=",
        ),
        Invalid(
            "import torch\nfrom torch.utils.data import DataLoader\n\n"
            "loader = DataLoader(dataset, num_workers=2, worker_init_fn=seed_worker, generator=torch.Generator())\n",
            line=4,
            col=30,
            message="unseeded",
        ),
    )

    def check(self, ctx: PythonContext):
        for call in ctx.nodes(cst.Call):
            if not ctx.calls_to(call, *DATALOADER) or has_star_kwargs(call):
                continue
            workers = argument(call, _NUM_WORKERS, "num_workers")
            if workers is None or _is_zero(workers.value):
                continue
            problems = []
            if _missing(argument(call, _WORKER_INIT_FN, "worker_init_fn")):
                problems.append("no worker_init_fn=")
            generator = argument(call, _GENERATOR, "generator")
            if _missing(generator):
                problems.append("no generator=")
            elif ctx.calls_to(generator.value, "torch.Generator"):  # type: ignore[union-attr]  # no .manual_seed()
                problems.append("an unseeded generator= (call .manual_seed(...) on it)")
            if problems:
                yield self.finding(
                    ctx.span(workers),
                    f"DataLoader with num_workers={ctx.shown(workers.value)} has {' and '.join(problems)}: "
                    "num_workers > 0 introduces OS-level scheduling non-determinism",
                    hint="pass worker_init_fn= and generator=torch.Generator().manual_seed(SEED)",
                )


def _is_zero(value: cst.BaseExpression) -> bool:
    return isinstance(value, cst.Integer) and value.evaluated_value == 0


def _missing(arg: cst.Arg | None) -> bool:
    return arg is None or (isinstance(arg.value, cst.Name) and arg.value.value == "None")
