"""Loading a spec file: bytes on disk -> plain Python data, with the location of every value.

This is the first pass of ``rigorml validate``. It turns a file into a :class:`SourceDocument`
(plain ``dict`` / ``list`` / scalar data, plus a :class:`SourceMap` from paths inside the data to
``file:line:col``) or into diagnostics, and never raises for bad input.

Why not ``yaml.safe_load``: spec files come from anywhere (pull requests, copied examples), and the
loader runs on every pre-commit. PyYAML's composer recurses once per nesting level (a
20,000-deep ``[[[[`` overflows the stack), expands aliases without bound (billion laughs), and
forgets where each value came from. So we drive PyYAML's event parser ourselves, build the data in
one pass with an explicit stack, and count every node, alias expansions included.

What the loader accepts is plain YAML data, read the way ``yaml.safe_load`` reads it (YAML 1.1
scalars: ``yes``/``on`` are booleans, ``017`` is octal...), with these deliberate differences:

* implicit timestamps (``2024-01-01``) stay strings: a spec never wants ``datetime`` objects;
* ``1e-3`` is a float, as in YAML 1.2 (YAML 1.1 needs ``1.0e-3``; ``lr: 1e-3`` must be a number);
* a plain ``=`` is the string ``"="``, and so is a plain ``<<`` anywhere but in key position
  (PyYAML fails on both); a plain value that matches an implicit int/float pattern but cannot be
  built (``0b_``) stays a string (PyYAML raises ``ValueError``);
* duplicate keys are errors (PyYAML keeps the last one silently);
* recursive aliases (``&a [*a]``) are errors (PyYAML builds a cyclic list);
* tags other than the standard plain-data ones are errors (``yaml.safe_load`` accepts ``!!set``,
  ``!!binary``, ``!!timestamp``...).

Codes (all errors; ``fatal`` where rigorml cannot even read the file as text):

* ``YML001`` YAML syntax error, undefined alias, duplicate anchor, a character YAML forbids;
* ``YML002`` duplicate mapping key;
* ``YML003`` a tag that is not plain data, or a value its explicit tag cannot build (``!!int abc``);
* ``YML004`` a collection used as a mapping key, or a merge (``<<``) value that is not a mapping;
* ``YML005`` too many values (alias expansion: billion laughs), or a recursive alias;
* ``YML006`` nesting deeper than ``LoadLimits.max_depth``;
* ``YML007`` the file holds no document;
* ``YML008`` the document is not a mapping;
* ``YML009`` more than one document;
* ``YML010`` (fatal) the file is over ``LoadLimits.max_bytes``;
* ``YML011`` (fatal) the file is not UTF-8;
* ``YML012`` (fatal) the file is binary;
* ``YML013`` (fatal) the file cannot be read.
"""

from __future__ import annotations

import os
import re
import stat
from typing import Any, NamedTuple

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import ScalarNode
from yaml.reader import Reader

from .diagnostics import Diagnostic, Span

__all__ = [
    "dump_yaml",
    "LoadLimits",
    "SourceMap",
    "SourceDocument",
    "decode_source",
    "parse_yaml",
    "load_yaml_file",
]


class LoadLimits(NamedTuple):
    """Bounds that keep a hostile or broken spec from exhausting time, memory or the stack."""

    max_bytes: int = 4 * 1024 * 1024
    max_depth: int = 100
    max_nodes: int = 250_000


