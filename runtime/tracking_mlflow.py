"""The ``mlflow`` tracking backend: each rigorml run is one real MLflow run.

``tracking.backend: mlflow`` opens it (:mod:`rigorml.runtime.tracking` imports this module, and so
MLflow, only then; ``pip install 'rigorml[mlflow]'``). :class:`~rigorml.runtime.tracking.TrackedRun`
has already checked names and values and written the run directory's record; this backend only
stores, through MLflow's own client:

Store
    ``tracking.uri`` when set (any MLflow tracking URI: ``sqlite:///runs/mlflow.db`` shares one store
    across runs, ``http://host:5000`` a server); otherwise a SQLite store of the run's own,
    ``sqlite:///<run_dir>/mlflow.db``, with artifacts in ``<run_dir>/mlartifacts/``. An experiment
    this backend creates in a SQLite store keeps its artifacts in ``mlartifacts/`` next to the
    database file. Open either with ``mlflow ui --backend-store-uri sqlite:///<path>/mlflow.db``.
Experiment and run
    The experiment is ``tracking.project`` (else the config's ``experiment.project`` or
    ``experiment.name``), the run is named after the rigorml run; the group is the tag
    ``rigorml.group``, the spec's tags and :meth:`set_tags` are tags, and so are the attempt, the
    config's sha256, the run directory and the git commit (``mlflow.source.git.commit``).
    ``config.resolved.json`` is logged as an artifact when the run opens and ``run.json`` when it ends.
Params
    Nested mappings are flattened to dotted keys (``optimizer.lr``), lists kept as JSON text. MLflow's
    limits never end a run: a value longer than MLflow's limit is cut short, a key with characters
    MLflow refuses has them replaced by ``_``, an over-long key is skipped, and a param logged again
    with another value keeps its first one (MLflow params cannot change); each case is noted in the
    tag ``rigorml.notes`` and logged as a warning.
Metrics
    The ``step`` axis is MLflow's step, the ``epoch`` axis too (step = epoch: every metric name has
    its own history, so ``val/...`` at epochs never mixes with ``train/...`` at steps), and the tag
    ``rigorml.metric_axes`` (JSON, name -> axis) says which is which. ``time``-axis samples
    (``system/...``) keep their timestamp, with step = whole seconds since the MLflow run started.
    NaN is stored as NaN; MLflow stores +-inf as +-1.7976931348623157e308.
End
    ``finished``/``failed``/``killed`` become MLflow's FINISHED/FAILED/KILLED.
Resume
    The MLflow run id is kept in ``<run_dir>/mlflow.run.json``: a later attempt in the same run
    directory with the same store continues that MLflow run (status RUNNING again). MLflow cannot
    delete metric values, so steps logged after the checkpoint a run resumes from (which the local
    backend drops) stay in MLflow's history next to the values logged again.
Parallel runs
    Runs sharing one SQLite store take turns writing (an ``flock`` on ``<database>.lock``, held only
    for the write), and a write refused with "database is locked" (by another program, or SQLite
    giving up a lock upgrade) is retried with exponential backoff, :data:`LOCKED_RETRIES` times.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import posixpath
import random
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient

from .tracking import RUN_FILE, TrackingBackend, jsonable, tracker_project, write_json_atomic

_logger = logging.getLogger(__name__)
T = TypeVar("T")

#: The run directory's record of its MLflow run (store URI, experiment and run id).
RUN_ID_FILE = "mlflow.run.json"
#: The default store's database and artifact folder, in the run directory.
DEFAULT_DATABASE = "mlflow.db"
ARTIFACTS_DIR = "mlartifacts"
STATUSES = {"finished": "FINISHED", "failed": "FAILED", "killed": "KILLED"}
GROUP_TAG = "rigorml.group"
NOTES_TAG = "rigorml.notes"
AXES_TAG = "rigorml.metric_axes"
#: Tries of a write refused with "database is locked", and the longest wait between two (seconds).
LOCKED_RETRIES = 8
LOCKED_MAX_WAIT_S = 2.0
#: How long a run waits for its turn at a shared SQLite store before writing without it.
STORE_LOCK_TIMEOUT_S = 120.0


def _limit(name: str, default: int) -> int:
    # MLflow's limits, as this version of it defines them (the defaults are MLflow 2.x's).
    try:
        from mlflow.utils import validation
    except ImportError:  # pragma: no cover - every supported MLflow has it
        return default
    return int(getattr(validation, name, default))


MAX_PARAM_VALUE = _limit("MAX_PARAM_VAL_LENGTH", 6000)
MAX_TAG_VALUE = _limit("MAX_TAG_VAL_LENGTH", 8000)
MAX_KEY = _limit("MAX_ENTITY_KEY_LENGTH", 250)
PARAMS_TAGS_PER_BATCH = _limit("MAX_PARAMS_TAGS_PER_BATCH", 100)
METRICS_PER_BATCH = _limit("MAX_METRICS_PER_BATCH", 1000)
#: The characters MLflow allows in param, metric and tag keys (on POSIX; Windows also refuses ':').
_KEY_CHARACTERS = re.compile(r"[^/\w.\- :]")


def _is_locked(error: BaseException) -> bool:
    text = str(error).lower()
    return "database is locked" in text or "database table is locked" in text or "sqlite_busy" in text


def with_locked_retries(operation: Callable[[], T], what: str, retries: int = LOCKED_RETRIES) -> T:
    """``operation()``, tried again after a growing, jittered wait while SQLite answers "database is
    locked" (at most ``retries`` tries); any other error, or the last one, is raised."""
    for attempt in range(1, retries + 1):
        try:
            return operation()
        except Exception as error:  # noqa: BLE001 - MLflow wraps SQLAlchemy's errors in its own
            if attempt == retries or not _is_locked(error):
                raise
            wait = min(LOCKED_MAX_WAIT_S, 0.05 * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)
            _logger.info("MLflow store locked while %s; trying again in %.2f s", what, wait)
            time.sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


