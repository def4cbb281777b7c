"""Experiment tracking: one run's params, metrics, tags, artifacts and reproduction record.

A training loop talks to a :class:`Tracker`::

    with open_tracker(config["tracking"], run_dir, run_name, group, config) as tracker:
        tracker.log_params({"lr": 0.01})
        tracker.log_metrics({"train/loss": loss}, step=global_step)          # tensors: .item()
        tracker.log_metrics({"val/loss": v, "val/f1": f1}, step=epoch, axis="epoch")
    # leaving the block closes the run: "finished", or "failed"/"killed" on an exception

What every backend shares lives in :class:`TrackedRun`: metric names are checked against the naming
convention (:mod:`rigorml.schemas.naming`, the linter's check), values become plain numbers, each
call lands on one x-axis (``step`` for training steps, ``epoch`` for evaluations: "logging eval
metrics at training step count misaligns x-axis in charts"; ``time`` for ``system/...`` samples),
and the run directory gets its reproduction record whatever the backend:

``run.json``
    name, group, project, tags, status (running/finished/failed/killed), start/end time and
    duration, the exact command, the resolved config's sha256, git commit/dirty state, the
    environment (python, torch, CUDA, cuDNN, GPU count and names, precision), artifacts, the attempt
    number (a run re-opened in the same directory is a resumed attempt). Written atomically.
``config.resolved.json``
    the resolved config (``sha256`` over its canonical JSON, the hash ``rigorml resolve`` prints).
``git.diff``
    ``git diff HEAD`` of the tracked files when the tree was dirty (untracked files are listed in
    run.json, not diffed). Not a git repository, or no git: commit, dirty and diff are null.

A backend (:class:`TrackingBackend`) only stores: ``local`` (the default) writes ``metrics.jsonl``
(one JSON object per log call, written with one ``write`` and fdatasync'd, so ``kill -9`` loses at
most the call in flight and never damages earlier lines), ``params.json`` (atomic) and copies
artifacts into ``artifacts/``. Backends are registered by name (:func:`register_backend`).
``mlflow`` (:mod:`rigorml.runtime.tracking_mlflow`: a real MLflow run, by default in a SQLite store in
the run directory) and ``wandb`` (:mod:`rigorml.runtime.tracking_wandb`: a real W&B run, offline
unless ``mode: online``) live in modules of their own, imported only when a run opens them, and need
their extra (``pip install 'rigorml[mlflow]'`` / ``'rigorml[wandb]'``; without the package the run is
refused with that command). Neptune is not part of this build and is refused with what to install.

One tracker at a time writes a run directory (an ``flock`` the kernel drops when the process dies:
a second one gets :class:`RunDirectoryInUse`). Opening a directory that already has a run.json is
a resumed attempt: records are appended after cutting off a line a crash left unfinished, and
``resume_after={"step": s, "epoch": e}`` first drops what was logged after the checkpoint the run
resumes from. :func:`read_metrics` returns the records as written; :func:`metric_history` the
history they add up to (one value per name and step, the latest).

Non-finite values: NaN, +inf and -inf are kept, written as the strings ``"NaN"``, ``"Infinity"``
and ``"-Infinity"`` (JSON has no such numbers; the spellings are JavaScript's, and Python's
``float()`` reads them), and :func:`read_metrics` turns them back into floats.

System metrics (``tracking.system_metrics``): a daemon thread samples every ``system_interval_s``
seconds, on the ``time`` axis, and is always stopped and joined on close:

* ``system/cpu_memory`` resident set size (MiB, from ``/proc/self/statm``), ``system/cpu_memory_peak``
  (MiB, ``resource.getrusage``), ``system/cpu_utilization`` (percent of one core, process CPU time);
* once the training code has initialised CUDA (never before, so the thread does not create a CUDA
  context ahead of the determinism settings): ``system/gpu_memory``, ``system/gpu_memory_reserved``,
  ``system/gpu_memory_peak`` (MiB, torch's caching allocator, for the device this process uses) and
  ``system/gpu_utilization`` (percent, ``torch.cuda.utilization``; needs pynvml, skipped without it).

Only the standard library is imported here; torch and numpy values are recognised when the caller
has imported them, and torch is imported to describe the environment only when that is captured.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import math
import numbers
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from .files import fsync_directory, write_atomic
from ..schemas.naming import CONVENTION_TEXT, conventional_form, follows_convention, is_system_metric

#: The x-axes a metric is logged against.
AXES = ("step", "epoch", "time")
#: How a run can end (``running`` while it is open).
END_STATUSES = ("finished", "failed", "killed")

METRICS_FILE = "metrics.jsonl"
PARAMS_FILE = "params.json"
RUN_FILE = "run.json"
CONFIG_FILE = "config.resolved.json"
DIFF_FILE = "git.diff"
ARTIFACTS_DIR = "artifacts"
LOCK_FILE = ".tracker.lock"

#: Seconds any one ``git`` command may take before the capture gives up (recorded as null).
GIT_TIMEOUT_S = 10.0
#: Untracked files listed by name in run.json (all are counted).
MAX_UNTRACKED = 200
#: Keys a loop often logs as an x-axis inside the metrics (``wandb.log({"epoch": e, ...})``).
_AXIS_KEYS = frozenset({"step", "epoch", "global_step", "iteration", "time"})
_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
#: Units of the system metrics, recorded in run.json.
SYSTEM_METRIC_UNITS = {
    "system/cpu_memory": "MiB",
    "system/cpu_memory_peak": "MiB",
    "system/cpu_utilization": "percent of one core",
    "system/gpu_memory": "MiB",
    "system/gpu_memory_reserved": "MiB",
    "system/gpu_memory_peak": "MiB",
    "system/gpu_utilization": "percent",
}
_MIB = 1024 * 1024


class TrackingBackendUnavailable(RuntimeError):
    """The spec names a tracking backend this installation cannot run."""


class RunDirectoryInUse(RuntimeError):
    """Another open tracker (in this or another process) is writing the same run directory."""


@runtime_checkable
class Tracker(Protocol):
    """One tracked run. A context manager: leaving the block always closes it ("finished", or
    "failed"/"killed" when an exception leaves it)."""

    run_dir: Path

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Record hyperparameters (merged with earlier calls)."""

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None, axis: str = "step") -> None:
        """Record metric values at ``step`` of ``axis`` (``step``, ``epoch`` or ``time``)."""

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Set key-value tags on the run."""

    def log_artifact(self, path: str | os.PathLike, name: str | None = None) -> str:
        """Keep a file or directory with the run; returns where the backend keeps it."""

    def close(self, status: str = "finished") -> None:
        """End the run with ``status`` (finished, failed, killed). Later calls do nothing."""

    def __enter__(self) -> Tracker: ...

    def __exit__(self, exc_type, exc, tb) -> bool | None: ...


class TrackingBackend(ABC):
    """Where a run's records are stored. :class:`TrackedRun` has already checked names, converted
    values to plain ``int``/``float`` (NaN and infinities included), picked the axis and written the
    run directory's reproduction record; a backend only stores what it is given.

    A factory ``(tracking_section: Mapping, run_dir: Path) -> TrackingBackend`` is registered with
    :func:`register_backend`. Calls come from one thread at a time (the run holds a lock).
    """

    name: str = ""

    def start(self, run: Mapping[str, Any]) -> None:
        """The run opened; ``run`` is what run.json records (name, group, project, tags...) plus
        ``config``, the resolved config (None when the caller gave none)."""

    @abstractmethod
    def log_params(self, params: dict[str, Any]) -> None:
        """Store hyperparameters (JSON-compatible values), merged with earlier ones."""

    @abstractmethod
    def log_metrics(self, record: dict[str, Any]) -> None:
        """Store one log call: ``{axis: x, "axis": axis, "metrics": {name: number}, "time": unix_s}``
        (the ``time`` axis has no separate x key)."""

    def set_tags(self, tags: dict[str, str]) -> None:
        """Store key-value tags (run.json already records them)."""

    @abstractmethod
    def log_artifact(self, path: Path, name: str) -> str:
        """Keep ``path`` (a file or directory) under ``name``; returns where it is kept."""

    def finish(self, run: Mapping[str, Any]) -> None:
        """The run ended; ``run["status"]`` says how. Release files and connections."""


BackendFactory = Callable[[Mapping[str, Any], Path], TrackingBackend]

_BACKENDS: dict[str, BackendFactory] = {}
#: Backends in modules of their own, imported when a run first opens one (so neither the module nor
#: its package is imported before): name -> (module, backend class, the package it needs).
_LAZY_BACKENDS = {
    "mlflow": ("rigorml.runtime.tracking_mlflow", "MlflowBackend", "mlflow"),
    "wandb": ("rigorml.runtime.tracking_wandb", "WandbBackend", "wandb"),
}
#: Backends the spec may name that this build does not ship: name -> what to install.
_NOT_IN_THIS_BUILD = {"neptune": "neptune"}


def tracker_project(project: str | None, config: Any, run_name: str) -> str:
    """The project (MLflow experiment, W&B project) a run goes to: ``tracking.project``, else the
    config's ``experiment.project``, else ``experiment.name``, else the run's name."""
    if project:
        return str(project)
    experiment = config.get("experiment") if isinstance(config, Mapping) else None
    if isinstance(experiment, Mapping):
        for key in ("project", "name"):
            if experiment.get(key):
                return str(experiment[key])
    return run_name


def register_backend(name: str, factory: BackendFactory, *, replace: bool = False) -> BackendFactory:
    """Make ``tracking.backend: NAME`` open ``factory(tracking_section, run_dir)``.

    Raises ValueError when ``name`` is taken and ``replace`` is false. Returns ``factory`` (so it can
    decorate a backend class).
    """
    if not name or not isinstance(name, str):
        raise ValueError("a tracking backend needs a non-empty name")
    if name in _BACKENDS and not replace:
        raise ValueError(f"tracking backend `{name}` is already registered (pass replace=True to replace it)")
    _BACKENDS[name] = factory
    return factory


def backends() -> list[str]:
    """The names ``tracking.backend`` may take in this build (``mlflow`` and ``wandb`` still need
    their package installed)."""
    return sorted({*_BACKENDS, *_LAZY_BACKENDS})


def _load_lazy_backend(name: str) -> BackendFactory | None:
    """Import and register the backend ``name`` ships in a module of its own; None when it has none.

    Raises TrackingBackendUnavailable when its package is missing or cannot be imported.
    """
    if name not in _LAZY_BACKENDS:
        return None
    import importlib

    module_name, class_name, package = _LAZY_BACKENDS[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] != package:
            raise TrackingBackendUnavailable(
                f"tracking.backend `{name}`: `{package}` is installed but could not be imported ({error}); "
                f"reinstall it with `pip install 'rigorml[{name}]'`"
            ) from error
        raise TrackingBackendUnavailable(
            f"tracking.backend `{name}` needs the `{package}` package, which is not installed: "
            f"`pip install 'rigorml[{name}]'` (or use `tracking.backend: local`, the default)"
        ) from None
    except ImportError as error:  # installed, but a version rigorml's backend cannot use
        raise TrackingBackendUnavailable(
            f"tracking.backend `{name}`: the installed `{package}` could not be imported ({error}); "
            f"install a supported version with `pip install 'rigorml[{name}]'`"
        ) from error
    return _BACKENDS.get(name) or register_backend(name, getattr(module, class_name))


# ---------------------------------------------------------------------------------------------
# Values


def metric_value(name: str, value: Any) -> int | float:
    """``value`` as a plain number: a 0-dim torch tensor or numpy array/scalar via ``.item()``, a bool
    as 0/1. NaN and infinities are kept.

    Raises TypeError for a tensor or array with more than one element (log a reduction of it, e.g.
    ``.mean().item()``; a tracker that stored it would silently keep the whole tensor) and for
    anything that is not a number.
    """
    kind = type(value)
    if kind is float or kind is int:
        return value
    if kind is bool:
        return int(value)
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        if value.dim() != 0:
            raise TypeError(
                f"metric `{name}` is a tensor of shape {tuple(value.shape)}, not a scalar: log one number "
                f"(a 0-dim tensor or `t.item()`; reduce it first, e.g. `t.mean()`)"
            )
        if value.is_complex():
            raise TypeError(f"metric `{name}` is a complex tensor: log a real number")
        return metric_value(name, value.item())
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, (numpy.ndarray, numpy.generic)):
        if numpy.ndim(value) != 0:
            raise TypeError(
                f"metric `{name}` is an array of shape {numpy.shape(value)}, not a scalar: log one number "
                "(reduce it first, e.g. `a.mean()`)"
            )
        item = value.item()
        if not isinstance(item, (bool, int, float)):
            raise TypeError(f"metric `{name}` is a numpy {value.dtype} value, not a real number")
        return metric_value(name, item)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise TypeError(f"metric `{name}` is {kind.__name__} ({value!r:.60}), not a number")


def jsonable(value: Any) -> Any:
    """``value`` as JSON-compatible data: mappings (keys as strings), sequences, numbers (non-finite
    floats as "NaN"/"Infinity"/"-Infinity"), tensors and arrays as numbers or lists, paths and other
    objects as their ``str``. Never raises."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else _nonfinite_name(value)
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [jsonable(item) for item in items]
    for module, kinds in (("torch", ("Tensor",)), ("numpy", ("ndarray", "generic"))):
        lib = sys.modules.get(module)
        if lib is not None and isinstance(value, tuple(getattr(lib, k) for k in kinds)):
            with contextlib.suppress(Exception):
                return jsonable(value.tolist())
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return jsonable(float(value))
    return str(value)


