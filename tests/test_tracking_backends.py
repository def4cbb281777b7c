"""The ``mlflow`` and ``wandb`` tracking backends, against the real libraries.

MLflow runs are read back with MLflow's own client (``MlflowClient.get_run``,
``get_metric_history``, ``list_artifacts``) from real SQLite stores; W&B runs are offline (no network,
no API key) and read back from the ``.wandb`` file wandb wrote, decoded with wandb's own protobuf
``Record``. Training runs happen in subprocesses (the runtime sets process-wide determinism flags).
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import textwrap
import time
import zlib
from pathlib import Path

import pytest

from rigorml.runtime import tracking
from rigorml.runtime.tracking import TrackingBackendUnavailable, open_tracker, read_run

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "examples" / "quickstart.yaml"

#: Slow captures off; each test turns on what it checks.
QUIET = {
    "capture": {
        "git_commit": False, "git_dirty": False, "git_diff": False,
        "command": True, "resolved_config": True, "environment": False,
    },
    "system_metrics": False,
}
CONFIG = {"experiment": {"name": "digits-mlp", "project": "from-config"}, "training": {"optimizer": {"lr": 0.01}}}


def section(backend: str, **changes) -> dict:
    return {**QUIET, "backend": backend, **changes}


@pytest.fixture(autouse=True)
def wandb_folders(tmp_path_factory, monkeypatch):
    """wandb's config, cache and artifact staging folders inside the test's temporary folder."""
    home = tmp_path_factory.mktemp("wandb-home")
    for name in ("WANDB_CONFIG_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_ARTIFACT_DIR"):
        monkeypatch.setenv(name, str(home / name.lower()))


# -- MLflow ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def store(tmp_path_factory) -> str:
    """One SQLite store for the tests that are not about where the store is (a new store costs
    MLflow's schema migrations, a second or two)."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


def mlflow_run(run_dir: Path):
    """The MLflow client of the store the run directory's run went to, and that run."""
    from mlflow.tracking import MlflowClient

    record = json.loads((run_dir / "mlflow.run.json").read_text(encoding="utf-8"))
    client = MlflowClient(record["tracking_uri"])
    return client, client.get_run(record["run_id"])


def history(client, run, name: str) -> list[tuple[int, float]]:
    return [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, name)]


def test_mlflow_run_keeps_params_metrics_tags_and_artifacts_where_mlflow_reads_them(tmp_path):
    pytest.importorskip("mlflow")
    run_dir = tmp_path / "run"
    (tmp_path / "notes.txt").write_text("seen by MLflow\n", encoding="utf-8")
    spec = section("mlflow", project="quickstart", tags=["digits", "baseline"])
    with open_tracker(spec, run_dir, "digits-mlp-baseline-s0", "digits-mlp", CONFIG) as tracker:
        tracker.log_params({"lr": 0.003, "optimizer": {"name": "adamw", "betas": [0.9, 0.999]}})
        for step in range(1, 6):
            tracker.log_metrics({"train/loss": 1.0 / step}, step=step)
        for epoch in (1, 2):
            tracker.log_metrics({"val/loss": 0.5 / epoch, "val/f1_macro": 0.8 + epoch / 100}, step=epoch, axis="epoch")
        tracker.set_tags({"stage": "final"})
        location = tracker.log_artifact(tmp_path / "notes.txt", "run-notes.txt")

    client, run = mlflow_run(run_dir)
    assert (run_dir / "mlflow.db").is_file()  # the default store is the run's own
    assert run.info.status == "FINISHED" and run.info.run_name == "digits-mlp-baseline-s0"
    assert client.get_experiment(run.info.experiment_id).name == "quickstart"
    assert run.data.params == {"lr": "0.003", "optimizer.name": "adamw", "optimizer.betas": "[0.9,0.999]"}
    assert history(client, run, "train/loss") == [(s, 1.0 / s) for s in range(1, 6)]
    assert history(client, run, "val/loss") == [(1, 0.5), (2, 0.25)]  # epoch axis: step = epoch
    assert [s for s, _ in history(client, run, "val/f1_macro")] == [1, 2]
    tags = run.data.tags
    assert tags["rigorml.group"] == "digits-mlp" and tags["stage"] == "final"
    assert tags["digits"] == "" and tags["baseline"] == ""
    assert json.loads(tags["rigorml.metric_axes"]) == {"train/loss": "step", "val/loss": "epoch", "val/f1_macro": "epoch"}
    assert tags["rigorml.config_sha256"] == read_run(run_dir)["config_sha256"]
    assert "rigorml.notes" not in tags
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert artifacts == {"run-notes.txt", "config.resolved.json", "run.json"}
    assert location == f"{run.info.artifact_uri}/run-notes.txt" and location in read_run(run_dir)["artifacts"]
    assert run.info.artifact_uri.startswith((run_dir / "mlartifacts").as_uri())  # artifacts under the run directory
    kept = Path(client.download_artifacts(run.info.run_id, "run-notes.txt", str(tmp_path / "back")))
    assert kept.read_text(encoding="utf-8") == "seen by MLflow\n"


