"""``rigorml sweep`` and ``rigorml sweep-worker``: a spec's hyperparameter search on worker processes.

``rigorml sweep SPEC`` runs (or resumes) the spec's Optuna study on ``--workers`` processes of this
machine (:func:`rigorml.runtime.sweep.run_workers`), shows its progress, prints the best
configuration and then, when the spec asks for it, the final multi-seed validation of that
configuration. ``rigorml sweep-worker SPEC --storage URL`` adds this machine's processes to a study
that lives in a database (PostgreSQL) shared with other machines. Both stop cleanly on Ctrl-C (exit
130), and running the same command again resumes the study.

Kept apart from :mod:`.cli` (which the pre-commit path imports): these commands need the ``run``
extra (optuna, torch), imported only when a command runs.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import TextIO

from .cli import EXIT_FINDINGS, EXIT_OK, EXIT_UNUSABLE, _validated_spec
from .progress import REFRESH_S, _is_tty

EXIT_INTERRUPTED = 130


def cmd_sweep(args) -> int:
    """``rigorml sweep SPEC [OVERRIDES] [--workers N] [--storage URL] [--trials N] [--sweep-dir DIR]``:
    run or resume the search, print the best configuration, then the final validation (unless
    ``--no-final-validation`` or ``sweep.final_validation.enabled: false``).
    Exit codes: 0 done, 1 no trial completed (or the workers or the final validation failed),
    2 bad input (spec without a sweep, storage that cannot be opened, bad options), 130 Ctrl-C."""
    return _search(args, joining=False)


def cmd_sweep_worker(args) -> int:
    """``rigorml sweep-worker SPEC [OVERRIDES] --storage URL``: run trials of the spec's study, kept in
    the shared database at URL, until the study's budget is reached (other machines' trials
    count), with ``--workers`` processes here. Exit codes as for :func:`cmd_sweep`."""
    return _search(args, joining=True)


def _search(args, *, joining: bool) -> int:
    prepared = _prepare(args, joining=joining)
    if isinstance(prepared, int):
        return prepared
    resolved, sweep_dir, base_dir, heartbeat = prepared

    import optuna

    from ..runtime.sweep import BEST_FILE, StorageError, SweepWorkersFailed, run_workers

    # Optuna's own lines ("A new study created...") would only repeat what the display says.
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    workers = args.workers if args.workers is not None else resolved["sweep"]["workers"]
    progress = TrialProgress(sys.stderr)
    prefix = f"{socket.gethostname()}-{os.getpid()}-" if joining else ""
    try:
        run_workers(
            resolved,
            sweep_dir,
            workers=workers,
            base_dir=base_dir,
            n_trials=args.trials,
            storage=args.storage,
            heartbeat=heartbeat,
            observer=progress,
            worker_prefix=prefix,
        )
    except KeyboardInterrupt:
        progress.close()
        print(
            "rigorml: interrupted: the trials in progress were recorded as failed and best.json written; "
            "run the same command again to resume the study",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except StorageError as exc:
        progress.close()
        print(f"rigorml: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except SweepWorkersFailed as exc:
        progress.close()
        print(f"rigorml: sweep workers failed: {exc}", file=sys.stderr)
        return EXIT_FINDINGS
    except ValueError as exc:  # a study of another search, trial folders it does not know
        progress.close()
        print(f"rigorml: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    progress.close()

    summary = json.loads((sweep_dir / BEST_FILE).read_text(encoding="utf-8"))
    code = print_best(summary, sweep_dir)
    if code == EXIT_OK:
        _analyse(resolved, sweep_dir, args.storage)
    if code != EXIT_OK or joining:
        return code
    final = resolved["sweep"]["final_validation"]
    if final["enabled"] and not args.no_final_validation:
        return _final_validation(resolved, sweep_dir, base_dir, final)
    return code


def _prepare(args, *, joining: bool):
    """Validate the spec and the options: ``(resolved, sweep_dir, base_dir, heartbeat)``, or the exit
    code after printing why not."""
    if args.workers is not None and args.workers < 1:
        return _refuse(f"--workers must be at least 1, not {args.workers}")
    if args.trials is not None and args.trials < 1:
        return _refuse(f"--trials must be at least 1, not {args.trials}")
    from ..runtime.sweep import Heartbeat

    try:
        heartbeat = Heartbeat(
            Heartbeat.interval if args.heartbeat is None else args.heartbeat,
            Heartbeat.grace if args.grace is None else args.grace,
            Heartbeat.max_retries if args.max_retries is None else args.max_retries,
        )
    except ValueError as exc:
        return _refuse(str(exc))
    missing = [name for name in ("optuna", "torch") if _missing(name)]
    if missing:
        return _refuse(f"sweeps need {' and '.join(missing)}: pip install 'rigorml[run]'")

    composed, _, code = _validated_spec(args)
    if code is not None:
        return code
    from ..schemas.spec import Spec
    from .resolve import resolve_spec

    _, resolved = resolve_spec(Spec.model_validate(composed.data))
    if not resolved.get("sweep"):
        return _refuse(f"{args.spec} has no `sweep` section: nothing to search")
    if joining and not args.storage:
        return _refuse("sweep-worker needs --storage URL: the database holding the study the other machines share")
    study = resolved["sweep"]["study_name"] or resolved["experiment"]["name"]
    default = Path("runs") / resolved["experiment"]["name"] / "sweeps" / study
    sweep_dir = Path(args.sweep_dir) if args.sweep_dir else default
    if sweep_dir.exists() and not sweep_dir.is_dir():
        return _refuse(f"{sweep_dir} exists and is not a directory")
    base_dir = Path(args.spec).resolve().parent  # the spec names its data and modules relative to itself
    return resolved, sweep_dir.resolve(), base_dir, heartbeat


def _refuse(message: str) -> int:
    print(f"rigorml: {message}", file=sys.stderr)
    return EXIT_UNUSABLE


def _missing(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is None


def print_best(summary: dict, sweep_dir: Path, stream: TextIO | None = None) -> int:
    """Print the best configuration of a sweep summary (best.json): 0, or 1 when no trial completed."""
    stream = stream if stream is not None else sys.stdout
    trials = summary["trials"]
    print(
        f"{trials['complete']} complete, {trials['pruned']} pruned, {trials['failed']} failed trial(s) in study "
        f"{summary['study_name']} ({sweep_dir / 'best.json'})",
        file=stream,
    )
    best = summary["best"]
    if best is None:
        print("rigorml: no trial completed: the failures are listed in best.json", file=sys.stderr)
        return EXIT_FINDINGS
    objective = summary["objective"]
    where = f", trained by {best['worker']}" if best.get("worker") else ""
    print(
        f"best: trial {best['trial']}, {objective['metric']} = {best['value']:.6g} ({objective['direction']}){where}",
        file=stream,
    )
    for path, value in best["params"].items():
        print(f"  {path}: {json.dumps(value)}", file=stream)
    print("To use it, set these values in the spec (or add them as a variant).", file=stream)
    return EXIT_OK


def _analyse(resolved: dict, sweep_dir: Path, storage: str | None) -> None:
    """Parameter importances and sensitivities of the finished study, written to
    ``<sweep_dir>/analysis.json`` (``rigorml.runtime.sweep_analysis``) and summarised on stderr."""
    from ..runtime.sweep_analysis import analyse_sweep

    path = analyse_sweep(resolved, sweep_dir, storage)
    print(f"parameter importances and sensitivities: {path}", file=sys.stderr)


def _final_validation(resolved: dict, sweep_dir: Path, base_dir: Path, final: dict) -> int:
    """The best configuration over fresh replicate seeds on the held-out split
    (``rigorml.runtime.sweep_final``), written to ``<sweep_dir>/final.json``."""
    print(
        f"final validation: the best configuration over {final['seeds']} fresh seed(s) on the {final['split']} split",
        file=sys.stderr,
    )
    from ..runtime.sweep_final import run_final_validation

    try:
        final_record = run_final_validation(resolved, sweep_dir, base_dir=base_dir)
    except KeyboardInterrupt:
        print("rigorml: final validation interrupted; run the same command again to resume it", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ValueError as exc:  # FinalValidationError: the message says what to do
        print(f"rigorml: final validation: {exc}", file=sys.stderr)
        return EXIT_FINDINGS
    summary = final_record.get("summary")
    if summary:
        ci = summary.get("ci")
        spread = [f"sd {summary['sd']:.3g}"] if summary.get("sd") is not None else []
        if ci:
            spread.append(f"{final_record.get('confidence', 0.95):.0%} CI [{ci[0]:.4g}, {ci[1]:.4g}]")
        print(
            f"final validation: {summary['metric']} = {summary['mean']:.4g}"
            f"{' (' + ', '.join(spread) + ')' if spread else ''} over {summary['n']} seed(s)"
        )
    print(f"final validation: {sweep_dir / 'final.json'}", file=sys.stderr)
    return EXIT_OK


class TrialProgress:
    """The progress of a sweep on ``stream``: on a terminal (with tqdm) a bar of the trials counted
    towards the budget (complete and pruned, every worker's) with the running ones named; anywhere
    else plain lines. Each finished trial gets a line either way, ``[counted/budget] trial N: ...``.
    Implements :class:`rigorml.runtime.sweep.SweepObserver`."""

    def __init__(self, stream: TextIO | None = None, *, live: bool | None = None):
        self.stream = stream if stream is not None else sys.stderr
        self.live_wanted = live if live is not None else _is_tty(self.stream)
        self.budget = 0
        self.counted = 0
        self._running: list[int] = []
        self._bar = None
        self._drawn = time.monotonic()

    def opened(self, study, budget: int, counted: int, storage: str, workers: int) -> None:
        """The study is open: ``counted`` of ``budget`` trials already done."""
        self.budget, self.counted = budget, counted
        self.write(
            f"sweep {study.study_name}: {counted} of {budget} trial(s) done, {workers} worker(s), storage {storage}"
        )
        if self.live_wanted and counted < budget:
            try:
                from tqdm import tqdm
            except ImportError:  # the `run` extra brings tqdm; without it, plain lines
                return
            self._bar = tqdm(
                total=budget, initial=counted, desc="trials", unit="trial", file=self.stream, dynamic_ncols=True, leave=True
            )

    def trial_started(self, trial) -> None:
        if trial.number not in self._running:
            self._running.append(trial.number)
        self._show_running()

    def trial_finished(self, trial) -> None:
        from optuna.trial import TrialState

        from ..runtime.sweep import describe_trial

        if trial.number in self._running:
            self._running.remove(trial.number)
        counts = trial.state in (TrialState.COMPLETE, TrialState.PRUNED)
        self.counted += counts
        self.write(f"[{self.counted}/{self.budget}] trial {trial.number}: {describe_trial(trial)}")
        if self._bar is not None:
            self._show_running(refresh=False)
            if counts:
                self._bar.update(1)
            self._bar.refresh()
            self._drawn = time.monotonic()

    def note(self, message: str) -> None:
        self.write(f"rigorml: {message}")

    def tick(self) -> None:
        if self._bar is not None and time.monotonic() - self._drawn >= REFRESH_S:
            self._bar.refresh()
            self._drawn = time.monotonic()

    def write(self, line: str) -> None:
        if self._bar is not None:
            self._bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str("", refresh=False)
            self._bar.close()
            self._bar = None

    def _show_running(self, refresh: bool = True) -> None:
        if self._bar is not None:
            text = f"running {', '.join(f'trial {n}' for n in self._running)}" if self._running else ""
            self._bar.set_postfix_str(text, refresh=refresh)
            if refresh:
                self._drawn = time.monotonic()
