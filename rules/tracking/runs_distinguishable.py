"""TRK003 runs-distinguishable: every run of a spec gets its own run name."""

from __future__ import annotations

import string

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

_PATH = ("tracking", "run_name")
_SWEEP = (
    "sweep:\n"
    "  parameters:\n"
    "    training.optimizer.lr: {distribution: log_uniform, low: 0.0001, high: 0.1}\n"
)
#: How each placeholder is appended to a template that lacks it.
_SUFFIX = {"variant": "{variant}", "seed": "s{seed}"}


def placeholders(template: str) -> set[str]:
    """The placeholder names a run-name template uses (``{trial:03d}`` uses ``trial``)."""
    try:
        return {field for _, field, _, _ in string.Formatter().parse(template) if field}
    except ValueError:  # validation rejects malformed templates; be quiet rather than crash
        return set(_SUFFIX)


class SweepTrialsDistinguishable(SpecRule):
    code = "TRK003"
    name = "runs-distinguishable"
    severity = Severity.WARNING
    message = "runs of this spec share a run name"
    doc = RuleDoc(
        what="Flags a `tracking.run_name` template that cannot tell this spec's runs apart: no `{variant}` when "
        "it has more than one arm, no `{seed}` when it has more than one replicate seed.",
        why="Each sweep trial, arm and replicate is its own run and must write to its own name and output "
        "directory. Runs that share a name collide: in the tracker they cannot be told apart (the domain "
        "document's gotcha 'Not setting group for related runs -- sweeps hard to analyze' gets worse when "
        "the runs in the group also share a name), and in the run directory a later trial overwrites an "
        "earlier one's results, or resumes from its checkpoint instead of starting fresh.",
        example='variants:\n  baseline: {}\n  wide: {overrides: {model.params.hidden_sizes: [256]}}\ntracking:\n  run_name: "{experiment}-s{seed}"',
        instead='variants:\n  baseline: {}\n  wide: {overrides: {model.params.hidden_sizes: [256]}}\ntracking:\n  run_name: "{experiment}-{variant}-s{seed}"',
        reference="Gotchas > Tracking: 'Not setting group for related runs -- sweeps hard to analyze'; Experiment "
        "Tracking > W&B Run Configuration (a unique `name` per run, related runs in one `group`)",
        fix="none",
        notes=(
            "Sweep trials need no placeholder: a trial's run name gets `-t{trial}` appended when the template "
            "has no `{trial}` (see `tracking.run_name`), so trials never collide.",
        ),
    )
    VALID = (
        BASE,
        BASE + 'tracking:\n  run_name: "{experiment}-{variant}-s{seed}"\n' + _SWEEP,
        BASE + 'seeds:\n  replicates: 1\ntracking:\n  run_name: "{experiment}"\n',
    )
    INVALID = (
        Invalid(
            BASE + 'tracking:\n  run_name: "{experiment}-{variant}"\n',
            line=10,
            col=13,
            message="{experiment}-{variant}-s{seed}",
        ),
        Invalid(
            BASE + 'variants:\n  a: {}\n  b: {}\ntracking:\n  run_name: "{experiment}-s{seed}"\n',
            line=13,
            col=13,
            message="{variant}",
        ),
    )

    def check(self, ctx):
        template = ctx.spec.tracking.run_name
        used = placeholders(template)
        reasons = []
        if len(ctx.arms) > 1 and "variant" not in used:
            reasons.append(("variant", f"the {len(ctx.arms)} arms"))
        if len(ctx.replicate_seeds) > 1 and "seed" not in used:
            reasons.append(("seed", f"the {len(ctx.replicate_seeds)} replicate seeds"))
        if not reasons:
            return
        missing = ", ".join("{" + name + "}" for name, _ in reasons)
        runs = " and ".join(why for _, why in reasons)
        suggestion = template + "".join("-" + _SUFFIX[name] for name, _ in reasons)
        yield self.at(
            ctx,
            _PATH,
            f"run_name `{template}` has no {missing}: {runs} would share one run name and output directory "
            f"(results overwritten, checkpoints resumed by the wrong run); write e.g. `run_name: \"{suggestion}\"`",
        )
