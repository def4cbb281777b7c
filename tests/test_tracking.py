"""rigorml.runtime.tracking: the local backend's files, crash safety, names, values, run metadata."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from rigorml.runtime.tracking import (
    DIFF_FILE,
    METRICS_FILE,
    RunDirectoryInUse,
    Tracker,
    TrackingBackend,
    TrackingBackendUnavailable,
    backends,
    metric_history,
    open_tracker,
    read_metrics,
    read_run,
    register_backend,
)

#: A tracking section with the slow captures off: tests that check a capture turn it on.
QUIET = {
    "backend": "local",
    "capture": {
        "git_commit": False, "git_dirty": False, "git_diff": False,
        "command": True, "resolved_config": True, "environment": False,
    },
    "system_metrics": False,
}
CONFIG = {"experiment": {"name": "digits-mlp"}, "training": {"precision": "fp32", "optimizer": {"lr": 0.01}}}


def section(**changes) -> dict:
    return {**QUIET, **changes}


def tracker_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("rigorml-system-metrics")]


def run_child(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def complete_lines(path: Path) -> int:
    return path.read_bytes().count(b"\n")


# -- crash safety ---------------------------------------------------------------------------

LOG_FOREVER = """
    import sys
    from rigorml.runtime.tracking import open_tracker
    section = {"capture": {"git_commit": False, "git_dirty": False, "git_diff": False, "environment": False},
               "system_metrics": True, "system_interval_s": 0.01}
    tracker = open_tracker(section, sys.argv[1], "killed-run", "g", {"a": 1})
    step = 0
    while True:
        tracker.log_metrics({"train/loss": 1.0 / (step + 1), "train/accuracy": step % 7 / 7}, step=step)
        step += 1
"""


def test_metrics_written_before_a_sigkill_all_parse_and_at_most_the_last_call_is_lost(tmp_path):
    run_dir = tmp_path / "run"
    child = run_child(LOG_FOREVER, str(run_dir))
    metrics = run_dir / METRICS_FILE
    deadline = time.monotonic() + 60
    while not (metrics.exists() and complete_lines(metrics) >= 200):
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "the child logged nothing"
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    raw = metrics.read_bytes()
    lines = raw.split(b"\n")
    for line in lines[:-1]:
        json.loads(line)  # every complete line is a whole record
    records = read_metrics(run_dir)
    assert len(records) == len(lines) - 1  # only an unfinished tail can be missing
    steps = [r["step"] for r in records if r["axis"] == "step"]
    assert steps == list(range(len(steps))) and len(steps) >= 150
    assert all(r["metrics"]["train/loss"] == 1.0 / (r["step"] + 1) for r in records if r["axis"] == "step")
    assert read_run(run_dir)["status"] == "running"  # nobody closed it: the record says so


def test_a_run_reopened_after_a_sigkill_is_a_resumed_attempt_that_appends(tmp_path):
    run_dir = tmp_path / "run"
    child = run_child(LOG_FOREVER, str(run_dir))
    while not ((run_dir / METRICS_FILE).exists() and complete_lines(run_dir / METRICS_FILE) >= 20):
        assert child.poll() is None, child.communicate()
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    before = len(read_metrics(run_dir))

    with open_tracker(section(), run_dir, "killed-run", "g", {"a": 1}) as tracker:  # the kernel dropped the lock
        tracker.log_metrics({"train/loss": 0.5}, step=10_000)
    records = read_metrics(run_dir)
    assert len(records) == before + 1 and records[-1]["step"] == 10_000
    run = read_run(run_dir)
    assert run["attempt"] == 2 and run["status"] == "finished"
    assert [a["status"] for a in run["previous_attempts"]] == ["running"]


def test_a_line_cut_short_by_a_crash_is_skipped_and_dropped_before_appending(tmp_path):
    with open_tracker(section(), tmp_path, "r", "g", CONFIG) as tracker:
        tracker.log_metrics({"train/loss": 1.0}, step=0)
        tracker.log_metrics({"train/loss": 0.5}, step=1)
    with open(tmp_path / METRICS_FILE, "ab") as handle:
        handle.write(b'{"step":2,"axis":"step","metrics":{"train/lo')  # what a power cut can leave
    assert [r["step"] for r in read_metrics(tmp_path)] == [0, 1]

    with open_tracker(section(), tmp_path, "r", "g", CONFIG) as tracker:
        tracker.log_metrics({"train/loss": 0.25}, step=2)
    assert [r["step"] for r in read_metrics(tmp_path)] == [0, 1, 2]
    assert all(json.loads(line) for line in (tmp_path / METRICS_FILE).read_text().splitlines())


def test_a_damaged_line_before_the_last_is_an_error_with_its_line_number(tmp_path):
    (tmp_path / METRICS_FILE).write_text('{"step":0,"axis":"step","metrics":{},"time":1}\nnot json\n{}\n')
    with pytest.raises(ValueError, match=r"metrics.jsonl:2: damaged"):
        read_metrics(tmp_path)


CONCURRENT = """
    import sys
    from rigorml.runtime.tracking import open_tracker
    section = {"capture": {"git_commit": False, "git_dirty": False, "git_diff": False, "environment": False},
               "system_metrics": True, "system_interval_s": 0.005}
    index = int(sys.argv[2])
    with open_tracker(section, sys.argv[1], f"run-{index}", "parallel", {"index": index}) as tracker:
        tracker.log_params({"index": index})
        for step in range(300):
            tracker.log_metrics({"train/loss": index + step / 1000}, step=step)
        for epoch in range(5):
            tracker.log_metrics({"val/loss": index + epoch / 10}, step=epoch, axis="epoch")
