"""The final validation of a sweep: the best configuration, over fresh seeds, on the held-out split.

The best trial of a search is the maximum of many noisy scores on the validation split, all at one
seed: part of its lead is luck (the winner's curse), and the validation split has been used to
choose it. ``run_final_validation(resolved, sweep_dir)`` measures what the chosen configuration is
worth: it trains the best trial's parameters (``best.json``) over ``sweep.final_validation.seeds``
fresh replicate seeds and evaluates each run on ``sweep.final_validation.split`` (the test split),
then reports the mean, the sample sd and a t confidence interval over the seeds. What it leaves::

    <sweep_dir>/final/seed-<s>/   one run directory per seed (train_run's layout; predictions of
                                  the final split only)
    <sweep_dir>/final.json        the seeds, the split, every run's metrics, and per metric the
                                  summary over seeds (runtime.stats.aggregate.summarise)

**Seeds.** The trials all trained at the first replicate seed. The final seeds are the
``final_validation.seeds`` integers after the largest of ``seeds.replicates``: with replicates
0..4 and 5 final seeds, 5..9. They are therefore never the trials' seed, nor a seed the
experiment's arms ran with, and they follow from the spec alone; each one's data-order, weight and
dropout seeds are derived from the spec's ``seeds`` bases exactly as any replicate's are
(``SeedConfig.for_replicate``). The data split does not depend on the replicate: every seed is
scored on the same test examples.

**Split.** Only the held-out test split is accepted: the trials were scored (and pruned) on ``val``,
and ``train`` is what the model fitted. Training still validates on ``val`` every epoch, as the
trials did (early stopping, the plateau scheduler), so the configuration is the one that was tuned.

**Resume.** A seed whose run finished is not trained again (``train_run`` skips it), one that was
interrupted resumes from its checkpoint. Runs of another configuration (a sweep resumed since, with a
new best) are refused rather than mixed in.

The CLI's ``rigorml sweep`` calls :func:`run_final_validation` after the search.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .config import BASE_ARM, spec_hash
from .tracking import write_json_atomic

#: The final validation's record in the sweep directory.
FINAL_FILE = "final.json"

#: Where the final runs go, inside the sweep directory.
FINAL_DIR = "final"

#: What ``final.json`` declares itself to be (bumped when its shape changes incompatibly).
FINAL_FORMAT = "rigorml-final-validation/1"

#: The split the trials are scored on (``sweep.train_trial``): never the final one.
TUNING_SPLIT = "val"

#: How the final seeds are derived, as final.json states it.
SEED_RULE = (
    "the {count} integers after the largest replicate seed ({largest}); each derives its data, model and "
    "train seeds from the spec's seed bases (SeedConfig.for_replicate)"
)


class FinalValidationError(ValueError):
    """The final validation cannot run, or one of its runs failed; the message says what to do."""


def final_seeds(resolved: dict) -> list[int]:
    """The fresh replicate seeds of the final validation: the ``sweep.final_validation.seeds``
    integers after the largest of ``seeds.replicates`` (none is the trials' seed, the first
    replicate, nor any seed the arms ran with)."""
    count = resolved["sweep"]["final_validation"]["seeds"]
    start = max(resolved["seeds"]["replicates"]) + 1
    return list(range(start, start + count))


def final_run_dir(sweep_dir: str | Path, seed: int) -> Path:
    """Where the final validation's run at ``seed`` trains: ``<sweep_dir>/final/seed-<seed>``."""
    return Path(sweep_dir) / FINAL_DIR / f"seed-{seed}"


