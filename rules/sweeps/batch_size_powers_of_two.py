"""HPO005 batch-size-powers-of-two: batch sizes are searched as categorical powers of two."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule
from ._space import is_power_of_two, parameter_path

_KEY = "data.loader.batch_size"


def powers_of_two_between(low: float, high: float) -> list[int]:
    """Powers of two in [low, high]; the nearest ones around the range when none falls inside it."""
    found, power = [], 1
    while power <= max(high, 1):
        if power >= low:
            found.append(power)
        power *= 2
    return found or [max(1, power // 2), power]


class BatchSizePowersOfTwo(SpecRule):
    code = "HPO005"
    name = "batch-size-powers-of-two"
    severity = Severity.WARNING
    message = "Batch size: categorical powers of 2 (not continuous)"
    doc = RuleDoc(
        what=(
            "Flags a swept batch size (a path ending in `batch_size`) searched as a range (`int`, `int_log`, "
            "`uniform`), or as categorical values that are not powers of two."
        ),
        why=(
            "Neighbouring batch sizes (48 and 52) train almost identically, so a continuous range spends trials "
            "on differences that do not matter, while the choices that do (32 vs 64 vs 128) are a handful. Powers "
            "of two also fill GPU kernels and memory without waste. A short categorical list of powers of two is "
            "the whole useful space ('Batch size: categorical powers of 2 (not continuous)')."
        ),
        example="data.loader.batch_size:\n  distribution: int\n  low: 16\n  high: 128",
        instead="data.loader.batch_size:\n  values: [16, 32, 64, 128]",
        reference="Hyperparameter Optimization > Search Space Opinions: 'Batch size: categorical powers of 2 (not "
        "continuous)'",
        fix="none",
        notes=("No fix: which powers of two fit in GPU memory is the author's call; the hint lists those in range.",),
    )
    VALID = (
        BASE + "sweep:\n  parameters:\n    " + _KEY + ": {values: [16, 32, 64]}\n",
        BASE + "sweep:\n  parameters:\n    " + _KEY + ": {value: 48}\n",
    )
    INVALID = (
        Invalid(
            BASE + "sweep:\n  parameters:\n    " + _KEY + ": {distribution: int, low: 16, high: 128}\n",
            line=11,
            col=44,
            message="categorical powers of 2",
        ),
        Invalid(
            BASE + "sweep:\n  parameters:\n    " + _KEY + ":\n      values: [16, 48, 64]\n",
            line=12,
            col=20,
            message="48",
        ),
    )

    def check(self, ctx):
        sweep = ctx.spec.sweep
        if sweep is None:
            return
        for key, param in sweep.parameters.items():
            if not key.endswith("batch_size"):
                continue
            if param.distribution in ("int", "int_log", "uniform"):
                suggestion = powers_of_two_between(param.low, param.high)
                yield self.at(
                    ctx,
                    parameter_path(key, "distribution"),
                    f"`{key}` is searched as a range (`{param.distribution}`): Batch size: categorical powers of 2 "
                    "(not continuous)",
                    hint=f"`values: {suggestion}`",
                )
            elif param.distribution == "categorical":
                bad = [i for i, value in enumerate(param.values) if not is_power_of_two(value)]
                if bad:
                    shown = ", ".join(repr(param.values[i]) for i in bad)
                    yield self.at(
                        ctx,
                        parameter_path(key, "values", bad[0]),
                        f"`{key}` tries {shown}, not a power of two: Batch size: categorical powers of 2 "
                        "(not continuous)",
                        hint="e.g. `values: [16, 32, 64, 128]`",
                    )