def test_mlflow_experiment_falls_back_to_the_configs_project(tmp_path, store):
    pytest.importorskip("mlflow")
    with open_tracker(section("mlflow", uri=store), tmp_path / "run", "r", None, CONFIG):
        pass
    client, run = mlflow_run(tmp_path / "run")
    assert client.get_experiment(run.info.experiment_id).name == "from-config"
    assert "rigorml.group" not in run.data.tags


@pytest.mark.parametrize("raised,status", [(ValueError, "FAILED"), (KeyboardInterrupt, "KILLED")])
def test_mlflow_run_ended_by_an_exception_gets_its_status(tmp_path, store, raised, status):
    pytest.importorskip("mlflow")
    with pytest.raises(raised):
        with open_tracker(section("mlflow", uri=store), tmp_path / "run", "r", "g", CONFIG) as tracker:
            tracker.log_metrics({"train/loss": 0.7}, step=1)
            raise raised("stopped")
    client, run = mlflow_run(tmp_path / "run")
    assert run.info.status == status and run.info.end_time is not None
    assert history(client, run, "train/loss") == [(1, 0.7)]


def test_mlflow_limits_are_noted_never_fatal(tmp_path, store):
    pytest.importorskip("mlflow")
    from rigorml.runtime.tracking_mlflow import MAX_PARAM_VALUE

    with open_tracker(section("mlflow", uri=store), tmp_path / "run", "r", "g", CONFIG) as tracker:
        tracker.log_params({"prompt": "x" * (MAX_PARAM_VALUE + 500), "layers(0)": 3, "lr": 0.1})
        tracker.log_params({"lr": 0.2})  # MLflow params cannot change
        tracker.set_tags({"long": "y" * 20000})
    client, run = mlflow_run(tmp_path / "run")
    params = run.data.params
    assert len(params["prompt"]) == MAX_PARAM_VALUE and params["prompt"].endswith("...")
    assert params["layers_0_"] == "3" and params["lr"] == "0.1"
    notes = run.data.tags["rigorml.notes"]
    assert "`prompt` cut" in notes and "`layers(0)` stored as `layers_0_`" in notes and "keeps its first value '0.1'" in notes
    assert run.info.status == "FINISHED"


def test_mlflow_system_metrics_keep_their_time(tmp_path, store):
    pytest.importorskip("mlflow")
    before = time.time()
    with open_tracker(section("mlflow", uri=store, system_metrics=True, system_interval_s=0.05), tmp_path / "run", "r", "g", CONFIG):
        time.sleep(0.3)
    client, run = mlflow_run(tmp_path / "run")
    samples = client.get_metric_history(run.info.run_id, "system/cpu_memory")
    assert len(samples) >= 2 and all(m.value > 0 for m in samples)
    assert all(before * 1000 - 1 <= m.timestamp <= time.time() * 1000 + 1 for m in samples)
    assert all(0 <= m.step <= 5 for m in samples)  # whole seconds since the run started
    assert json.loads(run.data.tags["rigorml.metric_axes"])["system/cpu_memory"] == "time"


