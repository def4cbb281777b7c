"""The report of a ``rigorml run`` directory: what was compared, what came out, and how it was made.

``build_report(run_root)`` gathers, from a run directory (``<root>/project/config.resolved.json``,
``<root>/<arm>/seed-<seed>/`` for every run, ``<root>/evaluation.json``), one JSON-ready dict:

* the experiment (name, description, task, arms with their roles and overrides);
* the preregistered evaluation (``evaluation.json``, or :func:`rigorml.runtime.evaluate.evaluate_experiment`
  when it is missing or was made for another configuration), and for every comparison a
  **verdict** that weighs the corrected p-value against ``evaluation.minimum_effect``: a
  significant difference smaller than the smallest effect that matters is not an improvement;
* every run's status and learning curves (:func:`rigorml.runtime.tracking.metric_history`:
  ``train/...`` per optimiser step, validation metrics per epoch);
* the environment the runs recorded in ``run.json`` (what all runs share, and what differs between
  them) and their git state (commit, dirty, the ``git.diff`` each kept);
* a hyperparameter sweep when one was run under the root or its project (``sweeps/<study>/``:
  ``best.json`` and the Optuna study): every trial, the post-search analysis of
  :mod:`rigorml.runtime.sweep_analysis` (fANOVA and PED-ANOVA importances, the sensitivity of the
  objective to each parameter; each with the reason when there are too few trials), a parallel-
  coordinates plot, and the final validation of the best configuration over fresh seeds on the
  test split (``final.json``, :mod:`rigorml.runtime.sweep_final`) when it ran.

``write_report(report, out_dir)`` writes ``report.json``, ``report.md`` and ``report.html``, each
atomically. The HTML page is one self-contained file: inline CSS, no script, the plots embedded as
base64 SVG images (an SVG shown through ``<img>`` can neither run script nor load anything), and a
Content-Security-Policy that forbids the page any network access. It is rendered from
``templates/report/report.html.j2`` with autoescaping on: every value from the run directory is
text, never markup. No timestamps and no absolute paths: the same run directory gives the same
bytes (matplotlib's SVG ids are salted with a fixed string and its date left out).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
from pathlib import Path
from typing import Any

from .config import spec_hash
from .evaluate import with_verdict
from .files import write_atomic
from .tracking import jsonable

#: What ``report.json`` declares itself to be (bumped when its shape changes incompatibly).
REPORT_FORMAT = "rigorml-report/1"

#: The files :func:`write_report` writes.
REPORT_FILES = ("report.json", "report.md", "report.html")

#: Where sweeps are looked for, relative to the run root: ``sweep.py`` writes next to itself
#: (the project), a sweep run by hand may sit next to the runs.
SWEEP_GLOBS = ("sweeps/*/best.json", "project/sweeps/*/best.json")

#: A recorded ``git.diff`` longer than this is cut in the report (the file itself stays whole).
MAX_DIFF_CHARS = 100_000

#: Verdicts, in the order the summary counts them, with the colour the page and plots give them.
VERDICTS = {
    "improvement": "#1a7f37",
    "regression": "#cf222e",
    "below_minimum_effect": "#9a6700",
    "equivalent": "#0969da",
    "no_evidence": "#57606a",
    "untested": "#8c959f",
}
VERDICT_LABELS = {
    "improvement": "improvement",
    "regression": "regression",
    "below_minimum_effect": "below the minimum effect",
    "equivalent": "practically equivalent",
    "no_evidence": "no detectable difference",
    "untested": "not tested",
}

#: Arm colours in plots (matplotlib's tab10, in arm order).
_ARM_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


class ReportError(RuntimeError):
    """The directory is not a ``rigorml run`` directory, or its configuration cannot be read. The
    message says what is missing."""


# --- gathering ------------------------------------------------------------------------------------


def build_report(run_root: str | Path) -> dict[str, Any]:
    """Gather everything the report shows from the run directory ``run_root``.

    Inputs: ``run_root``, a folder ``rigorml run`` wrote: ``project/config.resolved.json`` and
    ``<arm>/seed-<seed>/`` per run (runs that are missing or unfinished are reported as such).
    Output: a JSON-ready dict (strict JSON: non-finite numbers are the strings ``"NaN"``,
    ``"Infinity"``, ``"-Infinity"``); see the module docstring. An evaluation that cannot be made
    (nothing finished, unpaired runs) leaves ``evaluation`` null and says why in ``notes``.
    Errors: :class:`ReportError` when ``run_root`` is not a directory or has no readable resolved
    configuration.
    """
    from .evaluate import arm_names

    root = Path(run_root)
    if not root.is_dir():
        raise ReportError(f"{root} is not a directory")
    config_path = root / "project" / "config.resolved.json"
    if not config_path.is_file():
        raise ReportError(
            f"{root} is not a rigorml run directory: it has no project/config.resolved.json "
            "(rigorml run SPEC --run-dir DIR writes one; point at DIR)"
        )
    try:
        resolved = json.loads(config_path.read_text(encoding="utf-8"))
        experiment = resolved["experiment"]
        seeds = list(resolved["seeds"]["replicates"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ReportError(f"{config_path} cannot be read as a resolved spec ({exc})") from None

    digest = spec_hash(resolved)
    notes: list[str] = []
    evaluation, source = _evaluation(root, resolved, digest, notes)
    section = resolved.get("evaluation") or {}
    minimum_effect = float(section.get("minimum_effect") or 0.0)
    alpha = float(section.get("alpha", 0.05))
    comparisons = [with_verdict(c, minimum_effect, alpha) for c in (evaluation or {}).get("comparisons", [])]
    variants = resolved.get("variants") or {}
    arms = [
        {
            "name": arm,
            "role": (variants.get(arm) or {}).get("role"),
            "description": (variants.get(arm) or {}).get("description"),
            "overrides": (variants.get(arm) or {}).get("overrides") or {},
        }
        for arm in arm_names(resolved)
    ]
    runs = [_run_record(root, arm["name"], seed, digest) for arm in arms for seed in seeds]
    if evaluation is not None:
        notes = [*evaluation.get("notes", []), *notes]
        notes += [f"{m['run_dir']} not evaluated: {m['reason']}." for m in evaluation.get("missing", [])]
    sweeps = [_sweep_record(root, path.parent, resolved, notes) for path in _sweep_files(root)]

    report = {
        "format": REPORT_FORMAT,
        "experiment": {
            "name": experiment.get("name"),
            "description": experiment.get("description"),
            "project": experiment.get("project"),
            "task": experiment.get("task"),
            "tags": list(experiment.get("tags") or []),
        },
        "config_sha256": digest,
        "arms": arms,
        "replicate_seeds": seeds,
        "primary": resolved["metrics"]["primary"],
        "minimum_effect": minimum_effect,
        "alpha": alpha,
        "summary": _summary(comparisons, evaluation, len(arms) * len(seeds)),
        "comparisons": comparisons,
        "evaluation": evaluation,
        "evaluation_source": source,
        "runs": runs,
        "environment": _environment(root, runs),
        "git": _git_state(root, runs),
        "sweeps": sweeps,
        "notes": notes,
        "config": resolved,
        "rigorml_version": _rigorml_version(),
    }
    # One JSON round trip: the HTML rendered from this dict and from report.json are the same.
    return json.loads(json.dumps(jsonable(report), allow_nan=False))


def _evaluation(root: Path, resolved: dict, digest: str, notes: list[str]) -> tuple[dict | None, str | None]:
    """evaluation.json when it belongs to this configuration; otherwise a fresh evaluation."""
    from .evaluate import EvaluationError, evaluate_experiment

    path = root / "evaluation.json"
    if path.is_file():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            stored = None
        if isinstance(stored, dict) and stored.get("config_sha256") == digest:
            return stored, "evaluation.json"
        notes.append("evaluation.json was not made for this configuration (or is unreadable): evaluated again.")
    try:
        return evaluate_experiment(resolved, root), "computed"
    except EvaluationError as exc:
        notes.append(f"Not evaluated: {exc}")
        return None, None


def _summary(comparisons: list[dict], evaluation: dict | None, planned_runs: int) -> dict:
    counts = {key: sum(c["verdict"] == key for c in comparisons) for key in VERDICTS}
    counts = {key: n for key, n in counts.items() if n}
    if evaluation is None:
        headline = "Not evaluated: see the notes."
    elif not comparisons:
        headline = "No preregistered comparison: the arms are summarised only."
    else:
        parts = ", ".join(f"{n} {VERDICT_LABELS[key]}" for key, n in counts.items())
        noun = "comparison" if len(comparisons) == 1 else "comparisons"
        headline = f"{len(comparisons)} preregistered {noun}: {parts}."
    evaluated = len(evaluation["runs_evaluated"]) if evaluation else 0
    return {"headline": headline, "counts": counts, "runs_evaluated": evaluated, "runs_planned": planned_runs}


def _run_record(root: Path, arm: str, seed: int, digest: str) -> dict:
    """One run's outcome (result.json) and learning curves (metrics.jsonl)."""
    from .tracking import metric_history

    run_dir = root / arm / f"seed-{seed}"
    record: dict[str, Any] = {
        "arm": arm,
        "seed": seed,
        "run_dir": f"{arm}/seed-{seed}",
        "status": "not run",
        "epochs": None,
        "steps": None,
        "seconds": None,
        "this_configuration": None,
        "metrics": {},
        "curves": {},
    }
    result = _read_json(run_dir / "result.json")
    if isinstance(result, dict):
        record.update(
            status=result.get("status"),
            epochs=result.get("epochs"),
            steps=result.get("steps"),
            seconds=result.get("seconds"),
            this_configuration=result.get("config_sha256") == digest,
            metrics=result.get("metrics") or {},
        )
    elif run_dir.is_dir():
        record["status"] = "no result"
    try:
        history = metric_history(run_dir)
    except (OSError, ValueError):
        history = {}
    curves: dict[str, dict] = {}
    for axis in ("step", "epoch"):
        for x, values in history.get(axis, {}).items():
            for name, value in values.items():
                if name.startswith("test/"):  # the final evaluation: one point, not a curve
                    continue
                curve = curves.setdefault(name, {"axis": axis, "x": [], "y": []})
                if curve["axis"] == axis:
                    curve["x"].append(x)
                    curve["y"].append(value)
    record["curves"] = {name: curves[name] for name in sorted(curves, key=lambda n: (curves[n]["axis"] != "step", n))}
    return record


