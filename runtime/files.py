"""Writing a file all at once: what every writer in rigorml uses (specs fixed in place, generated
projects, run records, checkpoints' neighbours).

Only the standard library is imported here: ``rigorml lint --fix`` uses it on the pre-commit path.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomic(path: str | os.PathLike, data: bytes | str) -> None:
    """Replace ``path`` with ``data`` (text is written as UTF-8, newlines untouched) all at once: a
    temporary file in the same directory, fsync, rename, fsync of the directory. A reader, or a
    crash, sees the old file or the new one, never half of one.

    A file that existed keeps its permission bits; a new one gets the umask's (``0o666 & ~umask``),
    not the private ``0o600`` of the temporary file. Raises OSError when the directory cannot be
    written; the temporary file is removed then.
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, _mode_for(path))
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    fsync_directory(path.parent)


def fsync_directory(directory: str | os.PathLike) -> None:
    """Make a rename or a new file in ``directory`` durable (a no-op where the platform or the
    file system does not support it)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _mode_for(path: Path) -> int:
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)  # reading the umask means setting it: put it straight back
        os.umask(umask)
        return 0o666 & ~umask
