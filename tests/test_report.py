"""`rigorml report`: a run directory becomes report.md, report.json and one self-contained report.html.

One real run directory is built per module, from examples/quickstart.yaml shrunk to seconds (iris,
2 arms x 3 seeds, 3 epochs, a 4-trial random sweep): the compiled train.py --all and sweep.py train
it, and `rigorml run` over it (every run already finished) evaluates it and writes the report.
Its description and a variant's description are hostile HTML, so every test also checks escaping.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from markupsafe import escape

pytest.importorskip("torch")
pytest.importorskip("matplotlib")
pytest.importorskip("optuna")

from rigorml.runtime.report import (  # noqa: E402
    REPORT_FILES,
    ReportError,
    build_report,
    render_html,
    render_markdown,
    with_verdict,
    write_report,
)

ROOT = Path(__file__).resolve().parents[1]
HOSTILE_DESCRIPTION = """<script>alert(1)</script> "double" & 'single' </style><img src=x onerror=alert(2)>"""
HOSTILE_VARIANT = """</td></tr></table><script>alert(3)</script>"""
OVERRIDES = (
    "seeds.replicates=3",
    "training.epochs=3",
    "~variants.dropout",
    "data.source=builtin:iris",
    "data.loader.batch_size=16",
    "training.log_every_steps=2",
    "tracking.system_metrics=false",
    "~training.checkpoint",
    "sweep.method=random",
    "sweep.n_trials=4",
)


def python(*args, cwd, timeout=300):
    env = {k: v for k, v in os.environ.items() if k != "RIGORML_DEBUG"}
    return subprocess.run([sys.executable, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)  # fmt: skip


def git_repository_with_a_change(base: Path) -> None:
    """Make ``base`` (where the runs start) a git repository with one commit and an uncommitted
    change, so the runs record a commit, a dirty tree and a git.diff. Without git, they record why not."""
    if shutil.which("git") is None:
        return
    git = ["git", "-c", "user.name=rigorml tests", "-c", "user.email=tests@rigorml.invalid", "-c", "commit.gpgsign=false"]
    (base / "notes.txt").write_text("first\n", encoding="utf-8")
    for args in (["init", "-q"], ["add", "spec.yaml", "notes.txt"], ["commit", "-q", "-m", "spec"]):
        subprocess.run([*git, *args], cwd=base, check=True, capture_output=True)
    (base / "notes.txt").write_text("first\nchanged\n", encoding="utf-8")


@pytest.fixture(scope="module")
def run_root(tmp_path_factory) -> Path:
    """A `rigorml run` directory: runs trained by the compiled train.py, a sweep by sweep.py, then
    `rigorml run` (which finds every run finished) evaluated it and wrote the report."""
    base = tmp_path_factory.mktemp("report")
    text = (ROOT / "examples" / "quickstart.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "description: Wider hidden layers or dropout versus a small MLP on 8x8 digits.",
        f"description: {json.dumps(HOSTILE_DESCRIPTION)}",
    ).replace("description: Four times the hidden units.", f"description: {json.dumps(HOSTILE_VARIANT)}")
    assert HOSTILE_DESCRIPTION.split()[0] in text and "alert(3)" in text
    (base / "spec.yaml").write_text(text, encoding="utf-8")
    git_repository_with_a_change(base)
    root = base / "out"
    done = python("-m", "rigorml.compiler", "compile", "spec.yaml", *OVERRIDES, "-o", root / "project", cwd=base)
    assert done.returncode == 0, done.stderr
    # The runs and the sweep train at once (separate processes): the module stays within seconds.
    sweep = subprocess.Popen([sys.executable, root / "project" / "sweep.py", "--trials", "4"], cwd=base,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    train = python(root / "project" / "train.py", "--all", "--run-dir", root, cwd=base)
    sweep_output, _ = sweep.communicate(timeout=300)
    assert train.returncode == 0, train.stdout + train.stderr
    assert sweep.returncode == 0, sweep_output
    run = python("-m", "rigorml.compiler", "run", "spec.yaml", *OVERRIDES, "--run-dir", root, "--no-sweep", cwd=base)  # the sweep is sweep.py's, above
    assert run.returncode == 0, run.stderr
    (root / "run.stdout").write_text(run.stdout, encoding="utf-8")
    (root / "run.stderr").write_text(run.stderr, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def report(run_root) -> dict:
    return json.loads((run_root / "report.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def html(run_root) -> str:
    return (run_root / "report.html").read_text(encoding="utf-8")


def figure_count(report: dict) -> int:
    """The plots the page must hold: a forest plot, one distribution per metric, one learning curve
    per logged metric name, and the sweep's history, importances (fANOVA and PED-ANOVA in one plot,
    when either could be computed), parallel coordinates (2 or more completed trials) and
    per-parameter plots."""
    curves = {name for run in report["runs"] for name in run["curves"]}
    sweep = report["sweeps"][0]
    importances = any(method["values"] for method in sweep["analysis"]["importances"].values())
    complete = sum(t["state"] == "complete" for t in sweep["trials"])
    return 1 + len(report["evaluation"]["metrics"]) + len(curves) + 2 + importances + (complete >= 2)


# --- rigorml run -----------------------------------------------------------------------------------


def test_rigorml_run_writes_the_report_after_the_evaluation(run_root):
    for name in REPORT_FILES:
        assert (run_root / name).is_file()
    stderr = (run_root / "run.stderr").read_text(encoding="utf-8")
    assert f"report: {run_root / 'report.html'}" in stderr
    # stdout still carries the evaluation's tables only
    stdout = (run_root / "run.stdout").read_text(encoding="utf-8")
    assert stdout.endswith((run_root / "evaluation.md").read_text(encoding="utf-8"))


# --- report.json ----------------------------------------------------------------------------------


def test_report_json_holds_the_comparisons_with_verdicts(report, run_root):
    evaluation = json.loads((run_root / "evaluation.json").read_text(encoding="utf-8"))
    assert report["evaluation"] == evaluation and report["evaluation_source"] == "evaluation.json"
    (comparison,) = report["comparisons"]
    assert comparison["name"] == "wide-vs-baseline" and comparison["n"] == 3
    assert comparison["mean"] == evaluation["comparisons"][0]["mean"]
    assert comparison["verdict"] in ("improvement", "regression", "below_minimum_effect", "equivalent", "no_evidence")
    assert report["minimum_effect"] == 0.01 and "wide" in comparison["verdict_text"]
    assert report["summary"]["runs_evaluated"] == report["summary"]["runs_planned"] == 6


def test_report_json_holds_the_arms_and_every_run_with_its_curves(report):
    assert [arm["name"] for arm in report["arms"]] == ["baseline", "wide"]
    assert report["arms"][1]["overrides"] == {"model.params.hidden_sizes": [128]}
    assert [(r["arm"], r["seed"], r["status"]) for r in report["runs"]] == [
        (arm, seed, "finished") for arm in ("baseline", "wide") for seed in (0, 1, 2)
    ]
    curves = report["runs"][0]["curves"]
    assert curves["train/loss"]["axis"] == "step" and len(curves["train/loss"]["x"]) >= 5
    assert curves["val/loss"]["axis"] == "epoch" and curves["val/loss"]["x"] == [1, 2, 3]
    assert not any(name.startswith("test/") for run in report["runs"] for name in run["curves"])


def test_report_json_holds_the_environment_and_git_state_the_runs_recorded(report, run_root):
    recorded = json.loads((run_root / "baseline" / "seed-0" / "run.json").read_text(encoding="utf-8"))
    environment = report["environment"]
    assert len(environment["runs"]) == 6
    assert environment["shared"]["torch"] == recorded["environment"]["torch"]
    assert environment["shared"]["packages.optuna"] == recorded["environment"]["packages"]["optuna"]
    assert "env.PYTHONHASHSEED" in environment["varying"]  # seeded per replicate
    git = report["git"]
    assert len(git["runs"]) == 6
    assert git["runs"][0]["commit"] == recorded["git"]["commit"]
    assert git["runs"][0]["dirty"] == recorded["git"]["dirty"]
    assert git["runs"][0]["diff"] == (run_root / "baseline" / "seed-0" / "git.diff").is_file()
    if shutil.which("git"):  # the fixture committed the spec and changed notes.txt afterwards
        assert len(git["commits"]) == 1 and git["dirty"] and git["runs"][0]["diff"]
        (diff,) = git["diffs"]
        assert len(diff["runs"]) == 6 and "+changed" in diff["text"] and not diff["truncated"]


def test_report_json_holds_the_sweep_with_every_trial(report, run_root):
    (sweep,) = report["sweeps"]
    best = json.loads((run_root / "project" / "sweeps" / "digits-mlp" / "best.json").read_text(encoding="utf-8"))
    assert sweep["dir"] == "project/sweeps/digits-mlp" and sweep["best"] == best["best"]
    assert [t["number"] for t in sweep["trials"]] == [0, 1, 2, 3]
    assert {t["state"] for t in sweep["trials"]} <= {"complete", "pruned"}
    assert set(sweep["trials"][0]["params"]) == {"training.optimizer.lr", "data.loader.batch_size"}
    if sum(t["state"] == "complete" for t in sweep["trials"]) >= 2:
        assert set(sweep["importances"]) == {"training.optimizer.lr", "data.loader.batch_size"}
    else:
        assert sweep["importances"] is None and "at least 2 completed trials" in sweep["importance_note"]


def test_report_json_is_strict_json_with_the_resolved_config(run_root):
    text = (run_root / "report.json").read_text(encoding="utf-8")
    report = json.loads(text, parse_constant=lambda name: pytest.fail(f"non-JSON constant {name}"))
    assert report["format"] == "rigorml-report/1"
    assert report["config"] == json.loads((run_root / "project" / "config.resolved.json").read_text(encoding="utf-8"))


def test_the_evaluation_notes_are_the_reports_notes(report, html):
    # e.g. which declared tests are not applied yet: evaluation.json says so, and so does the report
    notes = report["evaluation"]["notes"]
    assert report["notes"][: len(notes)] == notes
    markdown = render_markdown(report)
    for note in notes:
        assert note.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|") in markdown
        assert str(escape(note)) in html


@pytest.mark.parametrize(
    ("mean", "ci", "p_adjusted", "favours", "verdict"),
    [
        (0.03, [0.02, 0.04], 0.001, "treatment", "improvement"),
        (-0.03, [-0.04, -0.02], 0.001, "control", "regression"),
        (0.005, [0.004, 0.006], 0.001, "treatment", "below_minimum_effect"),
        (0.002, [-0.005, 0.008], 0.40, "treatment", "equivalent"),
        (0.02, [-0.01, 0.05], 0.20, "treatment", "no_evidence"),
        (0.02, None, None, "treatment", "untested"),
    ],
)
def test_a_verdict_weighs_the_corrected_p_value_against_the_minimum_effect(mean, ci, p_adjusted, favours, verdict):
    comparison = {"name": "wide-vs-baseline", "treatment": "wide", "control": "baseline", "metric": "f1_macro",
                  "mean": mean, "ci": ci, "p_adjusted": p_adjusted, "favours": favours, "test": {"note": None}}  # fmt: skip
    judged = with_verdict(comparison, minimum_effect=0.01, alpha=0.05)
    assert judged["verdict"] == verdict and "wide" in judged["verdict_text"]


# --- report.md ------------------------------------------------------------------------------------


def test_report_md_has_the_summary_and_the_tables(run_root, report):
    markdown = (run_root / "report.md").read_text(encoding="utf-8")
    assert markdown.startswith("# digits-mlp\n")
    assert report["summary"]["headline"] in markdown
    assert "| comparison | metric | n | mean difference | 95% CI | d_z | test | p | p (holm) | verdict |" in markdown
    assert re.search(r"^\| wide-vs-baseline \| f1_macro \| 3 \| [+-]\d\.\d{4} \|", markdown, re.M)
    for heading in ("### f1_macro (primary)", "### accuracy", "### mcc", "## Runs", "## Sweep digits-mlp", "## Environment", "## Git"):
        assert heading in markdown
    assert markdown.count("| baseline | 3 |") == 3  # one row per metric table


def test_report_md_escapes_markup(run_root):
    markdown = (run_root / "report.md").read_text(encoding="utf-8")
    assert "<script>" not in markdown and "&lt;script&gt;alert(1)&lt;/script&gt;" in markdown
    assert "&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;" in markdown


# --- report.html ----------------------------------------------------------------------------------


def test_the_html_is_self_contained(html):
    assert not re.search(r"""(?:src|href|action|srcset)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert not re.search(r"url\(\s*['\"]?\s*(?:https?:)?//", html, re.I)
    assert "@import" not in html and "<script" not in html.lower() and "<link rel=\"stylesheet\"" not in html
    assert "http://" not in html and "https://" not in html
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    # every src is inline data
    assert all(src.startswith("data:") for src in re.findall(r'src="([^"]*)"', html))