"""


def test_concurrent_processes_write_their_own_run_directories_without_corruption(tmp_path):
    children = [run_child(CONCURRENT, str(tmp_path / f"seed-{i}"), str(i)) for i in range(6)]
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
    for i in range(6):
        run_dir = tmp_path / f"seed-{i}"
        history = metric_history(run_dir)
        assert history["step"] == {step: {"train/loss": i + step / 1000} for step in range(300)}
        assert history["epoch"] == {epoch: {"val/loss": i + epoch / 10} for epoch in range(5)}
        assert read_run(run_dir)["status"] == "finished" and read_run(run_dir)["name"] == f"run-{i}"
        assert json.loads((run_dir / "params.json").read_text()) == {"index": i}
        assert any(r["axis"] == "time" for r in read_metrics(run_dir))


def test_a_second_tracker_on_an_open_run_directory_is_refused(tmp_path):
    with open_tracker(section(), tmp_path, "r", "g", CONFIG):
        with pytest.raises(RunDirectoryInUse, match="its own directory"):
            open_tracker(section(), tmp_path, "r", "g", CONFIG)
    with open_tracker(section(), tmp_path, "r", "g", CONFIG):  # free again once closed
        pass


# -- values -------------------------------------------------------------------------------


def test_tensors_and_numpy_scalars_are_logged_as_plain_numbers(tmp_path):
    weight = torch.tensor(2.0, requires_grad=True)
    with open_tracker(section(), tmp_path, "r", "g", CONFIG) as tracker:
        tracker.log_metrics(
            {
                "train/loss": (weight * 0.25),  # a 0-dim tensor that still needs grad
                "train/accuracy": np.float32(0.75),
                "train/correct": np.int64(3),
                "train/examples": torch.tensor(8),
                "train/converged": True,
            },
            step=0,
        )
    raw = json.loads((tmp_path / METRICS_FILE).read_text().splitlines()[0])
    assert raw["metrics"] == {"train/loss": 0.5, "train/accuracy": 0.75, "train/correct": 3, "train/examples": 8, "train/converged": 1}
    assert type(raw["metrics"]["train/correct"]) is int


@pytest.mark.parametrize("value", [torch.ones(3), torch.ones(1), np.ones(2)], ids=["vector", "one-element", "array"])
def test_a_tensor_or_array_that_is_not_0_dim_is_refused_and_nothing_is_written(tmp_path, value):
    with open_tracker(section(), tmp_path, "r", "g", CONFIG) as tracker:
        with pytest.raises(TypeError, match=r"`train/loss` is an? (tensor|array) of shape .*not a scalar.*mean\(\)"):
            tracker.log_metrics({"train/accuracy": 0.5, "train/loss": value}, step=0)
    assert read_metrics(tmp_path) == []


def test_a_value_that_is_not_a_number_is_refused(tmp_path):
    with open_tracker(section(), tmp_path, "r", "g", CONFIG) as tracker:
        with pytest.raises(TypeError, match="`val/f1` is str"):
            tracker.log_metrics({"val/f1": "0.9"}, step=0, axis="epoch")


def test_nan_and_infinities_are_kept_as_json_strings_and_read_back_as_floats(tmp_path):
    with open_tracker(section(), tmp_path, "r", "g", CONFIG) as tracker:
        tracker.log_metrics({"val/loss": float("nan"), "val/max": math.inf, "val/min": -math.inf}, step=1, axis="epoch")
    line = (tmp_path / METRICS_FILE).read_text()
    assert '"val/loss":"NaN"' in line and '"val/max":"Infinity"' in line and '"val/min":"-Infinity"' in line
    json.loads(line, parse_constant=lambda name: pytest.fail(f"bare {name} is not JSON"))
    values = read_metrics(tmp_path)[0]["metrics"]
    assert math.isnan(values["val/loss"]) and values["val/max"] == math.inf and values["val/min"] == -math.inf


# -- names and axes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["val_loss", "Val/loss", "validation/loss", "loss", "train/a/b/c", "system/gpu/0", "GPU_Memory", "val/"]
)
def test_names_off_the_convention_are_refused_with_the_convention(tmp_path, name):
    with open_tracker(section(), tmp_path, "r", "g", CONFIG) as tracker:
        with pytest.raises(ValueError, match=r"naming convention `\{split\}/\{metric_name\}`"):
            tracker.log_metrics({name: 1.0}, step=0)
    assert read_metrics(tmp_path) == []


def test_a_split_glued_to_its_metric_gets_the_conventional_spelling(tmp_path):
    with open_tracker(section(), tmp_path, "r", "g", CONFIG) as tracker:
        with pytest.raises(ValueError, match="write `val/loss`"):
            tracker.log_metrics({"val_loss": 1.0}, step=0)


def test_an_axis_logged_as_a_metric_is_refused_with_the_axis_argument(tmp_path):
    with open_tracker(section(), tmp_path, "r", "g", CONFIG) as tracker:
        with pytest.raises(ValueError, match=r"`epoch` is an x-axis.*axis='epoch'"):
            tracker.log_metrics({"epoch": 3, "val/loss": 1.0})


@pytest.mark.parametrize("name", ["train/loss", "eval/mmlu/accuracy", "eval/gsm8k/exact_match", "val/ndcg@10", "val/rougeL"])
def test_the_domain_examples_are_accepted(tmp_path, name):
    with open_tracker(section(), tmp_path, "r", "g", CONFIG) as tracker:
        tracker.log_metrics({name: 1.0}, step=0)
    assert read_metrics(tmp_path)[0]["metrics"] == {name: 1.0}


def test_the_tracker_and_the_linter_judge_names_alike():
    from rigorml.rules.naming import _convention as linter
    from rigorml.schemas import naming

    names = ["train/loss", "val_loss", "eval/mmlu/accuracy", "system/gpu_memory", "Loss/train", "val/ndcg@10", "x", "test/a/b/c"]
    assert [naming.follows_convention(n) for n in names] == [linter.follows_convention(n) for n in names]
    assert [naming.conventional_form(n) for n in names] == [linter.conventional_form(n) for n in names]


def test_system_metrics_live_on_the_time_axis_only(tmp_path):
    with open_tracker(section(), tmp_path, "r", "g", CONFIG) as tracker:
        with pytest.raises(ValueError, match="axis='time'"):
            tracker.log_metrics({"system/gpu_memory": 10.0}, step=3)
        with pytest.raises(ValueError, match="time axis is for `system/"):
            tracker.log_metrics({"train/loss": 1.0}, axis="time")
        with pytest.raises(ValueError, match="takes no step"):
            tracker.log_metrics({"system/gpu_memory": 10.0}, step=3, axis="time")
        tracker.log_metrics({"system/gpu_memory": 10.0}, axis="time")
    (record,) = read_metrics(tmp_path)
    assert record["axis"] == "time" and "step" not in record and record["time"] > 0


def test_steps_count_up_per_axis_when_not_given(tmp_path):
    with open_tracker(section(), tmp_path, "r", "g", CONFIG) as tracker:
        tracker.log_metrics({"train/loss": 1.0})
        tracker.log_metrics({"train/loss": 0.9})
        tracker.log_metrics({"val/loss": 1.1}, axis="epoch")
        tracker.log_metrics({"train/loss": 0.8}, step=10)
        tracker.log_metrics({"train/loss": 0.7})
        with pytest.raises(ValueError, match="non-negative"):
            tracker.log_metrics({"train/loss": 0.7}, step=-1)
        with pytest.raises(ValueError, match="axis must be one of"):
            tracker.log_metrics({"train/loss": 0.7}, axis="batch")
    assert [(r["axis"], r[r["axis"]]) for r in read_metrics(tmp_path)] == [
        ("step", 0), ("step", 1), ("epoch", 0), ("step", 10), ("step", 11)
    ]


def test_history_merges_calls_at_one_step_and_keeps_the_last_value_after_a_resume(tmp_path):
    with open_tracker(section(), tmp_path, "r", "g", CONFIG) as tracker:
        for step in range(4):
            tracker.log_metrics({"train/loss": 1.0 / (step + 1)}, step=step)
        tracker.log_metrics({"val/loss": 0.9}, step=1, axis="epoch")
        tracker.log_metrics({"test/loss": 0.95}, step=1, axis="epoch")
    with open_tracker(section(), tmp_path, "r", "g", CONFIG) as tracker:  # resumed from a checkpoint at step 2
        for step in range(2, 5):
            tracker.log_metrics({"train/loss": 1.0 / (step + 1)}, step=step)
    assert metric_history(tmp_path) == {
        "step": {step: {"train/loss": 1.0 / (step + 1)} for step in range(5)},
        "epoch": {1: {"val/loss": 0.9, "test/loss": 0.95}},
    }


# -- params, tags, artifacts ----------------------------------------------------------------


def test_params_merge_into_an_atomically_written_file(tmp_path):
    with open_tracker(section(), tmp_path, "r", "g", CONFIG) as tracker:
        tracker.log_params({"optimizer": {"lr": torch.tensor(0.5)}, "batch_size": np.int64(64)})
        tracker.log_params({"batch_size": 32, "layers": (64, 32), "weight_decay": float("nan")})
    assert json.loads((tmp_path / "params.json").read_text()) == {
        "optimizer": {"lr": 0.5}, "batch_size": 32, "layers": [64, 32], "weight_decay": "NaN"
    }
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_tags_from_the_spec_and_set_tags_are_recorded(tmp_path):
    with open_tracker(section(tags=["lora", "qa-task"]), tmp_path, "r", "sweep-1", CONFIG) as tracker:
        tracker.set_tags({"variant": "wide", "seed": 3})
        assert read_run(tmp_path)["tags"] == {"lora": "", "qa-task": "", "variant": "wide", "seed": "3"}
    run = read_run(tmp_path)
    assert run["group"] == "sweep-1" and run["tags"]["seed"] == "3"


def test_artifacts_outside_the_run_are_copied_and_inside_it_are_recorded(tmp_path):
    outside = tmp_path / "model.pt"
    outside.write_bytes(b"weights")
    run_dir = tmp_path / "run"
    with open_tracker(section(), run_dir, "r", "g", CONFIG) as tracker:
        assert tracker.log_artifact(outside) == "artifacts/model.pt"
        (run_dir / "predictions").mkdir()
        (run_dir / "predictions" / "val.npz").write_bytes(b"scores")
        assert tracker.log_artifact(run_dir / "predictions" / "val.npz") == "predictions/val.npz"
        with pytest.raises(FileNotFoundError):
            tracker.log_artifact(tmp_path / "missing.pt")
    assert (run_dir / "artifacts" / "model.pt").read_bytes() == b"weights"
    assert read_run(run_dir)["artifacts"] == ["artifacts/model.pt", "predictions/val.npz"]


# -- run metadata -------------------------------------------------------------------------


def test_run_json_records_command_config_hash_environment_and_timings(tmp_path):
    from rigorml.compiler.resolve import spec_hash

    capture = {**QUIET["capture"], "environment": True}
    with open_tracker(section(capture=capture, project="proj"), tmp_path, "digits-mlp-base-s0", "digits", CONFIG) as tracker:
        assert isinstance(tracker, Tracker)
        running = read_run(tmp_path)
        time.sleep(0.05)
    run = read_run(tmp_path)
    assert running["status"] == "running" and running["end_time"] is None
    assert run["status"] == "finished" and run["end_time"] >= run["start_time"] and run["duration_s"] >= 0.05
    assert (run["name"], run["group"], run["project"], run["backend"]) == ("digits-mlp-base-s0", "digits", "proj", "local")
    assert run["command"]["argv"] == sys.argv and run["command"]["pid"] == os.getpid()
    assert json.loads((tmp_path / run["config_file"]).read_text()) == CONFIG
    assert run["config_sha256"] == spec_hash(CONFIG)  # the hash `rigorml resolve` prints
    env = run["environment"]
    assert env["torch"] == torch.__version__ and env["precision"] == "fp32"
    assert env["python"] == "%d.%d.%d" % sys.version_info[:3]
    assert env["gpu_count"] == torch.cuda.device_count() and "cuda" in env and "cudnn" in env


def test_captures_switched_off_are_recorded_as_null(tmp_path):
    capture = dict.fromkeys(QUIET["capture"], False)
    with open_tracker(section(capture=capture), tmp_path, "r", "g", CONFIG):
        pass
    run = read_run(tmp_path)
    assert run["command"] is None and run["git"] is None and run["environment"] is None and run["config_sha256"] is None
    assert not (tmp_path / "config.resolved.json").exists()


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path, monkeypatch):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    repo = tmp_path / "project"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "test@example.com")
    git(repo, "config", "user.name", "Test")
    (repo / ".gitignore").write_text("runs/\n")
    (repo / "train.py").write_text("lr = 0.01\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "first")
    return repo


GIT_ON = section(capture={**QUIET["capture"], "git_commit": True, "git_dirty": True, "git_diff": True})


def test_a_clean_checkout_records_its_commit_and_no_diff(repo):
    with open_tracker(GIT_ON, repo / "runs" / "a", "r", "g", CONFIG, source_dir=repo):
        pass
    record = read_run(repo / "runs" / "a")["git"]
    assert record["commit"] == git(repo, "rev-parse", "HEAD")
    assert record["dirty"] is False and record["diff"] is None and record["untracked"] == []
    assert not (repo / "runs" / "a" / DIFF_FILE).exists()


def test_a_dirty_checkout_records_the_full_diff(repo):
    (repo / "train.py").write_text("lr = 0.5  # an uncommitted change\n")
    (repo / "notes.txt").write_text("scratch\n")
    with open_tracker(GIT_ON, repo / "runs" / "b", "r", "g", CONFIG, source_dir=repo):
        pass
    run_dir = repo / "runs" / "b"
    record = read_run(run_dir)["git"]
    assert record["commit"] == git(repo, "rev-parse", "HEAD") and record["dirty"] is True
    assert record["untracked"] == ["notes.txt"] and record["diff"] == DIFF_FILE
    patch = (run_dir / DIFF_FILE).read_text()
    assert "-lr = 0.01" in patch and "+lr = 0.5  # an uncommitted change" in patch
    git(repo, "stash", "-q")  # the diff reproduces the tree it was taken from
    git(repo, "apply", str(run_dir / DIFF_FILE))
    assert (repo / "train.py").read_text() == "lr = 0.5  # an uncommitted change\n"


def test_outside_a_git_repository_the_git_fields_are_null(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    source = tmp_path / "not-a-repo"
    source.mkdir()
    with open_tracker(GIT_ON, tmp_path / "run", "r", "g", CONFIG, source_dir=source):
        pass
    record = read_run(tmp_path / "run")["git"]
    assert (record["commit"], record["dirty"], record["diff"], record["root"]) == (None, None, None, None)
    assert record["error"]


# -- system metrics and closing ---------------------------------------------------------------


def test_the_system_metrics_thread_samples_and_is_stopped_on_close(tmp_path):
    with open_tracker(section(system_metrics=True, system_interval_s=0.01), tmp_path, "r", "g", CONFIG) as tracker:
        assert len(tracker_threads()) == 1
        deadline = time.monotonic() + 10
        while sum(r["axis"] == "time" for r in read_metrics(tmp_path)) < 3:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    assert tracker_threads() == []
    samples = [r for r in read_metrics(tmp_path) if r["axis"] == "time"]
    assert all(r["metrics"]["system/cpu_memory"] > 1 for r in samples)
    assert "system/cpu_utilization" in samples[-1]["metrics"]
    assert read_run(tmp_path)["system_metrics"]["units"]["system/cpu_memory"] == "MiB"


def test_the_system_metrics_thread_is_stopped_when_the_run_fails(tmp_path):
    with pytest.raises(ZeroDivisionError):
        with open_tracker(section(system_metrics=True, system_interval_s=0.01), tmp_path, "r", "g", CONFIG):
            1 / 0
    assert tracker_threads() == []


def test_an_exception_marks_the_run_failed_and_is_not_swallowed(tmp_path):
    with pytest.raises(ValueError, match="bad batch"):
        with open_tracker(section(), tmp_path, "r", "g", CONFIG) as tracker:
            tracker.log_metrics({"train/loss": 1.0}, step=0)
            raise ValueError("bad batch")
    run = read_run(tmp_path)
    assert run["status"] == "failed" and run["error"] == {"type": "ValueError", "message": "bad batch"}
    assert run["end_time"] is not None and tracker.closed


def test_an_interrupt_marks_the_run_killed(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with open_tracker(section(), tmp_path, "r", "g", CONFIG):
            raise KeyboardInterrupt
    assert read_run(tmp_path)["status"] == "killed"


def test_a_closed_tracker_refuses_to_log_and_closing_twice_is_harmless(tmp_path):
    tracker = open_tracker(section(), tmp_path, "r", "g", CONFIG)
    tracker.close()
    tracker.close("failed")
    assert read_run(tmp_path)["status"] == "finished"
    with pytest.raises(RuntimeError, match="closed"):
        tracker.log_metrics({"train/loss": 1.0})


# -- backends -------------------------------------------------------------------------------


def test_a_backend_not_in_this_build_is_refused_with_what_to_install(tmp_path):
    with pytest.raises(TrackingBackendUnavailable, match=r"not available in this build.*`pip install neptune`"):
        open_tracker(section(backend="neptune"), tmp_path / "run", "r", "g", CONFIG)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("name", ["mlflow", "wandb"])
def test_a_backend_whose_package_is_missing_names_the_extra_to_install(tmp_path, name):
    # A fresh interpreter in which the package cannot be imported, as on an install without the extra.
    code = (
        "import sys\n"
        "class Missing:\n"
        f"    def find_spec(self, fullname, path=None, target=None):\n"
        f"        if fullname.split('.')[0] == {name!r}: raise ModuleNotFoundError(name={name!r})\n"
        "sys.meta_path.insert(0, Missing())\n"
        "from rigorml.runtime.tracking import TrackingBackendUnavailable, open_tracker\n"
        "try:\n"
        f"    open_tracker({{'backend': {name!r}}}, {str(tmp_path / 'run')!r}, 'r', 'g', {{}})\n"
        "except TrackingBackendUnavailable as error:\n"
        "    print(error)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"pip install 'rigorml[{name}]'" in done.stdout


def test_an_unknown_backend_lists_the_available_ones(tmp_path):
    with pytest.raises(ValueError, match="unknown tracking.backend `tensorboard`; available: .*local"):
        open_tracker(section(backend="tensorboard"), tmp_path, "r", "g", CONFIG)


class ListBackend(TrackingBackend):
    """A backend that keeps everything in lists (what a plug-in has to implement)."""

    name = "list"

    def __init__(self, section, run_dir):
        self.events = []

    def start(self, run):
        self.events.append(("start", run["name"]))

    def log_params(self, params):
        self.events.append(("params", params))

    def log_metrics(self, record):
        self.events.append(("metrics", record["axis"], record.get(record["axis"]), record["metrics"]))

    def log_artifact(self, path, name):
        return f"list://{name}"

    def finish(self, run):
        self.events.append(("finish", run["status"]))


def test_a_registered_backend_gets_checked_converted_records(tmp_path):
    register_backend("list", ListBackend, replace=True)
    with pytest.raises(ValueError, match="already registered"):
        register_backend("list", ListBackend)
    assert "list" in backends()
    with open_tracker(section(backend="list"), tmp_path, "r", "g", CONFIG) as tracker:
        tracker.log_params({"lr": 0.1})
        tracker.log_metrics({"train/loss": torch.tensor(0.5)}, step=7)
        with pytest.raises(ValueError):
            tracker.log_metrics({"loss": 1.0})
    assert tracker.backend.events == [
        ("start", "r"), ("params", {"lr": 0.1}), ("metrics", "step", 7, {"train/loss": 0.5}), ("finish", "finished")
    ]
    assert read_run(tmp_path)["status"] == "finished"  # the run directory's record, whatever the backend


def test_resuming_after_a_checkpoint_forgets_what_was_logged_after_it(tmp_path):
    with open_tracker(section(system_metrics=True, system_interval_s=60), tmp_path, "r", "g", CONFIG) as tracker:
        for step in range(6):
            tracker.log_metrics({"train/loss": 1.0}, step=step)  # killed at step 5; the checkpoint is at step 3
        for epoch in range(1, 3):
            tracker.log_metrics({"val/loss": 1.0}, step=epoch, axis="epoch")
    with open_tracker(section(), tmp_path, "r", "g", CONFIG, resume_after={"step": 3, "epoch": 1}) as tracker:
        tracker.log_metrics({"train/loss": 0.5})  # the step after the checkpoint
        tracker.log_metrics({"val/loss": 0.5}, axis="epoch")
    records = read_metrics(tmp_path)
    assert [(r["axis"], r.get(r["axis"])) for r in records if r["axis"] != "time"] == [
        ("step", 0), ("step", 1), ("step", 2), ("step", 3), ("epoch", 1), ("step", 4), ("epoch", 2)
    ]
    assert any(r["axis"] == "time" for r in records)  # system samples are kept: they happened
    assert read_run(tmp_path)["resumed_after"] == {"step": 3, "epoch": 1}