def test_mlflow_resumed_attempt_continues_the_same_run(tmp_path, store):
    pytest.importorskip("mlflow")
    run_dir = tmp_path / "run"
    resumable = section("mlflow", uri=store, project="resumed")
    with pytest.raises(RuntimeError):
        with open_tracker(resumable, run_dir, "r", "g", CONFIG) as tracker:
            tracker.log_params({"lr": 0.1})
            for step in (1, 2, 3):
                tracker.log_metrics({"train/loss": float(step)}, step=step)
            raise RuntimeError("preempted")
    _, first = mlflow_run(run_dir)
    assert first.info.status == "FAILED"

    with open_tracker(resumable, run_dir, "r", "g", CONFIG, resume_after={"step": 2}) as tracker:
        tracker.log_params({"lr": 0.1})
        for step in (3, 4):
            tracker.log_metrics({"train/loss": step + 0.5}, step=step)

    client, run = mlflow_run(run_dir)
    assert run.info.run_id == first.info.run_id and run.info.status == "FINISHED"
    assert run.data.tags["rigorml.attempt"] == "2" and read_run(run_dir)["attempt"] == 2
    assert len(client.search_runs([run.info.experiment_id])) == 1
    # MLflow keeps what the first attempt logged after the checkpoint (step 3) next to the re-logged value.
    assert sorted(history(client, run, "train/loss")) == [(1, 1.0), (2, 2.0), (3, 3.0), (3, 3.5), (4, 4.5)]


def test_mlflow_opens_a_new_run_when_the_store_changed(tmp_path, store):
    pytest.importorskip("mlflow")
    run_dir = tmp_path / "run"
    with open_tracker(section("mlflow", uri=store, project="moved"), run_dir, "r", "g", CONFIG):
        pass
    _, first = mlflow_run(run_dir)
    assert first.info.artifact_uri.startswith((Path(store[len("sqlite:///"):]).parent / "mlartifacts").as_uri())
    other = f"sqlite:///{tmp_path / 'other' / 'mlflow.db'}"
    with open_tracker(section("mlflow", uri=other, project="moved"), run_dir, "r", "g", CONFIG):
        pass
    client, second = mlflow_run(run_dir)
    assert client.tracking_uri == other and second.info.run_id != first.info.run_id
    assert second.info.artifact_uri.startswith((tmp_path / "other" / "mlartifacts").as_uri())


WRITER = textwrap.dedent(
    """
    import sys
    from rigorml.runtime.tracking import open_tracker
    uri, run_dir, name, steps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    section = {"backend": "mlflow", "uri": uri, "project": "shared", "system_metrics": False,
               "capture": {"git_commit": False, "git_dirty": False, "git_diff": False, "environment": False}}
    with open_tracker(section, run_dir, name, "parallel", {"experiment": {"name": "shared"}}) as tracker:
        tracker.log_params({"writer": name})
        for step in range(steps):
            tracker.log_metrics({"train/loss": step / 10, "train/accuracy": 1 - step / 100}, step=step)
            if step % 5 == 0:
                tracker.log_metrics({"val/loss": step / 20}, step=step // 5, axis="epoch")
    print("done", name)
    """
)


