"""HPO006 hidden-dims-aligned-to-heads: swept transformer widths are multiples of the head count."""

from __future__ import annotations

from math import lcm

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule
from ._space import at_value_or_key, leaf, parameter_path

#: Last path segments that name a transformer's hidden width.
HIDDEN_DIMS = ("hidden_size", "d_model", "hidden_dim", "embed_dim")
#: Keys under `model.params` that name its number of attention heads.
HEAD_KEYS = ("num_heads", "n_heads", "nhead", "num_attention_heads")

_HEADS = "  params: {num_heads: 8}\n"


def _counts(values) -> set[int]:
    return {v for v in values if isinstance(v, int) and not isinstance(v, bool) and v > 0}


def head_counts(spec) -> set[int]:
    """Every head count the model may be built with: the written one and any swept values."""
    counts: set[int] = set()
    for key in HEAD_KEYS:
        if key in spec.model.params:
            counts |= _counts([spec.model.params[key]])
        param = spec.sweep.parameters.get(f"model.params.{key}")
        if param is not None and param.distribution == "categorical":
            counts |= _counts(param.values)
        elif param is not None and param.distribution == "constant":
            counts |= _counts([param.value])
    counts.discard(1)
    return counts


class HiddenDimsAlignedToHeads(SpecRule):
    code = "HPO006"
    name = "hidden-dims-aligned-to-heads"
    severity = Severity.WARNING
    message = "Hidden dims: step-aligned to head count for transformers"
    doc = RuleDoc(
        what=(
            "When `model.params` declares attention heads (`num_heads`, `n_heads`, `nhead`, "
            "`num_attention_heads`), flags a swept hidden width (a path ending in `hidden_size`, `d_model`, "
            "`hidden_dim`, `embed_dim`) that can take values the head count does not divide: an `int` range "
            "whose `low` or `step` is not a multiple of it, a log or float range, or categorical values that "
            "are not multiples."
        ),
        why=(
            "Multi-head attention splits the hidden width evenly across heads, so a width the head count does not "
            "divide fails when the model is built: every such trial is wasted, and a sampler that learns from "
            "failures is misled about that region. Stepping the width by the head count makes every sampled "
            "value buildable ('Hidden dims: step-aligned to head count for transformers')."
        ),
        example="model.params.d_model:\n  distribution: int\n  low: 64\n  high: 512\n  step: 12   # num_heads: 8",
        instead="model.params.d_model:\n  distribution: int\n  low: 64\n  high: 512\n  step: 64",
        reference="Hyperparameter Optimization > Search Space Opinions: 'Hidden dims: step-aligned to head count for "
        "transformers'",
        fix="none",
        notes=("No fix: the step that divides the heads and still covers the range the author meant is their choice.",),
    )
    VALID = (
        BASE
        + _HEADS
        + "sweep:\n  parameters:\n    model.params.d_model: {distribution: int, low: 64, high: 512, step: 64}\n",
        BASE + _HEADS + "sweep:\n  parameters:\n    model.params.hidden_size: {values: [256, 512]}\n",
        # No heads declared: not a transformer this rule can check.
        BASE + "sweep:\n  parameters:\n    model.params.hidden_size: {distribution: int, low: 100, high: 500}\n",
    )
    INVALID = (
        Invalid(
            BASE
            + _HEADS
            + "sweep:\n  parameters:\n    model.params.d_model:\n      distribution: int\n      low: 64\n"
            + "      high: 512\n      step: 12\n",
            line=16,
            col=13,
            message="steps by 12",
        ),
        Invalid(
            BASE + _HEADS + "sweep:\n  parameters:\n    model.params.hidden_size: {values: [256, 300, 512]}\n",
            line=12,
            col=46,
            message="300",
        ),
        Invalid(
            BASE + _HEADS + "sweep:\n  parameters:\n    model.params.embed_dim: {distribution: int, low: 64, high: 512}\n",
            line=12,
            col=5,
            message="steps by 1",
        ),
    )

    def check(self, ctx):
        sweep = ctx.spec.sweep
        if sweep is None:
            return
        heads = None
        for key, param in sweep.parameters.items():
            if leaf(key) not in HIDDEN_DIMS or param.distribution == "constant":
                continue
            if heads is None:
                heads = sorted(head_counts(ctx.spec))
            if not heads:
                return
            shown = "/".join(map(str, heads))
            what = f"the head count {shown}" if len(heads) == 1 else f"every head count ({shown})"
            finding = None
            if param.distribution == "int":
                if any(param.step % h for h in heads):
                    finding = (
                        parameter_path(key, "step"),
                        f"`{key}` steps by {param.step}, not a multiple of {what}",
                    )
                elif any(param.low % h for h in heads):
                    finding = (parameter_path(key, "low"), f"`{key}` starts at {param.low}, not a multiple of {what}")
            elif param.distribution in ("int_log", "uniform", "log_uniform"):
                finding = (
                    parameter_path(key, "distribution"),
                    f"`{key}` is a `{param.distribution}` range, which samples widths not divisible by {what}",
                )
            elif param.distribution == "categorical":
                bad = [i for i, v in enumerate(param.values) if not isinstance(v, int) or any(v % h for h in heads)]
                if bad:
                    values = ", ".join(repr(param.values[i]) for i in bad)
                    finding = (parameter_path(key, "values", bad[0]), f"`{key}` tries {values}, not a multiple of {what}")
            if finding is not None:
                path, text = finding
                yield at_value_or_key(
                    self,
                    ctx,
                    path,
                    f"{text}: Hidden dims: step-aligned to head count for transformers (attention splits the width "
                    "evenly across heads, so those trials fail to build)",
                    hint=f"`distribution: int` with `low` and `step` multiples of {lcm(*heads)}",
                )
