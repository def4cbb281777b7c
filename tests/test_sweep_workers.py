"""Sweeps on several worker processes: storages, heartbeats and retries, ``rigorml sweep`` and
``rigorml sweep-worker``.

Real Optuna studies on real storages (a journal file, SQLite, PostgreSQL), real worker processes
training a 16-unit MLP on scikit-learn's digits, run as a user runs them. The PostgreSQL tests need
``RIGORML_TEST_POSTGRES_URL`` (``.ci/run`` starts Debian's server and sets it); without it they
skip, unless ``RIGORML_REQUIRE_POSTGRES=1`` (CI) makes a missing or unreachable database a failure.
Heartbeats are kept to seconds by the commands' own options; no test asserts a duration.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml

optuna = pytest.importorskip("optuna")
pytest.importorskip("torch")

from optuna.trial import TrialState  # noqa: E402

from rigorml.runtime.sweep import (  # noqa: E402
    BEST_FILE,
    RETRY_ATTR,
    WORKER_ATTR,
    Heartbeat,
    StorageError,
    display_url,
    journal_path,
    load_sweep_study,
    open_storage,
    storage_record,
    storage_url,
)

#: The spec of tests/test_sweep.py: a 16-unit MLP on digits, no variants, nothing captured that the
#: test machine would make differ. ``EPOCHS`` sets how long a trial trains.
SPEC = """\
version: 1
experiment: {name: workers-test, task: classification}
seeds: {global: 42, replicates: 2}
data:
  source: builtin:digits
  loader: {batch_size: 128}
model:
  source: builtin:mlp
  params: {hidden_sizes: [16]}
training:
  epochs: EPOCHS
  optimizer: {name: adamw, lr: 0.01}
  deterministic: false
metrics: {primary: f1_macro}
tracking:
  system_metrics: false
  capture: {git_commit: false, git_dirty: false, git_diff: false, environment: false}
"""

LR = {"distribution": "log_uniform", "low": 0.001, "high": 0.05}

#: Heartbeat options short enough that a dead worker's trial is noticed within seconds.
FAST_HEARTBEAT = ("--heartbeat", "1", "--grace", "3")


def write_spec(tmp_path: Path, *, n_trials: int, epochs: int = 3, study_name: str | None = None) -> Path:
    sweep = {
        "method": "random",
        "n_trials": n_trials,
        "objective": {"metric": "val/f1_macro", "direction": "maximize"},
        "parameters": {"training.optimizer.lr": LR},
        "pruner": {"type": "none"},
    }
    if study_name is not None:
        sweep["study_name"] = study_name
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC.replace("EPOCHS", str(epochs)) + yaml.safe_dump({"sweep": sweep}, sort_keys=False), encoding="utf-8")
    return path


def user_env() -> dict:
    """The user's environment: no RIGORML_DEBUG, one torch thread per worker (two cores, two workers)."""
    env = {key: value for key, value in os.environ.items() if key != "RIGORML_DEBUG"}
    return {**env, "OMP_NUM_THREADS": "1"}


def rigorml_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "rigorml.compiler", *map(str, args)]


def rigorml(*args: str, cwd: Path, timeout: int = 180) -> subprocess.CompletedProcess:
    return subprocess.run(rigorml_command(*args), cwd=cwd, capture_output=True, text=True, timeout=timeout, env=user_env())


def start_rigorml(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        rigorml_command(*args), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=user_env()
    )