class SourceMap:
    """Where each value of a document came from.

    A path is a tuple of mapping keys and list indices; ``()`` is the document root.
    ``values[path]`` is the span of the value at ``path``; ``keys[path]`` is the span of the mapping
    key that holds it (absent for list items and the root). Values reached through an alias or a
    merge key carry the spans of the anchored source they were copied from. ``file`` only names the
    fallback location when the map is empty.
    """

    __slots__ = ("values", "keys", "file")

    def __init__(
        self,
        values: dict[tuple, Span] | None = None,
        keys: dict[tuple, Span] | None = None,
        file: str = "<unknown>",
    ):
        self.values: dict[tuple, Span] = {} if values is None else values
        self.keys: dict[tuple, Span] = {} if keys is None else keys
        self.file = file

    def __repr__(self) -> str:
        return f"SourceMap({len(self.values)} values, {len(self.keys)} keys, file={self.file!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SourceMap):
            return NotImplemented
        return self.values == other.values and self.keys == other.keys

    def value_span(self, path) -> Span | None:
        """The span of the value at ``path``, or ``None`` when the document has no such value."""
        return self.values.get(tuple(path))

    def key_span(self, path) -> Span | None:
        """The span of the key holding the value at ``path``; ``None`` for list items, the root, or
        a path not in the document."""
        return self.keys.get(tuple(path))

    def locate(self, path, *, prefer_key: bool = False) -> Span:
        """The best span for a problem at ``path``, which need not exist (e.g. a missing key).

        Walks up from ``path`` to the longest prefix present in the document and returns its
        value span, or its key span when ``prefer_key`` and it has one. Falls back to the root's
        span, then to ``file:1:1``.
        """
        path = tuple(path)
        for end in range(len(path), -1, -1):
            prefix = path[:end]
            if prefer_key:
                span = self.keys.get(prefix)
                if span is not None:
                    return span
            span = self.values.get(prefix)
            if span is not None:
                return span
            if not prefer_key:
                # A key without a value entry only happens in hand-built maps; still use it.
                span = self.keys.get(prefix)
                if span is not None:
                    return span
        return Span.point(self.file)

    def with_prefix(self, prefix: tuple) -> "SourceMap":
        """A new map in which every path ``p`` becomes ``prefix + p`` (for grafting a document under
        a key, e.g. an override or an ``extends`` base)."""
        prefix = tuple(prefix)
        return SourceMap(
            {prefix + p: s for p, s in self.values.items()},
            {prefix + p: s for p, s in self.keys.items()},
            self.file,
        )

    def update(self, other: "SourceMap") -> None:
        """Add ``other``'s entries to this map; where both have a path, ``other`` wins."""
        self.values.update(other.values)
        self.keys.update(other.keys)

    def drop(self, path: tuple) -> None:
        """Remove ``path`` and every path under it (when a value is replaced wholesale)."""
        path = tuple(path)
        n = len(path)
        for table in (self.values, self.keys):
            for p in [p for p in table if p[:n] == path]:
                del table[p]

    def copy(self) -> "SourceMap":
        """An independent copy (spans are immutable and shared)."""
        return SourceMap(dict(self.values), dict(self.keys), self.file)


class SourceDocument:
    """One loaded spec file: its decoded text, its data and where each value came from."""

    __slots__ = ("file", "text", "data", "source_map")

    def __init__(self, file: str, text: str, data: Any, source_map: SourceMap):
        self.file = file
        self.text = text
        self.data = data
        self.source_map = source_map

    def __repr__(self) -> str:
        return f"SourceDocument(file={self.file!r}, data={self.data!r})"


# ---------------------------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------------------------

_BINARY_SNIFF_BYTES = 8192

# Longest first: the UTF-32 LE mark starts with the UTF-16 LE one.
_FOREIGN_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)
_UTF8_BOM = b"\xef\xbb\xbf"
_MAX_BYTES_HINT = (
    "a spec is a small text file; if this one really is this large, --max-bytes raises the limit"
)


