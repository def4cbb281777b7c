"""PY006 seed-after-construction: the RNGs are seeded after a model or data object was already built."""

from __future__ import annotations

import libcst as cst

from ...compiler.diagnostics import Severity
from ..base import Invalid, PythonRule, RuleDoc
from .context import PythonContext, last_name

SEED_CALLS = (
    "torch.manual_seed",
    "torch.random.manual_seed",
    "torch.cuda.manual_seed",
    "torch.cuda.manual_seed_all",
    "random.seed",
    "numpy.random.seed",
)
#: Seeding helpers recognised by name, whoever defines them (Lightning, transformers, the script).
SEED_HELPERS = ("seed_everything", "set_seed")
#: Constructions that draw from (or fix the order of) the global RNGs.
CONSTRUCTORS = (
    "torch.utils.data.DataLoader",
    "torch.utils.data.dataloader.DataLoader",
    "torch.utils.data.random_split",
    "timm.create_model",
)
_NAME_SUFFIXES = ("Dataset", "DataLoader", "Model", "Net")


class SeedAfterConstruction(PythonRule):
    code = "PY006"
    name = "seed-after-construction"
    severity = Severity.WARNING
    message = "seeded after a model/data object was built -- call it BEFORE any model/data init"
    doc = RuleDoc(
        what=(
            "Flags a seeding call (`torch.manual_seed`, `torch.cuda.manual_seed_all`, `random.seed`, "
            "`np.random.seed`, `seed_everything`, `set_seed`) that comes after a model or data construction "
            "in the same function or module body: a `DataLoader`, `random_split`, a `torch.nn` layer, an "
            "`nn.init` call, a `torchvision.models` / `timm.create_model` model, a `*.from_pretrained` model, "
            "or a class named `...Dataset`, `...Model`, `...Net`."
        ),
        why=(
            "Weight initialisation, dataset shuffles and splits draw from the global RNGs when they are "
            "constructed. Seeding afterwards leaves the initial weights and the data order to whatever state "
            "the RNGs were in, so two runs with the same seed start from different models."
        ),
        example="model = Net()\ntorch.manual_seed(42)",
        instead="torch.manual_seed(42)\nmodel = Net()",
        reference="Seed Management: 'Set seed for all common sources of randomness. Call BEFORE any model/data init.'",
        fix="none",
        notes=(
            "Only calls in the same body are compared (a function's own statements, nested blocks included, "
            "not the functions it calls). Loss modules (`nn.CrossEntropyLoss()`) do not count: they draw "
            "nothing from the RNGs.",
        ),
    )
    VALID = (
        "import torch\nfrom torch import nn\n\n\ndef main():\n    torch.manual_seed(42)\n    model = nn.Linear(4, 2)\n",
        "import random\n\nimport numpy as np\nimport torch\n\n\ndef seed_everything(seed):\n    random.seed(seed)\n"
        "    np.random.seed(seed)\n    torch.manual_seed(seed)\n\n\nseed_everything(42)\nmodel = MyModel()\n",
        # a loss module draws nothing from the RNGs
        "import torch\nfrom torch import nn\n\ncriterion = nn.CrossEntropyLoss()\ntorch.manual_seed(0)\n"
        "model = Net()\n",
    )
    INVALID = (
        Invalid(
            "import torch\nfrom torch import nn\n\n\ndef main():\n    model = nn.Linear(4, 2)\n"
            "    torch.manual_seed(42)\n",
            line=7,
            col=5,
            message="BEFORE any model/data init",
        ),
        Invalid(
            "import numpy as np\nfrom torch.utils.data import DataLoader\n\n"
            "loader = DataLoader(CifarDataset(), batch_size=32)\nnp.random.seed(0)\n",
            line=5,
            col=1,
            message="line 4",
        ),
        Invalid(
            "from transformers import AutoModelForSequenceClassification, set_seed\n\n"
            'model = AutoModelForSequenceClassification.from_pretrained("bert-base-uncased")\nset_seed(42)\n',
            line=4,
            col=1,
        ),
    )

    def check(self, ctx: PythonContext):
        for seed in ctx.nodes(cst.Call):
            if not _is_seed(ctx, seed):
                continue
            earlier = next(
                (
                    call
                    for call in ctx.nodes(cst.Call, ctx.scope_of(seed))
                    if ctx.before(call, seed) and _constructs(ctx, call)
                ),
                None,
            )
            if earlier is None:
                continue
            built = ctx.source(earlier.func)
            yield self.finding(
                ctx.span(seed),
                f"`{ctx.source(seed.func)}(...)` is called after `{built}(...)` (line {ctx.span(earlier).line}) "
                "built a model/data object -- call it BEFORE any model/data init",
            )


def _is_seed(ctx: PythonContext, call: cst.Call) -> bool:
    if ctx.calls_to(call, *SEED_CALLS):
        return True
    name = last_name(call)
    qualified = ctx.qualified_name(call) or ""
    # a helper called by its bare name or through a module (`pl.seed_everything`); `obj.set_seed()` on
    # some object need not seed the global RNGs
    return name in SEED_HELPERS and (isinstance(call.func, cst.Name) or qualified.endswith("." + name))


def _constructs(ctx: PythonContext, call: cst.Call) -> bool:
    """Whether ``call`` builds a model or data object (see the rule's documentation)."""
    qualified = ctx.qualified_names(call)
    if qualified & set(CONSTRUCTORS):
        return True
    for name in qualified:
        if name.startswith("torch.nn.init.") or name.startswith("torchvision.models."):
            return True
        head, _, tail = name.rpartition(".")
        if head == "torch.nn" and tail[:1].isupper() and not tail.endswith("Loss"):
            return True
    callee = last_name(call)
    if callee == "from_pretrained" and isinstance(call.func, cst.Attribute):
        return "Model" in (last_name(call.func.value) or "")
    return bool(callee and callee[:1].isupper() and callee.endswith(_NAME_SUFFIXES))