def _nonfinite_name(value: float) -> str:
    return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")


def _encode_metrics(metrics: Mapping[str, int | float]) -> dict[str, int | float | str]:
    return {
        name: value if type(value) is int or math.isfinite(value) else _nonfinite_name(value)
        for name, value in metrics.items()
    }


def check_metric_name(name: Any) -> str:
    """``name`` when it follows the convention; otherwise ValueError naming the convention (and the
    conventional spelling when the name is a known split glued to its metric, ``val_loss``)."""
    if not isinstance(name, str):
        raise TypeError(f"metric names are strings, not {type(name).__name__} ({name!r:.60})")
    if follows_convention(name):
        return name
    if name in _AXIS_KEYS:
        raise ValueError(
            f"`{name}` is an x-axis, not a metric: pass it as log_metrics(metrics, step={name}, "
            f"axis={'epoch' if name == 'epoch' else 'step'!r})"
        )
    fixed = conventional_form(name)
    hint = f"write `{fixed}`" if fixed else "e.g. `val/loss`, `eval/mmlu/accuracy`, `system/gpu_memory`"
    raise ValueError(f"metric name `{name}` does not follow the naming convention {CONVENTION_TEXT}; {hint}")


# ---------------------------------------------------------------------------------------------
# Files


def _sync(fd: int) -> None:
    # fdatasync writes the data and the file size (what a reader needs) without the timestamps.
    (os.fdatasync if hasattr(os, "fdatasync") else os.fsync)(fd)


