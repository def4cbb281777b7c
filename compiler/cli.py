"""The ``rigorml`` command line: the edge where diagnostics are printed and exit codes decided.

Exit codes: 0 -- everything is valid (for ``lint``: no finding at or above ``--fail-on``);
1 -- a spec has errors or findings; 2 -- rigorml could not do its job (usage error, unreadable
path, a file that is not YAML text, internal error).

Imports stay inside the commands: ``rigorml validate`` and ``rigorml lint`` on YAML run in
pre-commit on every commit and must not pay for torch, scipy, optuna, jinja2 or libcst.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Sequence

EXIT_OK, EXIT_FINDINGS, EXIT_UNUSABLE = 0, 1, 2

TASK_CHOICES = ("classification", "detection", "generation", "language_modeling", "regression", "ranking")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rigorml")
    except PackageNotFoundError:  # running from a source tree without installing
        return "0+unknown"


class _VersionAction(argparse.Action):
    """``--version``, reading the installed version only when asked (importlib.metadata is slow)."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"rigorml {_version()}")
        parser.exit()


def _limits(args):
    from .source import LoadLimits

    return LoadLimits(max_bytes=args.max_bytes)


def _print_diagnostics(diagnostics, texts: dict[str, str], stream) -> None:
    for d in diagnostics:
        print(d.format_text(), file=stream)


def _exit_code(diagnostics) -> int:
    if any(d.fatal for d in diagnostics):
        return EXIT_UNUSABLE
    return EXIT_FINDINGS if diagnostics else EXIT_OK


