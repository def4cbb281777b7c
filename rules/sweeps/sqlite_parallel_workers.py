"""HPO015 sqlite-parallel-workers: parallel trials use a storage that takes concurrent writers."""

from __future__ import annotations

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

_LR = "  parameters:\n    training.optimizer.lr: {distribution: log_uniform, low: 1.0e-4, high: 0.1}\n"


class SqliteParallelWorkers(SpecRule):
    code = "HPO015"
    name = "sqlite-parallel-workers"
    severity = Severity.WARNING
    message = "parallel workers on SQLite storage"
    doc = RuleDoc(
        what="Flags a sweep with `workers` > 1 whose storage is an explicit `sqlite:///...` URL. (With `storage` "
        "unset, `rigorml sweep` keeps one worker's study in SQLite and several workers' in Optuna's journal "
        "file, `study.journal`, so the default is fine.)",
        why=(
            "SQLite allows one writer at a time and locks the whole database file for each write. Parallel "
            "workers report intermediate values every epoch, so they queue on the lock, time out with 'database "
            "is locked', and lose trials. The domain's 'SQLite storage for persistence' is for one worker; "
            "Optuna's journal storage (`journal:PATH`) handles several processes on one machine, and PostgreSQL "
            "several machines."
        ),
        example="sweep:\n  workers: 4\n  storage: sqlite:///runs/study.db",
        instead="sweep:\n  workers: 4\n  storage: journal:runs/study.log",
        reference="Hyperparameter Optimization > Preferred Stack: 'Optuna (default): TPE + Hyperband pruner, SQLite "
        "storage for persistence'; 'Ray Tune: when distributed across machines'",
        fix="none",
        notes=("No fix: where the journal file or the database lives is the author's decision.",),
    )
    VALID = (
        BASE + "sweep:\n" + _LR,
        BASE + "sweep:\n  workers: 4\n" + _LR,
        BASE + "sweep:\n  workers: 4\n  storage: journal:runs/study.log\n" + _LR,
        BASE + "sweep:\n  workers: 8\n  storage: postgresql://optuna@db/studies\n" + _LR,
    )
    INVALID = (
        Invalid(
            BASE + "sweep:\n  workers: 2\n  storage: sqlite:///runs/study.db\n" + _LR,
            line=11,
            col=12,
            message="sqlite:///runs/study.db",
        ),
    )

    def check(self, ctx):
        sweep = ctx.spec.sweep
        if sweep is None or sweep.workers <= 1:
            return
        storage = sweep.storage
        if storage is None or not storage.startswith("sqlite:"):
            return
        yield self.at(
            ctx,
            ("sweep", "storage"),
            f"{sweep.workers} parallel workers on `{storage}`: SQLite serialises writers and locks under concurrent "
            "trials ('database is locked'); use `journal:PATH` (one machine) or PostgreSQL (many machines)",
            hint="`storage: journal:runs/study.log`",
        )
