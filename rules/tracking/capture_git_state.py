"""TRK001 capture-git-state: every run records its git commit, dirty state and diff."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

_KEYS = {
    "git_commit": "the commit the code came from",
    "git_dirty": "whether the work tree had uncommitted changes",
    "git_diff": "the uncommitted changes themselves",
}


class CaptureGitState(SpecRule):
    code = "TRK001"
    name = "capture-git-state"
    severity = Severity.WARNING
    message = "Log git commit + dirty state + full diff for every experiment run"
    doc = RuleDoc(
        what="Flags each of `tracking.capture.git_commit`, `git_dirty` and `git_diff` that is false.",
        why="The domain document: 'Log git commit + dirty state + full diff for every experiment run'. The "
        "commit alone does not say what ran when the work tree had uncommitted edits, which is most of the "
        "time while experimenting; with the dirty flag and the diff, any run's code can be recreated exactly.",
        example="tracking:\n  capture:\n    git_diff: false",
        instead="tracking:\n  capture:\n    git_diff: true",
        reference="Reproducibility > Environment Locking: 'Log git commit + dirty state + full diff for every "
        "experiment run'; Preferred Stack: 'W&B / MLflow: experiment tracking (log git commit, code snapshot, "
        "full config)'",
        fix="safe",
    )
    VALID = (BASE, BASE + "tracking:\n  capture:\n    git_commit: true\n    git_dirty: true\n    git_diff: true\n")
    INVALID = (
        Invalid(
            BASE + "tracking:\n  capture:\n    git_diff: false\n",
            line=11,
            col=15,
            message="git_diff: true",
            fixed=BASE + "tracking:\n  capture:\n    git_diff: true\n",
        ),
        Invalid(
            BASE + "tracking:\n  capture: {git_commit: false, git_dirty: false}\n",
            line=10,
            col=43,
            message="git_dirty",
            fixed=BASE + "tracking:\n  capture: {git_commit: true, git_dirty: true}\n",
        ),
    )

    def check(self, ctx):
        capture = ctx.spec.tracking.capture
        for key, what in _KEYS.items():
            if getattr(capture, key) is False:
                path = ("tracking", "capture", key)
                yield self.at(
                    ctx,
                    path,
                    f"tracking.capture.{key} is false, so runs do not record {what}: Log git commit + dirty state + "
                    f"full diff for every experiment run; write `{key}: true`",
                    fix=self.replace_value(ctx, path, "true", f"capture {key}"),
                )
