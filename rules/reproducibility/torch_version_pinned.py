"""REP007 torch-version-pinned: the spec pins the exact PyTorch version."""

from __future__ import annotations

import re

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

_PATH = ("environment", "torch")
#: An exact release: 2.3.1, 2.3, 2.4.0+cu121, 2.5.0a0+git1234, 2.6.0.dev20241001.
_EXACT = re.compile(r"\d+\.\d+(\.\d+)?([a-z]+\d*|\.dev\d+|\.post\d+)*(\+[0-9A-Za-z.]+)?")


class TorchVersionPinned(SpecRule):
    code = "REP007"
    name = "torch-version-pinned"
    severity = Severity.WARNING
    message = "the PyTorch version is not pinned"
    doc = RuleDoc(
        what="Flags a spec that does not write `environment.torch`, or writes something that is not an exact "
        "version (`latest`, `2`, `>=2.0`).",
        why="The domain document warns: 'PyTorch weight init changed between versions -- same seed, different "
        "version = different weights'. Seeds reproduce a run only on the PyTorch version that produced it.",
        example="environment:\n  python: '3.11'",
        instead="environment:\n  python: '3.11'\n  torch: 2.3.1",
        reference="Gotchas > Reproducibility: 'PyTorch weight init changed between versions -- same seed, "
        "different version = different weights'",
        fix="none",
        notes=(
            "No fix: rigorml never imports torch while linting, and the right version is the one the results "
            "come from.",
        ),
    )
    VALID = (
        BASE + "environment:\n  torch: 2.3.1\n",
        BASE + "environment:\n  torch: 2.4.0+cu121\n",
    )
    INVALID = (
        Invalid(BASE + "environment:\n  python: '3.11'\n", line=9, col=1, message="torch: 2.3.1"),
        Invalid(BASE + "environment:\n  torch: '>=2.0'\n", line=10, col=10, message="exact version"),
        Invalid(BASE, line=1, col=1, message="environment.torch"),
    )

    def check(self, ctx):
        version = ctx.spec.environment.torch
        if version is None:
            yield self.at(
                ctx,
                _PATH,
                "environment.torch is not written: the same seed gives different weights on different PyTorch "
                "versions; pin the exact version the results come from, e.g. `torch: 2.3.1`",
                key=True,
            )
            return
        if _EXACT.fullmatch(version.strip()) is None:
            yield self.at(
                ctx,
                _PATH,
                f"environment.torch is {version!r}, not an exact version: the same seed gives different weights on "
                "different PyTorch versions; write the exact version, e.g. `torch: 2.3.1`",
            )