def wait_for(condition, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def trial_numbers(sweep_dir: Path) -> set[int]:
    return {int(path.name.split("-")[1]) for path in sweep_dir.glob("trial-*")}


def trained_lr(sweep_dir: Path, number: int) -> float:
    config = json.loads((sweep_dir / f"trial-{number}" / "config.resolved.json").read_text(encoding="utf-8"))
    return config["training"]["optimizer"]["lr"]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# --- PostgreSQL ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The test database's URL; skips (or, in CI, fails) when there is none or it cannot be reached."""
    url = os.environ.get("RIGORML_TEST_POSTGRES_URL")
    required = os.environ.get("RIGORML_REQUIRE_POSTGRES") == "1"
    if not url:
        message = "PostgreSQL tests need RIGORML_TEST_POSTGRES_URL=postgresql://USER:PASSWORD@HOST:PORT/DB (.ci/run sets it)"
        pytest.fail(f"RIGORML_REQUIRE_POSTGRES=1: {message}") if required else pytest.skip(message)
    try:
        # Optuna's tables, created once here: the workers of a test then start on a ready database.
        open_storage(url, ".").engine.dispose()
    except StorageError as exc:
        message = f"PostgreSQL is unreachable: {exc}"
        pytest.fail(f"RIGORML_REQUIRE_POSTGRES=1: {message}") if required else pytest.skip(message)
    return url


@pytest.fixture
def postgres_study(postgres_url):
    """The URL, a study name of this test's own (deleted afterwards) and a storage to read it with."""
    name = f"workers-test-{uuid.uuid4().hex[:10]}"
    storage = open_storage(postgres_url, ".")
    yield postgres_url, name, storage
    try:
        optuna.delete_study(study_name=name, storage=storage)
    except KeyError:
        pass
    storage.engine.dispose()


def test_two_workers_share_a_postgresql_study_and_complete_its_budget(tmp_path, postgres_study):
    url, name, storage = postgres_study
    spec = write_spec(tmp_path, n_trials=6, epochs=10, study_name=name)
    # Two machines: each worker keeps its trial directories in a sweep directory of its own.
    machines = [tmp_path / "machine-a", tmp_path / "machine-b"]
    workers = [start_rigorml("sweep-worker", spec, "--storage", url, "--sweep-dir", sweep_dir, cwd=tmp_path) for sweep_dir in machines]
    for worker in workers:
        out, err = worker.communicate(timeout=240)
        assert worker.returncode == 0, err
        assert "best: trial " in out and "Traceback" not in err

    trials = optuna.load_study(study_name=name, storage=storage).trials
    assert [t.number for t in trials] == list(range(6))  # every trial once, none beyond the budget
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 6
    local = [trial_numbers(sweep_dir) for sweep_dir in machines]
    assert local[0] and local[1], "both workers trained trials"
    assert local[0].isdisjoint(local[1]) and local[0] | local[1] == set(range(6))
    trained_by = []
    for sweep_dir, numbers in zip(machines, local):
        for number in numbers:
            assert trained_lr(sweep_dir, number) == trials[number].params["training.optimizer.lr"]
        trained_by.append({trials[number].user_attrs[WORKER_ATTR] for number in numbers})
    assert len(trained_by[0]) == len(trained_by[1]) == 1 and trained_by[0] != trained_by[1]  # one process each
    assert len({t.params["training.optimizer.lr"] for t in trials}) == 6  # the workers' samplers differ


def test_a_worker_killed_mid_trial_has_its_trial_failed_and_retried_and_no_completed_trial_is_lost(tmp_path, postgres_study):
    url, name, storage = postgres_study
    spec = write_spec(tmp_path, n_trials=4, epochs=15, study_name=name)
    victim_dir, survivor_dir = tmp_path / "machine-a", tmp_path / "machine-b"
    victim = start_rigorml("sweep-worker", spec, "--storage", url, "--sweep-dir", victim_dir, *FAST_HEARTBEAT, cwd=tmp_path)
    survivor = start_rigorml("sweep-worker", spec, "--storage", url, "--sweep-dir", survivor_dir, *FAST_HEARTBEAT, cwd=tmp_path)

    def victims_trial_in_training():
        try:
            study = optuna.load_study(study_name=name, storage=storage)
        except KeyError:  # not created yet
            return None
        for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            metrics = victim_dir / f"trial-{trial.number}" / "metrics.jsonl"
            if metrics.exists() and metrics.read_text(encoding="utf-8").count("\n") >= 2:
                return trial  # machine A's worker process is training it: it has logged
        return None

    wait_for(lambda: victims_trial_in_training() is not None, "a trial training on machine A")
    killed = victims_trial_in_training()
    before = {t.number: (t.state, t.value) for t in optuna.load_study(study_name=name, storage=storage).trials}
    os.kill(int(killed.user_attrs[WORKER_ATTR].rsplit(":", 1)[1]), signal.SIGKILL)  # the process training it
    _, victim_err = victim.communicate(timeout=60)
    assert victim.returncode == 1 and "worker 0 exited with code -9" in victim_err
    out, err = survivor.communicate(timeout=240)
    assert survivor.returncode == 0, err

    trials = optuna.load_study(study_name=name, storage=storage).trials
    assert trials[killed.number].state == TrialState.FAIL  # failed on machine B, once its heartbeat was overdue
    [retry] = [t for t in trials if t.user_attrs.get(RETRY_ATTR) == killed.number]
    assert retry.number > killed.number and retry.state == TrialState.COMPLETE
    assert retry.params == killed.params  # the same configuration, trained again from scratch
    assert trained_lr(survivor_dir, retry.number) == killed.params["training.optimizer.lr"]
    killed_result = json.loads((victim_dir / f"trial-{killed.number}" / "result.json").read_text(encoding="utf-8"))
    assert killed_result["status"] == "running"  # the dead worker's directory is left as the kill left it
    for number, (state, value) in before.items():  # nothing completed before the kill was lost
        if state == TrialState.COMPLETE:
            assert (trials[number].state, trials[number].value) == (state, value)
    assert sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials) == 4
    best = json.loads((survivor_dir / BEST_FILE).read_text(encoding="utf-8"))
    [failure] = best["failures"]
    assert failure["trial"] == killed.number and failure["retried_as"] == retry.number
    assert "its worker stopped" in failure["error"]