def _environment(root: Path, runs: list[dict]) -> dict:
    """What every run's run.json environment agrees on, and what differs (by run)."""
    flat: dict[str, dict[str, Any]] = {}
    for run in runs:
        recorded = _read_json(root / run["run_dir"] / "run.json")
        if isinstance(recorded, dict) and isinstance(recorded.get("environment"), dict):
            flat[run["run_dir"]] = _flatten(recorded["environment"])
    keys = sorted({key for values in flat.values() for key in values})
    shared, varying = {}, {}
    for key in keys:
        values = {label: values.get(key) for label, values in flat.items()}
        distinct = {json.dumps(v, sort_keys=True) for v in values.values()}
        if len(distinct) == 1:
            shared[key] = next(iter(values.values()))
        else:
            varying[key] = values
    return {"runs": sorted(flat), "shared": shared, "varying": varying}


def _git_state(root: Path, runs: list[dict]) -> dict:
    """Each run's git record (commit, dirty, whether it kept a diff) and the distinct diffs."""
    records, diffs = [], {}
    for run in runs:
        recorded = _read_json(root / run["run_dir"] / "run.json")
        git = recorded.get("git") if isinstance(recorded, dict) else None
        if not isinstance(git, dict):
            continue
        diff_file = root / run["run_dir"] / (git.get("diff") or "git.diff")
        text = None
        if git.get("diff") and diff_file.is_file():
            text = diff_file.read_bytes().decode("utf-8", errors="replace")
            digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
            entry = diffs.setdefault(digest, {"sha256": digest, "runs": [], "lines": text.count("\n"),
                                              "truncated": len(text) > MAX_DIFF_CHARS, "text": text[:MAX_DIFF_CHARS]})  # fmt: skip
            entry["runs"].append(run["run_dir"])
        records.append(
            {
                "run_dir": run["run_dir"],
                "commit": git.get("commit"),
                "dirty": git.get("dirty"),
                "diff": text is not None,
                "untracked_count": git.get("untracked_count"),
                "error": git.get("error"),
            }
        )
    commits = sorted({r["commit"] for r in records if r["commit"]})
    return {"commits": commits, "dirty": any(r["dirty"] for r in records), "runs": records, "diffs": list(diffs.values())}


def _sweep_files(root: Path) -> list[Path]:
    return sorted({path for pattern in SWEEP_GLOBS for path in root.glob(pattern) if path.is_file()})


def _sweep_record(root: Path, sweep_dir: Path, resolved: dict, notes: list[str]) -> dict:
    """A sweep's best.json, its trials from the Optuna study, the post-search analysis
    (:func:`rigorml.runtime.sweep_analysis.analyze_study`: importances and sensitivities) and the
    final validation (``final.json``) when it ran."""
    from .sweep_analysis import ANALYSIS_FILE, analyze_study
    from .sweep_final import FINAL_FILE, FINAL_FORMAT

    best = _read_json(sweep_dir / "best.json") or {}
    where = sweep_dir.relative_to(root).as_posix()
    record: dict[str, Any] = {
        "dir": where,
        "study_name": best.get("study_name"),
        "objective": best.get("objective") or {},
        "best": best.get("best"),
        "counts": best.get("trials") or {},
        "failures": best.get("failures") or [],
        "parameters": ((resolved.get("sweep") or {}).get("parameters")) or {},
        "trials": [],
        "importances": None,
        "importance_note": None,
        "analysis": None,
        "final": None,
    }
    final = _read_json(sweep_dir / FINAL_FILE)
    if isinstance(final, dict) and final.get("format") == FINAL_FORMAT and final.get("enabled"):
        record["final"] = final
    study = _load_study(sweep_dir, record["study_name"], resolved, notes, where)
    if study is None:
        stored = _read_json(sweep_dir / ANALYSIS_FILE)
        if isinstance(stored, dict) and isinstance(stored.get("importances"), dict):
            record["analysis"] = stored  # what the sweep analysed when it ended
            record["importances"], record["importance_note"] = _fanova_view(stored)
        else:
            record["importance_note"] = "the Optuna study could not be opened"
        return record
    for trial in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number):
        intermediate = sorted(trial.intermediate_values.items())
        record["trials"].append(
            {
                "number": trial.number,
                "state": trial.state.name.lower(),
                "value": trial.value,
                "params": dict(sorted(trial.params.items())),
                "last_step": intermediate[-1][0] if intermediate else None,
                "last_intermediate": intermediate[-1][1] if intermediate else None,
            }
        )
    if resolved.get("sweep"):
        record["analysis"] = analyze_study(study, resolved)
        record["importances"], record["importance_note"] = _fanova_view(record["analysis"])
    else:
        record["importance_note"] = "the configuration has no sweep section: the study is not analysed"
    return record


