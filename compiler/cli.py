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


def _validated_spec(args):
    """Compose ``args.spec`` with ``args.overrides`` and validate it: ``(composed, validated, None)``,
    or ``(composed, None, exit code)`` after printing the located diagnostics to stderr. What
    ``resolve``, ``compile``, ``run`` and ``lr-find`` all start with."""
    from .compose import compose
    from .validate import validate_data

    composed = compose(args.spec, args.overrides, _limits(args))
    diagnostics = list(composed.diagnostics)
    validated = None
    if composed.data is not None and not diagnostics:
        validated = validate_data(composed.data, composed.source_map)
        diagnostics = validated.diagnostics
    if diagnostics:
        _print_diagnostics(diagnostics, composed.texts, sys.stderr)
        return composed, None, _exit_code(diagnostics)
    return composed, validated, None


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


def _lint_config(args, path: str):
    from pathlib import Path

    from ..rules.config import find_pyproject, load_config, with_cli

    config = load_config(Path(args.config) if args.config else find_pyproject(path))
    config = with_cli(
        config,
        select=_codes(args.select),
        ignore=_codes(args.ignore),
        extend_select=_codes(args.extend_select),
        fail_on=args.fail_on,
    )
    if not config.has_selectors():
        return config  # nothing to check, and no reason to import every rule
    from ..rules.registry import python_rules, spec_rules
    from ..rules.suppression import UnusedSuppression

    codes = [*spec_rules(), UnusedSuppression.code]
    if path.endswith(".py"):
        codes += list(python_rules())
    # Python rules need libcst to import; on the YAML path their selectors are taken on trust.
    config.check_selectors(codes, trusted_prefixes=() if path.endswith(".py") else ("PY",))
    return config


def _codes(values) -> list[str] | None:
    if not values:
        return None
    return [code.strip() for value in values for code in value.split(",") if code.strip()]