def _check_files(args, command: str) -> int:
    """``validate`` and ``lint``: load, compose, validate every file; report all problems at once."""
    from .compose import compose
    from .validate import validate_data

    limits = _limits(args)
    results = []
    for path in args.files:
        composed = compose(path, args.override or (), limits)
        diagnostics = list(composed.diagnostics)
        if composed.data is not None and not diagnostics:
            diagnostics = validate_data(composed.data, composed.source_map).diagnostics
        results.append((path, composed, diagnostics))

    every = [d for _, _, ds in results for d in ds]
    if args.format == "json":
        payload = {
            "version": _version(),
            "command": command,
            "files": [
                {"file": path, "valid": not ds, "diagnostics": [d.to_json() for d in ds]} for path, _, ds in results
            ],
            "summary": {
                "files": len(results),
                "invalid_files": sum(1 for _, _, ds in results if ds),
                "errors": len(every),
            },
        }
        json.dump(payload, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for path, composed, diagnostics in results:
            _print_diagnostics(diagnostics, composed.texts, sys.stdout)
            if not diagnostics and not args.quiet:
                print(f"{path}: valid")
        if every and not args.quiet:
            bad = sum(1 for _, _, ds in results if ds)
            noun = "error" if len(every) == 1 else "errors"
            print(f"Found {len(every)} {noun} in {bad} of {len(results)} file(s).", file=sys.stderr)
    return _exit_code(every)


def cmd_validate(args) -> int:
    return _check_files(args, "validate")


def cmd_lint(args) -> int:
    return _check_files(args, "lint")


def cmd_resolve(args) -> int:
    from .compose import compose
    from .resolve import canonical_json, resolve_spec, spec_hash
    from .validate import validate_data

    composed = compose(args.spec, args.overrides, _limits(args))
    diagnostics = list(composed.diagnostics)
    if composed.data is not None and not diagnostics:
        validated = validate_data(composed.data, composed.source_map)
        diagnostics = validated.diagnostics
    if diagnostics:
        _print_diagnostics(diagnostics, composed.texts, sys.stderr)
        return _exit_code(diagnostics)
    from ..schemas.spec import Spec

    _, resolved = resolve_spec(Spec.model_validate(composed.data))
    digest = spec_hash(resolved)
    if args.format == "json" or args.canonical:
        text = json.dumps(resolved, indent=2, ensure_ascii=False) + "\n"
        if args.canonical:
            text = canonical_json(resolved) + "\n"
        print(f"sha256: {digest}", file=sys.stderr)
    else:
        from .source import dump_yaml

        body = dump_yaml(resolved)
        text = f"# rigorml resolved spec\n# sha256: {digest}\n{body}"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_schema(args) -> int:
    if args.generate:
        from ..schemas.jsonschema import schema_text

        text = schema_text()
    else:
        from importlib.resources import files

        text = files("rigorml.schemas").joinpath("experiment.schema.json").read_text(encoding="utf-8")
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_init(args) -> int:
    from importlib.resources import files

    target = args.path
    if os.path.isdir(target):
        target = os.path.join(target, "experiment.yaml")
    if os.path.exists(target) and not args.force:
        print(f"rigorml: {target} exists; pass --force to overwrite it", file=sys.stderr)
        return EXIT_UNUSABLE
    text = files("rigorml.templates").joinpath("starters", f"{args.task}.yaml").read_text(encoding="utf-8")
    parent = os.path.dirname(target)
    if parent:
        os.makedirs(parent, exist_ok=True)
    with open(target, "w", encoding="utf-8") as handle:
        handle.write(text)
    print(f"wrote {target} (a {args.task} starter spec); next: rigorml lint {target}")
    return EXIT_OK


def _add_input_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-bytes",
        type=int,
        default=4 * 1024 * 1024,
        metavar="N",
        help="refuse spec files larger than N bytes (default: 4 MiB)",
    )


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with ``only``, just that subcommand's (start-up cost on pre-commit)."""
    parser = argparse.ArgumentParser(
        prog="rigorml",
        description="Validate, lint, compile and run ML experiment specs (one YAML file per experiment).",
        epilog="Exit codes: 0 ok, 1 the spec has errors/findings, 2 rigorml could not do its job.",
    )
    parser.add_argument("--version", action=_VersionAction, help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def wanted(name: str) -> bool:
        return only is None or only == name

    for name, func, summary in (
        ("validate", cmd_validate, "check spec files against the spec model; every error located at file:line:col"),
        ("lint", cmd_lint, "validate spec files and check them against the experiment-practice rules"),
    ):
        if not wanted(name):
            continue
        p = sub.add_parser(name, help=summary, description=summary)
        p.add_argument("files", nargs="+", metavar="FILE", help="spec files (YAML)")
        p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
        p.add_argument("-q", "--quiet", action="store_true", help="print only problems")
        p.add_argument(
            "--override", action="append", metavar="KEY=VALUE", help="apply an override before checking (repeatable)"
        )
        _add_input_options(p)
        p.set_defaults(func=func)

    if wanted("resolve"):
        _add_resolve(sub)
    if wanted("schema"):
        _add_schema(sub)
    if wanted("init"):
        _add_init(sub)
    return parser


def _add_resolve(sub) -> None:
    p = sub.add_parser(
        "resolve",
        help="print the fully resolved spec (defaults filled, extends and overrides applied) and its sha256",
        description="Print the fully resolved spec and its sha256. Overrides: key.path=value, +key=value (add), "
        "++key=value (set or add), ~key (delete); values are YAML.",
    )
    p.add_argument("spec", metavar="SPEC", help="spec file")
    p.add_argument("overrides", nargs="*", metavar="OVERRIDE", help="key.path=value | +key.path=value | ~key.path")
    p.add_argument("--format", choices=("yaml", "json"), default="yaml", help="output format (default: yaml)")
    p.add_argument("--canonical", action="store_true", help="print the exact canonical JSON that is hashed (implies --format json)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    _add_input_options(p)
    p.set_defaults(func=cmd_resolve)


def _add_schema(sub) -> None:
    p = sub.add_parser("schema", help="print the JSON Schema of the spec (for editors)", description="Print the JSON Schema of the spec.")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    p.add_argument("--generate", action="store_true", help="generate it from the models instead of printing the packaged copy")
    p.set_defaults(func=cmd_schema)


def _add_init(sub) -> None:
    p = sub.add_parser("init", help="write a commented starter spec", description="Write a commented starter spec for a task.")
    p.add_argument("path", nargs="?", default="experiment.yaml", metavar="PATH", help="where to write it (default: experiment.yaml)")
    p.add_argument("--task", choices=TASK_CHOICES, default="classification", help="task kind (default: classification)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=cmd_init)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (the console script passes it to ``sys.exit``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # Build only the subcommand that runs: a full parser costs milliseconds that pre-commit pays
    # on every commit. Help, errors and unknown commands get the full parser.
    first = argv[0] if argv else None
    known = first in ("validate", "lint", "resolve", "schema", "init")
    parser = build_parser(first if known and "-h" not in argv and "--help" not in argv else None)
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_UNUSABLE
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("rigorml: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `rigorml schema | head`): not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:
        print(f"rigorml: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return EXIT_UNUSABLE
    except Exception as exc:  # the last line of defence: never a bare traceback for a user
        if os.environ.get("RIGORML_DEBUG"):
            raise
        print(
            f"rigorml: internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in rigorml; rerun with RIGORML_DEBUG=1 for the traceback and report it.",
            file=sys.stderr,
        )
        return EXIT_UNUSABLE