def _load_study(sweep_dir: Path, study_name: str | None, resolved: dict, notes: list[str], where: str):
    """The sweep's study, read where the sweep keeps it (:func:`rigorml.runtime.sweep.load_sweep_study`:
    its study file, else the storage best.json records, else the spec's ``sweep.storage``, which may
    carry the credentials best.json leaves out); None, with a note, when it cannot be read."""
    from .sweep import load_sweep_study

    if not study_name:
        notes.append(f"Sweep {where}: best.json names no study: only best.json is shown.")
        return None
    spec_storage = (resolved.get("sweep") or {}).get("storage")
    problem = ""
    for url in (None, spec_storage) if spec_storage else (None,):
        try:
            return load_sweep_study(sweep_dir, study_name, url)
        except Exception as exc:  # a storage Optuna cannot open is a note, not a failed report
            problem = f"{type(exc).__name__}: {exc}"
    notes.append(f"Sweep {where}: the study {study_name} cannot be opened ({problem}).")
    return None


def _fanova_view(analysis: dict) -> tuple[dict | None, str | None]:
    """The fANOVA importances of an analysis, and what they are (or why there are none)."""
    fanova = (analysis.get("importances") or {}).get("fanova") or {}
    if fanova.get("values"):
        seed = (fanova.get("settings") or {}).get("seed")
        return dict(fanova["values"]), f"fANOVA (optuna.importance, seed {seed})"
    return None, fanova.get("note") or "parameter importances could not be computed"


# --- writing --------------------------------------------------------------------------------------


