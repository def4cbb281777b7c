"""The lint pass: paths -> findings, and the fixer that applies them.

A spec is linted only once it validates: validation errors are reported (as errors) instead of rule
findings, because rules read the validated spec. Python files go to the Python-source rules (libcst
is imported only then).
"""

from __future__ import annotations

import os

from .diagnostics import Diagnostic, Span
from .fixes import apply_fixes
from .source import LoadLimits

SPEC_SUFFIXES = (".yaml", ".yml")
PYTHON_SUFFIXES = (".py",)
_SKIP_DIRS = {".git", ".hg", ".venv", "venv", "__pycache__", "node_modules", ".tox", ".mypy_cache", ".pytest_cache"}


class FileReport:
    """What linting one path found, with the texts of every file involved (for display and fixes)."""

    def __init__(self, path: str, kind: str, diagnostics: list[Diagnostic] | None = None, texts: dict[str, str] | None = None):
        self.path = path
        self.kind = kind  # "spec" or "python"
        self.diagnostics: list[Diagnostic] = diagnostics if diagnostics is not None else []
        self.texts: dict[str, str] = texts if texts is not None else {}
        self.fail_on = "warning"  # the severity that fails the run, from this file's configuration


def looks_like_spec(path: str) -> bool:
    """A YAML file found by walking a directory is linted as a spec when it has a top-level
    ``experiment:`` or ``extends:`` key (CI configs and the like are left alone)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            head = handle.read(65536)
    except OSError:
        return False
    return any(line.startswith(("experiment:", "extends:")) for line in head.splitlines())


def expand_paths(paths: list[str]) -> list[str]:
    """Files named directly, plus spec and Python files under named directories (sorted)."""
    out: list[str] = []
    for path in paths:
        if not os.path.isdir(path):
            out.append(path)
            continue
        found = []
        for directory, subdirs, files in os.walk(path):
            subdirs[:] = sorted(d for d in subdirs if d not in _SKIP_DIRS and not d.startswith("."))
            for name in files:
                full = os.path.join(directory, name)
                if name.endswith(PYTHON_SUFFIXES) or (name.endswith(SPEC_SUFFIXES) and looks_like_spec(full)):
                    found.append(full)
        out.extend(sorted(found))
    return out


def lint_spec(path: str, config, overrides=(), limits: LoadLimits = LoadLimits(), overlay=None) -> FileReport:
    from ..rules.context import SpecContext
    from ..rules.runner import lint_spec_context
    from .compose import compose
    from .validate import validate_data

    composed = compose(path, list(overrides), limits, overlay)
    report = FileReport(path, "spec", list(composed.diagnostics), dict(composed.texts))
    if composed.data is None or composed.diagnostics:
        return report
    validated = validate_data(composed.data, composed.source_map)
    if validated.diagnostics:
        report.diagnostics = validated.diagnostics
        return report
    ctx = SpecContext(path, validated.spec, composed.data, composed.source_map, composed.texts, validated.warnings)
    report.diagnostics = lint_spec_context(ctx, config)
    return report


def lint_python(path: str, config, overlay=None) -> FileReport:
    from ..rules.python.context import PythonContext
    from ..rules.runner import lint_python_context

    if overlay and path in overlay:
        text = overlay[path]
    else:
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            problem = Diagnostic("PY000", f"cannot read Python file: {reason}", Span.point(path), fatal=True)
            return FileReport(path, "python", [problem])
    ctx, problems = PythonContext.parse(path, text)
    report = FileReport(path, "python", problems, {path: text})
    if ctx is not None:
        report.diagnostics = lint_python_context(ctx, config)
    return report


def lint_path(path: str, config, overrides=(), limits: LoadLimits = LoadLimits(), overlay=None) -> FileReport:
    """Lint one file: ``.py`` as Python source, anything else as a spec."""
    if path.endswith(PYTHON_SUFFIXES):
        return lint_python(path, config, overlay)
    return lint_spec(path, config, overrides, limits, overlay)


def fix_path(path: str, config, *, unsafe: bool, overrides=(), limits: LoadLimits = LoadLimits(), passes: int = 10):
    """Lint and fix until nothing more can be fixed; nothing is written.

    Returns (the final report, {file: (original text, fixed text)} for every file that changed).
    """
    overlay: dict[str, str] = {}
    originals: dict[str, str] = {}
    report = lint_path(path, config, overrides, limits, overlay)
    for _ in range(passes):
        by_file: dict[str, list] = {}
        for finding in report.diagnostics:
            if finding.fix and (finding.fix.safe or unsafe):
                files = {e.file for e in finding.fix.edits}
                if len(files) == 1:
                    by_file.setdefault(files.pop(), []).append(finding.fix.edits)
        changed = False
        for file, fixes in by_file.items():
            text = overlay.get(file, report.texts.get(file))
            if text is None:
                continue
            originals.setdefault(file, text)
            new_text, applied = apply_fixes(text, fixes)
            if applied and new_text != text:
                overlay[file] = new_text
                changed = True
        if not changed:
            break
        report = lint_path(path, config, overrides, limits, overlay)
    changes = {f: (originals[f], overlay[f]) for f in overlay if overlay[f] != originals[f]}
    return report, changes