def write_json_atomic(path: Path, payload: Any) -> None:
    """``payload`` (made JSON-compatible with :func:`jsonable`) written to ``path`` atomically."""
    text = json.dumps(jsonable(payload), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    write_atomic(path, text.encode("utf-8"))


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _drop_partial_last_line(path: Path) -> None:
    """Cut a line left unfinished by a crash off the end of ``path``, so appends start on a line
    of their own."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    if size == 0:
        return
    with open(path, "r+b") as handle:
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return
        end, chunk = size, 1 << 16
        while end > 0:
            start = max(0, end - chunk)
            handle.seek(start)
            block = handle.read(end - start)
            newline = block.rfind(b"\n")
            if newline >= 0:
                keep = start + newline + 1
                break
            end = start
        else:
            keep = 0
        handle.truncate(keep)
        handle.flush()
        os.fsync(handle.fileno())


def _forget_records_after(path: Path, limits: Mapping[str, int]) -> None:
    """Rewrite ``path`` (atomically) without the records past ``limits`` (axis -> last x value to
    keep): what a run logged after the checkpoint it resumes from, which it is about to log again."""
    if not path.exists():
        return
    kept = []
    for line in path.read_bytes().split(b"\n")[:-1]:
        if not line.strip():
            continue
        record = json.loads(line)
        axis = record.get("axis")
        if axis in limits and record.get(axis, 0) > limits[axis]:
            continue
        kept.append(line + b"\n")
    write_atomic(path, b"".join(kept))


def read_metrics(run_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """Every record in ``run_dir/metrics.jsonl`` (or the file given), in the order written:
    ``{"step"|"epoch": n, "axis": ..., "metrics": {name: number}, "time": unix_s}`` (``time``-axis
    records have no separate x key). ``"NaN"``/``"Infinity"``/``"-Infinity"`` become floats again.

    A last line without its newline (a write cut short by a crash) is skipped. Raises
    FileNotFoundError when there is no such file, ValueError (with ``file:line``) for a damaged line
    before the last.
    """
    path = Path(run_dir)
    if path.is_dir():
        path = path / METRICS_FILE
    data = path.read_bytes()
    lines = data.split(b"\n")
    records = []
    for number, line in enumerate(lines[:-1], start=1):  # lines[-1] is b"" or an unfinished line
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as error:
            raise ValueError(f"{path}:{number}: damaged metrics record ({error})") from None
        metrics = record.get("metrics")
        if isinstance(metrics, dict):
            for name, value in metrics.items():
                if isinstance(value, str) and value in _NONFINITE:
                    metrics[name] = _NONFINITE[value]
        records.append(record)
    return records


def metric_history(run_dir: str | os.PathLike) -> dict[str, dict[int, dict[str, int | float]]]:
    """The run's metrics by axis and x value: ``{"step": {1: {"train/loss": 0.9}, ...}, "epoch":
    {...}}``, the ``time`` axis (system samples) left out.

    Calls at the same x value merge, and a later value of a name replaces an earlier one: a run
    resumed from a checkpoint logs the steps after that checkpoint again, and this is the history it
    ends up with. Two runs that computed the same numbers have equal histories (their records still
    differ in ``time``).
    """
    history: dict[str, dict[int, dict[str, int | float]]] = {}
    for record in read_metrics(run_dir):
        axis = record.get("axis")
        if axis == "time" or axis not in record:
            continue
        history.setdefault(axis, {}).setdefault(record[axis], {}).update(record.get("metrics", {}))
    return {axis: dict(sorted(points.items())) for axis, points in history.items()}


def read_run(run_dir: str | os.PathLike) -> dict[str, Any]:
    """``run_dir/run.json``: the run's status, command, git state, environment and timings."""
    return json.loads((Path(run_dir) / RUN_FILE).read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------
# The local backend


class LocalBackend(TrackingBackend):
    """Records in the run directory: ``metrics.jsonl`` (append-only, one line per call, written with
    one ``write`` and fdatasync'd before the call returns), ``params.json`` (atomic) and
    ``artifacts/`` (copies of files from outside the run directory)."""

    name = "local"

    def __init__(self, section: Mapping[str, Any], run_dir: Path):
        self.run_dir = Path(run_dir)
        self._fd: int | None = None
        self._params: dict[str, Any] = {}

    def start(self, run: Mapping[str, Any]) -> None:
        path = self.run_dir / METRICS_FILE
        _drop_partial_last_line(path)  # a resumed run: a crash may have cut the last line short
        if run.get("resumed_after"):
            _forget_records_after(path, run["resumed_after"])
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        previous = _read_json(self.run_dir / PARAMS_FILE)
        self._params = previous if isinstance(previous, dict) else {}

    def log_params(self, params: dict[str, Any]) -> None:
        self._params.update(params)
        write_json_atomic(self.run_dir / PARAMS_FILE, self._params)

    def log_metrics(self, record: dict[str, Any]) -> None:
        if self._fd is None:
            raise RuntimeError("the local tracking backend was not started")
        record = {**record, "metrics": _encode_metrics(record["metrics"])}
        line = (json.dumps(record, separators=(",", ":"), ensure_ascii=False, allow_nan=False) + "\n").encode()
        view = memoryview(line)
        while view:  # one write() for a regular file; the loop only guards against a short write
            view = view[os.write(self._fd, view) :]
        _sync(self._fd)

    def log_artifact(self, path: Path, name: str) -> str:
        path = Path(path).resolve()
        with contextlib.suppress(ValueError):
            return path.relative_to(self.run_dir.resolve()).as_posix()  # already kept with the run
        folder = self.run_dir / ARTIFACTS_DIR
        folder.mkdir(exist_ok=True)
        target = folder / name
        staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=folder))
        try:
            staged = staging / name
            if path.is_dir():
                shutil.copytree(path, staged)
            else:
                shutil.copy2(path, staged)
                with open(staged, "rb") as handle:
                    os.fsync(handle.fileno())
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            os.replace(staged, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        fsync_directory(folder)
        return target.relative_to(self.run_dir).as_posix()

    def finish(self, run: Mapping[str, Any]) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


register_backend("local", LocalBackend)


# ---------------------------------------------------------------------------------------------
# What a run records for reproduction


def _utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def config_sha256(config: Any) -> str:
    """sha256 of the config's canonical JSON (sorted keys, no whitespace): for a resolved spec, the
    hash ``rigorml resolve`` prints."""
    from ..schemas.hashing import spec_hash

    return spec_hash(jsonable(config))


def capture_command() -> dict[str, Any]:
    """The command that started this process, exactly: ``sys.orig_argv`` shell-quoted (interpreter
    and ``-m`` included), ``sys.argv``, the working directory, host and process id."""
    return {
        "command": shlex.join(getattr(sys, "orig_argv", [sys.executable, *sys.argv])),
        "argv": list(sys.argv),
        "executable": sys.executable,
        "cwd": os.getcwd(),
        "host": platform.node(),
        "pid": os.getpid(),
    }


def _git(args: list[str], cwd: Path, timeout_s: float) -> subprocess.CompletedProcess:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, timeout=timeout_s, check=False, env=env, stdin=subprocess.DEVNULL
    )


