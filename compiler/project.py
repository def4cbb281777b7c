"""``rigorml compile`` and ``rigorml run``: a spec becomes a project, and the project's runs are trained.

Kept apart from :mod:`.cli` (which the pre-commit path imports) because these commands need the
``run`` extra (jinja2, torch) and are longer than the rest of the command line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from .cli import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_UNUSABLE,
    _print_diagnostics,
    _validated_spec,
    _version,
)
from ..runtime.files import write_atomic


def cmd_compile(args) -> int:
    """Compile a spec into a project: validate, lint (errors refuse), resolve, generate, write.

    Nothing is written unless every step succeeds; each file is written atomically. ``--force``
    overwrites the generated files in a non-empty directory and leaves everything else there (a
    ``runs/`` folder survives a recompile).
    """
    from ..rules.config import ConfigError, find_pyproject, load_config
    from ..rules.context import SpecContext
    from ..rules.runner import lint_spec_context
    from . import report as fmt
    from .codegen import CodegenError, generate_project
    from .diagnostics import Diagnostic, Severity
    from .lint import FileReport
    from .resolve import resolve_spec

    try:
        import jinja2  # noqa: F401  (the templates need it; it comes with the `run` extra)
    except ImportError:
        print("rigorml: compile needs jinja2: pip install 'rigorml[run]'", file=sys.stderr)
        return EXIT_UNUSABLE
    out = args.output
    if os.path.exists(out) and not os.path.isdir(out):
        print(f"rigorml: {out} exists and is not a directory", file=sys.stderr)
        return EXIT_UNUSABLE
    if os.path.isdir(out) and os.listdir(out) and not args.force:
        print(f"rigorml: {out} is not empty; pass --force to overwrite the generated files in it", file=sys.stderr)
        return EXIT_UNUSABLE

    composed, validated, code = _validated_spec(args)
    if code is not None:
        return code

    # The spec rules, configured as `rigorml lint` configures them ([tool.rigorml] in the nearest
    # pyproject.toml): errors refuse to compile, warnings and infos are shown.
    try:
        config = load_config(find_pyproject(args.spec))
    except ConfigError as exc:
        print(f"rigorml: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    context = SpecContext(args.spec, validated.spec, composed.data, composed.source_map, composed.texts, validated.warnings)
    findings = lint_spec_context(context, config)
    if findings:
        sys.stderr.write(fmt.format_text([FileReport(args.spec, "spec", findings, composed.texts)]))
    errors = [d for d in findings if d.severity is Severity.ERROR]
    if errors and not args.allow_errors:
        noun = "error" if len(errors) == 1 else "errors"
        print(f"rigorml: not compiled: {len(errors)} lint {noun} (fix them, or pass --allow-errors)", file=sys.stderr)
        return EXIT_FINDINGS

    from ..schemas.spec import Spec

    _, resolved = resolve_spec(Spec.model_validate(composed.data))
    try:
        # Relative, so that the project holds no absolute path; the same layout gives the same bytes.
        spec_dir = os.path.relpath(os.path.dirname(os.path.abspath(args.spec)), os.path.abspath(out))
        files = generate_project(resolved, rigorml_version=_version(), spec_dir=spec_dir.replace(os.sep, "/"))
    except CodegenError as exc:
        span = composed.source_map.locate(exc.path)
        _print_diagnostics([Diagnostic("SPC004", exc.message, span, path=exc.path)], composed.texts, sys.stderr)
        return EXIT_FINDINGS

    umask = os.umask(0)  # read it: temporary files are private, the project's files are not
    os.umask(umask)
    try:
        os.makedirs(out, exist_ok=True)
        for name in files:  # the file set depends on the spec (sweep.py only with a sweep)
            write_atomic(os.path.join(out, name), files[name])
            os.chmod(os.path.join(out, name), 0o666 & ~umask)
    except OSError as exc:
        print(f"rigorml: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    digest = files["config.sha256"].strip()
    print(f"wrote {out}: {', '.join(files)} (config sha256 {digest})")
    print(f"next: python {os.path.join(out, 'train.py')} --all, then python {os.path.join(out, 'evaluate.py')}")
    if "sweep.py" in files:
        print(f"      (the hyperparameter search: python {os.path.join(out, 'sweep.py')})")
    return EXIT_OK


def cmd_run(args) -> int:
    """Lint and compile the spec into the run directory, then train every arm over every replicate
    seed (``--jobs`` runs at once, each on ``--nproc`` data-parallel processes under torchrun),
    resuming what was interrupted and skipping what finished. On a terminal a progress bar shows
    the runs done and training (:mod:`.progress`); elsewhere one line per finished run. Then the
    evaluation (:mod:`rigorml.runtime.evaluate`) writes evaluation.json and evaluation.md."""
    import subprocess
    import time

    from .progress import RunProgress

    nproc = getattr(args, "nproc", 1)

    root = os.path.abspath(args.run_dir or os.path.join("runs", _experiment_name(args.spec) or "experiment"))
    project = os.path.join(root, "project")
    compile_args = argparse.Namespace(
        spec=args.spec, overrides=args.overrides, output=project, force=True, allow_errors=args.allow_errors,
        max_bytes=args.max_bytes,
    )  # fmt: skip
    code = cmd_compile(compile_args)
    if code != EXIT_OK:
        return code
    with open(os.path.join(project, "config.resolved.json"), encoding="utf-8") as handle:
        resolved = json.load(handle)
    with open(os.path.join(project, "config.sha256"), encoding="utf-8") as handle:
        digest = handle.read().split()[0]
    arms = list(resolved.get("variants") or {}) or ["base"]
    seeds = resolved["seeds"]["replicates"]
    pending = [(arm, seed) for seed in seeds for arm in arms]  # seed by seed: complete pairs first
    total = len(pending)
    refusal = _nproc_refusal(resolved, arms, nproc)
    if refusal is not None:
        print(f"rigorml: {refusal}", file=sys.stderr)
        return EXIT_UNUSABLE
    processes = f" x {nproc} data-parallel process(es)" if nproc > 1 else ""
    print(f"training {len(arms)} arm(s) x {len(seeds)} seed(s) = {total} run(s) in {root} with {args.jobs} job(s){processes}", file=sys.stderr)
    # One process runs train.py; several are started by torchrun, which finds a free port itself.
    launcher = [sys.executable] if nproc == 1 else [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}"]

    running: dict = {}
    failures: list[str] = []
    started = time.monotonic()
    progress = RunProgress(total)
    try:
        while pending or running:
            while pending and len(running) < args.jobs:
                arm, seed = pending.pop(0)
                run_dir = os.path.join(root, arm, f"seed-{seed}")
                finished = _read_result(run_dir)
                if finished is not None and finished.get("config_sha256") == digest:
                    # nothing to do: no process, no torch import
                    progress.finished(arm, seed, f"already {finished['status']}")
                    continue
                os.makedirs(run_dir, exist_ok=True)
                log = open(os.path.join(run_dir, "train.log"), "a", encoding="utf-8")
                process = subprocess.Popen(
                    [*launcher, os.path.join(project, "train.py"), "--arm", arm, "--seed", str(seed), "--run-dir", run_dir],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
                running[process] = (arm, seed, run_dir, log, time.monotonic())
                progress.started(arm, seed)
            for process in list(running):
                if process.poll() is None:
                    continue
                arm, seed, run_dir, log, began = running.pop(process)
                log.close()
                outcome = _read_result(run_dir)
                if process.returncode != 0 or outcome is None:
                    failures.append(f"{arm} seed {seed} (exit {process.returncode}; see {os.path.join(run_dir, 'train.log')})")
                    state = "FAILED"
                else:
                    primary = resolved["metrics"]["primary"]
                    value = outcome.get("metrics", {}).get(f"test/{primary}")
                    state = f"{outcome['status']}" + (f", test/{primary} {value:.4f}" if value is not None else "")
                progress.finished(arm, seed, f"{state} ({time.monotonic() - began:.1f} s)")
            progress.tick()
            time.sleep(0.05)
    except KeyboardInterrupt:
        progress.close()
        for process, (*_, log, _) in running.items():
            process.terminate()
        for process, (*_, log, _) in running.items():
            process.wait()
            log.close()
        print("rigorml: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    progress.close()

    evaluated = _evaluate(root, resolved, os.path.dirname(os.path.abspath(args.spec)))
    print(f"{total - len(failures)} of {total} run(s) finished in {time.monotonic() - started:.0f} s", file=sys.stderr)
    for failure in failures:
        print(f"rigorml: run failed: {failure}", file=sys.stderr)
    swept = EXIT_OK
    if resolved.get("sweep") and not getattr(args, "no_sweep", False):
        swept = _sweep(args, root, resolved)
        if swept == 130:
            return swept
    from .report_command import report_run

    report_run(root)  # report.md/.json/.html next to evaluation.json; a report that fails says why
    return EXIT_FINDINGS if failures or not evaluated or swept != EXIT_OK else EXIT_OK


def _sweep(args, root: str, resolved: dict) -> int:
    """Run the spec's sweep as ``rigorml sweep`` does (search with its progress display, importances,
    then the best configuration over fresh seeds on the test split) in ``<root>/sweeps/<study>``,
    the folder ``rigorml sweep --sweep-dir`` would be given for this run directory. Returns its exit
    code (130 when interrupted)."""
    from .sweep_command import cmd_sweep

    study = resolved["sweep"]["study_name"] or resolved["experiment"]["name"]
    sweep_args = argparse.Namespace(
        spec=args.spec, overrides=args.overrides, max_bytes=args.max_bytes, workers=None, storage=None, trials=None,
        sweep_dir=os.path.join(root, "sweeps", study), heartbeat=None, grace=None, max_retries=None,
        no_final_validation=False,
    )  # fmt: skip
    sys.stdout.flush()
    code = cmd_sweep(sweep_args)
    if code not in (EXIT_OK, 130):
        print(f"rigorml: the sweep did not finish (exit {code}); see {sweep_args.sweep_dir}", file=sys.stderr)
    return code


def _nproc_refusal(resolved: dict, arms: list[str], nproc: int) -> str | None:
    """Why the runs cannot train on ``nproc`` data-parallel processes, or None when they can:
    every arm's ``data.loader.batch_size`` is the global batch size and must divide by ``nproc``."""
    if nproc < 1:
        return f"--nproc must be at least 1, not {nproc}"
    from ..runtime.config import arm_config

    for arm in arms:
        batch_size = arm_config(resolved, arm)["data"]["loader"]["batch_size"]
        if batch_size % nproc:
            return (
                f"arm {arm}: data.loader.batch_size {batch_size} is the global batch size and must be divisible "
                f"by --nproc {nproc} (each process takes an equal share of every batch): choose a batch size "
                f"that is a multiple of {nproc}, or another --nproc"
            )
    return None


