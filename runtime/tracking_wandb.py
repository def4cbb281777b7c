"""The ``wandb`` tracking backend: each rigorml run is one real Weights & Biases run, offline by default.

``tracking.backend: wandb`` opens it (:mod:`rigorml.runtime.tracking` imports this module, and so
wandb, only then; ``pip install 'rigorml[wandb]'``). :class:`~rigorml.runtime.tracking.TrackedRun`
has already checked names and values and written the run directory's record; this backend only
stores, through wandb's own run object:

Where
    ``tracking.mode: offline`` (the default) never needs the network or an API key: wandb writes the
    run under ``<run_dir>/wandb/offline-run-<time>-<id>/`` (``run-<id>.wandb`` holds every record),
    and ``wandb sync <run_dir>/wandb/offline-run-*`` uploads it later from any machine logged in to
    W&B. While the run is being opened, ``WANDB_MODE``, ``WANDB_SILENT``, ``WANDB_DISABLE_GIT`` and
    ``WANDB_DISABLE_CODE`` are set for this process (and put back right after), so wandb neither
    prompts, logs in nor runs git (rigorml records the git state itself). ``mode: online`` logs to
    the W&B server and needs a login as usual. wandb's console capture is off (rigorml leaves the
    process's stdout alone), and so are its own system metrics when ``tracking.system_metrics`` is off.
Run
    project: ``tracking.project`` (else the config's ``experiment.project`` or ``experiment.name``);
    name, group and tags from the rigorml run (a tag with a value becomes ``key:value``; W&B tags
    are at most 64 characters: longer ones are cut); config: the resolved config, plus ``params``
    (what :meth:`log_params` got, merged) and ``rigorml`` (attempt, config sha256, run directory,
    git commit, notes). The run id is kept in ``<run_dir>/wandb.run.json``: a resumed attempt in the
    same directory opens the same run id with ``resume="allow"`` (offline, each attempt writes its
    own folder; ``wandb sync`` uploads them in order of start time into that one run).
Metrics
    Every axis is a metric of its own and each metric name is defined against it
    (``define_metric(name, step_metric=...)``): ``step`` (training steps), ``epoch``
    (evaluations) and ``time`` (``system/...`` samples, seconds since the W&B run started). Each
    log call is one history row holding its axis value; wandb's own ``_step`` just counts rows, so
    epoch and step values never have to share one monotonic counter.
Artifacts
    A W&B Artifact (type ``rigorml``) named ``<run name>-<name>``, so each run versions its own; wandb
    stages a copy in its data directory (``WANDB_DATA_DIR``) until the run is synced.
End
    ``finished``/``failed``/``killed`` finish the run with exit code 0 / 1 / 130.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import wandb

from .tracking import TrackingBackend, jsonable, tracker_project, write_json_atomic

#: The run directory's record of its W&B run id.
RUN_ID_FILE = "wandb.run.json"
EXIT_CODES = {"finished": 0, "failed": 1, "killed": 130}
#: The history key each rigorml axis is logged under (the step metric of the names on it).
AXIS_KEYS = {"step": "step", "epoch": "epoch", "time": "time"}
ARTIFACT_TYPE = "rigorml"
MAX_TAG = 64
#: Set while wandb opens a run, in offline mode: no prompt, no login, no git, no code capture.
OFFLINE_ENVIRONMENT = {
    "WANDB_MODE": "offline",
    "WANDB_SILENT": "true",
    "WANDB_DISABLE_GIT": "true",
    "WANDB_DISABLE_CODE": "true",
}
_ARTIFACT_NAME = re.compile(r"[^A-Za-z0-9_.-]")


@contextlib.contextmanager
def scoped_environment(values: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` with ``values`` set inside the block, as it was after it."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _version() -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", wandb.__version__)[:3])


def _settings(**wanted: Any) -> Any:
    """``wandb.Settings`` with those of ``wanted`` this wandb version knows (their names moved
    between releases: ``x_disable_stats`` was ``_disable_stats``)."""
    fields = getattr(wandb.Settings, "model_fields", None)
    if fields is None:  # wandb before the pydantic settings (< 0.19)
        wanted = {("_" + k[2:] if k.startswith("x_") else k): v for k, v in wanted.items()}
        return wandb.Settings(**wanted)
    return wandb.Settings(**{key: value for key, value in wanted.items() if key in fields})


class WandbBackend(TrackingBackend):
    """Stores a tracked run as a real W&B run (see the module documentation for the mapping)."""

    name = "wandb"

    def __init__(self, section: Mapping[str, Any], run_dir: Path):
        self.run_dir = Path(run_dir).absolute()
        self.mode = section.get("mode") or "offline"
        self._project = section.get("project")
        self._system_metrics = section.get("system_metrics", True) is not False
        self.run = None
        self.run_id: str | None = None
        self.project: str | None = None
        self.notes: list[str] = []
        self._run_name = ""
        self._params: dict[str, Any] = {}
        self._defined: set[str] = set()
        self._rigorml: dict[str, Any] = {}

    def _note(self, text: str) -> None:
        self.notes.append(text)
        if self.run is not None:
            self.run.config.update({"rigorml": {**self._rigorml, "notes": self.notes}}, allow_val_change=True)

    def _tags(self, tags: Mapping[str, Any]) -> list[str]:
        converted = []
        for key, value in tags.items():
            tag = f"{key}:{value}" if value not in (None, "") else str(key)
            if len(tag) > MAX_TAG:
                self._note(f"tag `{tag}` cut to W&B's {MAX_TAG} characters")
                tag = tag[:MAX_TAG]
            converted.append(tag)
        return converted

    def _stable_id(self) -> str:
        """The run id an earlier attempt in this directory used; a new one (kept) otherwise."""
        path = self.run_dir / RUN_ID_FILE
        with contextlib.suppress(OSError, ValueError, AttributeError):
            kept = json.loads(path.read_text(encoding="utf-8")).get("run_id")
            if isinstance(kept, str) and kept:
                return kept
        return secrets.token_hex(8)  # 16 characters from [0-9a-f]: a valid W&B run id

    def start(self, run: Mapping[str, Any]) -> None:
        config = run.get("config")
        self._run_name = run["name"]
        self.project = tracker_project(self._project, config, run["name"])
        self.run_id = self._stable_id()
        git = run.get("git") or {}
        self._rigorml = {
            "attempt": run.get("attempt", 1),
            "config_sha256": run.get("config_sha256"),
            "run_dir": str(self.run_dir),
            "git_commit": git.get("commit"),
            "git_dirty": git.get("dirty"),
            "notes": self.notes,
        }
        tags = self._tags(run.get("tags") or {})
        init_config = {**(jsonable(config) if isinstance(config, Mapping) else {}), "rigorml": self._rigorml}
        settings = _settings(
            silent=True, disable_git=True, save_code=False, console="off", x_disable_stats=not self._system_metrics
        )
        environment = OFFLINE_ENVIRONMENT if self.mode == "offline" else {}
        reinit = "create_new" if _version() >= (0, 19, 10) else True  # never hand back another open run
        with scoped_environment(environment):
            self.run = wandb.init(
                mode=self.mode,
                dir=str(self.run_dir),
                project=self.project,
                group=run.get("group"),
                name=run["name"],
                tags=tags,
                config=init_config,
                id=self.run_id,
                resume="allow",
                reinit=reinit,
                settings=settings,
            )
        write_json_atomic(
            self.run_dir / RUN_ID_FILE, {"run_id": self.run_id, "project": self.project, "mode": self.mode}
        )
        for axis_key in AXIS_KEYS.values():
            self.run.define_metric(axis_key)

    def log_params(self, params: dict[str, Any]) -> None:
        self._params.update(params)
        self.run.config.update({"params": dict(self._params)}, allow_val_change=True)

    def log_metrics(self, record: dict[str, Any]) -> None:
        axis = record["axis"]
        axis_key = AXIS_KEYS[axis]
        for name in record["metrics"]:
            if name not in self._defined:
                self._defined.add(name)
                self.run.define_metric(name, step_metric=axis_key)
        if axis == "time":
            x = round(record["time"] - self.run.start_time, 3)
        else:
            x = record[axis]
        self.run.log({**record["metrics"], axis_key: x})

    def set_tags(self, tags: dict[str, str]) -> None:
        current = list(self.run.tags or ())
        self.run.tags = tuple(current + [tag for tag in self._tags(tags) if tag not in current])

    def log_artifact(self, path: Path, name: str) -> str:
        path = Path(path)
        artifact_name = _ARTIFACT_NAME.sub("_", f"{self._run_name}-{name}")[:128]
        artifact = wandb.Artifact(artifact_name, type=ARTIFACT_TYPE, metadata={"file": name})
        if path.is_dir():
            artifact.add_dir(str(path), name=name)
        else:
            artifact.add_file(str(path), name=name)
        self.run.log_artifact(artifact)
        return f"wandb-artifact:{self.project}/{artifact_name}:latest"

    def finish(self, run: Mapping[str, Any]) -> None:
        if self.run is None:
            return
        wandb_run, self.run = self.run, None
        wandb_run.finish(exit_code=EXIT_CODES.get(run.get("status"), 1))
