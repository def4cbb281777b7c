"""ENV005 python-version-declared: the spec says which Python it runs on."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

_PATH = ("environment", "python")


class PythonVersionDeclared(SpecRule):
    code = "ENV005"
    name = "python-version-declared"
    severity = Severity.INFO
    message = "no Python version"
    doc = RuleDoc(
        what="Notes a spec that does not write `environment.python`.",
        why="Locking the environment ('pip-compile with --generate-hashes') resolves packages for one Python "
        "version: the same lockfile can pick other wheels, or fail, on another one, and Python's own hashing "
        "and library behaviour change between versions. The version belongs next to the lockfile and the "
        "PyTorch version it was resolved with.",
        example="environment:\n  torch: 2.3.1",
        instead="environment:\n  python: '3.11'\n  torch: 2.3.1",
        reference="Reproducibility > Environment Locking: 'pip-compile with --generate-hashes (preferred over "
        "bare pip freeze)'",
        fix="none",
    )
    VALID = (BASE + "environment:\n  python: '3.11'\n",)
    INVALID = (
        Invalid(BASE + "environment:\n  torch: 2.3.1\n", line=9, col=1, message="python: '3.11'"),
        Invalid(BASE, line=1, col=1, message="environment.python"),
    )

    def check(self, ctx):
        if ctx.spec.environment.python is None:
            yield self.at(
                ctx,
                _PATH,
                "environment.python is not written: lockfiles and wheels are resolved for one Python version; "
                "write the one the runs use, e.g. `python: '3.11'` (quoted, so YAML keeps it a string)",
                key=True,
            )