# --- one machine: the journal --------------------------------------------------------------------


def test_sweep_with_two_workers_shares_a_journal_study_on_one_machine(tmp_path):
    spec = write_spec(tmp_path, n_trials=4)
    done = rigorml("sweep", spec, "--workers", "2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    sweep_dir = tmp_path / "runs" / "workers-test" / "sweeps" / "workers-test"
    assert (sweep_dir / "study.journal").is_file() and not (sweep_dir / "study.db").exists()
    assert {path.name for path in sweep_dir.glob("worker-*.log")} == {"worker-0.log", "worker-1.log"}
    trials = load_sweep_study(sweep_dir, "workers-test").trials
    assert [t.number for t in trials] == [0, 1, 2, 3] and {t.state for t in trials} == {TrialState.COMPLETE}
    assert trial_numbers(sweep_dir) == {0, 1, 2, 3}
    best = json.loads((sweep_dir / BEST_FILE).read_text(encoding="utf-8"))
    assert best["storage"] == f"journal://{sweep_dir / 'study.journal'}"
    assert best["trials"]["complete"] == 4
    assert f"best: trial {best['best']['trial']}, val/f1_macro = " in done.stdout
    assert "[4/4] trial " in done.stderr  # the progress lines (no terminal: no bar)
    # After the search: the analysis of the journal study, then the best configuration at fresh
    # seeds on the test split.
    analysis = json.loads((sweep_dir / "analysis.json").read_text(encoding="utf-8"))
    assert analysis["trials"]["used"] == 4 and "training.optimizer.lr" in analysis["sensitivity"]["parameters"]
    final = json.loads((sweep_dir / "final.json").read_text(encoding="utf-8"))
    assert final["split"] == "test" and final["best"]["trial"] == best["best"]["trial"] and final["summary"]["n"] == 5
    assert f"final validation: test/f1_macro = {final['summary']['mean']:.4g}" in done.stdout


def test_ctrl_c_stops_the_sweep_and_its_workers_and_a_rerun_resumes_to_the_budget(tmp_path):
    # Trials long enough (25 epochs) that the interrupt lands inside them.
    spec = write_spec(tmp_path, n_trials=3, epochs=25)
    sweep_dir = tmp_path / "runs" / "workers-test" / "sweeps" / "workers-test"
    process = start_rigorml("sweep", spec, "--workers", "2", "--no-final-validation", cwd=tmp_path)
    wait_for(lambda: any((d / "metrics.jsonl").exists() for d in sweep_dir.glob("trial-*")), "a trial to train")
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "interrupted" in err and "run the same command again to resume" in err
    assert "Traceback" not in err

    trials = load_sweep_study(sweep_dir, "workers-test").trials
    assert not any(t.state == TrialState.RUNNING for t in trials)  # recorded, not left running
    interrupted = [t for t in trials if t.state == TrialState.FAIL]
    assert interrupted and all(t.user_attrs["error"].startswith("KeyboardInterrupt") for t in interrupted)
    worker_pids = {int(t.user_attrs[WORKER_ATTR].rsplit(":", 1)[1]) for t in trials}
    assert not any(pid_alive(pid) for pid in worker_pids)  # the workers stopped with the command
    best = json.loads((sweep_dir / BEST_FILE).read_text(encoding="utf-8"))
    assert best["trials"]["failed"] == len(interrupted)

    resumed = rigorml("sweep", spec, "--workers", "2", "--no-final-validation", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    trials = load_sweep_study(sweep_dir, "workers-test").trials
    assert sum(t.state == TrialState.COMPLETE for t in trials) == 3
    assert trial_numbers(sweep_dir) == {t.number for t in trials}  # every attempt in a directory of its own


# --- heartbeats on the journal -------------------------------------------------------------------


# Asked by hand rather than inside Study.optimize (Optuna warns), and fail_stale_trials is experimental.
@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::optuna.exceptions.ExperimentalWarning")
def test_a_journal_trial_whose_heartbeat_stops_is_failed_and_queued_again_with_its_parameters(tmp_path):
    heartbeat = Heartbeat(interval=1, grace=2, max_retries=1)
    storage = open_storage(f"journal:{tmp_path / 'study.journal'}", tmp_path, heartbeat=heartbeat)
    study = optuna.create_study(storage=storage, study_name="beats")
    trial = study.ask()
    trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    trial.set_user_attr(WORKER_ATTR, "elsewhere:1")
    storage.record_heartbeat(trial._trial_id)  # then the worker dies: no more heartbeats
    optuna.storages.fail_stale_trials(study)
    assert study.trials[0].state == TrialState.RUNNING  # within its grace period
    time.sleep(heartbeat.grace + 0.5)
    optuna.storages.fail_stale_trials(study)
    failed, queued = study.trials
    assert failed.state == TrialState.FAIL and queued.state == TrialState.WAITING
    assert queued.params == failed.params and queued.user_attrs == {RETRY_ATTR: 0}
    again = study.ask()  # the next worker takes the queued trial: the same value comes back
    assert again.number == 1 and again.suggest_float("lr", 1e-4, 1e-1, log=True) == failed.params["lr"]


# --- where a study lives -------------------------------------------------------------------------


def test_the_default_storage_is_sqlite_for_one_worker_and_the_journal_for_several(tmp_path):
    assert storage_url(None, tmp_path) == f"sqlite:///{tmp_path / 'study.db'}"
    assert storage_url(None, tmp_path, workers=3) == f"journal://{tmp_path / 'study.journal'}"


def test_a_study_file_already_in_the_sweep_directory_is_used_whatever_the_workers(tmp_path):
    (tmp_path / "study.db").touch()
    assert storage_url(None, tmp_path, workers=4) == f"sqlite:///{tmp_path / 'study.db'}"
    (tmp_path / "study.journal").touch()
    with pytest.raises(StorageError, match="holds both study.db and study.journal"):
        storage_url(None, tmp_path)


def test_journal_urls_name_a_file_like_file_urls(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert journal_path("journal:///srv/studies/a.journal") == Path("/srv/studies/a.journal")
    assert storage_url("journal:runs/a.journal", "ignored") == f"journal://{tmp_path / 'runs' / 'a.journal'}"
    with pytest.raises(StorageError, match="not a host"):
        journal_path("journal://db.example.org/a.journal")


def test_passwords_never_appear_in_messages_nor_in_best_json():
    assert display_url("postgresql://optuna:s3cret@db:5432/studies") == "postgresql://optuna:***@db:5432/studies"
    assert storage_record("postgresql://optuna:s3cret@db:5432/studies") == "postgresql://optuna@db:5432/studies"
    assert display_url("journal:///srv/a.journal") == storage_record("journal:///srv/a.journal") == "journal:///srv/a.journal"


# --- bad inputs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("storage", "message"),
    [
        ("postgresql://rigorml:s3cret@127.0.0.1:1/nowhere", "cannot be opened"),
        ("redis://localhost:6379", "rigorml opens sqlite:///PATH, postgresql://"),
        ("journal://db.example.org/study.journal", "names a file on this machine, not a host"),
    ],
    ids=["unreachable-postgresql", "unknown-scheme", "journal-with-a-host"],
)
def test_a_storage_that_cannot_be_opened_is_a_clear_error(tmp_path, storage, message):
    spec = write_spec(tmp_path, n_trials=1)
    done = rigorml("sweep", spec, "--storage", storage, "--no-final-validation", cwd=tmp_path, timeout=60)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert "s3cret" not in done.stderr
    assert not list(tmp_path.glob("runs/*/sweeps/*/trial-*"))


def test_a_missing_postgresql_driver_names_the_extra_to_install(tmp_path):
    spec = write_spec(tmp_path, n_trials=1)
    # A fresh interpreter in which psycopg2 cannot be imported, as on an install without the extra.
    code = (
        "import sys\n"
        "class Missing:\n"
        "    def find_spec(self, fullname, path=None, target=None):\n"
        "        if fullname.split('.')[0] == 'psycopg2': raise ModuleNotFoundError(name='psycopg2')\n"
        "sys.meta_path.insert(0, Missing())\n"
        "from rigorml.compiler.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    command = [sys.executable, "-c", code, "sweep-worker", str(spec), "--storage", "postgresql://u@127.0.0.1/db"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60, env=user_env())
    assert done.returncode == 2, done.stderr
    assert "driver (psycopg2) is not installed: pip install 'rigorml[postgres]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_sweep_worker_needs_a_storage_url(tmp_path):
    done = rigorml("sweep-worker", write_spec(tmp_path, n_trials=1), cwd=tmp_path, timeout=60)
    assert done.returncode == 2 and "the following arguments are required: --storage" in done.stderr


def test_a_spec_without_a_sweep_is_refused(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.replace("EPOCHS", "1"), encoding="utf-8")
    done = rigorml("sweep", spec, cwd=tmp_path, timeout=60)
    assert done.returncode == 2 and "has no `sweep` section" in done.stderr


def test_a_spec_error_is_reported_at_its_line(tmp_path):
    spec = write_spec(tmp_path, n_trials=1)
    spec.write_text(spec.read_text(encoding="utf-8").replace("n_trials: 1", "n_trials: 0"), encoding="utf-8")
    done = rigorml("sweep", spec, cwd=tmp_path, timeout=60)
    assert done.returncode == 1, done.stderr
    assert f"{spec}:" in done.stderr and "n_trials" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--workers", "0"), "--workers must be at least 1"),
        (("--heartbeat", "5", "--grace", "5"), "the grace period must be"),
    ],
    ids=["no-workers", "grace-not-longer-than-heartbeat"],
)
def test_bad_options_are_refused_before_anything_runs(tmp_path, options, message):
    done = rigorml("sweep", write_spec(tmp_path, n_trials=1), *options, cwd=tmp_path, timeout=60)
    assert done.returncode == 2 and message in done.stderr
    assert not (tmp_path / "runs").exists()