def cmd_lint(args) -> int:
    """Lint specs and Python files: validation first, then the practice rules; fix on request."""
    import difflib

    from ..rules.config import ConfigError
    from ..runtime.files import write_atomic
    from . import report as fmt
    from .lint import expand_paths, fix_path, lint_path

    limits = _limits(args)
    paths = expand_paths(args.files)
    if not paths:
        print("rigorml: no spec or Python files found", file=sys.stderr)
        return EXIT_UNUSABLE
    reports = []
    diffs: list[str] = []
    try:
        for path in paths:
            config = _lint_config(args, path)
            if args.fix or args.unsafe_fixes or args.diff:
                result, changes = fix_path(path, config, unsafe=args.unsafe_fixes, overrides=args.override or (), limits=limits)
                for file, (before, after) in changes.items():
                    if args.diff:
                        diffs.extend(difflib.unified_diff(before.splitlines(True), after.splitlines(True), file, file))
                    else:
                        write_atomic(file, after)
                result.fail_on = config.fail_on  # each file is judged by its own configuration
                reports.append(result)
            else:
                result = lint_path(path, config, args.override or (), limits)
                result.fail_on = config.fail_on
                reports.append(result)
    except ConfigError as exc:
        print(f"rigorml: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE

    from ..rules.registry import all_rules

    if args.diff:
        sys.stdout.write("".join(diffs))
        return EXIT_FINDINGS if diffs else EXIT_OK
    if args.format == "json":
        sys.stdout.write(fmt.format_json(reports, _version()))
    elif args.format == "sarif":
        sys.stdout.write(fmt.format_sarif(reports, all_rules(), _version()))
    elif args.format == "github":
        sys.stdout.write(fmt.format_github(reports))
    else:
        if args.statistics:
            sys.stdout.write(fmt.statistics(reports, all_rules()))
        else:
            sys.stdout.write(fmt.format_text(reports))
        if not args.quiet:
            print(fmt.summary(reports), file=sys.stderr)
    if any(d.fatal for r in reports for d in r.diagnostics):
        return EXIT_UNUSABLE
    if args.exit_zero:
        return EXIT_OK
    return EXIT_FINDINGS if fmt.fails(reports) else EXIT_OK


def cmd_rules(args) -> int:
    from ..rules.registry import all_rules

    rules = all_rules()
    if args.format == "json":
        payload = [
            {
                "code": code,
                "name": rule.name,
                "family": rule.family(),
                "severity": rule.severity.value,
                "fix": rule.doc.fix,
                "kind": rule.kind,
                "message": rule.message,
            }
            for code, rule in rules.items()
        ]
        json.dump(payload, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    for code, rule in rules.items():
        fix = {"safe": "[*]", "unsafe": "[~]"}.get(rule.doc.fix, "   ")
        print(f"{code:7s} {fix} {rule.name:44s} {rule.severity.value:8s} {rule.message}")
    return EXIT_OK


def cmd_rule(args) -> int:
    from ..rules.docs import rule_markdown, rule_text
    from ..rules.registry import all_rules

    rules = all_rules()
    code = args.code.upper()
    rule = rules.get(code) or next((r for r in rules.values() if r.name == args.code), None)
    if rule is None:
        import difflib

        close = difflib.get_close_matches(code, list(rules), n=1) or difflib.get_close_matches(
            args.code, [r.name for r in rules.values()], n=1
        )
        print(f"rigorml: unknown rule {args.code!r}" + (f"; did you mean {close[0]!r}?" if close else ""), file=sys.stderr)
        return EXIT_UNUSABLE
    sys.stdout.write(rule_markdown(rule) if args.format == "markdown" else rule_text(rule))
    return EXIT_OK


def cmd_resolve(args) -> int:
    from .resolve import canonical_json, resolve_spec, spec_hash

    composed, _, code = _validated_spec(args)
    if code is not None:
        return code
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


def _lazy(module: str, name: str):
    """A command that lives in a heavier module, imported only when it runs."""

    def command(args) -> int:
        from importlib import import_module

        return getattr(import_module(f".{module}", __package__), name)(args)

    command.__name__ = name
    return command


cmd_compile = _lazy("project", "cmd_compile")
cmd_run = _lazy("project", "cmd_run")
cmd_evaluate = _lazy("project", "cmd_evaluate")
cmd_lr_find = _lazy("lr_find", "cmd_lr_find")
cmd_report = _lazy("report_command", "cmd_report")
cmd_sweep = _lazy("sweep_command", "cmd_sweep")
cmd_sweep_worker = _lazy("sweep_command", "cmd_sweep_worker")
cmd_import = _lazy("import_command", "cmd_import")


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

    if wanted("lint"):
        _add_lint(sub)
    if wanted("rules"):
        p = sub.add_parser("rules", help="list every lint rule", description="List every lint rule: code, fix ([*] safe, [~] unsafe), name, severity, message.")
        p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
        p.set_defaults(func=cmd_rules)
    if wanted("rule"):
        p = sub.add_parser("rule", help="print one rule's documentation", description="Print one rule's documentation.")
        p.add_argument("code", metavar="CODE", help="rule code (e.g. STA001) or name (too-few-seeds)")
        p.add_argument("--format", choices=("text", "markdown"), default="text", help="output format (default: text)")
        p.set_defaults(func=cmd_rule)

    for name, func, summary in (
        ("validate", cmd_validate, "check spec files against the spec model; every error located at file:line:col"),
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

    if wanted("run"):
        _add_run(sub)
    if wanted("resolve"):
        _add_resolve(sub)
    if wanted("compile"):
        _add_compile(sub)
    if wanted("schema"):
        _add_schema(sub)
    if wanted("init"):
        _add_init(sub)
    if wanted("lr-find"):
        _add_lr_find(sub)
    if wanted("report"):
        _add_report(sub)
    if wanted("evaluate"):
        _add_evaluate(sub)
    if wanted("sweep"):
        _add_sweep(sub)
    if wanted("sweep-worker"):
        _add_sweep_worker(sub)
    if wanted("import"):
        _add_import(sub)
    return parser


def _add_lint(sub) -> None:
    summary = "check specs (and Python training code) against the experiment-practice rules"
    p = sub.add_parser(
        "lint",
        help=summary,
        description=summary + ". Specs are validated first; rules run on valid specs. "
        "Configure in [tool.rigorml] of pyproject.toml; suppress with '# rigorml: ignore[CODE]'.",
    )
    p.add_argument("files", nargs="+", metavar="PATH", help="spec files, Python files, or directories")
    p.add_argument("--format", choices=("text", "json", "sarif", "github"), default="text", help="output format (default: text)")
    p.add_argument("--fail-on", choices=("error", "warning", "info"), default=None, help="exit 1 when a finding is at least this severe (default: warning)")
    p.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    p.add_argument("--statistics", action="store_true", help="print a count per rule instead of each finding")
    p.add_argument("--select", action="append", metavar="CODES", help="only these rules (codes or prefixes, comma-separated)")
    p.add_argument("--ignore", action="append", metavar="CODES", help="skip these rules (codes or prefixes)")
    p.add_argument("--extend-select", action="append", metavar="CODES", help="add rules to the selection")
    p.add_argument("--fix", action="store_true", help="apply safe fixes in place")
    p.add_argument("--unsafe-fixes", action="store_true", help="apply unsafe fixes too (implies --fix)")
    p.add_argument("--diff", action="store_true", help="print the fixes as a diff instead of writing them")
    p.add_argument("--config", metavar="PYPROJECT", help="use this pyproject.toml instead of the nearest one")
    p.add_argument("-q", "--quiet", action="store_true", help="no summary line")
    p.add_argument("--override", action="append", metavar="KEY=VALUE", help="apply an override before checking (repeatable)")
    _add_input_options(p)
    p.set_defaults(func=cmd_lint)


def _add_run(sub) -> None:
    p = sub.add_parser(
        "run",
        help="lint, compile, train every arm over every replicate seed, evaluate, sweep, report",
        description="Lint and compile SPEC into RUN_DIR/project, train every arm over every replicate seed, run "
        "the preregistered evaluation, then the spec's sweep (unless --no-sweep), and write the report. "
        "Re-running is idempotent: finished runs are skipped, interrupted ones resume from their checkpoints, "
        "and the sweep resumes its study.",
    )
    p.add_argument("spec", metavar="SPEC", help="spec file")
    p.add_argument("overrides", nargs="*", metavar="OVERRIDE", help="key.path=value | +key.path=value | ~key.path")
    p.add_argument("--jobs", "-j", type=int, default=1, metavar="N", help="runs trained at once (default 1)")
    p.add_argument(
        "--nproc",
        type=int,
        default=1,
        metavar="N",
        help="train each run data-parallel on N processes, launched with torchrun (default 1: no torchrun); "
        "data.loader.batch_size stays the global batch size and must be divisible by N; NCCL on GPUs "
        "(one per process), gloo on the CPU; --jobs x --nproc processes in all",
    )
    p.add_argument("--run-dir", metavar="DIR", help="where the project and the runs go (default: runs/<experiment>)")
    p.add_argument(
        "--no-sweep",
        action="store_true",
        help="skip the spec's sweep (by default it runs after the evaluation, in RUN_DIR/sweeps/<study>, "
        "as `rigorml sweep` would: search, importances, final validation over fresh seeds on test)",
    )
    p.add_argument("--allow-errors", action="store_true", help="run even when the spec has lint errors")
    _add_input_options(p)
    p.set_defaults(func=cmd_run)


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


def _add_compile(sub) -> None:
    summary = "compile a spec into a runnable project: train.py, config.resolved.json, README.md, requirements.txt"
    p = sub.add_parser(
        "compile",
        help=summary,
        description=summary + ". The spec is validated and linted first: lint errors refuse to compile "
        "(warnings are shown). Overrides as for `rigorml resolve`.",
        epilog="Exit codes: 0 compiled, 1 the spec has errors (validation or lint), 2 usage error or "
        "the output directory cannot be written.",
    )
    p.add_argument("spec", metavar="SPEC", help="spec file")
    p.add_argument("overrides", nargs="*", metavar="OVERRIDE", help="key.path=value | +key.path=value | ~key.path")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="directory to write the project to")
    p.add_argument("--allow-errors", action="store_true", help="compile even when the spec has lint errors")
    p.add_argument("--force", action="store_true", help="write into a non-empty DIR, overwriting the generated files")
    _add_input_options(p)
    p.set_defaults(func=cmd_compile)


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


def _add_lr_find(sub) -> None:
    summary = "run the learning-rate range test on one arm and suggest training.optimizer.lr"
    p = sub.add_parser(
        "lr-find",
        help=summary,
        description=summary + ". The spec is validated as for `rigorml compile`; the learning rate grows "
        "exponentially from --start to --end over --steps training steps, and the suggestion is where the "
        "smoothed loss falls fastest (its steepest descent, not its minimum). Model and optimiser are "
        "restored afterwards. Writes lr_find.png and lr_find.json.",
        epilog="Exit codes: 0 a learning rate was suggested, 1 the spec has errors or no suggestion could be "
        "made, 2 bad arguments or the run could not be set up.",
    )
    p.add_argument("spec", metavar="SPEC", help="spec file")
    p.add_argument("overrides", nargs="*", metavar="OVERRIDE", help="key.path=value | +key.path=value | ~key.path")
    p.add_argument("--arm", metavar="NAME", help="variant to test (default: the baseline, else the first arm)")
    p.add_argument("--seed", type=int, metavar="N", help="replicate seed (default: the first of seeds.replicates)")
    p.add_argument("--start", type=float, default=1e-7, metavar="LR", help="first learning rate (default: 1e-7)")
    p.add_argument("--end", type=float, default=10.0, metavar="LR", help="last learning rate (default: 10)")
    p.add_argument("--steps", type=int, default=100, metavar="N", help="training steps, at least 10 (default: 100)")
    p.add_argument("-o", "--output", metavar="DIR", help="where to write the plot and JSON (default: runs/<experiment>/lr-find)")
    _add_input_options(p)
    p.set_defaults(func=cmd_lr_find)


def _add_report(sub) -> None:
    summary = "write the report of a run directory: report.md, report.json and a self-contained report.html"
    p = sub.add_parser(
        "report",
        help=summary,
        description=summary + " (comparisons with a forest plot and verdicts against the minimum effect, "
        "metrics over seeds, learning curves, the sweep, environment and git state). The evaluation is "
        "read from evaluation.json, or made when it is missing.",
        epilog="Exit codes: 0 written, 1 written but the runs could not be evaluated, 2 RUN_DIR is not a "
        "run directory or the report cannot be written.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a directory `rigorml run` wrote (holds project/ and ARM/seed-SEED/)")
    p.add_argument("-o", "--output", metavar="OUT", help="where to write the report (default: RUN_DIR)")
    p.set_defaults(func=cmd_report)


def _add_evaluate(sub) -> None:
    summary = "evaluate a run directory: the preregistered comparisons, written to evaluation.json and evaluation.md"
    p = sub.add_parser(
        "evaluate",
        help=summary,
        description=summary + " (runs the project's evaluate.py: pairing checks, metrics recomputed from the "
        "predictions, the declared tests, effect sizes, corrections and verdicts).",
        epilog="Exit codes: 0 evaluated, 1 runs missing, nothing to evaluate or an untrusted LLM judge, "
        "2 RUN_DIR is not a run directory.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a directory `rigorml run` wrote (holds project/ and ARM/seed-SEED/)")
    p.add_argument("-o", "--output", metavar="OUT", help="where to write evaluation.json (default: RUN_DIR)")
    p.set_defaults(func=cmd_evaluate)


def _add_sweep(sub) -> None:
    summary = "run or resume the spec's hyperparameter search (Optuna) on worker processes of this machine"
    p = sub.add_parser(
        "sweep",
        help=summary,
        description=summary + ", print the best configuration, then validate it over fresh seeds on the "
        "held-out split (sweep.final_validation). Several workers share the study through Optuna's journal "
        "file unless --storage names a database; a worker that dies mid-trial has its trial failed and "
        "retried once its heartbeat is overdue. Ctrl-C stops cleanly; the same command resumes.",
        epilog="Exit codes: 0 done, 1 the spec has errors or no trial completed, 2 bad options or a storage "
        "that cannot be opened, 130 interrupted.",
    )
    _add_sweep_options(p, joining=False)
    p.add_argument("--no-final-validation", action="store_true", help="skip the final validation after the search")
    p.set_defaults(func=cmd_sweep)


def _add_import(sub) -> None:
    summary = "convert another tool's configuration into a rigorml spec section"
    p = sub.add_parser(
        "import",
        help=summary,
        description=summary + ". `wandb-sweep FILE`: a W&B sweep configuration (method, metric, parameters, "
        "early_terminate, run_cap...) read with W&B's semantics and written as the equivalent rigorml `sweep:` "
        "section, with a comment on each value (what it was in W&B, what was approximated). "
        "A spec may also hold it unconverted: `sweep: {format: wandb, ...}`. See docs/wandb-sweeps.md.",
        epilog="Exit codes: 0 converted (warnings are printed to standard error), 2 the file cannot be read "
        "or converted (each problem at FILE:line:col).",
    )
    p.add_argument("kind", choices=("wandb-sweep",), metavar="KIND", help="what FILE is: wandb-sweep")
    p.add_argument("file", metavar="FILE", help="the configuration file (YAML)")
    p.add_argument("-o", "--output", metavar="OUT", help="write the section to OUT instead of standard output")
    _add_input_options(p)
    p.set_defaults(func=cmd_import)


def _add_sweep_worker(sub) -> None:
    summary = "join a study kept in a shared database (PostgreSQL) from this machine and run its trials"
    p = sub.add_parser(
        "sweep-worker",
        help=summary,
        description=summary + " until the study's budget is reached (every machine's trials count). Use "
        "the same spec as the other machines: a study started by a different search is refused.",
        epilog="Exit codes: 0 done, 1 the spec has errors or no trial completed, 2 bad options or a storage "
        "that cannot be opened, 130 interrupted.",
    )
    _add_sweep_options(p, joining=True)
    p.set_defaults(func=cmd_sweep_worker)


def _add_sweep_options(p: argparse.ArgumentParser, *, joining: bool) -> None:
    p.add_argument("spec", metavar="SPEC", help="spec file with a `sweep` section")
    p.add_argument("overrides", nargs="*", metavar="OVERRIDE", help="key.path=value | +key.path=value | ~key.path")
    p.add_argument("--workers", type=int, metavar="N", help="worker processes on this machine (default: sweep.workers)")
    p.add_argument(
        "--storage",
        required=joining,
        metavar="URL",
        help="the study's storage: postgresql://USER@HOST/DB (several machines), journal:PATH (one machine), "
        "sqlite:///PATH"
        + ("" if joining else " (default: sweep.storage, else study.db in the sweep directory for one "
           "worker, study.journal for several)"),
    )  # fmt: skip
    p.add_argument("--trials", type=int, metavar="N", help="the trial budget, counting earlier and other workers' trials (default: sweep.n_trials)")
    p.add_argument("--sweep-dir", metavar="DIR", help="where the trial directories and best.json go (default: runs/<experiment>/sweeps/<study>)")
    p.add_argument("--heartbeat", type=int, metavar="S", help="seconds between a running trial's heartbeats (default: 30)")
    p.add_argument("--grace", type=int, metavar="S", help="a trial silent this long is failed and retried (default: 120)")
    p.add_argument("--max-retries", type=int, metavar="N", help="retries of one configuration whose worker died (default: 3)")
    _add_input_options(p)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (the console script passes it to ``sys.exit``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # Build only the subcommand that runs: a full parser costs milliseconds that pre-commit pays
    # on every commit. Help, errors and unknown commands get the full parser.
    first = argv[0] if argv else None
    known = first in ("validate", "lint", "rules", "rule", "run", "resolve", "compile", "schema", "init", "lr-find", "report", "evaluate", "sweep", "sweep-worker", "import")
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
