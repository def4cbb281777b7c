"""The progress display of `rigorml run`: a live bar on a terminal, the plain per-run lines elsewhere."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios

import pytest

from rigorml.compiler.progress import RunProgress


class Terminal(io.StringIO):
    """A stream that says it is a terminal, keeping what is written to it."""

    def isatty(self) -> bool:
        return True


def test_a_stream_that_is_not_a_terminal_gets_only_the_plain_lines():
    stream = io.StringIO()
    with RunProgress(2, stream) as progress:
        progress.started("baseline", 0)
        progress.started("wide", 0)
        progress.finished("baseline", 0, "finished (1.0 s)")
        progress.tick()
        progress.finished("wide", 0, "FAILED (2.0 s)")
    assert not progress.live
    assert stream.getvalue() == "[1/2] baseline seed 0: finished (1.0 s)\n[2/2] wide seed 0: FAILED (2.0 s)\n"


def test_a_terminal_gets_a_bar_of_runs_done_with_the_runs_in_training():
    pytest.importorskip("tqdm")
    stream = Terminal()
    progress = RunProgress(3, stream)
    assert progress.live
    progress.started("baseline", 0)
    progress.started("wide", 0)
    shown = stream.getvalue()
    assert "0/3" in shown and "running baseline/seed-0, wide/seed-0" in shown
    progress.finished("baseline", 0, "finished, test/accuracy 0.9000 (1.0 s)")
    shown = stream.getvalue()
    assert "[1/3] baseline seed 0: finished, test/accuracy 0.9000 (1.0 s)\n" in shown  # the log line stays
    last = shown.rsplit("\r", 1)[-1]  # the bar as drawn last
    assert "1/3" in last and "running wide/seed-0" in last and "baseline/seed-0" not in last
    assert re.search(r"\d\d:\d\d<", last)  # elapsed, then the estimate of the time left
    progress.close()


def test_runs_found_finished_move_the_bar_without_having_run():
    pytest.importorskip("tqdm")
    stream = Terminal()
    with RunProgress(2, stream) as progress:
        progress.finished("baseline", 0, "already finished")
    assert "[1/2] baseline seed 0: already finished" in stream.getvalue()
    assert "1/2" in stream.getvalue().rsplit("\r", 1)[-1]


SPEC = """\
version: 1
experiment: {name: progress-test, task: classification}
seeds: {replicates: 1}
data:
  source: builtin:iris
  loader: {batch_size: 16}
model:
  source: builtin:mlp
  params: {hidden_sizes: [8]}
training:
  epochs: 1
  optimizer: {name: adamw, lr: 0.01}
"""


def test_rigorml_run_on_a_terminal_draws_the_bar_and_keeps_the_lines(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("tqdm")
    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")
    primary, replica = pty.openpty()
    fcntl.ioctl(replica, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # 40 rows, 120 columns
    process = subprocess.Popen(
        [sys.executable, "-m", "rigorml.compiler", "run", "spec.yaml", "--run-dir", "out"],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=replica,
    )
    os.close(replica)
    shown = b""
    while True:  # read the terminal until the command closes it
        ready, _, _ = select.select([primary], [], [], 120)
        if not ready:
            break
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # EIO: every writer has closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(primary)
    assert process.wait(timeout=120) == 0, shown.decode(errors="replace")
    text = shown.decode(errors="replace")
    assert "runs:" in text and "1/1" in text  # the bar, finished
    assert "running base/seed-0" in text
    assert re.search(r"\[1/1\] base seed 0: finished", text)
