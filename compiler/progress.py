"""What ``rigorml run`` shows while it trains: a live progress bar on a terminal, plain lines elsewhere.

On a terminal (the stream is a TTY and tqdm is installed) one bar counts the finished runs with the
elapsed time and an estimate of the time left, and names the arm/seed pairs training now; each
finished run still gets its line above the bar, so the scrollback keeps the whole log. Anywhere
else (a CI log, a file) only those lines are written, exactly as without a bar.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

#: Seconds between redraws while nothing finishes, so that the elapsed time keeps moving.
REFRESH_S = 1.0


class RunProgress:
    """The progress of ``total`` runs, written to ``stream`` (standard error by default).

    ``live``: draw the bar (default: when ``stream`` is a TTY). Use it as a context manager, or
    call :meth:`close`, so that the bar is finished off before anything else is printed.
    """

    def __init__(self, total: int, stream: TextIO | None = None, *, live: bool | None = None):
        self.stream = stream if stream is not None else sys.stderr
        self.total = total
        self.done = 0
        self._running: list[str] = []
        self._bar = None
        self._drawn = time.monotonic()
        if live if live is not None else _is_tty(self.stream):
            try:
                from tqdm import tqdm
            except ImportError:  # the `run` extra brings tqdm; without it, plain lines
                return
            self._bar = tqdm(total=total, desc="runs", unit="run", file=self.stream, dynamic_ncols=True, leave=True)

    @property
    def live(self) -> bool:
        """Whether a bar is drawn."""
        return self._bar is not None

    def started(self, arm: str, seed: int) -> None:
        """The run of ``arm`` at replicate seed ``seed`` is training now."""
        self._running.append(_label(arm, seed))
        self._show_running()

    def finished(self, arm: str, seed: int, outcome: str) -> None:
        """The run ended (trained, failed, or found already finished): one line ``[done/total] arm
        seed S: outcome``, and the bar moves on."""
        label = _label(arm, seed)
        if label in self._running:
            self._running.remove(label)
        self.done += 1
        self.write(f"[{self.done}/{self.total}] {arm} seed {seed}: {outcome}")
        if self._bar is not None:
            self._show_running(refresh=False)
            self._bar.update(1)
            self._bar.refresh()  # update() alone skips the redraw within tqdm's minimum interval
            self._drawn = time.monotonic()

    def write(self, line: str) -> None:
        """A line of the log (above the bar when there is one)."""
        if self._bar is not None:
            self._bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)

    def tick(self) -> None:
        """Redraw the bar now and then while runs train (the elapsed time and the estimate move)."""
        if self._bar is not None and time.monotonic() - self._drawn >= REFRESH_S:
            self._bar.refresh()
            self._drawn = time.monotonic()

    def close(self) -> None:
        """Finish the bar (it stays on the screen); later lines print below it."""
        if self._bar is not None:
            self._bar.set_postfix_str("", refresh=False)
            self._bar.close()
            self._bar = None

    def __enter__(self) -> RunProgress:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()

    def _show_running(self, refresh: bool = True) -> None:
        if self._bar is not None:
            text = f"running {', '.join(self._running)}" if self._running else ""
            self._bar.set_postfix_str(text, refresh=refresh)
            if refresh:
                self._drawn = time.monotonic()


def _label(arm: str, seed: int) -> str:
    return f"{arm}/seed-{seed}"


def _is_tty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # a closed or unusual stream: no bar
        return False
