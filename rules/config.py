"""Lint configuration: ``[tool.rigorml]`` in ``pyproject.toml`` (found upward from the file), then CLI flags.

Follows ruff's conventions::

    [tool.rigorml]
    select = ["ALL"]                 # codes or prefixes (REP, STA001); default: every rule
    ignore = ["TRK003"]
    extend-select = []
    fail-on = "warning"              # error | warning | info
    [tool.rigorml.per-file-ignores]
    "experiments/scratch/*.yaml" = ["STA"]
    [tool.rigorml.severity]
    STA001 = "error"                 # a code or a prefix

When a rule matches both ``select`` and ``ignore``, the more specific entry wins (``ignore = ["STA"]``
with ``select = ["STA001"]`` keeps STA001).
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path

from ..compiler.diagnostics import Severity

SEVERITIES = ("error", "warning", "info")


class ConfigError(ValueError):
    """The configuration cannot be used (unknown key, bad severity); the CLI exits 2."""


class LintConfig:
    """Which rules run where, at which severity, and what fails the run.

    ``source`` is the pyproject.toml it came from; ``per_file_ignores`` patterns are relative to
    ``root`` (that file's directory).
    """

    def __init__(
        self,
        select: list[str] | None = None,
        ignore: list[str] | None = None,
        extend_select: list[str] | None = None,
        per_file_ignores: dict[str, list[str]] | None = None,
        severity: dict[str, str] | None = None,
        fail_on: str = "warning",
        source: str | None = None,
        root: str = ".",
    ):
        self.select = list(select) if select is not None else ["ALL"]
        self.ignore = list(ignore or [])
        self.extend_select = list(extend_select or [])
        self.per_file_ignores = dict(per_file_ignores or {})
        self.severity = dict(severity or {})
        self.fail_on = fail_on
        self.source = source
        self.root = root

    def __repr__(self) -> str:
        return f"LintConfig(select={self.select!r}, ignore={self.ignore!r}, source={self.source!r})"

    def _specificity(self, code: str, entries: list[str]) -> int:
        best = -1
        for entry in entries:
            if entry == "ALL":
                best = max(best, 0)
            elif code.startswith(entry):
                best = max(best, len(entry))
        return best

    def is_enabled(self, code: str, file: str | None = None) -> bool:
        """Whether rule ``code`` runs on ``file``."""
        selected = self._specificity(code, self.select + self.extend_select)
        ignored = self._specificity(code, self.ignore + self._file_ignores(file))
        return selected >= 0 and selected > ignored

    def _file_ignores(self, file: str | None) -> list[str]:
        if not file or not self.per_file_ignores:
            return []
        relative = os.path.relpath(os.path.abspath(file), self.root)
        out: list[str] = []
        for pattern, codes in self.per_file_ignores.items():
            if fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(os.path.basename(file), pattern):
                out.extend(codes)
        return out

    def has_selectors(self) -> bool:
        """Whether anything beyond the default ``select = ["ALL"]`` names rules."""
        return (
            self.select != ["ALL"] or bool(self.ignore or self.extend_select or self.severity or self.per_file_ignores)
        )

    def check_selectors(self, codes: list[str], trusted_prefixes: tuple[str, ...] = ()) -> None:
        """Raise ConfigError for a selector that matches no rule (a typo would silently lint nothing).

        Selectors are codes or prefixes (``STA``, ``STA00``, ``STA001``), as in ruff. Entries starting
        with one of ``trusted_prefixes`` are not checked (their rules are not loaded on this path).
        """
        entries = self.select + self.extend_select + self.ignore + list(self.severity)
        entries += [code for codes_ in self.per_file_ignores.values() for code in codes_]
        for entry in entries:
            if entry == "ALL" or entry.startswith(trusted_prefixes or ("\0",)):
                continue
            if not any(code.startswith(entry) for code in codes):
                import difflib

                close = difflib.get_close_matches(entry, codes + sorted({c.rstrip("0123456789") for c in codes}), n=1)
                where = f" (in {self.source})" if self.source else ""
                raise ConfigError(
                    f"{entry!r} matches no rule{where}" + (f"; did you mean {close[0]!r}?" if close else "")
                    + " (see `rigorml rules`)"
                )

    def severity_of(self, code: str, default: Severity) -> Severity:
        """The severity configured for ``code`` (most specific entry), else the rule's own."""
        best, chosen = -1, None
        for key, value in self.severity.items():
            if code.startswith(key) and len(key) > best:
                best, chosen = len(key), value
        return Severity(chosen) if chosen else default


_KEYS = {"select", "ignore", "extend-select", "per-file-ignores", "severity", "fail-on"}


def find_pyproject(start: str) -> Path | None:
    """The nearest ``pyproject.toml`` with a ``[tool.rigorml]`` table, from ``start`` upward."""
    directory = Path(start).resolve()
    if directory.is_file():
        directory = directory.parent
    for candidate in (directory, *directory.parents):
        path = candidate / "pyproject.toml"
        if path.is_file():
            try:
                text = path.read_text(encoding="utf-8")
            except OSError:
                continue
            if "[tool.rigorml" in text:
                return path
    return None


def load_config(pyproject: Path | None) -> LintConfig:
    """Read ``[tool.rigorml]``; no file means the defaults. Raises ConfigError for bad content."""
    if pyproject is None:
        return LintConfig()
    import tomllib

    try:
        table = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {}).get("rigorml", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{pyproject}: cannot read [tool.rigorml]: {exc}") from None
    unknown = set(table) - _KEYS
    if unknown:
        import difflib

        key = sorted(unknown)[0]
        close = difflib.get_close_matches(key, sorted(_KEYS), n=1)
        raise ConfigError(
            f"{pyproject}: unknown key {key!r} in [tool.rigorml]" + (f"; did you mean {close[0]!r}?" if close else "")
        )
    config = LintConfig(source=str(pyproject), root=str(pyproject.parent))
    for key in ("select", "ignore", "extend-select"):
        if key in table:
            value = table[key]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{pyproject}: [tool.rigorml] {key} must be a list of rule codes")
            setattr(config, key.replace("-", "_"), list(value))
    if "per-file-ignores" in table:
        config.per_file_ignores = {str(k): list(v) for k, v in table["per-file-ignores"].items()}
    if "severity" in table:
        for code, value in table["severity"].items():
            if value not in SEVERITIES:
                raise ConfigError(f"{pyproject}: severity of {code} must be one of {', '.join(SEVERITIES)}, not {value!r}")
        config.severity = dict(table["severity"])
    if "fail-on" in table:
        if table["fail-on"] not in SEVERITIES:
            raise ConfigError(f"{pyproject}: fail-on must be one of {', '.join(SEVERITIES)}")
        config.fail_on = table["fail-on"]
    return config


def with_cli(config: LintConfig, *, select=None, ignore=None, extend_select=None, fail_on=None) -> LintConfig:
    """CLI flags win over the file: ``--select`` replaces, ``--ignore``/``--extend-select`` add."""
    if select:
        config.select = list(select)
    if ignore:
        config.ignore = config.ignore + list(ignore)
    if extend_select:
        config.extend_select = config.extend_select + list(extend_select)
    if fail_on:
        config.fail_on = fail_on
    return config