def capture_git(
    source_dir: str | os.PathLike | None = None,
    *,
    commit: bool = True,
    dirty: bool = True,
    diff: bool = True,
    timeout_s: float = GIT_TIMEOUT_S,
) -> tuple[dict[str, Any], bytes | None]:
    """The git state of the repository holding ``source_dir`` (default: the working directory).

    Returns ``(record, diff_bytes)``: record ``{"root", "commit", "dirty", "untracked",
    "untracked_count", "error"}`` (``dirty``: tracked files differ from HEAD, staged or not;
    ``untracked``: the first :data:`MAX_UNTRACKED` files git neither ignores nor tracks,
    ``untracked_count``: all of them) and the ``git diff HEAD`` text (None when not asked, clean or
    unavailable). Outside a repository, without git, or when a command takes longer than
    ``timeout_s``, the fields are null and ``error`` says why; it never raises for those.
    """
    record: dict[str, Any] = dict.fromkeys(("root", "commit", "dirty", "untracked", "untracked_count", "error"))
    cwd = Path(source_dir) if source_dir is not None else Path.cwd()
    try:
        top = _git(["rev-parse", "--show-toplevel"], cwd, timeout_s)
        if top.returncode != 0:
            message = top.stderr.decode(errors="replace").strip().splitlines()
            record["error"] = message[0] if message else "not a git repository"
            return record, None
        record["root"] = top.stdout.decode(errors="replace").strip()
        head = _git(["rev-parse", "--verify", "HEAD"], cwd, timeout_s)
        has_head = head.returncode == 0
        if commit and has_head:
            record["commit"] = head.stdout.decode().strip()
        patch = None
        if dirty or diff:
            status = _git(["status", "--porcelain", "--untracked-files=no"], cwd, timeout_s)
            is_dirty = bool(status.stdout.strip()) if status.returncode == 0 else None
            if dirty:
                record["dirty"] = is_dirty
                try:  # a large folder git does not ignore can make this slow: losing it loses only the list
                    others = _git(["ls-files", "--others", "--exclude-standard", "-z"], cwd, timeout_s)
                except subprocess.TimeoutExpired:
                    others = None
                if others is not None and others.returncode == 0:
                    untracked = [p for p in others.stdout.decode(errors="replace").split("\0") if p]
                    record["untracked"] = untracked[:MAX_UNTRACKED]
                    record["untracked_count"] = len(untracked)
            if diff and is_dirty and has_head:
                changes = _git(["diff", "HEAD", "--no-color", "--no-ext-diff"], cwd, timeout_s)
                patch = changes.stdout if changes.returncode == 0 else None
        if not has_head:
            record["error"] = "the repository has no commit yet"
        return record, patch
    except FileNotFoundError:
        record["error"] = "git is not installed"
    except subprocess.TimeoutExpired:
        record["error"] = f"git took longer than {timeout_s:g} s"
    except OSError as error:
        record["error"] = f"git could not run: {error}"
    record.update(root=None, commit=None, dirty=None, untracked=None, untracked_count=None)
    return record, None


