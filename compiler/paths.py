"""Dotted paths into plain spec data (``training.optimizer.lr``): get, set and delete.

Used by variant overrides, sweep parameters and command-line overrides, which all address a value
by the same dotted path. Integer segments index lists.
"""

from __future__ import annotations

from typing import Any

_MISSING = object()


def split_path(dotted: str) -> tuple:
    """``"a.b.0"`` -> ``("a", "b", 0)``."""
    # isascii: str.isdigit() is also true for "²" and other digits int() does not read.
    return tuple(int(s) if s.isascii() and s.isdigit() else s for s in dotted.split("."))


def get_path(data: Any, path: tuple, default: Any = _MISSING) -> Any:
    """The value at ``path``, or ``default`` (KeyError when no default is given)."""
    current = data
    for segment in path:
        if isinstance(current, dict) and segment in current:
            current = current[segment]
        elif isinstance(current, list) and isinstance(segment, int) and 0 <= segment < len(current):
            current = current[segment]
        else:
            if default is _MISSING:
                raise KeyError(path)
            return default
    return current


_ABSENT = object()  # not _MISSING: passing _MISSING as the default means "raise KeyError"


def has_path(data: Any, path: tuple) -> bool:
    """Whether ``data`` has a value at ``path`` (the root ``()`` always exists)."""
    return get_path(data, path, _ABSENT) is not _ABSENT if path else True


def set_path(data: dict, path: tuple, value: Any) -> None:
    """Set ``path`` to ``value`` in place, creating mappings on the way.

    Raises ValueError when a segment runs into a scalar, a list index is out of range, or an
    integer segment would index a list that is not there.
    """
    current: Any = data
    for depth, segment in enumerate(path[:-1]):
        if isinstance(current, dict):
            nxt = current.get(segment)
            if nxt is None:
                if isinstance(path[depth + 1], int):
                    # An index into a list the data does not have: creating ``{0: ...}`` would turn
                    # a list-valued key into a mapping with integer keys.
                    where = ".".join(map(str, path[: depth + 1]))
                    raise ValueError(f"cannot index `{where}`: it is not set (set the whole list instead)")
                nxt = current[segment] = {}
        elif isinstance(current, list) and isinstance(segment, int) and 0 <= segment < len(current):
            nxt = current[segment]
        else:
            raise ValueError(_cannot_enter(current, path[:depth], segment, "go into"))
        current = nxt
    last = path[-1]
    if isinstance(current, dict):
        current[last] = value
    elif isinstance(current, list) and isinstance(last, int) and 0 <= last < len(current):
        current[last] = value
    else:
        raise ValueError(_cannot_enter(current, path[:-1], last, "set"))


def _cannot_enter(container: Any, where: tuple, segment: Any, action: str) -> str:
    dotted = ".".join(map(str, where)) or "the spec"
    if isinstance(container, list) and isinstance(segment, int):
        return f"cannot {action} `{segment}`: `{dotted}` has {len(container)} item(s), numbered from 0"
    if isinstance(container, list):
        return f"cannot {action} `{segment}`: `{dotted}` is a list (address its items by number)"
    return f"cannot {action} `{segment}`: `{dotted}` is not a mapping"


def delete_path(data: dict, path: tuple) -> bool:
    """Remove the value at ``path``; returns False when it was not there."""
    parent = get_path(data, path[:-1], None) if len(path) > 1 else data
    last = path[-1]
    if isinstance(parent, dict) and last in parent:
        del parent[last]
        return True
    if isinstance(parent, list) and isinstance(last, int) and 0 <= last < len(parent):
        del parent[last]
        return True
    return False