def write_report(report: dict, out_dir: str | Path) -> list[Path]:
    """Write ``report.json``, ``report.md`` and ``report.html`` for ``report`` (from
    :func:`build_report`) into ``out_dir`` (created when missing), each atomically.

    Returns the paths written, in :data:`REPORT_FILES` order. The same report gives the same bytes.
    Raises OSError when ``out_dir`` cannot be written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    texts = {
        "report.json": json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
        "report.md": render_markdown(report),
        "report.html": render_html(report),
    }
    paths = []
    for name in REPORT_FILES:
        write_atomic(out / name, texts[name].encode("utf-8"))
        paths.append(out / name)
    return paths


# --- Markdown -------------------------------------------------------------------------------------


def render_markdown(report: dict) -> str:
    """The report as Markdown: summary, comparisons, per-arm metrics, runs, sweep, environment, git
    and notes. Every value is escaped (``<``, ``&``, ``|``, line breaks), so a description cannot
    inject markup into a rendered page."""
    experiment = report["experiment"]
    evaluation = report["evaluation"]
    lines = [f"# {_md(experiment['name'])}", ""]
    if experiment.get("description"):
        lines += [_md(experiment["description"]), ""]
    lines += [
        f"{_md(experiment.get('task') or '-')}; {len(report['arms'])} arm(s) x {len(report['replicate_seeds'])} "
        f"replicate seed(s); config sha256 `{report['config_sha256']}`.",
        "",
        f"**{_md(report['summary']['headline'])}**",
    ]
    if report["comparisons"]:
        lines.append("")
        lines += [f"- **{_md(VERDICT_LABELS[c['verdict']])}**: {_md(c['verdict_text'])}" for c in report["comparisons"]]

    lines += ["", "## Arms", "", "| arm | role | description | overrides |", "|---|---|---|---|"]
    for arm in report["arms"]:
        overrides = ", ".join(f"{key}: {json.dumps(value)}" for key, value in arm["overrides"].items()) or "-"
        lines.append(f"| {_md(arm['name'])} | {_md(arm['role'] or '-')} | {_md(arm['description'] or '-')} | {_md(overrides)} |")

    if report["comparisons"]:
        view = _comparison_rows(report)
        lines += ["", "## Comparisons (treatment - control, paired by seed)", ""]
        lines.append(f"Minimum effect of interest: {_num(report['minimum_effect'])}; alpha {report['alpha']:g}.")
        lines += ["", "| " + " | ".join(view["header"]) + " |", "|" + "---|" * len(view["header"])]
        lines += ["| " + " | ".join(_md(cell) for cell in row["cells"]) + " |" for row in view["rows"]]

    if evaluation is not None:
        lines += ["", f"## Metrics per arm ({_md(evaluation['split'])} split)"]
        for table in _metric_tables(report):
            lines += ["", f"### {_md(table['title'])}", ""]
            lines += ["| " + " | ".join(table["header"]) + " |", "|" + "---|" * len(table["header"])]
            lines += ["| " + " | ".join(_md(cell) for cell in row) + " |" for row in table["rows"]]

    runs = _run_rows(report)
    lines += ["", "## Runs", "", "| " + " | ".join(runs["header"]) + " |", "|" + "---|" * len(runs["header"])]
    lines += ["| " + " | ".join(_md(cell) for cell in row) + " |" for row in runs["rows"]]

    for sweep in _sweep_views(report, figures=False):
        lines += ["", f"## Sweep {_md(sweep['title'])}", ""]
        lines += [f"- {_md(item)}" for item in sweep["facts"]]
        for title, table in (("Parameter importances", sweep["importances"]), ("Sensitivity", sweep["sensitivity"])):
            if table["rows"]:
                lines += ["", f"### {title}", "", _md(table["caption"]), ""]
                lines += _md_table(table["header"], table["rows"])
        if sweep["trials"]["rows"]:
            lines += [""] + _md_table(sweep["trials"]["header"], sweep["trials"]["rows"])
        final = sweep["final"]
        if final:
            lines += ["", f"### Final validation: {_md(final['headline'])}", ""]
            lines += [f"- {_md(item)}" for item in final["facts"]]
            lines += [""] + _md_table(final["metrics"]["header"], final["metrics"]["rows"])
            lines += [""] + _md_table(final["runs"]["header"], final["runs"]["rows"])
            lines += [f"- {_md(note)}" for note in final["notes"]]

    environment = _environment_rows(report)
    lines += ["", "## Environment", ""]
    if environment["shared"]:
        lines += ["| setting | value |", "|---|---|"]
        lines += [f"| {_md(key)} | {_md(value)} |" for key, value in environment["shared"]]
    else:
        lines.append("No run recorded its environment.")
    if environment["varying"]:
        lines += ["", "Differs between runs:", ""]
        lines += [f"- {_md(key)}: {_md(value)}" for key, value in environment["varying"]]

    git = _git_rows(report)
    lines += ["", "## Git", "", _md(git["summary"])]
    if git["rows"]:
        lines += ["", "| " + " | ".join(git["header"]) + " |", "|" + "---|" * len(git["header"])]
        lines += ["| " + " | ".join(_md(cell) for cell in row) + " |" for row in git["rows"]]

    if report["notes"]:
        lines += ["", "## Notes", ""]
        lines += [f"- {_md(note)}" for note in report["notes"]]
    lines += ["", f"_rigorml {_md(report['rigorml_version'])} report ({report['format']})._"]
    return "\n".join(lines) + "\n"


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(_md(cell) for cell in header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(_md(cell) for cell in row) + " |" for row in rows]


# --- HTML -----------------------------------------------------------------------------------------


def render_html(report: dict) -> str:
    """The report as one self-contained HTML page (see the module docstring), rendered from
    ``templates/report/report.html.j2`` with autoescaping on."""
    environment = _jinja_environment()
    return environment.get_template("report.html.j2").render(**_html_view(report))


def _jinja_environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("rigorml.templates", "report"),
        autoescape=True,  # every value is text: a description or an arm name never becomes markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _html_view(report: dict) -> dict:
    """What the template shows, as plain strings and lists: the template formats nothing."""
    experiment = report["experiment"]
    evaluation = report["evaluation"]
    figures = _Figures(report)
    seeds, arms = report["replicate_seeds"], report["arms"]
    facts = [
        experiment.get("task") or "-",
        f"{len(arms)} arm{'s' if len(arms) != 1 else ''} x {len(seeds)} replicate seed{'s' if len(seeds) != 1 else ''}",
        f"{report['summary']['runs_evaluated']} of {report['summary']['runs_planned']} runs evaluated",
    ]
    if evaluation is not None:
        facts.append(f"{evaluation['split']} split, {evaluation['examples']} examples")
    if experiment.get("project"):
        facts.insert(0, f"project {experiment['project']}")
    comparison_view = _comparison_rows(report) if report["comparisons"] else None
    curves = figures.learning_curves()
    sections = [("summary", "Summary")]
    if comparison_view:
        sections.append(("comparisons", "Comparisons"))
    if evaluation is not None:
        sections.append(("metrics", "Metrics"))
    if curves:
        sections.append(("curves", "Learning curves"))
    sweeps = _sweep_views(report, figures=figures)
    if sweeps:
        sections.append(("sweep", "Sweep"))
    sections += [("runs", "Runs"), ("environment", "Environment"), ("git", "Git")]
    if report["notes"]:
        sections.append(("notes", "Notes"))
    sections.append(("config", "Configuration"))
    return {
        "title": f"{experiment['name']}: rigorml report",
        "name": experiment["name"],
        "description": experiment.get("description") or "",
        "tags": experiment.get("tags") or [],
        "facts": facts,
        "config_sha256": report["config_sha256"],
        "headline": report["summary"]["headline"],
        "verdicts": [
            {"key": c["verdict"], "label": VERDICT_LABELS[c["verdict"]], "name": c["name"], "text": c["verdict_text"]}
            for c in report["comparisons"]
        ],
        "sections": sections,
        "arms": [
            {
                "name": arm["name"],
                "role": arm["role"] or "",
                "description": arm["description"] or "",
                "overrides": [f"{key}: {json.dumps(value)}" for key, value in arm["overrides"].items()],
                "colour": _arm_colour(i),
            }
            for i, arm in enumerate(arms)
        ],
        "comparisons": comparison_view,
        "minimum_effect": _num(report["minimum_effect"]),
        "alpha": f"{report['alpha']:g}",
        "forest": figures.forest(),
        "metric_tables": _metric_tables(report) if evaluation is not None else [],
        "distributions": figures.distributions(),
        "curves": curves,
        "sweeps": sweeps,
        "runs": _run_rows(report),
        "environment": _environment_rows(report),
        "git": _git_rows(report),
        "diffs": report["git"]["diffs"],
        "notes": report["notes"],
        "config_json": json.dumps(report["config"], indent=2, ensure_ascii=False),
        "footer": f"rigorml {report['rigorml_version']} report ({report['format']}); config sha256 {report['config_sha256']}",
    }


# --- tables shared by Markdown and HTML -----------------------------------------------------------


def _comparison_rows(report: dict) -> dict:
    evaluation = report["evaluation"] or {}
    level = _percent(evaluation.get("confidence", 0.95))
    method = (evaluation.get("correction") or {}).get("method", "-")
    header = ["comparison", "metric", "n", "mean difference", f"{level} CI", "d_z", "test", "p", f"p ({method})", "verdict"]
    rows = []
    for c in report["comparisons"]:
        test = c.get("test") or {}
        applied = test.get("applied") or "-"
        if test.get("declared") and test.get("declared") != test.get("applied"):
            applied += f" (declared {test['declared']})"
        rows.append(
            {
                "verdict": c["verdict"],
                "cells": [
                    c["name"],
                    c["metric"],
                    str(c["n"]),
                    _signed(c.get("mean")),
                    _interval(c.get("ci")),
                    _num(c.get("d_z")),
                    applied,
                    _p(c.get("p_value")),
                    _p(c.get("p_adjusted")),
                    VERDICT_LABELS[c["verdict"]],
                ],
            }
        )
    return {"header": header, "rows": rows}


def _metric_tables(report: dict) -> list[dict]:
    evaluation = report["evaluation"]
    level = _percent(evaluation["confidence"])
    tables = []
    for metric in evaluation["metrics"]:
        rows = []
        for arm, stats in evaluation["per_arm"].items():
            s = stats.get(metric)
            if s is None:
                continue
            values = ", ".join(f"{seed}: {_num(value)}" for seed, value in zip(s["seeds"], s["values"]))
            rows.append([arm, str(s["n"]), _num(s["mean"]), _num(s["sd"]), _interval(s["ci"], signed=False), _num(s["median"]), _num(s["iqm"]), values])
        if rows:
            title = metric + (" (primary)" if metric == evaluation["primary"] else "")
            tables.append({"title": title, "header": ["arm", "n", "mean", "sd", f"{level} CI", "median", "IQM", "per seed (seed: value)"], "rows": rows})
    return tables


def _run_rows(report: dict) -> dict:
    primary = report["primary"]
    header = ["arm", "seed", "status", "epochs", "steps", "seconds", f"val/{primary}", f"test/{primary}"]
    rows = []
    for run in report["runs"]:
        status = run["status"] or "-"
        if run["this_configuration"] is False:
            status += " (another configuration)"
        rows.append(
            [
                run["arm"],
                str(run["seed"]),
                status,
                _text(run["epochs"]),
                _text(run["steps"]),
                "-" if _number(run["seconds"]) is None else f"{_number(run['seconds']):.1f}",
                _num(_number(run["metrics"].get(f"val/{primary}"))),
                _num(_number(run["metrics"].get(f"test/{primary}"))),
            ]
        )
    return {"header": header, "rows": rows}


def _environment_rows(report: dict) -> dict:
    environment = report["environment"]
    shared = [(key, _text(value)) for key, value in environment["shared"].items()]
    varying = [
        (key, "; ".join(f"{run}: {_text(value)}" for run, value in values.items()))
        for key, values in environment["varying"].items()
    ]
    return {"shared": shared, "varying": varying, "runs": len(environment["runs"])}


def _git_rows(report: dict) -> dict:
    git = report["git"]
    if not git["runs"]:
        summary = "No run recorded its git state."
    elif not git["commits"]:
        errors = sorted({r["error"] for r in git["runs"] if r["error"]})
        summary = "No git commit recorded" + (f" ({'; '.join(errors)})." if errors else ".")
    else:
        commits = ", ".join(git["commits"])
        state = "uncommitted changes in some runs" if git["dirty"] else "a clean tree"
        kept = sum(r["diff"] for r in git["runs"])
        summary = f"Commit {commits}, {state}; {kept} of {len(git['runs'])} run(s) kept a git.diff."
    header = ["run", "commit", "dirty", "git.diff", "untracked files", "error"]
    rows = [
        [r["run_dir"], r["commit"] or "-", _text(r["dirty"]), "yes" if r["diff"] else "no", _text(r["untracked_count"]), r["error"] or "-"]
        for r in git["runs"]
    ]
    return {"summary": summary, "header": header, "rows": rows}


def _sweep_views(report: dict, figures) -> list[dict]:
    views = []
    for sweep in report["sweeps"]:
        objective = sweep["objective"]
        counts = sweep["counts"]
        facts = [
            f"directory {sweep['dir']}",
            f"objective {objective.get('metric', '-')} ({objective.get('direction', '-')})",
            "trials: " + ", ".join(f"{n} {state}" for state, n in counts.items()) if counts else "trials: -",
        ]
        best = sweep["best"]
        if best:
            params = ", ".join(f"{key} = {json.dumps(value)}" for key, value in best["params"].items())
            facts.append(f"best: trial {best['trial']}, {objective.get('metric', 'value')} {_num(_number(best['value']))} ({params})")
        else:
            facts.append("best: no trial completed")
        facts += [f"trial {f['trial']} failed: {f['error']}" for f in sweep["failures"]]
        analysis = sweep.get("analysis")
        if analysis is None and sweep["importance_note"]:
            facts.append(sweep["importance_note"])
        for method in ((analysis or {}).get("importances") or {}).values():
            if not method.get("values") and method.get("note"):
                facts.append(f"{method['method']}: {method['note']}")
        facts += (analysis or {}).get("notes") or []
        names = sorted({name for trial in sweep["trials"] for name in trial["params"]})
        trials = {
            "header": ["trial", "state", "value", "last reported (epoch)", *names],
            "rows": [
                [
                    str(t["number"]),
                    t["state"],
                    _num(_number(t["value"])),
                    "-" if t["last_step"] is None else f"{_num(_number(t['last_intermediate']))} ({t['last_step']})",
                    *(_text(t["params"].get(name)) for name in names),
                ]
                for t in sweep["trials"]
            ],
        }
        view = {
            "title": sweep["study_name"] or sweep["dir"],
            "facts": facts,
            "trials": trials,
            "importances": _importance_table(sweep),
            "sensitivity": _sensitivity_table(sweep),
            "final": _final_view(sweep.get("final"), sweep["best"]),
        }
        if figures:
            view["figures"] = figures.sweep(sweep)
        views.append(view)
    return views


def _importance_table(sweep: dict) -> dict:
    """Both importances side by side (each method's shares sum to 1), the parameter with the larger
    of its two shares first."""
    analysis = sweep.get("analysis") or {}
    methods = analysis.get("importances") or {}
    fanova, ped = (methods.get("fanova") or {}), (methods.get("ped_anova") or {})
    if analysis:
        shares = {"fANOVA": fanova.get("values") or {}, "PED-ANOVA": ped.get("values") or {}}
    else:  # a report of a study analysed before PED-ANOVA existed: fANOVA alone
        shares = {"fANOVA": sweep["importances"] or {}}
    names = sorted({name for values in shares.values() for name in values},
                   key=lambda name: (-max(values.get(name, 0.0) for values in shares.values()), name))  # fmt: skip
    rows = [[name, *(_formatted(values.get(name), ".3f") for values in shares.values())] for name in names]
    caption = "Each method's importances sum to 1; completed trials only."
    if fanova:
        caption += (
            f" fANOVA: the share of the objective's variance each parameter explains on its own (random forest, seed "
            f"{(fanova.get('settings') or {}).get('seed')}, {fanova.get('trials')} trials)"
            + (f"; {fanova['note']}." if fanova.get("note") and fanova.get("values") else ".")
        )
    if ped:
        quantile = (ped.get("settings") or {}).get("target_quantile", 0.1)
        caption += (
            f" PED-ANOVA: how far each parameter's distribution among the top {quantile:.0%} of trials "
            f"({ped.get('top_trials')} of {ped.get('trials')}) differs from all of them"
            + (f"; {ped['note']}." if ped.get("note") and ped.get("values") else ".")
        )
    return {"header": ["parameter", *shares], "rows": rows, "caption": caption, "names": names, "shares": shares}


def _sensitivity_table(sweep: dict) -> dict:
    """One row per searched parameter: the rank statistic with the objective, its p-value, which
    values go with a better objective, and why nothing was computed where nothing was."""
    analysis = sweep.get("analysis") or {}
    parameters = (analysis.get("sensitivity") or {}).get("parameters") or {}
    rows = []
    for name, s in parameters.items():
        if s["test"] == "spearman":
            test, statistic = "Spearman", "-" if s.get("rho") is None else f"rho {_signed(s['rho'])}"
            better = {"higher": "higher values", "lower": "lower values"}.get(s.get("better_with"), "-")
        else:
            test = "Kruskal-Wallis"
            statistic = "-" if s.get("h") is None else f"H {_formatted(s['h'], '.3f')}, ε² {_formatted(s['epsilon_squared'], '.3f')}"
            better = "-" if s.get("better_with") is None else f"{s['better_with']} (best median)"
        rows.append([name, test, str(s["n"]), statistic, _p(s.get("p_value")), better, s.get("note") or ""])
    objective = analysis.get("objective") or sweep["objective"]
    caption = (
        f"How {objective.get('metric', 'the objective')} moves with each parameter over the completed trials: Spearman's "
        "rank correlation for numbers (categoricals of numbers ordered by value), Kruskal-Wallis across the values "
        "of other categoricals (ε² = H / (n - 1)). A direction with a large p-value is noise."
    )
    return {"header": ["parameter", "test", "trials", "statistic", "p", "better with", "note"], "rows": rows, "caption": caption}


def _final_view(final: dict | None, best_now: dict | None) -> dict | None:
    """The final validation (final.json): the best configuration over fresh seeds on the held-out
    split; a note when the sweep's best trial (``best_now``, best.json) has changed since."""
    if not final:
        return None
    notes = list(final.get("notes") or [])
    if best_now and best_now.get("trial") != final["best"]["trial"]:
        notes.insert(0, f"This validates trial {final['best']['trial']}, but the sweep's best is now trial "
                        f"{best_now.get('trial')}: run the final validation again.")  # fmt: skip
    level = _percent(final["confidence"])
    metric = final["objective"]["metric"]
    summary = final.get("summary") or {}
    best = final["best"]
    params = ", ".join(f"{key} = {json.dumps(value)}" for key, value in best["params"].items())
    headline = (
        f"{metric} {_num(summary.get('mean'))} (sd {_num(summary.get('sd'))}, {level} CI "
        f"{_interval(summary.get('ci'), signed=False)}) over {summary.get('n', 0)} seeds"
        if summary else f"{metric}: no run reported it"
    )
    facts = [
        f"best trial {best['trial']} ({params}): {final['objective']['tuned_metric']} {_num(_number(best['value']))} on the "
        f"{final['tuning_split']} split at seed {best.get('seed')}, the split it was chosen on",
        f"retrained over {len(final['seeds'])} fresh seeds ({', '.join(map(str, final['seeds']))}): {final['seed_rule']}",
        f"evaluated on the {final['split']} split only; mean, sample sd and t interval over seeds",
    ]
    metrics = {
        "header": ["metric", "n", "mean", "sd", f"{level} CI", "median", "IQM", "per seed (seed: value)"],
        "rows": [
            [name + (" (objective)" if name == metric else ""), str(m["n"]), _num(m["mean"]), _num(m["sd"]),
             _interval(m["ci"], signed=False), _num(m["median"]), _num(m["iqm"]),
             ", ".join(f"{r['seed']}: {_num(r['metrics'][name])}" for r in final["runs"] if name in r["metrics"])]  # fmt: skip
            for name, m in final["metrics"].items()
        ],
    }
    runs = {
        "header": ["seed", "run", "status", "epochs", metric],
        "rows": [
            [str(r["seed"]), r["run_dir"], r["status"] or "-", _text(r["epochs"]), _num(_number(r["metrics"].get(metric)))]
            for r in final["runs"]
        ],
    }
    return {"headline": headline, "facts": facts, "metrics": metrics, "runs": runs, "notes": notes}


# --- plots ----------------------------------------------------------------------------------------


class _Figures:
    """The report's plots, each an SVG in a data URI with a title, a caption and alternative text.

    matplotlib's object API on a bare ``Figure`` (no pyplot state); SVG with glyphs as paths (no
    font needed to view it), ids salted with a fixed string and no date: the same data gives the
    same bytes. Labels are never parsed as mathtext (a ``$`` in a description stays a ``$``).
    """

    RC = {
        "svg.hashsalt": "rigorml-report",
        "svg.fonttype": "path",
        "text.parse_math": False,
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.color": "#e5e7eb",
        "grid.linewidth": 0.6,
        "axes.axisbelow": True,
        "axes.titlesize": 10,
        "axes.titleweight": "bold",
        "legend.frameon": False,
    }

    def __init__(self, report: dict):
        self.report = report
        self.arm_index = {arm["name"]: i for i, arm in enumerate(report["arms"])}

    def _figure(self, width: float, height: float):
        from matplotlib.figure import Figure

        return Figure(figsize=(width, height), layout="constrained")

    def _render(self, draw, title: str, caption: str, alt: str) -> dict:
        import matplotlib

        with matplotlib.rc_context(self.RC):
            figure = draw()
            buffer = io.BytesIO()
            figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": "rigorml"})
        uri = "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
        return {"title": title, "caption": caption, "alt": alt, "uri": uri}

    # comparisons

    def forest(self) -> dict | None:
        rows = [c for c in self.report["comparisons"] if _number(c.get("mean")) is not None]
        if not rows:
            return None
        delta = self.report["minimum_effect"]
        evaluation = self.report["evaluation"] or {}
        level = _percent(evaluation.get("confidence", 0.95))
        method = (evaluation.get("correction") or {}).get("method", "")

        def draw():
            figure = self._figure(7.5, 1.3 + 0.55 * len(rows))
            ax = figure.add_subplot()
            ax.grid(axis="y", visible=False)
            for i, c in enumerate(rows):
                y = len(rows) - 1 - i
                mean, ci = _number(c["mean"]), c.get("ci")
                colour = VERDICTS[c["verdict"]]
                if ci:
                    ax.plot([ci[0], ci[1]], [y, y], color=colour, linewidth=2, solid_capstyle="butt")
                    ax.plot([ci[0], ci[0]], [y - 0.12, y + 0.12], color=colour, linewidth=1.5)
                    ax.plot([ci[1], ci[1]], [y - 0.12, y + 0.12], color=colour, linewidth=1.5)
                ax.plot([mean], [y], marker="D", markersize=7, color=colour, linestyle="none")
                p = c.get("p_adjusted")
                ax.annotate(
                    f"p ({method}) = {_p(p)}" if p is not None else "no p-value",
                    xy=(1.0, y), xycoords=("axes fraction", "data"), xytext=(8, 0), textcoords="offset points",
                    va="center", ha="left", fontsize=8.5, color=colour,
                )  # fmt: skip
            ax.axvline(0.0, color="#24292f", linewidth=1, label="no difference")
            if delta > 0:
                ax.axvspan(-delta, delta, color="#0969da", alpha=0.08, linewidth=0)
                for x in (-delta, delta):
                    ax.axvline(x, color="#0969da", linewidth=1, linestyle="--")
                ax.plot([], [], color="#0969da", linestyle="--", label=f"minimum effect of interest (±{delta:g})")
            ax.set_yticks(range(len(rows)), [f"{c['name']}\n{c['metric']}" for c in reversed(rows)])
            ax.set_ylim(-0.7, len(rows) - 0.3)
            ax.set_xlabel(f"mean difference, treatment - control (diamond), {level} CI (bar)")
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28 if len(rows) < 3 else -0.12), ncols=2, fontsize=8)
            return figure

        alt = "; ".join(
            f"{c['name']}: mean difference {_signed(c['mean'])}, CI {_interval(c.get('ci'))}, corrected p {_p(c.get('p_adjusted'))}"
            for c in rows
        )
        caption = (
            f"Each comparison's mean paired difference over seeds with its {level} confidence interval; the "
            f"solid line is no difference"
            + (f", the dashed lines the minimum effect of interest (±{_num(delta)})." if delta > 0 else ".")
            + " Colours follow the verdicts."
        )
        return self._render(draw, "Effects of every comparison", caption, "Forest plot. " + alt)

    # metrics over seeds

    def distributions(self) -> list[dict]:
        evaluation = self.report["evaluation"]
        if evaluation is None:
            return []
        out = []
        for metric in evaluation["metrics"]:
            arms = [(arm, stats[metric]) for arm, stats in evaluation["per_arm"].items() if metric in stats]
            if arms:
                out.append(self._distribution(metric, arms, evaluation))
        return out

    def _distribution(self, metric: str, arms: list, evaluation: dict) -> dict:
        level = _percent(evaluation["confidence"])
        direction = next((c.get("direction") for c in self.report["comparisons"] if c["metric"] == metric and c.get("direction")), None)

        def draw():
            figure = self._figure(max(3.6, 1.5 + 1.25 * len(arms)), 3.4)
            ax = figure.add_subplot()
            ax.grid(axis="x", visible=False)
            values = [[_number(v) for v in stats["values"] if _number(v) is not None] for _, stats in arms]
            ax.boxplot(values, positions=range(len(arms)), widths=0.45, showfliers=False,
                       medianprops={"color": "#57606a"}, boxprops={"color": "#8c959f"},
                       whiskerprops={"color": "#8c959f"}, capprops={"color": "#8c959f"})  # fmt: skip
            by_seed: dict = {}
            for x, (arm, stats) in enumerate(arms):
                colour = self._colour(arm)
                n = len(stats["values"])
                offsets = [(-0.12 + 0.24 * k / (n - 1)) if n > 1 else 0.0 for k in range(n)]  # even, not random
                for offset, seed, value in zip(offsets, stats["seeds"], stats["values"]):
                    if _number(value) is None:
                        continue
                    ax.plot([x + offset], [value], marker="o", markersize=5, color=colour, alpha=0.85, linestyle="none")
                    by_seed.setdefault(seed, []).append((x + offset, value))
                mean, ci = _number(stats["mean"]), stats.get("ci")
                if mean is not None:
                    if ci:
                        ax.plot([x + 0.32, x + 0.32], ci, color="#24292f", linewidth=1.5)
                    ax.plot([x + 0.32], [mean], marker="_", markersize=14, markeredgewidth=2, color="#24292f")
            for points in by_seed.values():  # the same seed in every arm: the pairing comparisons use
                if len(points) > 1:
                    xs, ys = zip(*points)
                    ax.plot(xs, ys, color="#8c959f", linewidth=0.6, alpha=0.6, zorder=0)
            ax.set_xticks(range(len(arms)), [arm for arm, _ in arms])
            ax.set_xlim(-0.6, len(arms) - 0.4)
            ax.set_ylabel(metric + (f" ({direction})" if direction else ""))
            ax.set_title(metric)
            return figure

        alt = "; ".join(f"{arm}: mean {_num(_number(s['mean']))} over {s['n']} seeds" for arm, s in arms)
        caption = (
            f"{metric} on the {evaluation['split']} split: one dot per replicate seed (grey lines join a seed "
            f"across arms), a box over seeds, and the mean with its {level} confidence interval in black."
        )
        return self._render(draw, f"{metric} over seeds", caption, f"Strip and box plot of {metric} per arm. " + alt)

    # learning curves

    def learning_curves(self) -> list[dict]:
        names: dict[str, str] = {}
        for run in self.report["runs"]:
            for name, curve in run["curves"].items():
                names.setdefault(name, curve["axis"])
        order = sorted(names, key=lambda n: (names[n] != "step", not n.startswith("train/"), n))
        return [self._curve(name, names[name]) for name in order]

    def _curve(self, name: str, axis: str) -> dict:
        runs = [r for r in self.report["runs"] if name in r["curves"] and r["curves"][name]["axis"] == axis]
        seeds = self.report["replicate_seeds"]
        styles = ("-", "--", ":", "-.")

        def draw():
            figure = self._figure(7.0, 3.3)
            ax = figure.add_subplot()
            labelled = set()
            for run in runs:
                curve = run["curves"][name]
                points = [(x, _number(y)) for x, y in zip(curve["x"], curve["y"]) if _number(y) is not None]
                if not points:
                    continue
                xs, ys = zip(*points)
                style = styles[seeds.index(run["seed"]) % len(styles)] if run["seed"] in seeds else "-"
                label = run["arm"] if run["arm"] not in labelled else None
                labelled.add(run["arm"])
                ax.plot(xs, ys, linestyle=style, linewidth=1.3, color=self._colour(run["arm"]), alpha=0.9,
                        marker="o" if len(xs) <= 12 else None, markersize=3, label=label)  # fmt: skip
            ax.set_xlabel("optimiser step" if axis == "step" else "epoch")
            ax.set_ylabel(name)
            ax.set_title(name)
            if labelled:
                ax.legend(title="arm (line style: seed)", fontsize=8, title_fontsize=8, loc="best")
            return figure

        per = "optimiser step" if axis == "step" else "epoch"
        caption = f"{name} per {per}: one line per run, coloured by arm; the line style tells the replicate seeds apart."
        alt = f"Learning curves of {name} per {per} for {len(runs)} runs."
        return self._render(draw, f"{name} per {per}", caption, alt)

    # sweeps

    def sweep(self, sweep: dict) -> list[dict]:
        figures = []
        trials = [t for t in sweep["trials"] if t["state"] in ("complete", "pruned")]
        if trials:
            figures.append(self._sweep_history(sweep, trials))
        table = _importance_table(sweep)
        if table["rows"]:
            figures.append(self._importances(sweep, table))
        complete = [t for t in trials if t["state"] == "complete" and _number(t["value"]) is not None]
        names = sorted({name for t in complete for name in t["params"]})
        if len(complete) >= 2 and names:
            figures.append(self._parallel(sweep, complete, names))
        if complete and names:
            figures.append(self._slices(sweep, complete, names))
        return figures

    def _sweep_history(self, sweep: dict, trials: list[dict]) -> dict:
        objective = sweep["objective"]
        maximise = objective.get("direction", "maximize") == "maximize"
        metric = objective.get("metric", "objective")

        def draw():
            from matplotlib.ticker import MaxNLocator

            figure = self._figure(7.0, 3.3)
            ax = figure.add_subplot()
            complete = [(t["number"], _number(t["value"])) for t in trials if t["state"] == "complete" and _number(t["value"]) is not None]
            pruned = [(t["number"], _number(t["last_intermediate"])) for t in trials if t["state"] == "pruned" and _number(t["last_intermediate"]) is not None]
            if pruned:
                xs, ys = zip(*pruned)
                ax.plot(xs, ys, marker="o", markersize=5, linestyle="none", markerfacecolor="none", color="#8c959f", label="pruned (last reported value)")
            if complete:
                xs, ys = zip(*complete)
                ax.plot(xs, ys, marker="o", markersize=5, linestyle="none", color="#1f77b4", label="complete")
                best, running = [], None
                for y in ys:
                    running = y if running is None else (max(running, y) if maximise else min(running, y))
                    best.append(running)
                ax.step(xs, best, where="post", color="#cf222e", linewidth=1.3, label="best so far")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlabel("trial")
            ax.set_ylabel(metric)
            ax.set_title(f"Optimisation history ({'maximise' if maximise else 'minimise'} {metric})")
            ax.legend(fontsize=8, loc="best")
            return figure

        caption = f"{metric} of every trial in the order they ran, with the best value so far; pruned trials at the last value they reported."
        alt = f"Optimisation history of {len(trials)} trials of {metric}."
        return self._render(draw, "Optimisation history", caption, alt)

    def _importances(self, sweep: dict, table: dict) -> dict:
        methods = list(table["shares"])
        names = list(reversed(table["names"]))  # the largest at the top
        shares = {method: [table["shares"][method].get(name, 0.0) for name in names] for method in methods}
        colours = ("#1f77b4", "#ff7f0e")

        def draw():
            figure = self._figure(6.5, 1.2 + 0.45 * len(names) * max(1, len(methods)) ** 0.5)
            ax = figure.add_subplot()
            ax.grid(axis="y", visible=False)
            height = 0.8 / len(methods)
            for k, method in enumerate(methods):
                offsets = [i + (k - (len(methods) - 1) / 2) * height for i in range(len(names))]
                ax.barh(offsets, shares[method], height=height * 0.9, color=colours[k % len(colours)], label=method)
            ax.set_yticks(range(len(names)), names)
            ax.set_xlabel("importance (each method's shares sum to 1)")
            ax.set_title("Parameter importances")
            if len(methods) > 1:
                ax.legend(fontsize=8, loc="lower right")
            return figure

        alt = "Parameter importances. " + "; ".join(
            f"{method}: " + ", ".join(f"{row[0]} {row[1 + k]}" for row in table["rows"]) for k, method in enumerate(methods)
        )
        return self._render(draw, "Parameter importances", table["caption"], alt)

    def _parallel(self, sweep: dict, complete: list[dict], names: list[str]) -> dict:
        objective = sweep["objective"]
        metric = objective.get("metric", "objective")
        maximise = objective.get("direction", "maximize") == "maximize"
        parameters = sweep["parameters"]
        values = [_number(t["value"]) for t in complete]
        scales = [_parallel_axis(parameters.get(name) or {}, [t["params"].get(name) for t in complete]) for name in names]
        low, high = min(values), max(values)

        def draw():
            from matplotlib import colormaps
            from matplotlib.cm import ScalarMappable
            from matplotlib.colors import Normalize
            from matplotlib.ticker import FuncFormatter

            figure = self._figure(max(6.0, 1.9 * (len(names) + 1) + 1.2), 3.8)
            ax = figure.add_subplot()
            ax.grid(visible=False)
            for side in ("left", "bottom"):
                ax.spines[side].set_visible(False)
            cmap = colormaps["viridis" if maximise else "viridis_r"]  # better is always the light end
            norm = Normalize(vmin=low, vmax=high if high > low else low + 1.0)
            span = (high - low) or 1.0
            order = sorted(range(len(complete)), key=lambda i: values[i] if maximise else -values[i])  # best drawn last
            for i in order:
                trial = complete[i]
                ys = [scale(trial["params"].get(name)) for name, (scale, _) in zip(names, scales)]
                ys.append((values[i] - low) / span if high > low else 0.5)
                points = [(x, y) for x, y in enumerate(ys) if y is not None]  # a conditional not sampled: skipped
                ax.plot([x for x, _ in points], [y for _, y in points], color=cmap(norm(values[i])),
                        linewidth=1.3, alpha=0.85, marker="o", markersize=2.5)  # fmt: skip
            ticks = [labels for _, labels in scales] + [[(0.0, f"{low:.4g}"), (1.0, f"{high:.4g}")] if high > low else [(0.5, f"{low:.4g}")]]
            for x, labels in enumerate(ticks):
                ax.axvline(x, color="#57606a", linewidth=0.8, zorder=0)
                for y, label in labels:
                    ax.annotate(label, xy=(x, y), xytext=(4, 0), textcoords="offset points", fontsize=7.5, va="center", ha="left", color="#24292f")
            ax.set_xticks(range(len(names) + 1), [*names, metric], fontsize=8)
            ax.set_xlim(-0.15, len(names) + 0.6)
            ax.set_ylim(-0.06, 1.06)
            ax.set_yticks([])
            bar = figure.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, fraction=0.04, pad=0.01)
            bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.3g}"))
            bar.set_label(metric)
            ax.set_title(f"Parallel coordinates ({'maximise' if maximise else 'minimise'} {metric})")
            return figure

        caption = (
            f"Every completed trial as a line through its parameter values (each axis spans the parameter's search "
            f"range, log-scaled for log-uniform ones; categoricals evenly spaced; a conditional parameter a trial did "
            f"not sample is skipped) to its {metric}, coloured by {metric}: the lighter the line, the better the trial."
        )
        alt = f"Parallel coordinates of {len(complete)} completed trials over {', '.join(names)} and {metric}."
        return self._render(draw, "Parallel coordinates", caption, alt)

    def _slices(self, sweep: dict, complete: list[dict], names: list[str]) -> dict:
        metric = sweep["objective"].get("metric", "objective")
        parameters = sweep["parameters"]

        def draw():
            figure = self._figure(min(3.0 * len(names), 9.0) + 0.5, 3.0)
            axes = figure.subplots(1, len(names), sharey=True, squeeze=False)[0]
            for ax, name in zip(axes, names):
                points = [(t["params"][name], _number(t["value"])) for t in complete if name in t["params"]]
                numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x, _ in points)
                if numeric:
                    xs = [x for x, _ in points]
                else:
                    categories = sorted({json.dumps(x) for x, _ in points})
                    xs = [categories.index(json.dumps(x)) for x, _ in points]
                    ax.set_xticks(range(len(categories)), [json.loads(c) if isinstance(json.loads(c), str) else c for c in categories])
                ax.plot(xs, [y for _, y in points], marker="o", markersize=5, linestyle="none", color="#1f77b4", alpha=0.8)
                distribution = str((parameters.get(name) or {}).get("distribution") or "")
                if numeric and distribution in ("log_uniform", "int_log") and min(xs) > 0:
                    _log_x_axis(ax)
                ax.set_xlabel(name)
            axes[0].set_ylabel(metric)
            figure.suptitle("Objective against each parameter (completed trials)", fontsize=10, fontweight="bold")
            return figure

        alt = f"Scatter plots of {metric} against {', '.join(names)} over {len(complete)} completed trials."
        return self._render(draw, "Objective against each parameter", f"{metric} of every completed trial against each sampled parameter.", alt)

    def _colour(self, arm: str) -> str:
        return _arm_colour(self.arm_index.get(arm, len(self.arm_index)))


