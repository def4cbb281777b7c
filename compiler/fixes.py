"""Applying fixes: exact text edits on located ranges, so comments and formatting survive."""

from __future__ import annotations

from .diagnostics import TextEdit


def _line_starts(text: str) -> list[int]:
    """Offset of the start of each line (1-based line n starts at starts[n - 1])."""
    starts = [0]
    index = text.find("\n")
    while index != -1:
        starts.append(index + 1)
        index = text.find("\n", index + 1)
    return starts


def apply_fixes(text: str, fixes: list[tuple[TextEdit, ...]]) -> tuple[str, int]:
    """``text`` with each fix's edits applied, a fix whole or not at all.

    A fix whose edits overlap an earlier chosen fix is left for the next pass (the linter runs
    again on the result). Returns (new text, number of fixes applied).
    """
    starts = _line_starts(text)

    def offset(line: int, col: int) -> int:
        if line - 1 >= len(starts):
            return len(text)
        return min(starts[line - 1] + col - 1, len(text))

    taken: list[tuple[int, int]] = []
    chosen: list[tuple[int, int, str]] = []
    applied = 0
    for edits in fixes:
        ranges = [(offset(e.line, e.col), offset(e.end_line, e.end_col), e.text) for e in edits]
        if any(s < te and ts < e or (s == e == ts == te) for s, e, _ in ranges for ts, te in taken):
            continue
        taken.extend((s, e) for s, e, _ in ranges)
        chosen.extend(ranges)
        applied += 1
    for start, end, replacement in sorted(chosen, key=lambda r: (r[0], r[1]), reverse=True):
        text = text[:start] + replacement + text[end:]
    return text, applied
