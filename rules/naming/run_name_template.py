"""NAM002 run-name-template: run names in a shared tracker project carry the experiment's name."""

from __future__ import annotations

import json
import string

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule


def placeholders(template: str) -> set[str]:
    """The ``{field}`` names a run-name template uses (the validator has already parsed it)."""
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


class RunNameTemplate(SpecRule):
    code = "NAM002"
    name = "run-name-template"
    severity = Severity.WARNING
    message = "run names in a shared project without {experiment}"
    doc = RuleDoc(
        what=(
            "Flags a `tracking.run_name` template without `{experiment}` when the tracker project is shared "
            "(`tracking.project` or `experiment.project` is set), i.e. when runs of other experiments land in "
            "the same project."
        ),
        why=(
            "A project collects many experiments. A template such as `{variant}-s{seed}` gives `baseline-s0` to "
            "the baseline of every one of them, so in the tracker's run list, charts and comparisons runs of "
            "different experiments cannot be told apart or are silently mixed. The domain's example names runs "
            "after what was run (`llama-3.1-8b-lora-r64`) inside a project (`llm-fine-tuning`) that holds many. "
            "(Collisions between trials, variants or seeds of one experiment are TRK003's concern.)"
        ),
        example='experiment:\n  project: vision\ntracking:\n  run_name: "{variant}-s{seed}"',
        instead='experiment:\n  project: vision\ntracking:\n  run_name: "{experiment}-{variant}-s{seed}"',
        reference="Experiment Tracking > W&B Run Configuration: `project=\"llm-fine-tuning\"`, "
        "`name=\"llama-3.1-8b-lora-r64\"`; Metric Naming Convention: 'Establish naming conventions before the first "
        "experiment'",
        fix="unsafe",
        notes=(
            "The fix prefixes the template with `{experiment}-`. Unsafe: it renames every future run, so they no "
            "longer sort or match with the runs already in the project.",
            "Without a shared project (the project defaults to the experiment's own name) the rule stays quiet.",
        ),
    )
    VALID = (
        BASE + 'tracking:\n  project: vision\n  run_name: "{experiment}-{variant}-s{seed}"\n',
        BASE + 'tracking:\n  run_name: "{variant}-s{seed}"\n',
    )
    INVALID = (
        Invalid(
            BASE + 'tracking:\n  project: vision\n  run_name: "{variant}-s{seed}"\n',
            line=11,
            col=13,
            message="{experiment}",
            fixed=BASE + 'tracking:\n  project: vision\n  run_name: "{experiment}-{variant}-s{seed}"\n',
        ),
    )

    def check(self, ctx):
        path = ("tracking", "run_name")
        template = ctx.get(path)
        if not isinstance(template, str) or "experiment" in placeholders(template):
            return
        project = ctx.spec.tracking.project or ctx.spec.experiment.project
        if project is None:
            return
        fixed = "{experiment}-" + template
        yield self.at(
            ctx,
            path,
            f"run-name template `{template}` leaves out `{{experiment}}`: in project `{project}`, which other "
            "experiments share, their runs get the same names",
            hint=f"`run_name: \"{fixed}\"`",
            fix=self.replace_value(
                ctx, path, json.dumps(fixed, ensure_ascii=False), "name runs after the experiment", safe=False
            ),
        )
