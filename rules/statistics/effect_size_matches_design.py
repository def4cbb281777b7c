"""STA004 effect-size-matches-design: a paired effect size for paired comparisons, an independent one otherwise."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

#: Standardised by the spread of the per-pair differences (d_z) or the average within-arm spread (d_av).
PAIRED_EFFECT_SIZES = ("cohens_dz", "cohens_dav")
#: Standardised by the pooled spread of two independent samples.
INDEPENDENT_EFFECT_SIZES = ("cohens_d", "hedges_g")

_PATH = ("evaluation", "effect_size")

ARMS = "variants:\n  a: {}\n  b: {}\n"
COMPARISON = "  comparisons:\n    - treatment: b\n      control: a\n"


class EffectSizeMatchesDesign(SpecRule):
    code = "STA004"
    name = "effect-size-matches-design"
    severity = Severity.WARNING
    message = "the effect size does not match the comparison's design"
    doc = RuleDoc(
        what="Flags an `evaluation.effect_size` made for the other design: `cohens_d`/`hedges_g` "
        "(independent samples) with paired comparisons, or `cohens_dz`/`cohens_dav` (paired) with "
        "independent (`paired: false`) ones.",
        why="'Always report: effect size (Cohen's d) alongside p-values', and the effect size must describe "
        "the same design as the test. In a paired design the test works on the per-pair differences, so "
        "d_z (mean difference over the SD of the differences) is the matching standardisation; a pooled "
        "independent-samples d ignores the pairing. With independent samples there are no pairs, so d_z "
        "and d_av are undefined and Cohen's d or Hedges' g (d corrected for small samples) apply.",
        example="evaluation:\n  baseline: small\n  effect_size: cohens_d",
        instead="evaluation:\n  baseline: small\n  effect_size: cohens_dz  # paired: same test data and seeds",
        reference="Statistical Comparison: 'Always report: effect size (Cohen's d) alongside p-values'; "
        "'Paired tests when models share test data; independent otherwise'",
        notes=(
            "One effect size is reported for every comparison, so a plan that mixes paired and independent "
            "comparisons is flagged whichever it picks: make the designs agree.",
        ),
    )
    VALID = (
        BASE + ARMS + "evaluation:\n" + COMPARISON,  # cohens_dz is the default
        BASE + ARMS + "evaluation:\n  effect_size: cohens_dav\n" + COMPARISON,
        BASE + ARMS + "evaluation:\n  effect_size: hedges_g\n" + COMPARISON + "      paired: false\n",
        BASE + "evaluation:\n  effect_size: cohens_d\n",  # no comparisons
    )
    INVALID = (
        Invalid(
            BASE + ARMS + "evaluation:\n  effect_size: cohens_d\n" + COMPARISON,
            line=13,
            col=16,
            message="cohens_dz",
        ),
        Invalid(
            BASE + ARMS + "evaluation:\n" + COMPARISON + "      paired: false\n",
            line=16,
            col=15,
            message="hedges_g",
        ),
    )

    def check(self, ctx):
        effect_size = ctx.spec.evaluation.effect_size
        paired_size = effect_size in PAIRED_EFFECT_SIZES
        mismatched = [c for c in ctx.comparisons if c.paired != paired_size]
        if not mismatched:
            return
        first = mismatched[0]
        names = ", ".join(f"`{c.name}`" for c in mismatched)
        written = ctx.written(_PATH)
        setting = f"`effect_size: {effect_size}`" + ("" if written else " (the default)")
        if paired_size:
            message = (
                f"{setting} is a paired effect size, but {names} "
                f"{'is' if len(mismatched) == 1 else 'are'} independent (`paired: false`): there are no pairs "
                "to take differences of; report cohens_d or hedges_g alongside its p-value"
            )
        else:
            message = (
                f"{setting} is an independent-samples effect size, but {names} "
                f"{'is' if len(mismatched) == 1 else 'are'} paired (same test data and seeds): report cohens_dz "
                "(or cohens_dav), which matches the paired test"
            )
        hint = None
        if len(mismatched) < len(ctx.comparisons):
            hint = "the plan mixes paired and independent comparisons, and one effect size covers them all"
        location = _PATH if written else first.path + ("paired",)
        yield self.at(ctx, location, message, hint=hint)
