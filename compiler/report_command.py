"""``rigorml report RUN_DIR``: the report of a run directory as Markdown, JSON and one HTML page.

Kept apart from :mod:`.cli` (which the pre-commit path imports): the report needs the ``run`` extra
(matplotlib, jinja2, scipy; optuna when there was a sweep). :func:`report_run` is what ``rigorml
run`` calls after its evaluation.
"""

from __future__ import annotations

import os
import sys

from .cli import EXIT_FINDINGS, EXIT_OK, EXIT_UNUSABLE


def cmd_report(args) -> int:
    """Build the report of ``args.run_dir`` and write report.md, report.json and report.html to
    ``args.output`` (default: the run directory); print the paths written.

    Exit codes: 0 written; 1 written, but the runs could not be evaluated (the report says why);
    2 not a run directory, the ``run`` extra missing, or the output cannot be written.
    """
    try:
        import jinja2  # noqa: F401
        import matplotlib  # noqa: F401
    except ImportError as exc:
        print(f"rigorml: report needs {exc.name}: pip install 'rigorml[run]'", file=sys.stderr)
        return EXIT_UNUSABLE
    from ..runtime.report import ReportError, build_report, write_report

    try:
        report = build_report(args.run_dir)
    except ReportError as exc:
        print(f"rigorml: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    out = args.output or args.run_dir
    if os.path.exists(out) and not os.path.isdir(out):
        print(f"rigorml: {out} exists and is not a directory", file=sys.stderr)
        return EXIT_UNUSABLE
    try:
        paths = write_report(report, out)
    except OSError as exc:
        print(f"rigorml: cannot write the report in {out}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    for path in paths:
        print(path)
    if report["evaluation"] is None:
        print("rigorml: the runs could not be evaluated; the report says why", file=sys.stderr)
        return EXIT_FINDINGS
    return EXIT_OK


def report_run(root: str) -> bool:
    """Write the report of the run directory ``root`` into it (what ``rigorml run`` does last);
    says where on stderr (stdout carries the evaluation's tables). Returns False, after saying
    why, when it could not be written."""
    from ..runtime.report import ReportError, build_report, write_report

    try:
        paths = write_report(build_report(root), root)
    except ReportError as exc:
        print(f"rigorml: no report: {exc}", file=sys.stderr)
        return False
    except OSError as exc:
        print(f"rigorml: cannot write the report in {root}: {exc.strerror or exc}", file=sys.stderr)
        return False
    print(f"report: {paths[-1]} (and {', '.join(p.name for p in paths[:-1])})", file=sys.stderr)
    return True