def _parallel_axis(parameter: dict, sampled: list):
    """How a parameter's values sit on a parallel-coordinates axis: ``(scale, labels)``, where
    ``scale(value)`` is in [0, 1] (None for a trial that did not sample it) and ``labels`` are
    ``(position, text)`` pairs. Numbers span the search range (``low``/``high``; the sampled range
    without one), on a log scale for log distributions; categoricals are evenly spaced, in order of
    value when they are all numbers, else in the spec's order."""
    present = [value for value in sampled if value is not None]
    distribution = parameter.get("distribution")
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present)
    if distribution == "categorical" or not numeric:
        from .sweep_analysis import choice_label

        values = list(parameter.get("values") or [])
        if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            values = sorted(values)
        choices = [choice_label(v) for v in values]
        choices += sorted({choice_label(v) for v in present} - set(choices))
        spread = max(1, len(choices) - 1)
        position = {label: (i / spread if len(choices) > 1 else 0.5) for i, label in enumerate(choices)}
        return (lambda value: None if value is None else position.get(choice_label(value))), [(position[c], c) for c in choices]
    log = distribution in ("log_uniform", "int_log")
    low = parameter.get("low", min(present) if present else 0.0)
    high = parameter.get("high", max(present) if present else 1.0)
    if log and (low <= 0 or min(present, default=1.0) <= 0):
        log = False
    forward = math.log10 if log else float
    lo, hi = forward(low), forward(high)

    def scale(value):
        if value is None:
            return None
        return (forward(value) - lo) / (hi - lo) if hi > lo else 0.5

    labels = [(0.0, f"{low:.3g}"), (1.0, f"{high:.3g}")] if hi > lo else [(0.5, f"{low:.3g}")]
    return scale, labels