def _package_versions(names: Iterable[str]) -> dict[str, str | None]:
    from importlib import metadata

    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _gpu_names(torch) -> list[str] | None:
    # Device names need a CUDA context; ask only once the training code has created one.
    if not torch.cuda.is_available():
        return []
    if not torch.cuda.is_initialized():
        return None
    return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]


def capture_environment(precision: str | None = None) -> dict[str, Any]:
    """Python, platform, package versions, torch, CUDA and cuDNN versions, GPU count and names, the
    numeric precision, the data-parallel world size and the determinism switches in effect. GPU names are filled in once CUDA is
    initialised (at close, if it was not yet at open)."""
    env: dict[str, Any] = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "packages": _package_versions(("rigorml", "torch", "numpy", "scipy", "scikit-learn", "optuna")),
        "precision": precision,
        # Data-parallel processes (torchrun's WORLD_SIZE): reductions over several processes sum
        # floats in another order, so results are comparable only at the same world size.
        "world_size": int(os.environ.get("WORLD_SIZE") or 1),
        "env": {
            name: os.environ.get(name)
            for name in ("CUDA_VISIBLE_DEVICES", "CUBLAS_WORKSPACE_CONFIG", "PYTHONHASHSEED", "OMP_NUM_THREADS")
        },
    }
    try:
        import torch
    except ImportError:
        env.update(torch=None, cuda=None, cudnn=None, gpu_count=0, gpus=None)
        return env
    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    env.update(
        torch=torch.__version__,
        cuda=torch.version.cuda,
        cudnn=cudnn,
        gpu_count=torch.cuda.device_count() if torch.cuda.is_available() else 0,
        gpus=_gpu_names(torch),
        deterministic_algorithms=torch.are_deterministic_algorithms_enabled(),
        cudnn_deterministic=torch.backends.cudnn.deterministic,
        cudnn_benchmark=torch.backends.cudnn.benchmark,
    )
    return env


# ---------------------------------------------------------------------------------------------
# System metrics


def _rss_mib() -> float | None:
    try:
        with open("/proc/self/statm", "rb") as handle:
            resident_pages = int(handle.read().split()[1])
        return resident_pages * os.sysconf("SC_PAGE_SIZE") / _MIB
    except (OSError, ValueError, IndexError):
        return None


def _peak_rss_mib() -> float | None:
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / _MIB if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB elsewhere