def run_final_validation(resolved: dict, sweep_dir: str | Path, *, base_dir: str | Path = ".") -> dict:
    """Train the sweep's best configuration over fresh seeds and report it on the held-out split.

    Inputs: ``resolved``, the resolved spec the sweep ran (its ``sweep.final_validation`` says how
    many seeds and which split); ``sweep_dir``, the sweep's directory (``best.json`` is read from
    it, the runs and ``final.json`` are written into it); ``base_dir``, where the spec's relative
    data paths and modules are found.
    Output: what ``final.json`` holds: ``format``, ``study_name``, ``search_sha256``,
    ``config_sha256`` (of the configuration trained), ``best`` (the trial, its parameters, its
    validation ``value`` at the tuning ``seed``), ``split``, ``seeds``, ``seed_rule``,
    ``confidence``, ``objective`` (``metric`` on the final split, ``tuned_metric``, ``direction``),
    ``runs`` (per seed: ``seed``, ``run_dir`` relative to ``sweep_dir``, ``status``, ``epochs``,
    ``steps``, ``metrics``, ``trained`` (false when an earlier call had finished it)), ``metrics``
    (per metric on the split: ``n``, ``mean``, ``sd``, ``ci``, ``median``, ``iqm``, ``values``),
    ``summary`` (the objective's record) and ``notes``. With ``final_validation.enabled: false``
    nothing is trained or written and the dict is ``{"format", "enabled": False, "note"}``.
    Errors: :class:`FinalValidationError` for a spec without a sweep, a split other than test (the
    tuning split ``val`` above all), a data split without test examples, a missing ``best.json`` or
    one without a completed trial, a ``best.json`` of a different search, final runs of another
    configuration, and a run that fails (the seeds finished before it are kept: run again to
    resume).
    """
    from .stats.aggregate import summarise
    from .sweep import BEST_FILE, search_fingerprint, trial_config
    from .train import train_run

    sweep = resolved.get("sweep")
    if not sweep:
        raise FinalValidationError("the spec has no `sweep` section: there is no best configuration to validate")
    section = sweep["final_validation"]
    if not section["enabled"]:
        return {
            "format": FINAL_FORMAT,
            "enabled": False,
            "note": "sweep.final_validation.enabled is false: the best trial's single-seed validation score is all there is",
        }
    split = _checked_split(resolved, section["split"])
    sweep_dir = Path(sweep_dir)
    best_file = _best_file(sweep_dir / BEST_FILE, search_fingerprint(resolved))
    best = best_file["best"]
    config = trial_config(resolved, best["params"])
    digest = spec_hash(config)
    seeds = final_seeds(resolved)
    _refuse_other_configurations(sweep_dir, seeds, digest, best["trial"])

    runs = []
    for seed in seeds:
        run_dir = final_run_dir(sweep_dir, seed)
        try:
            result = train_run(
                config,
                BASE_ARM,
                seed,
                run_dir,
                base_dir=base_dir,
                tracker_factory=_final_tracker(best_file["study_name"], best, seed),
                splits=(split,),  # the held-out split only: its predictions, its metrics
            )
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            raise FinalValidationError(
                f"final validation run at seed {seed} ({run_dir}) failed: {type(exc).__name__}: {exc} "
                "(the seeds finished before it are kept: run again to resume)"
            ) from exc
        record = _read_json(run_dir / "result.json") or {}
        runs.append(
            {
                "seed": seed,
                "run_dir": run_dir.relative_to(sweep_dir).as_posix(),
                "status": record.get("status", result.status),
                "epochs": record.get("epochs", result.epochs),
                "steps": record.get("steps", result.steps),
                "metrics": {k: v for k, v in (record.get("metrics") or result.metrics).items() if k.startswith(f"{split}/")},
                "trained": result.status != "skipped",
            }
        )

    confidence = float((resolved.get("evaluation") or {}).get("confidence", 0.95))
    names = sorted({name for run in runs for name in run["metrics"]})
    metrics = {}
    for name in names:
        values = [run["metrics"][name] for run in runs if name in run["metrics"]]
        metrics[name] = {**summarise(values, confidence).as_dict(), "values": values}
    tuned_metric = sweep["objective"]["metric"]
    metric, notes = _final_metric(tuned_metric, split, resolved["metrics"]["primary"], metrics)
    if len(seeds) < 2:
        notes.append("one seed: no spread and no interval (validate the final configuration with 5+ seeds, HPO009)")
    final = {
        "format": FINAL_FORMAT,
        "enabled": True,
        "study_name": best_file["study_name"],
        "search_sha256": best_file["search_sha256"],
        "config_sha256": digest,
        "best": {"trial": best["trial"], "params": best["params"], "value": best["value"], "seed": best_file.get("seed")},
        "split": split,
        "tuning_split": TUNING_SPLIT,
        "seeds": seeds,
        "seed_rule": SEED_RULE.format(count=len(seeds), largest=max(resolved["seeds"]["replicates"])),
        "confidence": confidence,
        "objective": {"metric": metric, "tuned_metric": tuned_metric, "direction": sweep["objective"]["direction"]},
        "runs": runs,
        "metrics": metrics,
        "summary": {"metric": metric, **metrics[metric]} if metric in metrics else None,
        "notes": notes,
    }
    write_json_atomic(sweep_dir / FINAL_FILE, final)
    return final


