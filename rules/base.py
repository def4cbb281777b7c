"""What a lint rule is: one small class with a stable code, its documentation, and its proof.

Modelled on ruff (every rule carries its documentation in one fixed shape: what it checks, why it
matters, an example, what to write instead, whether its fix is safe, a reference) and Fixit (every
rule carries ``VALID`` and ``INVALID`` examples; the test suite turns each into a test case, so a rule
cannot exist without proof that it fires and that it stays quiet).

A spec rule subclasses :class:`SpecRule` and implements ``check(ctx)``, yielding findings made with
``self.finding(...)``; a Python-source rule subclasses :class:`PythonRule`. Rules only read: they
never run anything, import user code, or write files.
"""

from __future__ import annotations

from typing import ClassVar, Iterator, NamedTuple

from ..compiler.diagnostics import Diagnostic, Fix, Severity, Span, TextEdit

FAMILIES = {
    "REP": "reproducibility",
    "STA": "statistics",
    "MET": "metrics",
    "NAM": "naming",
    "HPO": "sweeps",
    "TRK": "tracking",
    "LLM": "llm-evaluation",
    "PIP": "pipeline",
    "ENV": "environment",
    "PY": "python",
    "SUP": "suppressions",
}


#: The smallest valid spec (8 lines). Spec rule examples append sections to it, so the first
#: appended line is line 9: ``BASE + "seeds:\n  replicates: 3\n"`` puts ``3`` at line 10, column 15.
BASE = """\
version: 1
experiment:
  name: demo
  task: classification
data:
  source: builtin:digits
model:
  source: builtin:mlp
"""


class Invalid(NamedTuple):
    """An example the rule must flag: the source, where (1-based line and column), and the fixed text.

    ``fixed`` is the whole source after the rule's fix (None when the rule has no fix for it);
    ``message`` is a substring the finding's message must contain.
    """

    source: str
    line: int
    col: int
    fixed: str | None = None
    message: str | None = None
    end_line: int | None = None
    end_col: int | None = None


class RuleDoc(NamedTuple):
    """The documentation of a rule, in the fixed shape ``rigorml rule CODE`` prints."""

    what: str
    why: str
    example: str
    instead: str
    reference: str
    fix: str = "none"  # "none", "safe" or "unsafe"
    notes: tuple[str, ...] = ()


class Rule:
    """Base of every rule. Subclasses set the class attributes below and implement ``check``."""

    code: ClassVar[str]
    name: ClassVar[str]  # kebab-case
    severity: ClassVar[Severity] = Severity.WARNING
    message: ClassVar[str]  # the default one-line message of a finding
    doc: ClassVar[RuleDoc]
    VALID: ClassVar[tuple[str, ...]] = ()
    INVALID: ClassVar[tuple[Invalid, ...]] = ()
    kind: ClassVar[str] = "spec"

    @classmethod
    def family(cls) -> str:
        prefix = cls.code.rstrip("0123456789")
        return FAMILIES[prefix]

    def check(self, ctx) -> Iterator[Diagnostic]:  # pragma: no cover - abstract
        raise NotImplementedError

    def finding(
        self,
        span: Span,
        message: str | None = None,
        *,
        hint: str | None = None,
        fix: Fix | None = None,
        path: tuple = (),
    ) -> Diagnostic:
        """A finding of this rule at ``span`` (severity is applied later from the configuration)."""
        return Diagnostic(self.code, message or self.message, span, self.severity, hint=hint, fix=fix, path=path)


class SpecRule(Rule):
    """A rule over a validated spec. ``check(ctx)`` receives a :class:`rigorml.rules.context.SpecContext`."""

    kind = "spec"

    def at(self, ctx, path: tuple, message: str | None = None, *, key: bool = False, hint: str | None = None, fix: Fix | None = None) -> Diagnostic:
        """A finding located at ``path`` in the spec (its key when ``key``); the nearest written
        ancestor when the spec leaves ``path`` at its default."""
        return self.finding(ctx.span(path, key=key), message, hint=hint, fix=fix, path=path)

    def replace_value(self, ctx, path: tuple, text: str, description: str, *, safe: bool = True) -> Fix | None:
        """A fix replacing the value written at ``path`` with ``text`` (None if it is not written)."""
        span = ctx.value_span(path)
        if span is None:
            return None
        return Fix(description, (TextEdit.replace(span, text),), safe)


class PythonRule(Rule):
    """A rule over Python source. ``check(ctx)`` receives a :class:`rigorml.rules.python.context.PythonContext`."""

    kind = "python"