def test_the_html_holds_every_plot_and_table(html, report):
    plots = html.count('src="data:image/svg+xml;base64,')
    assert plots == figure_count(report) and plots >= 9
    assert html.count("<table") >= 8  # arms, comparisons, 3 metrics, runs, environment, git, sweep
    assert "<td>wide-vs-baseline</td>" in html
    for title in ("Effects of every comparison", "f1_macro over seeds", "train/loss per optimiser step",
                  "val/loss per epoch", "Optimisation history", "Objective against each parameter"):  # fmt: skip
        assert title in html
    assert "minimum effect of interest" in html.lower()


def test_the_same_run_directory_gives_the_same_bytes(run_root, tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    write_report(build_report(run_root), first)
    write_report(build_report(run_root), second)
    for name in REPORT_FILES:
        assert (first / name).read_bytes() == (second / name).read_bytes() == (run_root / name).read_bytes(), name


def test_a_hostile_description_is_text_not_markup(html):
    assert "<script>alert(1)</script>" not in html and "alert(3)</script>" not in html
    assert "onerror=alert(2)>" not in html and "</style><img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &#34;double&#34; &amp; &#39;single&#39;" in html
    assert "&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;script&gt;alert(3)" in html


def test_hostile_arm_names_in_tampered_files_are_escaped(report):
    # Arm names in a spec are plain names, but a report renders whatever the files hold.
    hostile = """b"a'se<script>alert(4)</script>"""
    tampered = json.loads(json.dumps(report).replace('"baseline"', json.dumps(hostile)))
    tampered["experiment"]["name"] = """x" onload="alert(5)"""
    page = render_html(tampered)
    assert "<script>alert(4)" not in page and 'x" onload' not in page
    assert "b&#34;a&#39;se&lt;script&gt;alert(4)&lt;/script&gt;" in page
    assert "<title>x&#34; onload=&#34;alert(5): rigorml report</title>" in page
    assert "<script>" not in render_markdown(tampered)


def test_a_missing_evaluation_is_made_from_the_runs(run_root, report, tmp_path):
    copy_root = tmp_path / "run"
    shutil.copytree(run_root, copy_root, ignore=shutil.ignore_patterns("report.*", "evaluation.*", "sweeps"))
    rebuilt = build_report(copy_root)
    assert rebuilt["evaluation_source"] == "computed"
    assert rebuilt["comparisons"] == report["comparisons"] and rebuilt["sweeps"] == []


def test_an_evaluation_that_cannot_be_made_is_a_note(run_root, tmp_path):
    copy_root = tmp_path / "run"
    shutil.copytree(run_root / "project", copy_root / "project", ignore=shutil.ignore_patterns("sweeps"))
    rebuilt = build_report(copy_root)
    assert rebuilt["evaluation"] is None and rebuilt["comparisons"] == []
    assert rebuilt["summary"]["headline"] == "Not evaluated: see the notes."
    assert any(note.startswith("Not evaluated: nothing to evaluate") for note in rebuilt["notes"])
    assert {run["status"] for run in rebuilt["runs"]} == {"not run"}
    assert "Not evaluated" in render_html(rebuilt)


def test_a_directory_without_a_project_is_not_a_run_directory(tmp_path):
    with pytest.raises(ReportError, match="not a rigorml run directory: it has no project/config.resolved.json"):
        build_report(tmp_path)


# --- the command ----------------------------------------------------------------------------------


def test_rigorml_report_writes_to_out_and_prints_the_paths(run_root, tmp_path):
    done = python("-m", "rigorml.compiler", "report", run_root, "-o", tmp_path / "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [str(tmp_path / "out" / name) for name in REPORT_FILES]
    for name in REPORT_FILES:
        assert (tmp_path / "out" / name).read_bytes() == (run_root / name).read_bytes()


def test_rigorml_report_refuses_a_directory_that_is_not_a_run_directory(tmp_path):
    done = python("-m", "rigorml.compiler", "report", tmp_path, cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert "is not a rigorml run directory" in done.stderr and "Traceback" not in done.stderr
    assert not list(tmp_path.iterdir())


# --- in a browser ---------------------------------------------------------------------------------


def test_the_page_renders_its_plots_and_tables_in_chromium(chromium, run_root, report):
    chromium.get((run_root / "report.html").as_uri())
    assert chromium.title == "digits-mlp: rigorml report"
    plots = chromium.find_elements("css selector", "img.plot")
    assert len(plots) == figure_count(report)
    for plot in plots:
        decoded = chromium.execute_script("return arguments[0].complete && arguments[0].naturalWidth", plot)
        assert decoded and decoded > 0, plot.get_attribute("alt")
        assert plot.size["width"] > 0 and plot.size["height"] > 0, plot.get_attribute("alt")
    tables = chromium.find_elements("css selector", "section:not(#sweep) table")
    assert len(tables) >= 7 and all(t.size["height"] > 0 for t in tables)
    comparison = chromium.find_element("css selector", "table.comparisons tbody tr")
    assert comparison.text.startswith("wide-vs-baseline f1_macro 3")
    # the hostile description is shown as text, and nothing ran (an alert would fail every call)
    assert chromium.find_element("css selector", "header .description").text == HOSTILE_DESCRIPTION
    assert chromium.execute_script("return document.scripts.length") == 0
    severe = [entry for entry in chromium.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == []
