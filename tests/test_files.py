"""runtime/files.py: the one atomic writer every part of rigorml uses."""

from __future__ import annotations

import os
import stat

import pytest

from rigorml.runtime.files import write_atomic


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_file_gets_the_umasks_mode_not_the_temporary_files_private_one(tmp_path):
    previous = os.umask(0o022)
    try:
        write_atomic(tmp_path / "result.json", b"{}\n")
    finally:
        os.umask(previous)
    assert mode(tmp_path / "result.json") == 0o644
    assert (tmp_path / "result.json").read_bytes() == b"{}\n"


def test_a_rewritten_file_keeps_its_own_mode(tmp_path):
    path = tmp_path / "train.sh"
    path.write_text("old\n")
    os.chmod(path, 0o750)
    write_atomic(path, "new\n")
    assert mode(path) == 0o750 and path.read_text() == "new\n"


def test_text_is_written_as_utf8_with_its_newlines_untouched(tmp_path):
    write_atomic(tmp_path / "spec.yaml", "name: café\r\nseeds: 5\r\n")
    assert (tmp_path / "spec.yaml").read_bytes() == "name: café\r\nseeds: 5\r\n".encode()


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    path = tmp_path / "run.json"
    path.write_text("old\n")
    with pytest.raises(TypeError):
        write_atomic(path, 42)  # not bytes or text: fails after the temporary file exists
    assert path.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]
