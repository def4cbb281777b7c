"""STA007 pairing-matches-data: paired tests when the arms share test data, independent tests otherwise."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

#: Overrides that change which examples end up in an arm's test split: the arms no longer share test data.
SPLIT_CHANGING = ("data.source", "data.splits", "data.split_column", "data.split_seed", "data.stratify")
#: Overrides that never change the test examples (how they are batched, which columns are inputs).
SPLIT_PRESERVING = ("data.loader", "data.features")

ARMS = "variants:\n  a: {}\n  b: {}\n"
COMPARISON = "evaluation:\n  comparisons:\n    - treatment: b\n      control: a\n"
NEW_SPLIT = "variants:\n  a: {}\n  b:\n    overrides:\n      data.split_seed: 7\n"


def _under(key: str, prefixes: tuple[str, ...]) -> bool:
    return any(key == prefix or key.startswith(prefix + ".") for prefix in prefixes)


def _data_overrides(ctx, arm: str) -> list[str]:
    variant = ctx.spec.variants.get(arm)
    if variant is None:
        return []
    return [key for key in variant.overrides if key == "data" or key.startswith("data.")]


class PairingMatchesData(SpecRule):
    code = "STA007"
    name = "pairing-matches-data"
    severity = Severity.WARNING
    message = "the comparison's pairing does not match whether the arms share test data"
    doc = RuleDoc(
        what="Flags an independent comparison (`paired: false`) between arms that share test data and seeds, "
        "and a paired one between arms that do not, because a variant overrides `data.source`, `data.splits`, "
        "`data.split_column`, `data.split_seed` or `data.stratify`.",
        why="'Paired tests when models share test data; independent otherwise'. Every variant runs over the "
        "same replicate seeds, and unless it overrides how the data is split it is scored on the same test "
        "examples, so the arms' results come in pairs: a paired test cancels the variation both arms share "
        "(a hard seed, a hard example) and an independent test wastes it. When a variant changes the split, "
        "the arms are scored on different examples, there are no pairs, and a paired test is invalid.",
        example="evaluation:\n  comparisons:\n    - {treatment: wide, control: small, paired: false}",
        instead="evaluation:\n  comparisons:\n    - {treatment: wide, control: small}  # paired by default",
        reference="Statistical Comparison: 'Paired tests when models share test data; independent otherwise'",
        notes=(
            "Overrides of `data.loader` or `data.features` keep the test examples. Overrides of anything else "
            "under `data` (`params`, `version`, `target`) may or may not change them, so neither direction "
            "is flagged for them.",
        ),
    )
    VALID = (
        BASE + ARMS + COMPARISON,
        BASE + NEW_SPLIT + COMPARISON + "      paired: false\n",
        BASE + "variants:\n  a: {}\n  b:\n    overrides:\n      data.loader.batch_size: 32\nevaluation:\n  baseline: a\n",
        BASE + "variants:\n  a: {}\n  b:\n    overrides:\n      data.params.subset: hard\n" + COMPARISON + "      paired: false\n",
    )
    INVALID = (
        Invalid(BASE + ARMS + COMPARISON + "      paired: false\n", line=16, col=15, message="use a paired test"),
        Invalid(BASE + NEW_SPLIT + "evaluation:\n  baseline: a\n", line=15, col=13, message="data.split_seed"),
        Invalid(
            BASE + NEW_SPLIT + COMPARISON + "      paired: true\n",
            line=18,
            col=15,
            message="no pairs",
        ),
    )

    def check(self, ctx):
        for comparison in ctx.comparisons:
            overrides = {arm: _data_overrides(ctx, arm) for arm in (comparison.treatment, comparison.control)}
            splitting = [(arm, key) for arm, keys in overrides.items() for key in keys if _under(key, SPLIT_CHANGING)]
            known = SPLIT_CHANGING + SPLIT_PRESERVING
            unclear = [key for keys in overrides.values() for key in keys if not _under(key, known)]
            path = comparison.path + ("paired",)
            if comparison.paired and splitting:
                arm, key = splitting[0]
                hint = None
                if comparison.path == ("evaluation", "baseline"):
                    hint = (
                        "`baseline:` comparisons are paired; list the comparison under `evaluation.comparisons` "
                        "with `paired: false`"
                    )
                yield self.at(
                    ctx,
                    path,
                    f"`{comparison.name}` is paired, but variant `{arm}` overrides `{key}`: the arms are scored on "
                    "different test examples, so there are no pairs; use an independent test (`paired: false`)",
                    hint=hint,
                )
            elif not comparison.paired and not splitting and not unclear:
                yield self.at(
                    ctx,
                    path,
                    f"`{comparison.name}` is independent (`paired: false`), but both arms are scored on the same test "
                    "examples with the same seeds: use a paired test, which cancels the variation the arms share",
                )
