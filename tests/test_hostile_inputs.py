"""Hostile and broken files through the real CLI: a located error, exit 1 or 2, no traceback, no hang.

Each case runs `python -m rigorml.compiler validate FILE` in a subprocess with a timeout, so a hang
fails the test instead of blocking the suite. (Per the project's rule, tests do not assert
wall-clock times; `bench/` measures speed.)
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

MINIMAL = "version: 1\nexperiment:\n  name: demo\n  task: classification\ndata:\n  source: builtin:digits\nmodel:\n  source: builtin:mlp\n"


def _billion_laughs() -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        refs = ",".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


CASES = {
    # name: (bytes, expected exit code, expected code, expected line)
    "tab_indentation": (b"version: 1\nexperiment:\n\tname: x\n", 1, "YML001", 3),
    "unclosed_quote": (b'version: 1\nexperiment:\n  name: "demo\n  task: classification\n', 1, "YML001", 5),
    "duplicate_key": (MINIMAL.replace("model:", "data:\n  source: builtin:wine\nmodel:").encode(), 1, "YML002", 7),
    "python_tag": (b"version: 1\nexperiment: !!python/object/apply:os.system ['echo pwned']\n", 1, "YML003", 2),
    "custom_tag": (b"version: !env VERSION\n", 1, "YML003", 1),
    "billion_laughs": (_billion_laughs().encode(), 1, "YML005", None),
    "deep_flow_nesting": (b"a: " + b"[" * 20_000 + b"]" * 20_000 + b"\n", 1, "YML006", 1),
    # Block nesting grows quadratically in bytes; 2,500 levels stay under the 4 MiB limit.
    "deep_block_nesting": ("".join(" " * i + "a:\n" for i in range(2_500)).encode(), 1, "YML006", 101),
    "ten_megabytes": (b"# " + b"x" * (10 * 1024 * 1024) + b"\n", 2, "YML010", 1),
    "two_megabyte_line": (MINIMAL.encode() + b"description: " + b"y" * (2 * 1024 * 1024) + b"\n", 1, "SPC001", 9),
    "binary": (bytes(range(256)) * 64, 2, "YML012", 1),
    "utf16": (("\ufeff" + MINIMAL).encode("utf-16-le"), 2, "YML011", 1),
    "nul_byte_after_8k": (MINIMAL.encode() + b"# " + b"c" * 9000 + b"\n" + b"x: \x00\n", 1, "YML001", 10),
    "empty": (b"", 1, "YML007", 1),
    "only_comments": (b"# nothing here\n# at all\n", 1, "YML007", 1),
    "scalar_document": (b"just a string\n", 1, "YML008", 1),
    "list_document": (b"- version: 1\n- experiment: {}\n", 1, "YML008", 1),
    "two_documents": (MINIMAL.encode() + b"---\nversion: 1\n", 1, "YML009", 9),
    "invalid_utf8": (MINIMAL.encode() + b"description: caf\xe9\n", 2, "YML011", 9),
}


def _run(path, *args):
    return subprocess.run(
        [sys.executable, "-m", "rigorml.compiler", "validate", *args, str(path)],
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_input_gives_a_located_error_and_no_traceback(tmp_path, name):
    content, exit_code, code, line = CASES[name]
    path = tmp_path / "spec.yaml"
    path.write_bytes(content)
    done = _run(path)
    assert done.returncode == exit_code, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    first = done.stdout.splitlines()[0]
    match = re.match(rf"^{re.escape(str(path))}:(\d+):(\d+): ({code}) ", first)
    assert match, first[:300]
    if line is not None:
        assert int(match[1]) == line, first[:300]


def test_crlf_file_is_valid_and_reports_the_same_lines_as_lf(tmp_path):
    lf, crlf = tmp_path / "lf.yaml", tmp_path / "crlf.yaml"
    broken = MINIMAL.replace("task: classification", "task: clasification")
    lf.write_bytes(broken.encode())
    crlf.write_bytes(broken.replace("\n", "\r\n").encode())
    out_lf, out_crlf = _run(lf, "--format", "json"), _run(crlf, "--format", "json")
    assert out_lf.returncode == out_crlf.returncode == 1
    location = lambda out: json.loads(out.stdout)["files"][0]["diagnostics"][0]["location"]  # noqa: E731
    assert location(out_lf)["line"] == location(out_crlf)["line"] == 4
    assert location(out_lf)["col"] == location(out_crlf)["col"] == 9


def test_missing_file_and_directory_exit_2(tmp_path):
    for target in (tmp_path / "nope.yaml", tmp_path):
        done = _run(target)
        assert done.returncode == 2, done.stdout + done.stderr
        assert "YML013" in done.stdout and "Traceback" not in done.stderr


def test_max_bytes_limit_is_configurable(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    assert _run(path, "--max-bytes", "50").returncode == 2
    assert _run(path, "--max-bytes", "5000").returncode == 0
