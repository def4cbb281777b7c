"""ENV003 lockfile-with-hashes: dependencies are locked in a file that pins hashes, and it exists.

The lockfile is read (never executed) to see whether it carries hashes. Only regular files are
opened, and reading stops at the first hash or after ``_MAX_BYTES``, so a pre-commit run stays fast.
"""

from __future__ import annotations

import os
import re

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

_PATH = ("environment", "lockfile")
#: `--hash=sha256:...` (pip-compile --generate-hashes, pip's hash-checking mode); `sha256:...` is how
#: poetry.lock, uv.lock, Pipfile.lock and conda-lock files record the hashes of what they pin.
_HASH = re.compile(rb"--hash=|sha256:")
_MAX_BYTES = 64 * 1024 * 1024
_GENERATE = "pip-compile --generate-hashes requirements.in -o requirements.lock"


def lockfile_location(ctx) -> str:
    """The lockfile's path on disk: relative to the spec file that writes it (a base spec for ``extends``)."""
    lockfile = ctx.spec.environment.lockfile
    span = ctx.value_span(_PATH)
    writer = span.file if span is not None and not span.file.startswith("<") else ctx.file
    return os.path.normpath(os.path.join(os.path.dirname(writer), lockfile))


def has_hashes(path: str) -> bool | None:
    """Whether the file at ``path`` records hashes; None when it is too large to tell."""
    read = 0
    with open(path, "rb") as handle:
        for line in handle:
            if _HASH.search(line):
                return True
            read += len(line)
            if read > _MAX_BYTES:
                return None
    return False


class LockfileWithHashes(SpecRule):
    code = "ENV003"
    name = "lockfile-with-hashes"
    severity = Severity.WARNING
    message = "dependencies are not locked with hashes"
    doc = RuleDoc(
        what="Flags a spec without `environment.lockfile`, a lockfile path that does not exist (relative to the "
        "spec file that writes it), and a lockfile that records no hashes (no `--hash=` line).",
        why="The domain document's environment locking: '`pip-compile` with `--generate-hashes` (preferred over "
        "bare `pip freeze`)'. A freeze pins version numbers, but the same version can be a different file "
        "(another wheel for the platform, a re-upload, a compromised mirror); hashes pin the exact files, and "
        "pip refuses anything else. A lockfile that is not where the spec says cannot be used at all.",
        example="environment:\n  python: '3.11'\n  torch: 2.3.1",
        instead="environment:\n  python: '3.11'\n  torch: 2.3.1\n  lockfile: requirements.lock  # " + _GENERATE,
        reference="Reproducibility > Environment Locking: '`pip-compile` with `--generate-hashes` (preferred over "
        "bare `pip freeze`)'",
        fix="none",
        notes=(
            "Lockfiles of other tools that record `sha256:` hashes (poetry.lock, uv.lock, Pipfile.lock, "
            "conda-lock) pass too.",
            "The file is only read, never executed; files over 64 MiB are not searched to the end.",
        ),
    )
    VALID = (
        # The examples have only the spec file on disk, so it stands in for a lockfile with hashes.
        BASE + "environment:\n  lockfile: spec.yaml  # stands in for: torch==2.3.1 --hash=sha256:0123\n",
    )
    INVALID = (
        Invalid(BASE + "environment:\n  python: '3.11'\n", line=9, col=1, message="pip-compile --generate-hashes"),
        Invalid(BASE + "environment:\n  lockfile: requirements.lock\n", line=10, col=13, message="does not exist"),
        # The spec stands in for a bare `pip freeze` output: a file that exists but has no hashes.
        Invalid(BASE + "environment:\n  lockfile: spec.yaml\n", line=10, col=13, message="no `--hash=`"),
    )

    def check(self, ctx):
        lockfile = ctx.spec.environment.lockfile
        if lockfile is None:
            yield self.at(
                ctx,
                _PATH,
                "environment.lockfile is not written: lock dependencies with hashes "
                f"(`{_GENERATE}`, preferred over bare `pip freeze`) and write `lockfile: requirements.lock`",
                key=True,
            )
            return
        location = lockfile_location(ctx)
        if not os.path.exists(location):
            yield self.at(
                ctx,
                _PATH,
                f"lockfile `{lockfile}` does not exist ({location}; paths are relative to the spec file): "
                f"generate it with `{_GENERATE}` or correct the path",
            )
            return
        if not os.path.isfile(location):
            yield self.at(
                ctx, _PATH, f"lockfile `{lockfile}` is not a regular file ({location}): name the lockfile itself"
            )
            return
        try:
            hashed = has_hashes(location)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            yield self.at(
                ctx, _PATH, f"lockfile `{lockfile}` cannot be read ({reason}): check the path and its permissions"
            )
            return
        if hashed is False:
            yield self.at(
                ctx,
                _PATH,
                f"lockfile `{lockfile}` has no `--hash=` lines: it pins versions, not the exact files; regenerate "
                f"it with `{_GENERATE}` (preferred over bare `pip freeze`)",
            )