# --- small helpers --------------------------------------------------------------------------------


def _log_x_axis(ax) -> None:
    """A logarithmic x-axis labelled in plain numbers: the default labels are mathtext, which the
    report turns off so that a ``$`` in a name stays a ``$``."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _arm_colour(index: int) -> str:
    return _ARM_COLOURS[index % len(_ARM_COLOURS)]


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _flatten(mapping: dict, prefix: str = "") -> dict[str, Any]:
    flat = {}
    for key, value in mapping.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _number(value: Any) -> float | None:
    """A number from report data (non-finite ones arrive as "NaN"/"Infinity"); None when there is none."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    return None


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_text(item) for item in value) or "-"
    return str(value)


def _formatted(value: Any, spec: str) -> str:
    """A number in ``spec``; "-" for None; anything else (a "NaN" the JSON holds) as it is."""
    number = _number(value)
    if number is None:
        return "-" if value is None else str(value)
    return format(number, spec)


def _num(value: Any) -> str:
    return _formatted(value, ".4f")


def _signed(value: Any) -> str:
    return _formatted(value, "+.4f")


def _p(value: Any) -> str:
    return _formatted(value, ".3g")


def _interval(ci: list | None, signed: bool = True) -> str:
    if not ci or len(ci) != 2:
        return "-"
    spec = "+.4f" if signed else ".4f"
    return f"[{_formatted(ci[0], spec)}, {_formatted(ci[1], spec)}]"


def _percent(level: float) -> str:
    return f"{level * 100:g}%"


def _md(value: Any) -> str:
    """Text for Markdown: one line, ``&``/``<``/``>`` as entities, pipes escaped."""
    line = " ".join(str(value).split())
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def _rigorml_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rigorml")
    except PackageNotFoundError:  # a source tree without an install
        return "0+unknown"