def test_parallel_runs_share_one_sqlite_store_without_losing_a_metric(tmp_path):
    pytest.importorskip("mlflow")
    uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    steps = 30
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, uri, str(tmp_path / name), name, str(steps)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    for writer in writers:  # both start on a store that does not exist yet: one creates it
        out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
        assert out.startswith("done")
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    [experiment] = [e for e in client.search_experiments() if e.name == "shared"]
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(r.info.run_name for r in runs) == ["a", "b"]
    for run in runs:
        assert run.info.status == "FINISHED" and run.data.params == {"writer": run.info.run_name}
        assert [s for s, _ in history(client, run, "train/loss")] == list(range(steps))
        assert [v for _, v in history(client, run, "train/accuracy")] == [1 - s / 100 for s in range(steps)]
        assert [s for s, _ in history(client, run, "val/loss")] == list(range(steps // 5))


# -- W&B ---------------------------------------------------------------------------------------

#: The framing of a ``.wandb`` file: a LevelDB-style log of 32 KiB blocks, records split into
#: FULL/FIRST/MIDDLE/LAST chunks, each with a CRC-32 over its type byte and data.
_BLOCK, _HEADER = 32768, 7
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4


def wandb_records(run_dir: Path, timeout_s: float = 30.0) -> list:
    """Every record of the newest offline run under ``run_dir/wandb``, as wandb's protobuf Records.

    wandb's service process writes an offline run's last records a moment after ``finish()``
    returns (a process that exits waits for them): wait until the run's exit record is there.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        records = _read_wandb_file(run_dir)
        if any(r.WhichOneof("record_type") == "exit" for r in records) or time.monotonic() > deadline:
            return records
        time.sleep(0.05)


def _read_wandb_file(run_dir: Path) -> list:
    from wandb.proto import wandb_internal_pb2

    [path] = sorted((run_dir / "wandb").glob("offline-run-*/run-*.wandb"))[-1:]
    data = path.read_bytes()
    ident, magic, version = struct.unpack("<4sHB", data[:_HEADER])
    assert (ident, magic, version) == (b":W&B", 0xBEE1, 0), "not a .wandb file"
    records, pending, position = [], b"", _HEADER
    while position + _HEADER <= len(data):
        left = _BLOCK - position % _BLOCK
        if left < _HEADER:  # a block's tail too short for a header is padding
            position += left
            continue
        checksum, length, kind = struct.unpack("<IHB", data[position : position + _HEADER])
        if kind == 0 and length == 0:
            position += left
            continue
        chunk = data[position + _HEADER : position + _HEADER + length]
        assert zlib.crc32(bytes([kind]) + chunk) == checksum, f"damaged record at byte {position}"
        position += _HEADER + length
        pending = chunk if kind in (_FULL, _FIRST) else pending + chunk
        if kind in (_FULL, _LAST):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            records.append(record)
    return records


def wandb_run(run_dir: Path) -> dict:
    """What the offline run holds: run record, config, history rows, summary, metric definitions,
    artifacts and exit code, from its ``.wandb`` file."""
    run, config, rows, summary, metrics, artifacts, exit_code = None, {}, [], {}, {}, [], None
    for record in wandb_records(run_dir):
        kind = record.WhichOneof("record_type")
        if kind == "run":
            run = record.run
            config.update({item.key: json.loads(item.value_json) for item in record.run.config.update})
        elif kind == "config":
            config.update({item.key: json.loads(item.value_json) for item in record.config.update})
        elif kind == "history":
            rows.append({"/".join(item.nested_key) or item.key: json.loads(item.value_json) for item in record.history.item})
        elif kind == "summary":
            summary.update({"/".join(item.nested_key) or item.key: json.loads(item.value_json) for item in record.summary.update})
        elif kind == "metric":
            metrics[record.metric.name] = record.metric.step_metric
        elif kind == "artifact":
            artifacts.append(record.artifact)
        elif kind == "exit":
            exit_code = record.exit.exit_code
    return {"run": run, "config": config, "rows": rows, "summary": summary, "metrics": metrics,
            "artifacts": artifacts, "exit_code": exit_code}


def test_wandb_offline_run_is_written_where_wandb_reads_it(tmp_path):
    pytest.importorskip("wandb")
    run_dir = tmp_path / "run"
    (tmp_path / "notes.txt").write_text("seen by W&B\n", encoding="utf-8")
    spec = section("wandb", project="quickstart", tags=["digits"])
    before = {name: os.environ.get(name) for name in ("WANDB_MODE", "WANDB_SILENT", "WANDB_DISABLE_GIT")}
    with open_tracker(spec, run_dir, "digits-mlp-baseline-s0", "digits-mlp", CONFIG) as tracker:
        tracker.log_params({"lr": 0.003, "optimizer": {"name": "adamw"}})
        for step in range(1, 6):
            tracker.log_metrics({"train/loss": 1.0 / step}, step=step)
        for epoch in (1, 2):
            tracker.log_metrics({"val/loss": 0.5 / epoch}, step=epoch, axis="epoch")
        tracker.set_tags({"stage": "final"})
        tracker.log_artifact(tmp_path / "notes.txt", "run-notes.txt")
    assert {name: os.environ.get(name) for name in before} == before  # set only while wandb opened the run

    found = wandb_run(run_dir)
    run_id = json.loads((run_dir / "wandb.run.json").read_text(encoding="utf-8"))["run_id"]
    assert found["run"].run_id == run_id and found["run"].project == "quickstart"
    assert found["run"].display_name == "digits-mlp-baseline-s0" and found["run"].run_group == "digits-mlp"
    assert list(found["run"].tags) == ["digits", "stage:final"]
    assert found["config"]["experiment"] == CONFIG["experiment"]
    assert found["config"]["params"] == {"lr": 0.003, "optimizer": {"name": "adamw"}}
    assert found["config"]["rigorml"]["config_sha256"] == read_run(run_dir)["config_sha256"]
    assert found["metrics"]["train/loss"] == "step" and found["metrics"]["val/loss"] == "epoch"
    train = [(row["step"], row["train/loss"]) for row in found["rows"] if "train/loss" in row]
    val = [(row["epoch"], row["val/loss"]) for row in found["rows"] if "val/loss" in row]
    assert train == [(s, 1.0 / s) for s in range(1, 6)] and val == [(1, 0.5), (2, 0.25)]
    assert found["summary"]["train/loss"] == 0.2 and found["summary"]["val/loss"] == 0.25
    [artifact] = found["artifacts"]
    assert artifact.name == "digits-mlp-baseline-s0-run-notes.txt" and artifact.type == "rigorml"
    assert [entry.path for entry in artifact.manifest.contents] == ["run-notes.txt"]
    assert found["exit_code"] == 0


def test_wandb_failed_run_exits_nonzero(tmp_path):
    pytest.importorskip("wandb")
    with pytest.raises(ValueError):
        with open_tracker(section("wandb"), tmp_path / "run", "r", "g", CONFIG) as tracker:
            tracker.log_metrics({"train/loss": 0.7}, step=1)
            raise ValueError("diverged")
    found = wandb_run(tmp_path / "run")
    assert found["exit_code"] == 1 and found["run"].project == "from-config"
    assert [row["train/loss"] for row in found["rows"] if "train/loss" in row] == [0.7]


def test_wandb_system_metrics_are_on_a_time_axis(tmp_path):
    pytest.importorskip("wandb")
    with open_tracker(section("wandb", system_metrics=True, system_interval_s=0.05), tmp_path / "run", "r", "g", CONFIG):
        time.sleep(0.3)
    found = wandb_run(tmp_path / "run")
    assert found["metrics"]["system/cpu_memory"] == "time"
    samples = [(row["time"], row["system/cpu_memory"]) for row in found["rows"] if "system/cpu_memory" in row]
    assert len(samples) >= 2 and all(0 <= t < 60 and v > 0 for t, v in samples)


def test_wandb_resumed_attempt_keeps_the_run_id(tmp_path):
    pytest.importorskip("wandb")
    run_dir = tmp_path / "run"
    with open_tracker(section("wandb"), run_dir, "r", "g", CONFIG) as tracker:
        tracker.log_metrics({"train/loss": 1.0}, step=1)
    first = wandb_run(run_dir)["run"].run_id
    with open_tracker(section("wandb"), run_dir, "r", "g", CONFIG, resume_after={"step": 1}) as tracker:
        tracker.log_metrics({"train/loss": 0.5}, step=2)
    second = wandb_run(run_dir)
    assert second["run"].run_id == first and second["config"]["rigorml"]["attempt"] == 2
    assert [(row["step"], row["train/loss"]) for row in second["rows"] if "train/loss" in row] == [(2, 0.5)]
    folders = sorted((run_dir / "wandb").glob("offline-run-*"))
    assert len(folders) == 2 and all(f"-{first}" in folder.name for folder in folders)


# -- opening a backend -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["mlflow", "wandb"])
def test_a_missing_package_is_refused_with_the_extra_to_install(tmp_path, monkeypatch, name):
    module = f"rigorml.runtime.tracking_{name}"
    monkeypatch.delitem(tracking._BACKENDS, name, raising=False)
    for loaded in [m for m in sys.modules if m == module or m.startswith(f"{name}.")]:
        monkeypatch.delitem(sys.modules, loaded)
    monkeypatch.setitem(sys.modules, name, None)  # what `import mlflow` meets when it is not installed
    with pytest.raises(TrackingBackendUnavailable, match=rf"pip install 'rigorml\[{name}\]'"):
        open_tracker(section(name), tmp_path / "run", "r", "g", CONFIG)
    assert not (tmp_path / "run").exists()


def test_neither_library_is_imported_before_a_run_opens_its_backend():
    program = textwrap.dedent(
        f"""
        import json, sys
        from rigorml.compiler.cli import main
        import rigorml.runtime.tracking
        rc = main(["validate", "-q", {str(QUICKSTART)!r}])
        print(json.dumps({{"rc": rc, "modules": sorted(sys.modules)}}))
        """
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["rc"] == 0
    assert [m for m in report["modules"] if m.split(".")[0] in ("mlflow", "wandb") or "tracking_" in m] == []


# -- real training runs ------------------------------------------------------------------------

TRAIN = textwrap.dedent(
    """
    import json, sys
    from rigorml.compiler.compose import compose
    from rigorml.compiler.resolve import resolve_spec
    from rigorml.schemas.spec import Spec
    from rigorml.runtime.train import train_run

    composed = compose(sys.argv[1], sys.argv[3:])
    assert not composed.diagnostics, composed.diagnostics
    _, resolved = resolve_spec(Spec.model_validate(composed.data))
    result = train_run(resolved, "baseline", 0, sys.argv[2])
    print(json.dumps({"status": result.status, "epochs": result.epochs, "steps": result.steps}))
    """
)
#: The quickstart made tiny: two epochs of a small MLP over large batches.
TINY = [
    "training.epochs=2",
    "model.params.hidden_sizes=[8]",
    "data.loader.batch_size=256",
    "training.log_every_steps=1",
    "tracking.system_metrics=false",
    "tracking.capture.git_diff=false",
]


def train(run_dir: Path, *overrides: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", TRAIN, str(QUICKSTART), str(run_dir), *TINY, *overrides],
        capture_output=True, text=True, timeout=180, cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_train_run_with_the_mlflow_backend_produces_a_readable_run(tmp_path):
    pytest.importorskip("mlflow")
    pytest.importorskip("torch")
    result = train(tmp_path / "run", "tracking.backend=mlflow")
    assert result["status"] == "finished" and result["epochs"] == 2
    client, run = mlflow_run(tmp_path / "run")
    assert run.info.status == "FINISHED" and run.info.run_name == "digits-mlp-baseline-s0"
    assert client.get_experiment(run.info.experiment_id).name == "rigorml-quickstart"
    assert run.data.tags["rigorml.group"] == "digits-mlp"
    assert [s for s, _ in history(client, run, "train/loss")] == list(range(1, result["steps"] + 1))
    assert [s for s, _ in history(client, run, "val/loss")] == [1, 2]
    assert [s for s, _ in history(client, run, "test/f1_macro")] == [2]
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"config.resolved.json", "run.json"} <= artifacts


def test_train_run_with_the_wandb_backend_works_offline(tmp_path):
    pytest.importorskip("wandb")
    pytest.importorskip("torch")
    result = train(tmp_path / "run", "tracking.backend=wandb")
    assert result["status"] == "finished"
    found = wandb_run(tmp_path / "run")
    assert found["exit_code"] == 0 and found["run"].display_name == "digits-mlp-baseline-s0"
    assert found["run"].project == "rigorml-quickstart" and found["run"].run_group == "digits-mlp"
    assert found["config"]["model"]["params"]["hidden_sizes"] == [8]
    steps = [row["step"] for row in found["rows"] if "train/loss" in row]
    epochs = [row["epoch"] for row in found["rows"] if "val/loss" in row]
    assert steps == list(range(1, result["steps"] + 1)) and epochs == [1, 2]
    assert "test/f1_macro" in found["summary"]