def _fatal(code: str, message: str, file: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(code, message, Span.point(file), hint=hint, fatal=True)


def _too_large(size: int, limits: LoadLimits, file: str) -> Diagnostic:
    return _fatal(
        "YML010",
        f"the file is {size} bytes, over the limit of {limits.max_bytes} bytes",
        file,
        hint=_MAX_BYTES_HINT,
    )


def _normalize_newlines(text: str) -> str:
    # YAML reads CRLF and a lone CR as one line break each; folding both to LF before parsing makes
    # PyYAML's marks, the stored text and every editor agree on line numbers.
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _looks_like_bomless_utf16(sample: bytes) -> bool:
    # ASCII text saved as UTF-16 without a byte order mark: every other byte is NUL.
    if len(sample) < 4:
        return False
    even, odd = sample[0::2], sample[1::2]
    return (odd.count(0) == len(odd) and 0 not in even) or (
        even.count(0) == len(even) and 0 not in odd
    )


def decode_source(
    raw: bytes, file: str, limits: LoadLimits = LoadLimits()
) -> tuple[str | None, list[Diagnostic]]:
    """Turn the bytes of a spec file into text.

    Accepts UTF-8 with or without a byte order mark (the mark is dropped) and CRLF / CR / LF line
    endings (folded to LF). Returns ``(text, [])``, or ``(None, [diagnostic])`` with a fatal
    ``YML010`` (over ``limits.max_bytes``), ``YML011`` (UTF-16/UTF-32, or invalid UTF-8, located at
    the first bad byte) or ``YML012`` (a NUL byte in the first 8 KiB: a binary file).
    """
    if len(raw) > limits.max_bytes:
        return None, [_too_large(len(raw), limits, file)]
    for bom, encoding in _FOREIGN_BOMS:
        if raw.startswith(bom):
            return None, [
                _fatal(
                    "YML011",
                    f"spec files must be UTF-8; this file is {encoding} (byte order mark)",
                    file,
                    hint="re-save it as UTF-8 in your editor",
                )
            ]
    if raw.startswith(_UTF8_BOM):
        raw = raw[len(_UTF8_BOM) :]
    sample = raw[:_BINARY_SNIFF_BYTES]
    if b"\x00" in sample:
        if _looks_like_bomless_utf16(sample):
            return None, [
                _fatal(
                    "YML011",
                    "spec files must be UTF-8; "
                    "this file looks like UTF-16 without a byte order mark",
                    file,
                    hint="re-save it as UTF-8 in your editor",
                )
            ]
        return None, [_fatal("YML012", "binary file, not YAML text (it contains NUL bytes)", file)]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Everything before the first bad byte is valid UTF-8, so it can be decoded to count
        # lines and columns in characters, as an editor shows them.
        before = _normalize_newlines(raw[: exc.start].decode("utf-8"))
        line = before.count("\n") + 1
        col = len(before) - (before.rfind("\n") + 1) + 1
        bad = raw[exc.start]
        return None, [
            Diagnostic(
                "YML011",
                f"spec files must be UTF-8; byte 0x{bad:02x} at line {line}, column {col} "
                f"is not valid UTF-8 ({exc.reason})",
                Span(file, line, col, line, col + 1),
                hint="re-save the file as UTF-8 in your editor",
                fatal=True,
            )
        ]
    return _normalize_newlines(text), []


# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------

# libyaml's parser when PyYAML was built with it (several times faster); the pure Python one
# otherwise. Both are event parsers that keep their own state stack, so neither recurses per level.
_LOADER_CLASS = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader

_TAG_PREFIX = "tag:yaml.org,2002:"
_STR = _TAG_PREFIX + "str"
_INT = _TAG_PREFIX + "int"
_FLOAT = _TAG_PREFIX + "float"
_BOOL = _TAG_PREFIX + "bool"
_NULL = _TAG_PREFIX + "null"
_MAP = _TAG_PREFIX + "map"
_SEQ = _TAG_PREFIX + "seq"
_MERGE = _TAG_PREFIX + "merge"
_TIMESTAMP = _TAG_PREFIX + "timestamp"  # never built: implicit ones stay strings

_IMPLICIT_RESOLVERS = yaml.SafeLoader.yaml_implicit_resolvers
_WILDCARD_RESOLVERS = _IMPLICIT_RESOLVERS.get(None, [])
_BOOL_VALUES = SafeConstructor.bool_values
_CONSTRUCTOR = SafeConstructor()
_BUILDERS = {
    _INT: _CONSTRUCTOR.construct_yaml_int,
    _FLOAT: _CONSTRUCTOR.construct_yaml_float,
    _BOOL: _CONSTRUCTOR.construct_yaml_bool,
}
# What building a scalar from its text can raise: int('abc'), bool_values['maybe'],
# '-'[0] on an empty !!int, int() of more than 4300 digits.
_BUILD_ERRORS = (ValueError, KeyError, IndexError, yaml.YAMLError)

_NON_PRINTABLE = Reader.NON_PRINTABLE
_TOO_DEEP_HINT = "a spec is shallow; this looks like a broken or generated file"


def _resolve_plain(value: str) -> str:
    """The implicit tag of a plain scalar, exactly as PyYAML's safe resolver decides it."""
    resolvers = _IMPLICIT_RESOLVERS.get(value[0] if value else "")
    if resolvers:
        for tag, regexp in resolvers:
            if regexp.match(value):
                return tag
    for tag, regexp in _WILDCARD_RESOLVERS:
        if regexp.match(value):
            return tag
    if value and value[0] in _EXPONENT_START and re.match(_EXPONENT_FLOAT, value):
        return _FLOAT
    return _STR


# YAML 1.1 (PyYAML) needs a dot in a float, so `lr: 1e-3` would be the *string* "1e-3"; every ML
# config writes learning rates that way, and YAML 1.2 reads it as a float. So do we.
_EXPONENT_FLOAT = r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"
_EXPONENT_START = frozenset("+-0123456789")


def _show_tag(tag: str) -> str:
    return "!!" + tag[len(_TAG_PREFIX) :] if tag.startswith(_TAG_PREFIX) else tag


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def _copy_tree(value: Any) -> Any:
    """A deep copy of plain dict/list data; iterative, as the depth limit is the user's choice."""
    kind = type(value)
    if kind is not dict and kind is not list:
        return value
    root = {} if kind is dict else []
    pending = [(value, root)]
    while pending:
        original, target = pending.pop()
        if type(original) is dict:
            for key, item in original.items():
                item_kind = type(item)
                if item_kind is dict or item_kind is list:
                    child = {} if item_kind is dict else []
                    pending.append((item, child))
                    item = child
                target[key] = item
        else:
            for item in original:
                item_kind = type(item)
                if item_kind is dict or item_kind is list:
                    child = {} if item_kind is dict else []
                    pending.append((item, child))
                    item = child
                target.append(item)
    return root


class _Abort(Exception):
    """Stops the build: the rest of the document cannot be read safely or meaningfully."""

    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


# Mapping frame states for the next node: a key, a value under the pending key, the value of a
# merge key, or a value to throw away (its key was already reported).
_EXPECT_KEY = object()
_EXPECT_MERGE = object()
_DISCARD = object()


class _Frame:
    """An open collection: the data built so far and where its children are recorded.

    ``path`` and ``log`` are ``None`` inside a mapping key (reported as an error; nothing recorded).
    ``log`` is the list that receives ``(path, is_key, span)`` entries: the document's log, or a
    scratch log for a merge value, whose entries are copied only for keys the mapping does not set.
    """

    __slots__ = (
        "is_map", "data", "path", "log", "log_start", "start_mark", "anchor", "flow",
        "last_end", "height", "pending", "key_spans", "merge_sources", "merge_log", "node_start",
    )

    def __init__(self, is_map, path, log, start_mark, anchor, flow, node_start):
        self.is_map = is_map
        self.data = {} if is_map else []
        self.path = path
        self.log = log
        self.log_start = len(log) if log is not None else 0
        self.start_mark = start_mark
        self.anchor = anchor
        self.flow = flow
        self.last_end = start_mark
        self.height = 1
        self.pending = _EXPECT_KEY
        self.key_spans: dict | None = {} if is_map else None
        self.merge_sources: list | None = None
        self.merge_log: list | None = None
        self.node_start = node_start


class _Anchor:
    """A defined anchor: the value to copy for each alias, and its log entries to re-root."""

    __slots__ = ("value", "path", "log", "start", "end", "nodes", "height", "span")

    def __init__(self, value, path, log, start, end, nodes, height, span):
        self.value = value
        self.path = path
        self.log = log
        self.start = start
        self.end = end
        self.nodes = nodes
        self.height = height
        self.span = span


class _DocumentBuilder:
    """Consumes one document's node events and builds its data and location log."""

    def __init__(self, get_event, file: str, limits: LoadLimits):
        self.get_event = get_event
        self.file = file
        self.limits = limits
        self.log: list = []
        self.anchors: dict[str, _Anchor] = {}
        self.open_anchors: dict[str, Any] = {}
        self.nodes = 0
        self.diagnostics: list[Diagnostic] = []
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.root_span: Span | None = None
        self.root_is_empty = False

    # -- locations -----------------------------------------------------------------------------

    def span(self, start, end) -> Span:
        line, col = start.line + 1, start.column + 1
        end_line, end_col = end.line + 1, end.column + 1
        if (end_line, end_col) <= (line, col):
            end_line, end_col = line, col + 1
        return Span(self.file, line, col, end_line, end_col)

    def error(self, code: str, message: str, span: Span, path=None, hint: str | None = None):
        self.diagnostics.append(Diagnostic(code, message, span, hint=hint, path=path or ()))

    def abort(self, code: str, message: str, span: Span, path=None, hint: str | None = None):
        return _Abort(Diagnostic(code, message, span, hint=hint, path=path or ()))

    # -- the event loop ------------------------------------------------------------------------

    def build(self) -> None:
        """Read events up to the end of the document's root node."""
        get_event = self.get_event
        stack = self.stack
        while True:
            event = get_event()
            cls = event.__class__
            if cls is ScalarEvent:
                self.on_scalar(event)
            elif cls is MappingEndEvent or cls is SequenceEndEvent:
                self.on_collection_end(event)
            elif cls is MappingStartEvent or cls is SequenceStartEvent:
                self.on_collection_start(event, cls is MappingStartEvent)
                continue
            elif cls is AliasEvent:
                self.on_alias(event)
            else:  # pragma: no cover - the parser only emits node events inside a document
                raise AssertionError(f"unexpected YAML event {event!r}")
            if not stack:
                return

    def slot(self):
        """``(path, log)`` for the next node: its path in the data and the log for its spans.

        Both are ``None`` where nothing is recorded: inside a mapping key, or a value whose key was
        already reported. A merge value gets a fresh scratch log, rooted at ``()``.
        """
        if not self.stack:
            return (), self.log
        top = self.stack[-1]
        if top.path is None:
            return None, None
        if not top.is_map:
            return top.path + (len(top.data),), top.log
        pending = top.pending
        if pending is _EXPECT_KEY or pending is _DISCARD:
            return None, None
        if pending is _EXPECT_MERGE:
            top.merge_log = []
            return (), top.merge_log
        return top.path + (pending,), top.log

    def count_node(self, count: int, mark) -> None:
        self.nodes += count
        if self.nodes > self.limits.max_nodes:
            raise self.abort(
                "YML005",
                f"the document has more than {self.limits.max_nodes} values",
                self.span(mark, mark),
                hint="a spec is small; raise LoadLimits.max_nodes only for a trusted file",
            )

    # -- scalars -------------------------------------------------------------------------------

    def scalar_value(self, event) -> tuple[Any, bool]:
        """The Python value of a scalar event, and whether it is a plain ``<<`` merge key."""
        value = event.value
        tag = event.tag
        if tag is None or tag == "!":
            if not event.implicit[0]:
                return value, False  # quoted or block scalar
            tag = _resolve_plain(value)
            if tag is _STR or tag == _STR:
                return value, False
            if tag == _NULL:
                return None, False
            if tag == _BOOL:
                return _BOOL_VALUES[value.lower()], False
            if tag == _MERGE:
                return value, True
            builder = _BUILDERS.get(tag)
            if builder is None:
                # _TIMESTAMP, and PyYAML's tag for a plain '=': the text is what a spec means.
                return value, False
            try:
                return builder(ScalarNode(tag, value, event.start_mark, event.end_mark)), False
            except _BUILD_ERRORS:
                return value, False  # matched the int/float pattern loosely, e.g. 0b_
        if tag == _STR:
            return value, False
        if tag == _NULL:
            return None, False
        builder = _BUILDERS.get(tag)
        if builder is None:
            raise _UnsupportedTag(tag)
        try:
            return builder(ScalarNode(tag, value, event.start_mark, event.end_mark)), False
        except _BUILD_ERRORS:
            raise _BadTaggedValue(tag, value) from None

    def on_scalar(self, event) -> None:
        self.count_node(1, event.start_mark)
        is_root = not self.stack
        path, log = self.slot()
        span = self.span(event.start_mark, event.end_mark)
        try:
            value, is_merge = self.scalar_value(event)
        except _UnsupportedTag as exc:
            self.report_tag(exc.tag, span, path)
            value, is_merge = event.value, False
        except _BadTaggedValue as exc:
            self.error(
                "YML003",
                f"{event.value!r} is not a valid {_show_tag(exc.tag)} value",
                span,
                path,
                hint="remove the tag or fix the value",
            )
            value, is_merge = event.value, False
        if is_root and event.implicit[0] and event.value == "" and event.tag is None:
            self.root_is_empty = True  # '---' with nothing under it
        if log is not None:
            start = len(log)
            log.append((path, False, span))
        else:
            start = 0
        if event.anchor is not None:
            self.check_new_anchor(event.anchor, event.start_mark)
            self.define_anchor(event.anchor, value, path, log, start, 1, 0, span)
        self.attach(value, span, event.end_mark, 0, is_merge=is_merge)

    def report_tag(self, tag: str, span: Span, path) -> None:
        self.error(
            "YML003",
            f"tag {_show_tag(tag)} is not allowed: spec files allow only plain YAML data "
            "(mappings, lists, strings, numbers, booleans, null), no Python or custom tags",
            span,
            path,
            hint="remove the tag",
        )

    # -- collections ---------------------------------------------------------------------------

    def on_collection_start(self, event, is_map: bool) -> None:
        node_start = self.nodes
        self.count_node(1, event.start_mark)
        if len(self.stack) >= self.limits.max_depth:
            raise self.abort(
                "YML006",
                f"collections are nested more than {self.limits.max_depth} levels deep",
                self.span(event.start_mark, event.end_mark),
                hint=_TOO_DEEP_HINT,
            )
        path, log = self.slot()
        tag = event.tag
        if tag is not None and tag != "!" and tag != (_MAP if is_map else _SEQ):
            if tag in (_MAP, _SEQ):
                kind = "a mapping" if is_map else "a list"
                self.error(
                    "YML003",
                    f"tag {_show_tag(tag)} cannot be used on {kind}",
                    self.span(event.start_mark, event.end_mark),
                    path,
                    hint="remove the tag",
                )
            else:
                self.report_tag(tag, self.span(event.start_mark, event.end_mark), path)
        anchor = event.anchor
        if anchor is not None:
            self.check_new_anchor(anchor, event.start_mark)
            self.open_anchors[anchor] = event.start_mark
        self.stack.append(
            _Frame(is_map, path, log, event.start_mark, anchor, event.flow_style, node_start)
        )

    def on_collection_end(self, event) -> None:
        frame = self.stack.pop()
        if frame.is_map and frame.merge_sources:
            self.apply_merge(frame)
        end = event.end_mark if frame.flow else frame.last_end
        span = self.span(frame.start_mark, end)
        log = frame.log
        if log is not None:
            log.append((frame.path, False, span))
        if frame.anchor is not None:
            del self.open_anchors[frame.anchor]
            nodes = self.nodes - frame.node_start
            self.define_anchor(
                frame.anchor, frame.data, frame.path, log, frame.log_start, nodes, frame.height,
                span,
            )
        self.attach(frame.data, span, end, frame.height, collection=True)

    def attach(
        self, value, span: Span, end_mark, height: int, *, is_merge: bool = False,
        collection: bool = False,
    ) -> None:
        """Put a finished node into its parent (or make it the root)."""
        if not self.stack:
            self.root, self.root_span = value, span
            return
        top = self.stack[-1]
        top.last_end = end_mark
        if height + 1 > top.height:
            top.height = height + 1
        if not top.is_map:
            top.data.append(value)
            return
        pending = top.pending
        if pending is _EXPECT_KEY:
            self.take_key(top, value, span, is_merge, collection)
            return
        top.pending = _EXPECT_KEY
        if pending is _DISCARD:
            return
        if pending is _EXPECT_MERGE:
            self.take_merge_value(top, value, span)
            return
        top.data[pending] = value

    def take_key(self, top: _Frame, key, span: Span, is_merge: bool, collection: bool) -> None:
        if collection:
            self.error(
                "YML004",
                f"a mapping key must be a plain value, found {_kind(key)}",
                span,
                top.path,
                hint="spec keys are names; write the key as a string",
            )
            top.pending = _DISCARD
            return
        lookup = _EXPECT_MERGE if is_merge else key  # a quoted "<<" is an ordinary key
        first = top.key_spans.get(lookup)
        if first is not None:
            shown = "merge key <<" if is_merge else f"key {key!r}"
            self.error(
                "YML002",
                f"duplicate {shown}: first set at line {first.line}",
                span,
                top.path + (key,) if top.path is not None else None,
                hint="remove one of the two; YAML keys must be unique within a mapping",
            )
            top.pending = _DISCARD
            return
        top.key_spans[lookup] = span
        if is_merge:
            top.pending = _EXPECT_MERGE
            return
        if top.log is not None:
            top.log.append((top.path + (key,), True, span))
        top.pending = key

    # -- merge keys (<<) -----------------------------------------------------------------------

    def take_merge_value(self, top: _Frame, value, span: Span) -> None:
        if type(value) is dict:
            top.merge_sources = [(value, ())]
            return
        if type(value) is list and all(type(item) is dict for item in value):
            top.merge_sources = [(item, (i,)) for i, item in enumerate(value)]
            return
        self.error(
            "YML004",
            f"a merge key (<<) takes a mapping or a list of mappings, found {_kind(value)}",
            span,
            top.path,
            hint="write <<: *anchor or <<: [*one, *two], where each anchor names a mapping",
        )

    def apply_merge(self, frame: _Frame) -> None:
        """Add merged entries where the mapping does not set the key itself, as PyYAML does: the
        mapping's own keys win, then earlier sources in ``<<: [*a, *b]`` win over later ones."""
        sources = frame.merge_sources
        explicit = frame.data
        merged: dict = {}
        owner: dict = {}
        for index in range(len(sources) - 1, -1, -1):
            for key, value in sources[index][0].items():
                merged[key] = value
                owner[key] = index
        for key in explicit:
            owner.pop(key, None)
        merged.update(explicit)
        frame.data = merged
        if frame.log is None or not owner:
            return
        log, base = frame.log, frame.path
        for index, (_source, prefix) in enumerate(sources):
            cut = len(prefix)
            for path, is_key, span in frame.merge_log:
                if len(path) > cut and path[:cut] == prefix and owner.get(path[cut], -1) == index:
                    log.append((base + path[cut:], is_key, span))

    # -- anchors and aliases -------------------------------------------------------------------

    def check_new_anchor(self, name: str, mark) -> None:
        previous = self.anchors.get(name)
        if previous is not None or name in self.open_anchors:
            if previous is not None:
                first_line = previous.span.line
            else:
                first_line = self.open_anchors[name].line + 1
            # PyYAML's safe_load rejects this too; keeping the two in step means a spec rigorml
            # accepts is one any other YAML tool reads the same way.
            raise self.abort(
                "YML001",
                f"anchor &{name} is defined twice (first at line {first_line})",
                self.span(mark, mark),
                hint="give each anchor a unique name",
            )

    def define_anchor(self, name, value, path, log, start, nodes, height, span) -> None:
        end = len(log) if log is not None else 0
        self.anchors[name] = _Anchor(value, path, log, start, end, nodes, height, span)

    def on_alias(self, event) -> None:
        name = event.anchor
        span = self.span(event.start_mark, event.end_mark)
        anchor = self.anchors.get(name)
        if anchor is None:
            if name in self.open_anchors:
                raise self.abort(
                    "YML005",
                    f"alias *{name} refers to a collection that contains it (recursive data)",
                    span,
                    hint="spec data must be a tree; copy the values instead",
                )
            raise self.abort(
                "YML001",
                f"undefined alias *{name}",
                span,
                hint=f"define the anchor &{name} before this line, or fix the name",
            )
        if self.nodes + anchor.nodes > self.limits.max_nodes:
            raise self.abort(
                "YML005",
                f"alias expansion too large (billion laughs?): expanding *{name} would make more "
                f"than {self.limits.max_nodes} values",
                span,
                hint="spec files should not nest aliases of aliases",
            )
        self.nodes += anchor.nodes
        if len(self.stack) + anchor.height > self.limits.max_depth:
            raise self.abort(
                "YML006",
                f"expanding *{name} here nests collections more than "
                f"{self.limits.max_depth} levels deep",
                span,
            )
        path, log = self.slot()
        if log is not None and anchor.log is not None:
            cut = len(anchor.path)
            for entry_path, is_key, entry_span in anchor.log[anchor.start : anchor.end]:
                log.append((path + entry_path[cut:], is_key, entry_span))
        value = _copy_tree(anchor.value) if anchor.height else anchor.value
        self.attach(value, span, event.end_mark, anchor.height, collection=anchor.height > 0)


class _UnsupportedTag(Exception):
    def __init__(self, tag: str):
        super().__init__(tag)
        self.tag = tag


class _BadTaggedValue(Exception):
    def __init__(self, tag: str, value: str):
        super().__init__(tag)
        self.tag = tag
        self.value = value


def _syntax_error(exc: yaml.MarkedYAMLError, text: str, file: str) -> Diagnostic:
    """YML001 for a scanner/parser error, at the problem (or, lacking one, its context)."""
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    problem = exc.problem or exc.context or "the file is not valid YAML"
    message = f"YAML syntax error: {problem}"
    context_mark = exc.context_mark
    if exc.context and exc.problem and context_mark is not None:
        if (context_mark.line, context_mark.column) != (line - 1, col - 1):
            message += (
                f" ({exc.context} that started at line {context_mark.line + 1}, "
                f"column {context_mark.column + 1})"
            )
    hint = None
    lines = text.split("\n")
    suspects = [line - 1] + ([context_mark.line] if context_mark is not None else [])
    for index in suspects:
        if 0 <= index < len(lines):
            source_line = lines[index]
            indent = source_line[: len(source_line) - len(source_line.lstrip(" \t"))]
            if "\t" in indent:
                hint = "YAML forbids tabs for indentation; use spaces"
                break
    if hint is None and "'\\t'" in problem:
        hint = "YAML forbids tabs for indentation; use spaces"
    return Diagnostic("YML001", message, Span(file, line, col, line, col + 1), hint=hint)


def _too_deep(exc: yaml.MarkedYAMLError, limits: LoadLimits, file: str) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    return Diagnostic(
        "YML006",
        f"collections are nested more than {min(limits.max_depth, 1000)} levels deep",
        Span(file, line, col, line, col + 1),
        hint=_TOO_DEEP_HINT,
    )


def _forbidden_character(text: str, position: int, file: str) -> Diagnostic:
    position = max(0, min(position, len(text)))
    line = text.count("\n", 0, position) + 1
    col = position - (text.rfind("\n", 0, position) + 1) + 1
    code_point = ord(text[position]) if position < len(text) else 0
    name = "a NUL byte" if code_point == 0 else f"control character U+{code_point:04X}"
    return Diagnostic(
        "YML001",
        f"the file contains {name}, which YAML does not allow",
        Span(file, line, col, line, col + 1),
        hint="remove it; if you need it inside a string, write it as an escape in double quotes",
    )


def parse_yaml(
    text: str,
    file: str,
    limits: LoadLimits = LoadLimits(),
    *,
    require_mapping: bool = True,
) -> tuple[SourceDocument | None, list[Diagnostic]]:
    """Parse YAML text into plain data and a :class:`SourceMap`.

    ``file`` names the source in every span. With ``require_mapping`` (the default, for spec files)
    the document must be a single mapping; without it any single document is accepted and an empty
    text gives ``None`` data.

    Returns ``(document, [])`` on success, else ``(None, diagnostics)``: the document is ``None``
    exactly when there are diagnostics (all are errors; see the module docstring for the codes).
    Never raises for bad input.
    """
    if len(text) > limits.max_bytes // 4:
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > limits.max_bytes:
            return None, [_too_large(size, limits, file)]
    if text.startswith("\ufeff"):
        text = text[1:]
    text = _normalize_newlines(text)
    # Checked here rather than left to PyYAML's reader so the position is exact with either parser.
    forbidden = _NON_PRINTABLE.search(text)
    if forbidden is not None:
        return None, [_forbidden_character(text, forbidden.start(), file)]

    builder = _DocumentBuilder(None, file, limits)
    diagnostics: list[Diagnostic] = builder.diagnostics
    found_document = False
    try:
        loader = _LOADER_CLASS(text)
    except yaml.reader.ReaderError as exc:
        return None, [_forbidden_character(text, exc.position, file)]
    try:
        get_event = loader.get_event
        builder.get_event = get_event
        get_event()  # stream start
        event = get_event()
        if event.__class__ is DocumentStartEvent:
            found_document = True
            builder.build()
            get_event()  # document end
            event = get_event()
            if event.__class__ is DocumentStartEvent:
                mark = event.start_mark
                diagnostics.append(
                    Diagnostic(
                        "YML009",
                        "a spec file holds one YAML document, found a second one here",
                        builder.span(mark, event.end_mark),
                        hint="remove the '---' line and what follows, or move it to its own file",
                    )
                )
            elif event.__class__ is not StreamEndEvent:  # pragma: no cover - parser guarantees it
                raise AssertionError(f"unexpected YAML event {event!r}")
    except _Abort as exc:
        return None, [*diagnostics, exc.diagnostic]
    except yaml.reader.ReaderError as exc:
        return None, [*diagnostics, _forbidden_character(text, exc.position, file)]
    except yaml.MarkedYAMLError as exc:
        if exc.problem and "maximum nesting depth" in exc.problem:
            # libyaml's own guard (1000 levels) fires while it scans ahead, before the events that
            # would trip ours arrive; it is the same problem.
            return None, [*diagnostics, _too_deep(exc, limits, file)]
        return None, [*diagnostics, _syntax_error(exc, text, file)]
    finally:
        loader.dispose()

    if not found_document or builder.root_is_empty:
        if require_mapping:
            diagnostics.insert(
                0,
                Diagnostic(
                    "YML007",
                    "the file is empty; a spec is a YAML mapping (see `rigorml init`)",
                    Span.point(file),
                ),
            )
        data = None
    else:
        data = builder.root
        if require_mapping and type(data) is not dict:
            diagnostics.insert(
                0,
                Diagnostic(
                    "YML008",
                    f"a spec must be a mapping at the top level, found {_kind(data)}",
                    builder.root_span,
                    hint="a spec starts with keys such as `name:`; see `rigorml init`",
                ),
            )
    if diagnostics:
        return None, diagnostics
    source_map = SourceMap(file=file)
    values, keys = source_map.values, source_map.keys
    for path, is_key, span in builder.log:
        if is_key:
            keys[path] = span
        else:
            values[path] = span
    if () not in values:
        values[()] = Span.point(file)
    return SourceDocument(file, text, data, source_map), []


def load_yaml_file(
    path: str | os.PathLike,
    limits: LoadLimits = LoadLimits(),
    *,
    display_name: str | None = None,
) -> tuple[SourceDocument | None, list[Diagnostic]]:
    """Read, decode and parse one spec file.

    ``display_name`` (default: ``path`` as given) names the file in every span. The size is checked
    with ``os.stat`` before reading, and at most ``limits.max_bytes + 1`` bytes are ever read, so
    a huge file or an endless pipe costs nothing. Returns what :func:`parse_yaml` returns; an
    unreadable path (missing, a directory, no permission) is a fatal ``YML013`` at ``file:1:1``,
    and the :func:`decode_source` problems are fatal too.
    """
    file = display_name or os.fspath(path)
    if isinstance(file, bytes):
        file = os.fsdecode(file)

    def unreadable(reason: str) -> tuple[None, list[Diagnostic]]:
        return None, [_fatal("YML013", f"cannot read spec: {reason}", file)]

    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            return unreadable("Is a directory (expected a YAML file)")
        if stat.S_ISREG(info.st_mode) and info.st_size > limits.max_bytes:
            return None, [_too_large(info.st_size, limits, file)]
        with open(path, "rb") as handle:
            raw = handle.read(limits.max_bytes + 1)
    except OSError as exc:
        return unreadable(exc.strerror or str(exc))
    if len(raw) > limits.max_bytes:
        # The file grew after stat, or is not a regular file: its true size is unknown.
        return None, [
            _fatal(
                "YML010",
                f"the file is more than {limits.max_bytes} bytes, over the limit",
                file,
                hint=_MAX_BYTES_HINT,
            )
        ]
    text, diagnostics = decode_source(raw, file, limits)
    if text is None:
        return None, diagnostics
    return parse_yaml(text, file, limits)


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """SafeDumper that also quotes strings this loader would read as exponent floats ("1e5")."""


_Dumper.add_implicit_resolver(_FLOAT, re.compile(_EXPONENT_FLOAT), list(_EXPONENT_START))


def dump_yaml(data: Any) -> str:
    """YAML text for plain data that :func:`parse_yaml` reads back as exactly ``data``."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False)