class SystemMonitor:
    """Samples ``system/...`` metrics every ``interval_s`` seconds on a daemon thread and hands each
    sample to ``emit``. :meth:`stop` ends and joins the thread. A sampling error stops sampling (it
    never reaches the training loop) and is kept in :attr:`notes`."""

    def __init__(self, emit: Callable[[dict[str, float]], None], interval_s: float, name: str = "rigorml-system-metrics"):
        if not interval_s > 0:
            raise ValueError(f"system_interval_s must be positive, not {interval_s!r}")
        self.emit, self.interval_s, self.notes = emit, float(interval_s), []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._cpu_mark: tuple[float, float] | None = None
        self._gpu_utilization = True

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while True:
            try:
                sample = self.sample()
                if sample:
                    self.emit(sample)
            except Exception as error:  # noqa: BLE001 - a monitoring failure must not end the run
                self.notes.append(f"system metrics stopped: {type(error).__name__}: {error}")
                return
            if self._stop.wait(self.interval_s):
                return

    def sample(self) -> dict[str, float]:
        """One sample of every resource this process can measure now."""
        sample: dict[str, float] = {}
        rss, peak = _rss_mib(), _peak_rss_mib()
        if rss is not None:
            sample["system/cpu_memory"] = rss
        if peak is not None:
            sample["system/cpu_memory_peak"] = peak
        mark = (time.monotonic(), time.process_time())
        if self._cpu_mark is not None and mark[0] > self._cpu_mark[0]:
            sample["system/cpu_utilization"] = 100.0 * (mark[1] - self._cpu_mark[1]) / (mark[0] - self._cpu_mark[0])
        self._cpu_mark = mark
        sample.update(self._gpu_sample())
        return sample

    def _gpu_sample(self) -> dict[str, float]:
        torch = sys.modules.get("torch")  # only a process that uses torch can have CUDA memory
        if torch is None or not torch.cuda.is_available() or not torch.cuda.is_initialized():
            return {}
        # The device this process uses: the one its caching allocator holds memory on (the current
        # device is per thread, so this thread cannot ask for the training thread's).
        reserved = [torch.cuda.memory_reserved(i) for i in range(torch.cuda.device_count())]
        device = max(range(len(reserved)), key=reserved.__getitem__) if reserved else 0
        sample = {
            "system/gpu_memory": torch.cuda.memory_allocated(device) / _MIB,
            "system/gpu_memory_reserved": reserved[device] / _MIB if reserved else 0.0,
            "system/gpu_memory_peak": torch.cuda.max_memory_allocated(device) / _MIB,
        }
        if self._gpu_utilization:
            try:
                sample["system/gpu_utilization"] = float(torch.cuda.utilization(device))
            except Exception as error:  # noqa: BLE001 - pynvml missing or NVML unavailable
                self._gpu_utilization = False
                self.notes.append(f"system/gpu_utilization not sampled: {type(error).__name__}: {error}")
        return sample


# ---------------------------------------------------------------------------------------------
# The run


