"""STA001 too-few-seeds: fewer than 5 replicate seeds cannot support a multi-seed comparison."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

#: The domain's floor: "Minimum seeds: 5-10 for reliable multi-seed comparison; 3 is insufficient".
MINIMUM_SEEDS = 5

_PATH = ("seeds", "replicates")


class TooFewSeeds(SpecRule):
    code = "STA001"
    name = "too-few-seeds"
    severity = Severity.WARNING
    message = f"fewer than {MINIMUM_SEEDS} replicate seeds"
    doc = RuleDoc(
        what=f"Flags experiments with fewer than {MINIMUM_SEEDS} replicate seeds (`seeds.replicates`).",
        why="Every arm runs once per replicate seed, and the seed-to-seed spread of a deep-learning "
        "metric is often as large as the differences being compared. With 3 seeds neither the spread nor "
        "a difference can be estimated: 'Minimum seeds: 5-10 for reliable multi-seed comparison; 3 is "
        "insufficient'.",
        example="seeds:\n  replicates: 3",
        instead="seeds:\n  replicates: 5  # 5-10 for reliable multi-seed comparisons",
        reference="Statistical Comparison: 'Minimum seeds: 5-10 for reliable multi-seed comparison; 3 is insufficient'",
        fix="unsafe",
        notes=(
            "The fix replaces a written count with 5; a list of seeds is left for you to extend.",
            "Unsafe: more seeds means more runs (cost) and different results.",
        ),
    )
    VALID = (
        BASE,  # the default is 5 replicates
        BASE + "seeds:\n  replicates: 5\n",
        BASE + "seeds:\n  replicates: [11, 12, 13, 14, 15, 16]\n",
    )
    INVALID = (
        Invalid(
            BASE + "seeds:\n  replicates: 3\n",
            line=10,
            col=15,
            message="3 is insufficient",
            fixed=BASE + "seeds:\n  replicates: 5\n",
        ),
        Invalid(
            BASE + "seeds:\n  replicates: 1  # a quick look\n",
            line=10,
            col=15,
            message="1 replicate seed",
            fixed=BASE + "seeds:\n  replicates: 5  # a quick look\n",
        ),
        Invalid(BASE + "seeds:\n  replicates: [0, 1, 2, 3]\n", line=10, col=15, message="4 replicate seeds"),
    )

    def check(self, ctx):
        n = len(ctx.replicate_seeds)
        if n >= MINIMUM_SEEDS:
            return
        seeds = f"{n} replicate seed" + ("" if n == 1 else "s")
        if n <= 3:
            even = "" if n == 3 else "even "
            message = (
                f"{seeds}: {even}3 is insufficient; use at least {MINIMUM_SEEDS} "
                "(5-10 for a reliable multi-seed comparison)"
            )
        else:
            message = f"{seeds}: use at least {MINIMUM_SEEDS} (5-10 for a reliable multi-seed comparison)"
        written = ctx.get(_PATH)
        fix = None
        if isinstance(written, int) and not isinstance(written, bool):
            fix = self.replace_value(ctx, _PATH, str(MINIMUM_SEEDS), f"use {MINIMUM_SEEDS} replicate seeds", safe=False)
        hint = None if fix else f"add seeds to the list until it has at least {MINIMUM_SEEDS}"
        yield self.at(ctx, _PATH, message, hint=hint, fix=fix)
