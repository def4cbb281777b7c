"""REP002 per-component-seeds: the data, model and train seeds are distinct."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

_COMPONENTS = ("data", "model", "train")
_DEFAULTS = {"data": 100, "model": 200, "train": 300}


class PerComponentSeeds(SpecRule):
    code = "REP002"
    name = "per-component-seeds"
    severity = Severity.WARNING
    message = "two components share a seed"
    doc = RuleDoc(
        what="Flags `seeds.data`, `seeds.model` and `seeds.train` that are not all distinct (after defaults: "
        "100, 200, 300), at the second of two equal seeds.",
        why="The domain document keeps 'Separate seeds per concern -- change data split without "
        "re-initializing model': one seed for data loading, augmentation and splits, one for weight "
        "initialization, one for dropout and sampling. Equal seeds make two concerns draw the same random "
        "stream, so their randomness is correlated (the split permutation and the initial weights come from "
        "the same numbers), and the spec reads as if one knob controlled both.",
        example="seeds:\n  data: 100\n  model: 100\n  train: 300",
        instead="seeds:\n  data: 100\n  model: 200\n  train: 300",
        reference="Reproducibility > Per-Component Seeds: 'Separate seeds per concern -- change data split "
        "without re-initializing model' (data_seed 100, model_seed 200, train_seed 300)",
        fix="none",
        notes=("No fix: a new seed changes results, so which seed to change is the author's choice.",),
    )
    VALID = (
        BASE,
        BASE + "seeds:\n  data: 1\n  model: 2\n  train: 3\n",
    )
    INVALID = (
        Invalid(BASE + "seeds:\n  data: 100\n  model: 100\n", line=11, col=10, message="seeds.model"),
        # The repeat of a default seed is reported where the author wrote the colliding one.
        Invalid(BASE + "seeds:\n  data: 300\n", line=10, col=9, message="seeds.train"),
    )

    def check(self, ctx):
        seeds = ctx.spec.seeds
        values = {component: getattr(seeds, component) for component in _COMPONENTS}
        for i, later in enumerate(_COMPONENTS):
            for earlier in _COMPONENTS[:i]:
                if values[earlier] != values[later]:
                    continue
                # Report at the later seed when the author wrote it; otherwise at the one they wrote
                # (defaults are distinct, so one of the pair is always written).
                written = later if ctx.written(("seeds", later)) else earlier
                other = earlier if written == later else later
                suggestion = next(
                    (v for v in (_DEFAULTS[written], *range(values[written] + 1, values[written] + 1000))
                     if v not in values.values()),
                    None,
                )
                hint = f"; e.g. `{written}: {suggestion}`" if suggestion is not None else ""
                yield self.at(
                    ctx,
                    ("seeds", written),
                    f"seeds.{written} and seeds.{other} are both {values[later]}: give each component its own seed "
                    f"so changing the data split does not re-initialise the model{hint}",
                )
                break