def _checked_split(resolved: dict, split: str) -> str:
    """The final split, refused unless it is the held-out test split with examples in it."""
    if split == TUNING_SPLIT:
        raise FinalValidationError(
            "sweep.final_validation.split is `val`, the split every trial was scored and chosen on: its score "
            "of the best trial is biased upwards. Set `split: test` (HPO010)"
        )
    if split != "test":
        raise FinalValidationError(
            f"sweep.final_validation.split is `{split}`, which the model trains on: set `split: test` (HPO010)"
        )
    data = resolved["data"]
    if data.get("split_column") is None and not float((data.get("splits") or {}).get("test", 0.0)) > 0:
        raise FinalValidationError(
            "data.splits.test is 0: there is no held-out split to validate on. Give the test split a share "
            "(e.g. `data.splits: {train: 0.7, val: 0.15, test: 0.15}`)"
        )
    return split


def _best_file(path: Path, fingerprint: str) -> dict:
    """best.json, checked: it exists, names a completed trial and comes from this search."""
    if not path.is_file():
        raise FinalValidationError(f"{path} does not exist: run the sweep first (it writes best.json)")
    try:
        best_file = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FinalValidationError(f"{path} cannot be read ({exc}): run the sweep again to rewrite it") from None
    if not isinstance(best_file, dict) or not best_file.get("best"):
        raise FinalValidationError(f"{path} names no best trial: no trial completed, so there is nothing to validate")
    if best_file.get("search_sha256") != fingerprint:
        raise FinalValidationError(
            f"{path} was written by a different search (sha256 {str(best_file.get('search_sha256'))[:12]}..., this "
            f"spec's {fingerprint[:12]}...): validate with the spec the sweep ran, or run this sweep first"
        )
    return best_file


def _refuse_other_configurations(sweep_dir: Path, seeds: list[int], digest: str, trial: int) -> None:
    """Refuse final runs of another configuration (the best trial changed since they ran)."""
    stale = []
    for seed in seeds:
        record = _read_json(final_run_dir(sweep_dir, seed) / "result.json")
        if isinstance(record, dict) and record.get("config_sha256") not in (None, digest):
            stale.append(seed)
    if stale:
        raise FinalValidationError(
            f"{sweep_dir / FINAL_DIR} holds runs (seeds {', '.join(map(str, stale))}) of another configuration than "
            f"the best trial, {trial}: the sweep found a new best since. Delete {sweep_dir / FINAL_DIR} and "
            f"{sweep_dir / FINAL_FILE} to validate it"
        )


def _final_metric(tuned_metric: str, split: str, primary: str, metrics: dict) -> tuple[str, list[str]]:
    """The objective's metric on the final split (``val/f1_macro`` -> ``test/f1_macro``), or the
    primary metric there when the objective is not computed on it."""
    name = f"{split}/{tuned_metric.split('/', 1)[-1]}"
    if name in metrics:
        return name, []
    fallback = f"{split}/{primary}"
    return fallback, [f"the objective {tuned_metric} has no {split} counterpart: the primary metric {fallback} is summarised"]


def _final_tracker(study_name: str, best: dict, seed: int):
    """A ``tracker_factory`` for train_run: named ``final`` in place of the variant, in the spec's
    group, tagged with the study and the best trial, with its parameters as params."""

    def open_final_tracker(config, resolved, run_dir, arm, replicate, resume_after=None):
        from .tracking import open_tracker

        tracking = config["tracking"]
        name = tracking["run_name"].format(experiment=config["experiment"]["name"], variant="final", seed=seed, trial="")
        tracker = open_tracker(tracking, run_dir, name, tracking["group"], resolved, resume_after=resume_after)
        try:
            tracker.set_tags({"sweep.study": study_name, "sweep.final_validation": "true", "sweep.best_trial": best["trial"]})
            tracker.log_params(best["params"])
        except BaseException:
            tracker.close("failed")
            raise
        return tracker

    return open_final_tracker


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