class _RunLock:
    """An exclusive ``flock`` on ``run_dir/.tracker.lock``: two trackers never write one run
    directory at once. The kernel drops it when the process dies (kill -9 included)."""

    def __init__(self, run_dir: Path):
        self.path = run_dir / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no cross-process guard
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise RunDirectoryInUse(
                f"run directory {self.path.parent} is being written by another tracker (process {holder}); "
                "give every run its own directory (arm and replicate in the path)"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            import fcntl

            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class TrackedRun:
    """A :class:`Tracker` over any :class:`TrackingBackend`: checks names, converts values, keeps
    the axes apart, writes the run directory's reproduction record and samples system metrics.

    Open it with :func:`open_tracker`. Methods are safe to call from several threads (one lock
    orders the writes); after :meth:`close` they raise RuntimeError.
    """

    def __init__(self, backend: TrackingBackend, run_dir: Path, info: dict[str, Any], lock: _RunLock | None = None):
        self.backend, self.run_dir, self.name = backend, Path(run_dir), info["name"]
        self._info = info
        self._run_lock = lock
        self._lock = threading.RLock()
        self._next = {"step": 0, "epoch": 0}
        self._known_names: dict[str, bool] = {}  # name -> is a system metric
        self._monitor: SystemMonitor | None = None
        self._started = time.monotonic()
        self._closed = False

    @property
    def status(self) -> str:
        """``running`` until closed, then how it ended."""
        return self._info["status"]

    @property
    def closed(self) -> bool:
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"the tracker of run `{self.name}` is closed ({self.status})")

    def _write_run_file(self) -> None:
        write_json_atomic(self.run_dir / RUN_FILE, self._info)

    # -- the Tracker methods ----------------------------------------------------------------

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Record hyperparameters, merged with earlier calls (a key logged again takes the new
        value). Values become JSON data (tensors and arrays as numbers or lists). Raises TypeError
        when ``params`` is not a mapping."""
        if not isinstance(params, Mapping):
            raise TypeError(f"log_params takes a mapping of name -> value, not {type(params).__name__}")
        converted = {str(key): jsonable(value) for key, value in params.items()}
        with self._lock:
            self._check_open()
            self.backend.log_params(converted)

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None, axis: str = "step") -> None:
        """Record one set of metric values at one point of one axis.

        ``axis``: ``step`` (training steps), ``epoch`` (evaluations: log ``val/...`` at the epoch,
        not at the training step count) or ``time`` (``system/...`` metrics; ``step`` must be None).
        ``step``: the x value, a non-negative int; None takes the one after the last on that axis
        (0 first). Values: numbers, 0-dim tensors or numpy scalars (``.item()``); NaN/inf are kept.

        Raises ValueError for a name off the naming convention, a ``system/`` name off the ``time``
        axis (or another name on it), an unknown axis or a negative step; TypeError for a value that
        is not one number (a tensor with more than one element included). Nothing is written when
        any name or value is refused.
        """
        if axis not in AXES:
            raise ValueError(f"axis must be one of {', '.join(AXES)}, not {axis!r}")
        if not isinstance(metrics, Mapping):
            raise TypeError(f"log_metrics takes a mapping of metric name -> value, not {type(metrics).__name__}")
        values = {}
        for name, value in metrics.items():
            system = self._known_names.get(name)
            if system is None:
                system = self._known_names[name] = is_system_metric(check_metric_name(name))
            if system != (axis == "time"):
                raise ValueError(
                    f"`{name}` is a system metric: log it with axis='time' (system metrics are sampled against "
                    "time, not training steps)"
                    if system
                    else f"`{name}` is not a system metric: the time axis is for `system/...` metrics; log it "
                    "with axis='step' or axis='epoch'"
                )
            values[name] = metric_value(name, value)
        if axis == "time":
            if step is not None:
                raise ValueError("the time axis takes no step: its x value is the time of the call")
        elif step is not None:
            if isinstance(step, bool) or not isinstance(step, numbers.Integral):
                raise TypeError(f"step must be an int, not {type(step).__name__} ({step!r:.40})")
            step = int(step)
            if step < 0:
                raise ValueError(f"step must be non-negative, not {step}")
        with self._lock:
            self._check_open()
            if not values:
                return
            if axis == "time":
                record = {"axis": "time", "metrics": values, "time": time.time()}
            else:
                step = self._next[axis] if step is None else step
                self._next[axis] = step + 1
                record = {axis: step, "axis": axis, "metrics": values, "time": time.time()}
            self.backend.log_metrics(record)

    def set_tags(self, tags: Mapping[str, Any] | Iterable[str]) -> None:
        """Set key-value tags (values as strings), merged with earlier ones; an iterable of plain
        tag names sets each to ``""``. Recorded in run.json and passed to the backend."""
        if isinstance(tags, Mapping):
            converted = {str(key): "" if value is None else str(value) for key, value in tags.items()}
        elif isinstance(tags, Iterable) and not isinstance(tags, (str, bytes)):
            converted = {str(tag): "" for tag in tags}
        else:
            raise TypeError(f"set_tags takes a mapping of tag -> value, not {type(tags).__name__}")
        if any(not key for key in converted):
            raise ValueError("tag names must not be empty")
        with self._lock:
            self._check_open()
            self._info["tags"].update(converted)
            self._write_run_file()
            self.backend.set_tags(converted)

    def log_artifact(self, path: str | os.PathLike, name: str | None = None) -> str:
        """Keep a file or directory with the run, under ``name`` (default: its file name). Returns
        where the backend keeps it (local: a path relative to the run directory; a path already
        inside it is recorded, not copied). Raises FileNotFoundError when ``path`` does not exist."""
        source = Path(path)
        if not source.exists():
            raise FileNotFoundError(f"artifact {source} does not exist")
        name = name or source.resolve().name
        if not name or "/" in name or name in (".", ".."):
            raise ValueError(f"artifact name must be a plain file name, not {name!r}")
        with self._lock:
            self._check_open()
            location = self.backend.log_artifact(source, name)
            if location not in self._info["artifacts"]:
                self._info["artifacts"].append(location)
                self._write_run_file()
        return location

    def close(self, status: str = "finished", error: BaseException | None = None) -> None:
        """End the run: stop and join the system-metrics thread, record ``status`` (finished,
        failed, killed), the end time, duration and ``error`` in run.json, let the backend finish,
        release the run directory. Calling it again does nothing."""
        if status not in END_STATUSES:
            raise ValueError(f"status must be one of {', '.join(END_STATUSES)}, not {status!r}")
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            if self._monitor is not None:
                self._monitor.stop()
                self._info["system_metrics"]["notes"].extend(self._monitor.notes)
            environment = self._info.get("environment")
            torch = sys.modules.get("torch")
            if environment and environment.get("gpus") is None and torch is not None:
                with contextlib.suppress(Exception):
                    environment["gpus"] = _gpu_names(torch)
            self._info.update(
                status=status,
                end_time=_utc_now(),
                duration_s=round(time.monotonic() - self._started, 3),
                error=None if error is None else {"type": type(error).__name__, "message": str(error)},
            )
            with self._lock:
                self._write_run_file()
                self.backend.finish(self._info)
        finally:
            self._release()

    def _release(self) -> None:
        if self._monitor is not None:
            self._monitor.stop()
        if self._run_lock is not None:
            self._run_lock.release()
            self._run_lock = None

    def __enter__(self) -> TrackedRun:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None or (exc_type is SystemExit and exc.code in (0, None)):
            status = "finished"
        elif issubclass(exc_type, KeyboardInterrupt):
            status = "killed"
        else:
            status = "failed"
        self.close(status, error=None if status == "finished" else exc)
        return None  # never swallow the exception

    # -- opening ----------------------------------------------------------------------------

    def _start(self, backend_run: dict[str, Any], system_metrics: bool, interval_s: float) -> None:
        self.backend.start(backend_run)
        if system_metrics:
            self._monitor = SystemMonitor(self._log_system, interval_s, name=f"rigorml-system-metrics:{self.name}")
            self._monitor.start()

    def _log_system(self, sample: dict[str, float]) -> None:
        with contextlib.suppress(RuntimeError):  # closed between the sample and the write
            self.log_metrics(sample, axis="time")


def _section_value(section: Mapping[str, Any], key: str, default: Any) -> Any:
    value = section.get(key, default)
    return default if value is None else value


def open_tracker(
    tracking_section: Mapping[str, Any],
    run_dir: str | os.PathLike,
    run_name: str,
    group: str | None,
    config: Mapping[str, Any] | None,
    *,
    source_dir: str | os.PathLike | None = None,
    resume_after: Mapping[str, int] | None = None,
) -> TrackedRun:
    """Open the run ``run_name`` in ``run_dir`` with the backend ``tracking_section["backend"]``.

    ``tracking_section``: the resolved spec's ``tracking`` section as plain data (missing keys take
    the schema's defaults: backend ``local``, every ``capture`` flag on, ``system_metrics`` on every
    ``system_interval_s`` = 10 s). ``group``: the run group (None: the section's). ``config``: the
    resolved config, saved as ``config.resolved.json`` with its sha256 in run.json.
    ``source_dir``: where to read the git state (default: the working directory).
    ``resume_after``: for a run resumed from a checkpoint, the last x value to keep per axis
    (``{"step": 120, "epoch": 3}``): records logged after it are dropped before appending (the
    resumed run logs them again), automatic steps continue after it, and run.json records it.

    Writes run.json (status ``running``) before returning; a directory whose run.json exists is a
    resumed attempt (metrics are appended, params and tags kept, the earlier attempt recorded).

    Raises TrackingBackendUnavailable for ``neptune`` (not in this build) and for ``mlflow``/``wandb``
    when their package is not installed, ValueError for an unknown backend or an empty run name,
    RunDirectoryInUse when another tracker has the directory open. Nothing is written when the
    backend is refused.
    """
    section = tracking_section or {}
    backend_name = _section_value(section, "backend", "local")
    factory = _BACKENDS.get(backend_name) or _load_lazy_backend(backend_name)
    if factory is None:
        if backend_name in _NOT_IN_THIS_BUILD:
            package = _NOT_IN_THIS_BUILD[backend_name]
            raise TrackingBackendUnavailable(
                f"tracking.backend `{backend_name}` is not available in this build of rigorml: it needs "
                f"`pip install {package}` and the `{backend_name}` backend, which a later rigorml release adds. "
                f"Use `tracking.backend: local` (the default; records in the run directory) meanwhile."
            )
        raise ValueError(f"unknown tracking.backend `{backend_name}`; available: {', '.join(backends())}")
    if not isinstance(run_name, str) or not run_name.strip():
        raise ValueError(f"run_name must be a non-empty string, not {run_name!r}")
    capture = {
        key: bool(_section_value(section.get("capture") or {}, key, True))
        for key in ("git_commit", "git_dirty", "git_diff", "command", "resolved_config", "environment")
    }
    system_metrics = bool(_section_value(section, "system_metrics", True))
    interval_s = float(_section_value(section, "system_interval_s", 10.0))
    if system_metrics and not interval_s > 0:
        raise ValueError(f"tracking.system_interval_s must be positive, not {interval_s!r}")
    resumed_after = None
    if resume_after is not None:
        resumed_after = {axis: int(x) for axis, x in resume_after.items()}
        if not set(resumed_after) <= {"step", "epoch"} or any(x < 0 for x in resumed_after.values()):
            raise ValueError(f"resume_after maps step/epoch to a non-negative int, not {dict(resume_after)!r}")

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    lock = _RunLock(run_dir)
    lock.acquire()
    run = None
    try:
        previous = _read_json(run_dir / RUN_FILE)
        previous = previous if isinstance(previous, dict) else None
        info: dict[str, Any] = {
            "name": run_name,
            "group": group if group is not None else section.get("group"),
            "project": section.get("project"),
            "backend": backend_name,
            "tags": {str(tag): "" for tag in section.get("tags") or ()},
            "status": "running",
            "attempt": 1,
            "start_time": _utc_now(),
            "end_time": None,
            "duration_s": None,
            "error": None,
            "command": capture_command() if capture["command"] else None,
            "config_file": None,
            "config_sha256": None,
            "git": None,
            "environment": None,
            "artifacts": [],
            "system_metrics": {"enabled": system_metrics, "interval_s": interval_s, "units": SYSTEM_METRIC_UNITS, "notes": []},
            "previous_attempts": [],
            "resumed_after": resumed_after,
        }
        if previous is not None:
            info["attempt"] = int(previous.get("attempt") or 1) + 1
            if isinstance(previous.get("tags"), dict):  # tags set by an earlier attempt stay
                info["tags"] = {**previous["tags"], **info["tags"]}
            info["artifacts"] = list(previous.get("artifacts") or [])
            attempt = {key: previous.get(key) for key in ("attempt", "start_time", "end_time", "duration_s", "status", "error")}
            info["previous_attempts"] = [*(previous.get("previous_attempts") or []), attempt]
        if capture["git_commit"] or capture["git_dirty"] or capture["git_diff"]:
            git, patch = capture_git(source_dir, commit=capture["git_commit"], dirty=capture["git_dirty"], diff=capture["git_diff"])
            git["diff"] = None
            if patch:
                write_atomic(run_dir / DIFF_FILE, patch)
                git["diff"] = DIFF_FILE
            info["git"] = git
        if capture["environment"]:
            training = (config or {}).get("training") if isinstance(config, Mapping) else None
            info["environment"] = capture_environment(training.get("precision") if isinstance(training, Mapping) else None)
        if capture["resolved_config"] and config is not None:
            write_json_atomic(run_dir / CONFIG_FILE, config)
            info.update(config_file=CONFIG_FILE, config_sha256=config_sha256(config))
        run = TrackedRun(factory(section, run_dir), run_dir, info, lock)
        for axis, x in (resumed_after or {}).items():
            run._next[axis] = x + 1
        run._write_run_file()
        run._start({**info, "config": config}, system_metrics, interval_s)
        return run
    except BaseException:
        if run is not None:
            run._release()
        lock.release()
        raise
