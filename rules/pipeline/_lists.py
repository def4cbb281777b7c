"""Rewriting a written list (pipeline stages, registry stages, metadata) as one flow list, for fixes."""

from __future__ import annotations

from ...compiler.diagnostics import TextEdit

#: The domain's stage order: ingestion -> validation -> features -> training -> evaluation -> deployment.
#: (The same tuple as ``schemas.operations.STAGES``, which cannot be imported here: it builds pydantic models,
#: and lint rules stay light.)
STAGES = ("ingestion", "validation", "features", "training", "evaluation", "deployment")


def _offset(lines: list[str], line: int, col: int) -> int:
    return sum(len(text) for text in lines[: line - 1]) + col - 1


def list_edit(ctx, path: tuple, items: list[str]) -> TextEdit | None:
    """An edit replacing the list written at ``path`` with ``[a, b, ...]``; None when it cannot be done exactly.

    A flow list (``[a, b]``) is replaced in place. A block list (``- a`` lines) is replaced together with the
    line break after its key, giving ``key: [a, b]``, unless a comment sits there (then only the items are
    replaced). Lists with comments among their items, or reached through an alias, are left alone.
    """
    span = ctx.value_span(path)
    text = ctx.texts.get(span.file) if span is not None else None
    if text is None:
        return None
    lines = text.splitlines(keepends=True)
    start, end = _offset(lines, span.line, span.col), _offset(lines, span.end_line, span.end_col)
    written = text[start:end]
    if "#" in written or "*" in written or "&" in written:
        return None
    flow = "[" + ", ".join(items) + "]"
    if written.startswith("["):
        return TextEdit.replace(span, flow)
    if not written.startswith("-"):
        return None
    key = ctx.source_map.key_span(path)
    if key is not None and key.file == span.file:
        between = text[_offset(lines, key.end_line, key.end_col) : start]
        if between.strip() == ":":
            return TextEdit(span.file, key.end_line, key.end_col, span.end_line, span.end_col, ": " + flow)
    return TextEdit.replace(span, flow)


def in_stage_order(stages) -> list[str]:
    """``stages`` sorted into the domain's order."""
    return sorted(stages, key=STAGES.index)
