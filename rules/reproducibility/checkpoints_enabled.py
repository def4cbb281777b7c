"""REP003 checkpoints-enabled: runs write checkpoints and can resume from them."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

#: Longer runs than this should resume after a crash rather than start again.
_RESUME_EPOCHS = 10


class CheckpointsEnabled(SpecRule):
    code = "REP003"
    name = "checkpoints-enabled"
    severity = Severity.WARNING
    message = "no checkpoints: a crash loses the run"
    doc = RuleDoc(
        what="Flags a checkpoint policy that writes no checkpoints (`every_epochs` and `every_steps` both "
        f"null), and `resume: never` on a run of more than {_RESUME_EPOCHS} epochs.",
        why="A checkpoint holds the full training state (model, optimizer, scheduler, epoch and RNG states), "
        "and the domain document warns that 'Saving model weights without optimizer/scheduler/RNG state makes "
        "resume non-deterministic'. With no checkpoints at all a crash loses the run and resuming is "
        "impossible; with `resume: never` a long run that crashed starts again from scratch instead of "
        "continuing exactly where it stopped.",
        example="training:\n  epochs: 50\n  checkpoint:\n    every_epochs: null\n    resume: never",
        instead="training:\n  epochs: 50\n  checkpoint:\n    every_epochs: 1\n    resume: auto",
        reference="Reproducibility > Checkpoint State (model, optimizer, scheduler, epoch, rng_states); "
        "Gotchas > Reproducibility: 'Saving model weights without optimizer/scheduler/RNG state makes resume "
        "non-deterministic'",
        fix="none",
        notes=(
            "No fix: how often to checkpoint trades disk and time against lost work, and `resume: auto` picks up "
            "whatever checkpoint is in the run directory, so both are the author's choice.",
        ),
    )
    VALID = (
        BASE,
        BASE + "training:\n  checkpoint:\n    every_epochs: null\n    every_steps: 500\n",
        BASE + "training:\n  epochs: 10\n  checkpoint:\n    resume: never\n",
    )
    INVALID = (
        Invalid(
            BASE + "training:\n  checkpoint:\n    every_epochs: null\n",
            line=11,
            col=19,
            message="every_epochs: 1",
        ),
        Invalid(
            BASE + "training:\n  epochs: 50\n  checkpoint:\n    resume: never\n",
            line=12,
            col=13,
            message="resume: auto",
        ),
    )

    def check(self, ctx):
        training = ctx.spec.training
        checkpoint = training.checkpoint
        if checkpoint.every_epochs is None and checkpoint.every_steps is None:
            yield self.at(
                ctx,
                ("training", "checkpoint", "every_epochs"),
                "training.checkpoint writes no checkpoints (every_epochs and every_steps are both null): a crash "
                "loses the run and it cannot resume; write `every_epochs: 1` (and `every_steps: N` for long epochs)",
            )
        elif checkpoint.resume == "never" and training.epochs is not None and training.epochs > _RESUME_EPOCHS:
            yield self.at(
                ctx,
                ("training", "checkpoint", "resume"),
                f"resume: never on a {training.epochs}-epoch run: after a crash it starts again from scratch; "
                "write `resume: auto` to continue from the last full-state checkpoint",
            )