def sqlite_database(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` tracking URI (relative paths against the working
    directory), None for any other store (or SQLite in memory)."""
    if not uri.startswith("sqlite:///"):
        return None
    path = uri[len("sqlite:///") :].split("?", 1)[0]
    if not path or path == ":memory:":
        return None
    return Path(path).absolute()


class _StoreTurn:
    """An ``flock`` on ``<database>.lock`` that rigorml runs sharing one SQLite store take around
    each write, so they queue instead of making SQLite refuse each other (no-op for other stores)."""

    def __init__(self, database: Path | None):
        self.path = None if database is None else database.with_name(database.name + ".lock")

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        if self.path is None:
            yield
            return
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: the retries alone
            yield
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + STORE_LOCK_TIMEOUT_S
            locked = False
            while not locked:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    locked = True
                except BlockingIOError:
                    if time.monotonic() > deadline:  # a stuck holder: write anyway, SQLite still guards it
                        _logger.warning("waited %.0f s for %s; writing without it", STORE_LOCK_TIMEOUT_S, self.path)
                        break
                    time.sleep(0.005)
            yield
        finally:
            os.close(fd)  # closing drops the lock


def flatten_params(params: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Params as MLflow keeps them: nested mappings flattened to dotted keys, strings as they are,
    lists and empty mappings as JSON text, other values as ``str`` (``0.01``, ``True``, ``None``)."""
    flat: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten_params(value, prefix=f"{name}."))
        elif isinstance(value, str):
            flat[name] = value
        elif isinstance(value, (list, tuple, Mapping)):
            flat[name] = json.dumps(jsonable(value), separators=(",", ":"), ensure_ascii=False)
        else:
            flat[name] = str(value)
    return flat


def _valid_key(key: str) -> bool:
    normal = posixpath.normpath(key) if key else ""
    return bool(key) and not _KEY_CHARACTERS.search(key) and normal == key and not normal.startswith(("/", ".."))


def _truncated(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 3] + "..."


def _chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class MlflowBackend(TrackingBackend):
    """Stores a tracked run as a real MLflow run (see the module documentation for the mapping)."""

    name = "mlflow"

    def __init__(self, section: Mapping[str, Any], run_dir: Path):
        self.run_dir = Path(run_dir).absolute()
        uri = section.get("uri")
        self.default_store = not uri
        if self.default_store:
            uri = f"sqlite:///{self.run_dir / DEFAULT_DATABASE}"
        database = sqlite_database(uri)
        if database is not None:  # absolute, so the run's record names the store whatever the cwd
            database.parent.mkdir(parents=True, exist_ok=True)
            query = uri.partition("?")[2]
            uri = f"sqlite:///{database}" + (f"?{query}" if query else "")
        self.tracking_uri: str = uri
        self._database = database
        self._turn = _StoreTurn(database)
        self._project = section.get("project")
        self.client: MlflowClient | None = None
        self.run_id: str | None = None
        self.artifact_uri: str | None = None
        self._start_s = time.time()
        self._params: dict[str, str] = {}
        self._axes: dict[str, str] = {}  # metric name -> the axis it was first logged on
        self._axes_saved = 0  # how many of them the tag AXES_TAG lists
        self._mixed_axes: set[str] = set()
        self.notes: list[str] = []
        self._unsaved_notes = False

    # -- store access -------------------------------------------------------------------------

    def _write(self, operation: Callable[[], T], what: str) -> T:
        with self._turn():
            return with_locked_retries(operation, what)

    def _note(self, text: str) -> None:
        _logger.warning("MLflow run %s: %s", self.run_id, text)
        self.notes.append(text)
        self._unsaved_notes = True

    def _notes_tag(self) -> list[RunTag]:
        if not self._unsaved_notes:
            return []
        self._unsaved_notes = False
        text = "\n".join(self.notes)
        if len(text) > MAX_TAG_VALUE:
            text = "...\n" + text[-(MAX_TAG_VALUE - 4) :]
        return [RunTag(NOTES_TAG, text)]

    def _log_batch(self, metrics: list[Metric] = (), params: list[Param] = (), tags: list[RunTag] = ()) -> None:
        client, run_id = self.client, self.run_id
        tags = [*tags, *self._notes_tag()]
        for chunk in _chunks(list(params), PARAMS_TAGS_PER_BATCH):
            self._write(lambda chunk=chunk: client.log_batch(run_id, params=chunk), "logging params")
        for chunk in _chunks(list(tags), PARAMS_TAGS_PER_BATCH):
            self._write(lambda chunk=chunk: client.log_batch(run_id, tags=chunk), "setting tags")
        for chunk in _chunks(list(metrics), METRICS_PER_BATCH):
            self._write(lambda chunk=chunk: client.log_batch(run_id, metrics=chunk), "logging metrics")

    def _tags(self, tags: Mapping[str, Any]) -> list[RunTag]:
        """``tags`` as MLflow tags: keys it refuses are made valid (or skipped), long values cut."""
        converted = []
        for key, value in tags.items():
            key = self._key(str(key), "tag")
            if key is not None:
                value = "" if value is None else str(value)
                if len(value) > MAX_TAG_VALUE:
                    self._note(f"tag `{key}` cut to MLflow's {MAX_TAG_VALUE} characters")
                    value = _truncated(value, MAX_TAG_VALUE)
                converted.append(RunTag(key, value))
        return converted

    def _key(self, key: str, kind: str) -> str | None:
        if len(key) > MAX_KEY:
            self._note(f"{kind} `{key[:60]}...` skipped: its name is longer than MLflow's {MAX_KEY} characters")
            return None
        if _valid_key(key):
            return key
        fixed = _KEY_CHARACTERS.sub("_", key)
        fixed = "/".join(part for part in fixed.split("/") if part not in ("", ".", ".."))
        if not _valid_key(fixed):
            self._note(f"{kind} `{key}` skipped: MLflow does not accept it as a name")
            return None
        self._note(f"{kind} `{key}` stored as `{fixed}` (MLflow does not accept the characters replaced)")
        return fixed

    # -- the backend --------------------------------------------------------------------------

    def start(self, run: Mapping[str, Any]) -> None:
        config = run.get("config")
        experiment_name = tracker_project(self._project, config, run["name"])
        # The first client of a new SQLite store creates its tables: one run at a time.
        self.client = self._write(lambda: MlflowClient(tracking_uri=self.tracking_uri), "opening the store")
        client = self.client
        experiment_id = self._write(lambda: self._experiment_id(experiment_name), "opening the experiment")

        tags = {**(run.get("tags") or {}), "rigorml.attempt": run.get("attempt", 1), "rigorml.run_dir": str(self.run_dir)}
        if run.get("group") is not None:
            tags[GROUP_TAG] = run["group"]
        if run.get("config_sha256"):
            tags["rigorml.config_sha256"] = run["config_sha256"]
        git = run.get("git") or {}
        if git.get("commit"):
            tags["mlflow.source.git.commit"] = git["commit"]
        if git.get("dirty") is not None:
            tags["rigorml.git_dirty"] = str(git["dirty"]).lower()
        command = (run.get("command") or {}).get("command")
        if command:
            tags["rigorml.command"] = command

        mlflow_run = self._resumed_run()
        if mlflow_run is None:
            mlflow_run = self._write(
                lambda: client.create_run(experiment_id, run_name=run["name"]), "creating the run"
            )
        else:
            self._write(lambda: client.update_run(mlflow_run.info.run_id, status="RUNNING"), "reopening the run")
            self._params = dict(mlflow_run.data.params)
            with contextlib.suppress(ValueError, TypeError):
                self._axes = dict(json.loads(mlflow_run.data.tags.get(AXES_TAG, "{}")))
                self._axes_saved = len(self._axes)
        self.run_id = mlflow_run.info.run_id
        self.artifact_uri = mlflow_run.info.artifact_uri
        self._start_s = mlflow_run.info.start_time / 1000.0
        write_json_atomic(
            self.run_dir / RUN_ID_FILE,
            {"tracking_uri": self.tracking_uri, "experiment_id": experiment_id, "run_id": self.run_id},
        )
        self._log_batch(tags=self._tags(tags))
        if config is not None:
            run_id = self.run_id
            with_locked_retries(lambda: client.log_dict(run_id, jsonable(config), "config.resolved.json"), "logging the config")

    def _experiment_id(self, name: str) -> str:
        experiment = self.client.get_experiment_by_name(name)
        if experiment is not None:
            if experiment.lifecycle_stage != "active":
                self.client.restore_experiment(experiment.experiment_id)
            return experiment.experiment_id
        location = None
        if self._database is not None:
            folder = (self.run_dir if self.default_store else self._database.parent) / ARTIFACTS_DIR
            location = folder.as_uri()
        try:
            return self.client.create_experiment(name, artifact_location=location)
        except Exception:  # noqa: BLE001 - another process created it first (a store without our lock)
            experiment = self.client.get_experiment_by_name(name)
            if experiment is None:
                raise
            return experiment.experiment_id

    def _resumed_run(self):
        """The MLflow run an earlier attempt in this directory wrote to, when it is in the same store
        and still there; None otherwise (a new run is created, and a vanished one noted)."""
        try:
            record = json.loads((self.run_dir / RUN_ID_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(record, dict) or record.get("tracking_uri") != self.tracking_uri or not record.get("run_id"):
            return None
        run_id = str(record["run_id"])
        try:
            found = with_locked_retries(lambda: self.client.get_run(run_id), "reading the earlier run")
        except Exception as error:  # noqa: BLE001 - deleted from the store: start afresh
            self._note(f"the earlier attempt's MLflow run {run_id} is not in the store ({error}); this attempt starts a new one")
            return None
        if found.info.lifecycle_stage != "active":
            self._note(f"the earlier attempt's MLflow run {run_id} was deleted; this attempt starts a new one")
            return None
        return found

    def log_params(self, params: dict[str, Any]) -> None:
        batch = []
        for key, value in flatten_params(params).items():
            key = self._key(key, "param")
            if key is None:
                continue
            if len(value) > MAX_PARAM_VALUE:
                self._note(f"param `{key}` cut to MLflow's {MAX_PARAM_VALUE} characters (it has {len(value)})")
                value = _truncated(value, MAX_PARAM_VALUE)
            kept = self._params.get(key)
            if kept == value:
                continue
            if kept is not None:
                self._note(f"param `{key}` logged again as {value[:80]!r}: MLflow keeps its first value {kept[:80]!r}")
                continue
            self._params[key] = value
            batch.append(Param(key, value))
        self._log_batch(params=batch)

    def log_metrics(self, record: dict[str, Any]) -> None:
        axis, when = record["axis"], record["time"]
        x = int(when - self._start_s) if axis == "time" else int(record[axis])
        timestamp = int(when * 1000)
        metrics = []
        for name, value in record["metrics"].items():
            known = self._axes.setdefault(name, axis)
            if known != axis and name not in self._mixed_axes:
                self._mixed_axes.add(name)
                self._note(f"`{name}` logged on the {axis} axis after the {known} axis: its MLflow steps mix both")
            metrics.append(Metric(name, float(value), timestamp, max(x, 0)))
        tags = []
        if len(self._axes) > self._axes_saved:
            self._axes_saved = len(self._axes)
            text = json.dumps(self._axes, sort_keys=True, separators=(",", ":"))
            if len(text) <= MAX_TAG_VALUE:
                tags.append(RunTag(AXES_TAG, text))
        self._log_batch(metrics=metrics, tags=tags)

    def set_tags(self, tags: dict[str, str]) -> None:
        self._log_batch(tags=self._tags(tags))

    def log_artifact(self, path: Path, name: str) -> str:
        client, run_id, path = self.client, self.run_id, Path(path)
        if path.is_dir():
            with_locked_retries(lambda: client.log_artifacts(run_id, str(path), artifact_path=name), "logging an artifact")
        elif path.name == name:
            with_locked_retries(lambda: client.log_artifact(run_id, str(path)), "logging an artifact")
        else:  # MLflow names a file artifact after its file: stage a copy under the name asked for
            with tempfile.TemporaryDirectory(prefix=".rigorml-artifact-") as staging:
                staged = Path(staging) / name
                shutil.copy2(path, staged)
                with_locked_retries(lambda: client.log_artifact(run_id, str(staged)), "logging an artifact")
        return f"{self.artifact_uri.rstrip('/')}/{name}"

    def finish(self, run: Mapping[str, Any]) -> None:
        if self.client is None or self.run_id is None:
            return
        client, run_id = self.client, self.run_id
        record = self.run_dir / RUN_FILE
        if record.exists():  # the reproduction record, with this attempt's end
            with_locked_retries(lambda: client.log_artifact(run_id, str(record)), "logging run.json")
        self._log_batch()  # notes not yet saved
        status = STATUSES.get(run.get("status"), "FAILED")
        self._write(lambda: client.set_terminated(run_id, status=status), "ending the run")
