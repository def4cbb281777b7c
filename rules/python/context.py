"""What a Python-source rule sees: one parsed module, where every node is, and what names mean.

:class:`PythonContext` wraps a libcst module with the metadata rules share, computed once per file:

* positions -- ``span(node)`` is 1-based, end exclusive, columns in characters (the units fixes
  edit in), so a finding points where an editor puts the cursor;
* bindings -- ``bindings_of(name)`` lists what a name was bound from, looked up the way Python
  does (the enclosing function, then outer functions, then the module), so a rule can ask "is
  ``loss`` the result of ``criterion(...)``?";
* qualified names -- ``qualified_name(node)`` says what a callee *is* whatever the import style:
  ``F.interpolate`` (``import torch.nn.functional as F``), ``torch.nn.functional.interpolate`` and
  ``interpolate`` (``from torch.nn.functional import interpolate``) all resolve to
  ``torch.nn.functional.interpolate``. It follows the name's import bindings (the same lookup), the
  way libcst's ``QualifiedNameProvider`` does for imports and builtins, at a fraction of its cost
  (its full scope analysis was two thirds of the time spent on a file).

libcst is imported here and only here (and by the rules next to it): the YAML lint path never loads
this module.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass
from typing import Iterator

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from ...compiler.diagnostics import Diagnostic, Severity, Span, TextEdit


@dataclass(frozen=True)
class Binding:
    """One place a name gets a value.

    ``kind`` is ``"assign"`` (``x = value``, ``x: T = value``, ``(x := value)``), ``"augassign"``
    (``x += value``), ``"with"`` (``with value as x``), ``"import"`` (``imported`` says of what:
    ``"torch.nn.functional"`` for ``import torch.nn.functional as F``) or ``"other"`` (a loop or
    unpacking target, a parameter, a ``def``/``class``, an ``except ... as``, a ``global``): rules
    treat ``"other"`` as "cannot tell what this is". ``value`` is the assigned expression when there
    is one.
    """

    kind: str
    node: cst.CSTNode
    value: cst.BaseExpression | None = None
    imported: str | None = None  # for an import: the dotted name the binding stands for


class PythonContext:
    """One Python file for the rules: ``module`` (libcst), ``text``, and the metadata rules share."""

    def __init__(self, file: str, text: str, wrapper: MetadataWrapper):
        self.file = file
        self.texts = {file: text}
        self.module: cst.Module = wrapper.module
        self._positions = wrapper.resolve(PositionProvider)
        self._qualified_memo: dict[int, frozenset[str]] = {}
        self._line_starts = _line_starts(text)
        # One walk of the tree: every node in source order, its parent, and the scope whose body holds it.
        walk = _Walk(self.module)
        self.module.visit(walk)
        self._all = [node for node, _ in walk.nodes]
        self._parents = walk.parents
        self._scopes = {id(node): scope for node, scope in walk.nodes}
        self._by_scope: dict[int, list[cst.CSTNode]] = {}
        for node, scope in walk.nodes:
            self._by_scope.setdefault(id(scope), []).append(node)
        self._bindings: dict[int, dict[str, list[Binding]]] = {}
        self._memo: dict[str, object] = {}

    @property
    def text(self) -> str:
        return self.texts[self.file]

    @classmethod
    def parse(cls, file: str, text: str) -> tuple["PythonContext | None", list[Diagnostic]]:
        """The context for ``text``, or (None, [a ``PY000`` error located at the syntax error]).

        CPython's own parser reads the text first: its messages and positions are the ones users
        know, and it refuses pathological nesting cleanly, where libcst's parser can overflow the
        C stack. Text CPython rejects only as a syntax error still goes to libcst, which may know a
        newer grammar than the running interpreter.
        """
        try:
            ast.parse(text, filename=file)
            cpython_error = None
        except SyntaxError as exc:
            cpython_error = _syntax_error(file, exc)
            if _exhausted(exc.msg):
                return None, [cpython_error]
        except (RecursionError, MemoryError, ValueError) as exc:  # too deep or too large, or NUL bytes
            reason = str(exc) or "nested too deeply"
            return None, [Diagnostic("PY000", f"cannot parse: {reason}", Span.point(file), Severity.ERROR)]
        try:
            module = cst.parse_module(text)
        except (cst.ParserSyntaxError, RecursionError, MemoryError, ValueError) as exc:
            message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            return None, [cpython_error or Diagnostic("PY000", f"cannot parse: {message}", Span.point(file))]
        try:
            return cls(file, text, MetadataWrapper(module, unsafe_skip_copy=True)), []
        except Exception as exc:  # positions or the walk gave up (a recursion limit): report it, never a traceback
            message = f"cannot analyse: {type(exc).__name__}: {exc}"
            return None, [Diagnostic("PY000", message, Span.point(file), Severity.ERROR)]

    # --- locations and edits --------------------------------------------------------------------

    def span(self, node: cst.CSTNode) -> Span:
        """Where ``node`` is (without any parentheses around it): 1-based, end exclusive."""
        where = self._positions[node]
        return Span(self.file, where.start.line, where.start.column + 1, where.end.line, where.end.column + 1)

    def outer_span(self, node: cst.CSTNode) -> Span:
        """Where ``node`` is, including the parentheses written around it."""
        first = node.lpar[0] if getattr(node, "lpar", None) else node
        last = node.rpar[-1] if getattr(node, "rpar", None) else node
        start, end = self.span(first), self.span(last)
        return Span(self.file, start.line, start.col, end.end_line, end.end_col)

    def source(self, node: cst.CSTNode, *, parens: bool = False) -> str:
        """The exact text of ``node`` as written (comments and line breaks included)."""
        span = self.outer_span(node) if parens else self.span(node)
        return self.text[self._offset(span.line, span.col) : self._offset(span.end_line, span.end_col)]

    def shown(self, node: cst.CSTNode, limit: int = 40) -> str:
        """``node``'s source in backquotes for a message, or "this expression" when it is long or
        spans lines."""
        text = self.source(node, parens=True)
        return f"`{text}`" if len(text) <= limit and "\n" not in text else "this expression"

    def replace(self, node: cst.CSTNode, code: str) -> TextEdit:
        """An edit replacing the text of ``node`` (parentheses around it excluded) with ``code``."""
        return TextEdit.replace(self.span(node), code)

    def insert_after(self, node: cst.CSTNode, code: str) -> TextEdit:
        """An edit inserting ``code`` right after ``node`` (after its closing parentheses, if any)."""
        end = self.outer_span(node)
        return TextEdit.insert(self.file, end.end_line, end.end_col, code)

    def _offset(self, line: int, col: int) -> int:
        return self._line_starts[line - 1] + col - 1

    # --- what names mean -------------------------------------------------------------------------

    def qualified_names(self, node: cst.CSTNode) -> frozenset[str]:
        """What ``node`` (a name, an attribute chain, or a call's callee) refers to through imports
        and builtins: ``{"torch.nn.functional.interpolate"}`` for ``F.interpolate``. Empty for local
        values and anything not imported; several names when conditional imports disagree."""
        if isinstance(node, cst.Call):
            node = node.func
        known = self._qualified_memo.get(id(node))
        if known is None:
            known = self._qualified_memo[id(node)] = self._resolve(node)
        return known

    def _resolve(self, node: cst.CSTNode) -> frozenset[str]:
        attributes: list[str] = []
        head = node
        while isinstance(head, cst.Attribute):
            attributes.append(head.attr.value)
            head = head.value
        if not isinstance(head, cst.Name) or not self._is_reference(head):
            return frozenset()
        rest = "".join("." + name for name in reversed(attributes))
        bindings = self.bindings_of(head)
        if not bindings:
            return frozenset({f"builtins.{head.value}{rest}"}) if head.value in _BUILTINS else frozenset()
        return frozenset(b.imported + rest for b in bindings if b.imported is not None)

    def _is_reference(self, name: cst.Name) -> bool:
        """Whether ``name`` reads a variable (not the ``attr`` of ``a.attr`` nor a keyword argument)."""
        parent = self._parents.get(id(name))
        if isinstance(parent, cst.Attribute) and parent.attr is name:
            return False
        return not (isinstance(parent, cst.Arg) and parent.keyword is name)

    def qualified_name(self, node: cst.CSTNode) -> str | None:
        """The one qualified name of ``node`` (the first in sorted order if conditional imports
        give several), or None."""
        names = self.qualified_names(node)
        return min(names) if names else None

    def calls_to(self, node: cst.CSTNode, *names: str) -> bool:
        """Whether ``node`` (a call or a callee) refers to one of the qualified ``names``."""
        return not self.qualified_names(node).isdisjoint(names)

    # --- tree navigation -------------------------------------------------------------------------

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self._parents.get(id(node))

    def scope_of(self, node: cst.CSTNode) -> cst.CSTNode:
        """The function, class or module whose body ``node`` is in (a ``def`` itself, its decorators
        and defaults are in the enclosing one's)."""
        return self._scopes.get(id(node), self.module)

    def nodes(self, kind: type | tuple[type, ...], scope: cst.CSTNode | None = None) -> list:
        """Every node of ``kind`` in source order: in the whole module, or, with ``scope``, in that
        function/class/module body without descending into nested functions and classes."""
        key = f"nodes:{kind!r}:{id(scope)}"
        if key not in self._memo:
            pool = self._all if scope is None else self._by_scope.get(id(scope), [])
            self._memo[key] = [node for node in pool if isinstance(node, kind)]
        return self._memo[key]  # type: ignore[return-value]

    def memo(self, key: str, compute):
        """``compute()`` once per file: for facts several rules share (the metric-logging calls)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def before(self, first: cst.CSTNode, second: cst.CSTNode) -> bool:
        """Whether ``first`` starts before ``second`` in the source."""
        a, b = self.span(first), self.span(second)
        return (a.line, a.col) < (b.line, b.col)

    # --- local names -----------------------------------------------------------------------------

    def bindings_in(self, scope: cst.CSTNode) -> dict[str, list[Binding]]:
        """Name -> every binding of it directly in ``scope`` (a module, function or class body)."""
        key = id(scope)
        if key not in self._bindings:
            collector = _BindingCollector(scope)
            scope.visit(collector)
            self._bindings[key] = collector.bindings
        return self._bindings[key]

    def bindings_of(self, name: cst.Name) -> list[Binding]:
        """The bindings a use of ``name`` can see: those of the innermost enclosing function that
        binds it, else the module's (class bodies are skipped, as Python does for methods)."""
        scope = self.scope_of(name)
        while True:
            if not isinstance(scope, cst.ClassDef) or scope is self.scope_of(name):
                found = self.bindings_in(scope).get(name.value)
                if found:
                    return found
            if scope is self.module:
                return []
            scope = self.scope_of(scope)

    def dotted_name(self, node: cst.CSTNode) -> str | None:
        """``"self.run"`` for ``self.run``: the source spelling of a name or attribute chain."""
        if isinstance(node, cst.Name):
            return node.value
        if isinstance(node, cst.Attribute):
            head = self.dotted_name(node.value)
            return f"{head}.{node.attr.value}" if head else None
        return None


# --- helpers shared by the rules --------------------------------------------------------------------


def last_name(node: cst.CSTNode) -> str | None:
    """The final identifier of a callee: ``"criterion"`` for ``self.criterion`` or ``criterion``."""
    if isinstance(node, cst.Call):
        node = node.func
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None


def argument(call: cst.Call, index: int | None, keyword: str | None) -> cst.Arg | None:
    """The argument passed as positional ``index`` or as ``keyword=``; None when absent or hidden
    behind ``*args`` / ``**kwargs``."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg
    if index is None:
        return None
    positional = []
    for arg in call.args:
        if arg.keyword is not None or arg.star == "**":
            break
        if arg.star == "*":
            return None
        positional.append(arg)
    return positional[index] if index < len(positional) else None


def has_star_kwargs(call: cst.Call) -> bool:
    """Whether the call passes ``**kwargs`` (which may hold any keyword)."""
    return any(arg.star == "**" for arg in call.args)


def string_value(node: cst.CSTNode | None) -> str | None:
    """The value of a plain string literal (not an f-string or bytes), else None."""
    if isinstance(node, cst.SimpleString) and "b" not in node.prefix.lower():
        try:
            value = node.evaluated_value
        except Exception:  # an escape sequence Python itself would reject
            return None
        return value if isinstance(value, str) else None
    if isinstance(node, cst.ConcatenatedString):
        left, right = string_value(node.left), string_value(node.right)
        return left + right if left is not None and right is not None else None
    return None


def is_true(node: cst.CSTNode | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "True"


# --- internals ---------------------------------------------------------------------------------------


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for index, char in enumerate(text):
        if char == "\n":
            starts.append(index + 1)
    return starts


def _syntax_error(file: str, exc: SyntaxError) -> Diagnostic:
    """A ``PY000`` error where CPython puts the syntax error (1-based line, column in characters)."""
    line, col = exc.lineno or 1, max(exc.offset or 1, 1)
    return Diagnostic("PY000", f"cannot parse: {exc.msg}", Span.point(file, line, col), Severity.ERROR)


def _exhausted(message: str) -> bool:
    """A CPython syntax error that is a resource limit ("too many nested parentheses")."""
    return any(phrase in message for phrase in ("too many", "too complex", "too deeply", "too long"))


class _Walk(cst.CSTVisitor):
    """Every node in source order, with the scope whose body holds it."""

    def __init__(self, module: cst.Module):
        self.nodes: list[tuple[cst.CSTNode, cst.CSTNode]] = []
        self.parents: dict[int, cst.CSTNode] = {}
        self._scopes: list[cst.CSTNode] = [module]
        self._path: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self._path:
            self.parents[id(node)] = self._path[-1]
        self._path.append(node)
        self.nodes.append((node, self._scopes[-1]))
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            # The name, decorators, defaults and bases belong to the enclosing scope; the body
            # (and the parameters, bound there) to the new one.
            for decorator in node.decorators:
                decorator.visit(self)
            if isinstance(node, cst.ClassDef):
                for arg in (*node.bases, *node.keywords):
                    arg.visit(self)
            else:
                for param in _parameters(node.params):
                    if param.default is not None:
                        param.default.visit(self)
            self._scopes.append(node)
            node.body.visit(self)
            self._scopes.pop()
            return False
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self._path.pop()


class _BindingCollector(cst.CSTVisitor):
    """The bindings made directly in one scope (not in nested functions, classes or comprehensions)."""

    def __init__(self, scope: cst.CSTNode):
        self.scope = scope
        self.bindings: dict[str, list[Binding]] = {}

    def _add(self, name: str, binding: Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)

    def _targets(self, target: cst.CSTNode, binding_node: cst.CSTNode) -> None:
        """Every name bound by an unpacking or loop target, as ``"other"``."""
        if isinstance(target, cst.Name):
            self._add(target.value, Binding("other", binding_node))
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._targets(element.value, binding_node)
        elif isinstance(target, cst.StarredElement):
            self._targets(target.value, binding_node)

    def on_visit(self, node: cst.CSTNode) -> bool:
        if node is self.scope:
            if isinstance(node, cst.FunctionDef):
                for param in _parameters(node.params):
                    self._add(param.name.value, Binding("other", param))
                node.body.visit(self)
                return False
            if isinstance(node, cst.ClassDef):
                node.body.visit(self)
                return False
            return True
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            self._add(node.name.value, Binding("other", node))
            return False
        if isinstance(node, (cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)):
            return False
        if isinstance(node, cst.Assign):
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    self._add(target.target.value, Binding("assign", node, node.value))
                else:
                    self._targets(target.target, node)
        elif isinstance(node, cst.AnnAssign) and isinstance(node.target, cst.Name) and node.value is not None:
            self._add(node.target.value, Binding("assign", node, node.value))
        elif isinstance(node, cst.AugAssign) and isinstance(node.target, cst.Name):
            self._add(node.target.value, Binding("augassign", node, node.value))
        elif isinstance(node, cst.NamedExpr) and isinstance(node.target, cst.Name):
            self._add(node.target.value, Binding("assign", node, node.value))
        elif isinstance(node, cst.WithItem) and node.asname is not None:
            if isinstance(node.asname.name, cst.Name):
                self._add(node.asname.name.value, Binding("with", node, node.item))
            else:
                self._targets(node.asname.name, node)
        elif isinstance(node, (cst.For,)):
            self._targets(node.target, node)
        elif isinstance(node, cst.ExceptHandler) and node.name is not None:
            self._targets(node.name.name, node)
        elif isinstance(node, cst.Import):
            for alias in node.names:
                dotted = _dotted(alias.name)
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    self._add(alias.asname.name.value, Binding("import", node, imported=dotted))
                else:  # `import a.b.c` binds `a`, which stands for the package `a`
                    top = dotted.split(".", 1)[0]
                    self._add(top, Binding("import", node, imported=top))
        elif isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar):
            package = "." * len(node.relative) + (_dotted(node.module) if node.module is not None else "")
            for alias in node.names:
                name = _dotted(alias.name)
                bound = alias.asname.name if alias.asname is not None else alias.name
                if isinstance(bound, cst.Name):
                    target = f"{package}.{name}" if package and not package.endswith(".") else package + name
                    self._add(bound.value, Binding("import", node, imported=target))
        elif isinstance(node, (cst.Global, cst.Nonlocal)):
            for item in node.names:
                self._add(item.name.value, Binding("other", node))
        return True


_BUILTINS = frozenset(dir(builtins))


def _dotted(node: cst.BaseExpression) -> str:
    """``"a.b.c"`` for the name or attribute chain of an import."""
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return node.value if isinstance(node, cst.Name) else ""


def _parameters(params: cst.Parameters) -> Iterator[cst.Param]:
    yield from params.posonly_params
    yield from params.params
    yield from params.kwonly_params
    if isinstance(params.star_arg, cst.Param):
        yield params.star_arg
    if params.star_kwarg is not None:
        yield params.star_kwarg