def _experiment_name(spec: str) -> str | None:
    from .compose import compose

    composed = compose(spec)
    data = composed.data if isinstance(composed.data, dict) else {}
    name = (data.get("experiment") or {}).get("name") if isinstance(data.get("experiment"), dict) else None
    return name if isinstance(name, str) and name.replace("-", "").replace("_", "").replace(".", "").isalnum() else None


def _read_result(run_dir: str) -> dict | None:
    path = os.path.join(run_dir, "result.json")
    try:
        with open(path, encoding="utf-8") as handle:
            result = json.load(handle)
    except (OSError, ValueError):
        return None
    return result if result.get("status") in ("finished", "early_stopped") else None


def _evaluate(root: str, resolved: dict, base_dir: str = ".") -> bool:
    """Evaluate the runs under ``root`` (``rigorml.runtime.evaluate``, what the project's
    evaluate.py runs), write ``evaluation.json`` and ``evaluation.md`` there and print the tables.

    Returns False when nothing could be evaluated or the runs disagree (unpaired examples, metrics
    that differ from result.json), after printing why; runs that are missing are listed in the
    tables and do not make it fail (the failed runs already do).
    """
    from ..runtime.evaluate import EvaluationError, evaluate_experiment, format_table, track_evaluation, write_evaluation

    try:
        result = evaluate_experiment(resolved, root, base_dir=base_dir)
        path, _ = write_evaluation(result, os.path.join(root, "evaluation.json"))
        track_evaluation(result, resolved, root)
    except EvaluationError as exc:
        print(f"rigorml: not evaluated: {exc}", file=sys.stderr)
        return False
    except OSError as exc:
        print(f"rigorml: cannot write the evaluation in {root}: {exc.strerror or exc}", file=sys.stderr)
        return False
    print(format_table(result), end="")
    state = "" if result["complete"] else f" (incomplete: {len(result['missing'])} run(s) not evaluated)"
    print(f"evaluation: {path} and evaluation.md{state}", file=sys.stderr)
    if result["judge_untrusted"]:
        print("rigorml: the LLM judge failed its human-agreement check: its win rates get no verdict", file=sys.stderr)
        return False
    return True


def cmd_evaluate(args) -> int:
    """``rigorml evaluate RUN_DIR``: run the project's own evaluate.py (compiled into
    ``RUN_DIR/project`` by ``rigorml run``) on the runs in RUN_DIR, writing evaluation.json and
    evaluation.md there. Exit codes: those of evaluate.py (0 evaluated, 1 runs missing or nothing
    to evaluate or an untrusted judge); 2 when RUN_DIR is not a ``rigorml run`` directory."""
    import subprocess

    script = os.path.join(args.run_dir, "project", "evaluate.py")
    if not os.path.isfile(script):
        print(
            f"rigorml: {args.run_dir} is not a rigorml run directory (no project/evaluate.py): "
            "give the folder `rigorml run` wrote, or run a compiled project's evaluate.py",
            file=sys.stderr,
        )
        return EXIT_UNUSABLE
    command = [sys.executable, script, "--runs", args.run_dir, "-o", args.output or args.run_dir]
    return subprocess.run(command).returncode

