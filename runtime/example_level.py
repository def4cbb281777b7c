"""Each registry metric in the form a bootstrap over examples resamples, or why it has none.

The evaluation's ``paired_bootstrap`` at ``level: seeds_x_examples`` (or ``examples``) resamples the
test examples within each seed. That needs, for each metric of :mod:`rigorml.runtime.metrics`, a
way to get the metric of a resample without recomputing it from scratch B times.
:func:`example_form` gives it:

* ``labels``: the confusion-matrix metrics (accuracy, F1, MCC...) from each run's predicted labels
  (:func:`rigorml.runtime.metrics.predicted_labels`), resampled over confusion cells;
* ``auroc``: the scores as saved, resampled through the Mann-Whitney form of the AUROC
  (:mod:`rigorml.runtime.stats._ranks`);
* ``mean``: metrics that are the mean of a per-example (per-query, per-text, per-sequence) score:
  MAE, MSE, MAPE, log loss, every ranking metric (the registry averages per-query values:
  scikit-learn's ``ndcg_score``, torchmetrics' retrieval metrics), ROUGE (mean F-measure over
  texts) and exact match; the bootstrap resamples the per-example scores;
* ``sums``: metrics that are a function of sums over the examples
  (:class:`rigorml.runtime.stats.bootstrap.SummedMetric`): perplexity (exp of the summed negative
  log-likelihood over the summed target tokens, one row per sequence), corpus BLEU (SacreBLEU's
  clipped n-gram matches and totals, hypothesis and closest-reference lengths, one row per text),
  RMSE (squared errors) and R^2 (squared errors and the centred targets);
* ``coco``: COCO box mAP (``map``, ``map_50``, ``map_75``) as a
  :class:`rigorml.runtime.stats.bootstrap.WeightedMetric`: each run's detections are matched to the
  ground truth once with pycocotools, and a resample's mAP is pycocotools' accumulation with each
  image counted as often as it was drawn (:mod:`rigorml.runtime.stats._coco`: exact, up to score
  ties between different detections); the per-run input is the saved detections, padded by the
  evaluation to one shape over runs.

Each per-run function reproduces the registry's own computation example by example (the same
libraries, the same input checks); :func:`form_value` gives the metric back from the per-example
form, and the evaluation checks it against the registry's value for every run before trusting the
form (float32 computations in the registry agree to float32 precision). The metrics without a form
(AUPRC, BERTScore) come back as the reason, which the evaluation reports in the
comparison's note when it falls back to a bootstrap over seeds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..schemas.vocabulary import parse_metric
from .stats.bootstrap import SummedMetric, WeightedMetric
from .stats._metric_cells import CONFUSION_METRICS

#: Relative and absolute tolerance between a form's value on all examples and the registry's: the
#: registry computes some metrics in float32 (scikit-learn on float32 arrays, torchmetrics).
REL_TOLERANCE, ABS_TOLERANCE = 1e-5, 1e-9


class ExampleFormError(RuntimeError):
    """A metric's example-level form cannot be computed here (a library lacks what it needs)."""


@dataclass(frozen=True)
class ExampleForm:
    """How one metric is resampled example by example.

    ``kind``: ``labels``, ``auroc``, ``mean``, ``sums`` or ``coco``; ``bootstrap_metric``: what
    :func:`rigorml.runtime.stats.bootstrap.paired_two_level_bootstrap` takes as ``metric`` (the
    metric's name, ``"mean"``, a :class:`SummedMetric` or a :class:`WeightedMetric`);
    ``per_run(y_true, scores)``: one run's input to the bootstrap, from its saved ``y_true`` and
    ``scores`` (labels (n,), the scores, per-example values (n,), per-example columns (n, r), or
    the detections (images, detections, 6)).
    """

    metric: str
    kind: str
    bootstrap_metric: str | SummedMetric
    per_run: Callable[[np.ndarray, np.ndarray], np.ndarray]


def example_form(metric: str, task: str) -> ExampleForm | str:
    """The example-level form of ``metric`` on ``task``, or a sentence saying why it has none."""
    info, k = parse_metric(metric)
    if info is None or task not in info.tasks:
        return f"{metric} is not a metric of the registry for {task}"
    name = info.name
    if task == "classification":
        if name in CONFUSION_METRICS:
            return ExampleForm(metric, "labels", name, _predicted_labels)
        if name == "auroc":
            return ExampleForm(metric, "auroc", "auroc", lambda y, scores: np.asarray(scores))
        if name == "log_loss":
            return ExampleForm(metric, "mean", "mean", _log_losses)
        if name == "auprc":
            return (
                "average precision is a step sum over the ranked examples with precision at each "
                "threshold, not a mean or a function of sums over examples; no resampled form is "
                "implemented for it"
            )
    if task == "regression":
        if name in _REGRESSION_LOSSES:
            return ExampleForm(metric, "mean", "mean", _regression_losses(name))
        if name == "rmse":
            return ExampleForm(metric, "sums", RMSE, _squared_errors)
        if name == "r2":
            return ExampleForm(metric, "sums", R2, _r2_columns)
    if task == "ranking":
        return ExampleForm(metric, "mean", "mean", _per_query(name, k))
    if name == "perplexity":
        return ExampleForm(metric, "sums", PERPLEXITY, _sequence_log_likelihoods)
    if name == "exact_match":
        return ExampleForm(metric, "mean", "mean", _exact_matches)
    if task == "generation":
        if name in ("rouge1", "rouge2", "rougeL"):
            return ExampleForm(metric, "mean", "mean", _rouge_scores(name))
        if name == "bleu":
            return ExampleForm(metric, "sums", BLEU, _bleu_statistics)
        if name == "bertscore_f1":
            return (
                "BERTScore's per-text scores are not saved, and recomputing them needs the model "
                "once per run; no resampled form is implemented for it"
            )
    if task == "detection" and name in COCO_MAP:
        return ExampleForm(metric, "coco", COCO_MAP[name], _detections)
    return f"{metric} on {task} has no example-level form here"


def form_value(form: ExampleForm, values: np.ndarray, y_true: np.ndarray | None = None) -> float | None:
    """The metric on all examples from one run's per-example form (``mean``, ``sums``, and
    ``coco``, which needs the run's ``y_true``: its weighted accumulation with every weight 1); None
    for ``labels`` and ``auroc``, whose fast paths are exact by construction (tested). Errors:
    ValueError for a ``coco`` form without ``y_true``."""
    if form.kind == "coco":
        if y_true is None:
            raise ValueError(f"{form.metric}: the coco form's value needs the ground truth (y_true)")
        metric = form.bootstrap_metric
        return float(metric.value(metric.prepare(y_true, values), np.ones((1, len(values))))[0])
    values = np.asarray(values, dtype=np.float64)
    if form.kind == "mean":
        return float(values.mean())
    if form.kind == "sums":
        columns = values if values.ndim == 2 else values[:, None]
        return float(form.bootstrap_metric.value(columns.sum(axis=0)[None, :], len(columns))[0])
    return None


# --- classification -------------------------------------------------------------------------------


def _predicted_labels(y_true, scores) -> np.ndarray:
    from .metrics import predicted_labels

    return predicted_labels(np.asarray(scores))


def _log_losses(y_true, scores) -> np.ndarray:
    """Per-example -log p(true class), clipped to [eps, 1 - eps] in the probabilities' own dtype,
    as scikit-learn's ``log_loss`` computes each term before averaging."""
    from .metrics import _probabilities

    y, scores = np.asarray(y_true), np.asarray(scores)
    if scores.ndim == 1:
        if np.any((scores < 0) | (scores > 1)):
            raise ValueError("log_loss on 1-D scores needs positive-class probabilities in [0, 1]")
        probabilities = np.stack([1 - scores, scores], axis=1)
    else:
        probabilities = _probabilities(scores)
    if y.ndim != 1 or len(y) != len(probabilities) or np.any((y < 0) | (y >= probabilities.shape[1])):
        raise ValueError(f"log_loss needs integer labels 0..{probabilities.shape[1] - 1}, one per example")
    eps = np.finfo(probabilities.dtype).eps
    chosen = np.clip(probabilities, eps, 1 - eps)[np.arange(len(y)), y.astype(np.int64)]
    return -np.log(chosen).astype(np.float64)


# --- regression -----------------------------------------------------------------------------------


def _regression_arrays(y_true, scores) -> tuple[np.ndarray, np.ndarray]:
    y, s = np.asarray(y_true, dtype=np.float64), np.asarray(scores, dtype=np.float64)
    if s.ndim == 2 and s.shape[1] == 1:
        s = s[:, 0]
    if y.ndim != 1 or s.shape != y.shape:
        raise ValueError(f"regression needs y_true [n] and scores [n] or [n, 1], not {y.shape} and {s.shape}")
    return y, s


_REGRESSION_LOSSES = {
    "mae": lambda y, p: np.abs(y - p),
    "mse": lambda y, p: (y - p) ** 2,
    # scikit-learn's mean_absolute_percentage_error: |y - p| / max(|y|, eps).
    "mape": lambda y, p: np.abs(p - y) / np.maximum(np.abs(y), np.finfo(np.float64).eps),
}


def _regression_losses(name: str) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def per_run(y_true, scores) -> np.ndarray:
        return _REGRESSION_LOSSES[name](*_regression_arrays(y_true, scores))

    return per_run


def _squared_errors(y_true, scores) -> np.ndarray:
    y, s = _regression_arrays(y_true, scores)
    return ((y - s) ** 2)[:, None]


def _r2_columns(y_true, scores) -> np.ndarray:
    """(squared error, y - ybar, (y - ybar)^2) with ybar the mean over all examples: a resample's
    total sum of squares is sum (y - ybar)^2 - (sum (y - ybar))^2 / n, with no cancellation."""
    y, s = _regression_arrays(y_true, scores)
    centred = y - y.mean()
    return np.column_stack([(y - s) ** 2, centred, centred**2])


def _rmse(sums: np.ndarray, n: int) -> np.ndarray:
    return np.sqrt(sums[:, 0] / n)


def _r2(sums: np.ndarray, n: int) -> np.ndarray:
    """scikit-learn's r2_score (``force_finite=True``): 1 - SS_res / SS_tot; with constant targets
    (SS_tot = 0), 1 for a perfect fit and 0 otherwise."""
    residual = sums[:, 0]
    total = np.maximum(sums[:, 2] - sums[:, 1] ** 2 / n, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = 1.0 - residual / np.where(total > 0, total, 1.0)
    return np.where(total > 0, r2, np.where(residual == 0, 1.0, 0.0))


RMSE = SummedMetric("rmse", _rmse)
R2 = SummedMetric("r2", _r2)


# --- ranking --------------------------------------------------------------------------------------


def _per_query(name: str, k: int | None) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Each query's score, as the registry computes it before averaging over queries."""

    def per_run(y_true, scores) -> np.ndarray:
        from .metrics_tasks import _ranked_lists

        relevance, order, real = _ranked_lists(y_true, scores, name, k)
        if name == "ndcg":
            try:
                from sklearn.metrics._ranking import _ndcg_sample_scores  # ndcg_score's per-query values
            except ImportError as error:
                raise ExampleFormError(f"scikit-learn has no per-query NDCG here ({error})") from None
            gains = np.where(real, relevance, 0.0)
            lowest = order[real].min() - 1.0
            return np.asarray(_ndcg_sample_scores(gains, np.where(real, order, lowest), k=k, ignore_ties=False), dtype=np.float64)
        import torch
        from torchmetrics import retrieval

        cls = {
            "mrr": retrieval.RetrievalMRR,
            "precision": retrieval.RetrievalPrecision,
            "recall": retrieval.RetrievalRecall,
            "hit_rate": retrieval.RetrievalHitRate,
        }[name]
        # The registry's metric, aggregated by keeping the per-query values (queries in order).
        metric = cls(empty_target_action="neg", top_k=k, aggregation=lambda values, dim=None: values)
        queries = np.broadcast_to(np.arange(len(real))[:, None], real.shape)[real]
        metric.update(torch.from_numpy(order[real]), torch.from_numpy(relevance[real] > 0), indexes=torch.from_numpy(queries))
        values = metric.compute().detach().cpu().numpy().astype(np.float64).reshape(-1)
        if len(values) != len(real):
            raise ExampleFormError(f"torchmetrics gave {len(values)} per-query values for {len(real)} queries")
        return values

    return per_run


# --- generation and language modeling -------------------------------------------------------------


def _rouge_scores(name: str) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def per_run(y_true, scores) -> np.ndarray:
        from rouge_score import rouge_scorer

        from .metrics_tasks import _texts

        references, predictions = _texts(y_true, scores, name)
        scorer = rouge_scorer.RougeScorer([name], use_stemmer=False)
        return np.array([scorer.score_multi(refs, pred)[name].fmeasure for refs, pred in zip(references, predictions)])

    return per_run


def _exact_matches(y_true, scores) -> np.ndarray:
    """Per text or sequence: 1 when predicted exactly (the registry's rule for either format)."""
    from .metrics_tasks import _texts, _token_targets

    scores = np.asarray(scores)
    if scores.dtype.kind in "UO":
        references, predictions = _texts(y_true, scores, "exact_match")
        return np.array([float(p.strip() in {r.strip() for r in refs}) for refs, p in zip(references, predictions)])
    targets, kept = _token_targets(y_true, scores, "exact_match")
    if scores.ndim == 3:
        predicted = scores.argmax(axis=-1)
    elif scores.dtype.kind in "iu":
        predicted = scores
    else:
        raise ValueError("exact_match needs logits or predicted token ids, not per-token negative log-likelihoods")
    return np.all((predicted == targets) | ~kept, axis=1).astype(np.float64)


def _sequence_log_likelihoods(y_true, scores) -> np.ndarray:
    """(summed negative log-likelihood, target tokens) per sequence: from the saved per-token NLL,
    or from logits by the registry's float64 log-softmax."""
    from .metrics_tasks import IGNORE_INDEX, _token_targets

    scores = np.asarray(scores)
    if scores.dtype.kind in "UO":
        raise ValueError("perplexity needs per-token negative log-likelihoods or logits, not text")
    targets, kept = _token_targets(y_true, scores, "perplexity")
    if scores.ndim == 3:
        import torch
        import torch.nn.functional as F

        logits = torch.from_numpy(scores.astype(np.float64)).flatten(0, 1)
        flat = torch.from_numpy(targets.astype(np.int64)).flatten()
        nll = F.cross_entropy(logits, flat, ignore_index=IGNORE_INDEX, reduction="none").numpy().reshape(targets.shape)
    else:
        nll = scores.astype(np.float64)
        if not np.isfinite(nll[kept]).all() or (nll[kept] < 0).any():
            raise ValueError("perplexity: per-token negative log-likelihoods must be finite and >= 0 at every target token")
    return np.column_stack([np.where(kept, nll, 0.0).sum(axis=1), kept.sum(axis=1).astype(np.float64)])


def _perplexity(sums: np.ndarray, n: int) -> np.ndarray:
    """exp(summed NLL / summed tokens); a resample of empty sequences only (no token) has 1 in
    both arms: no difference."""
    tokens = sums[:, 1]
    return np.exp(np.where(tokens > 0, sums[:, 0] / np.where(tokens > 0, tokens, 1.0), 0.0))


PERPLEXITY = SummedMetric("perplexity", _perplexity)

#: SacreBLEU's statistics per text: clipped matches of 1..4-grams, 1..4-gram totals, the
#: hypothesis length and the closest reference length.
BLEU_COLUMNS = 10


def _bleu_statistics(y_true, scores) -> np.ndarray:
    """Per text, the statistics torchmetrics' ``SacreBLEUScore`` (13a) adds up over the corpus."""
    from torchmetrics.text import SacreBLEUScore

    from .metrics_tasks import _texts

    references, predictions = _texts(y_true, scores, "bleu")
    bleu = SacreBLEUScore(tokenize="13a")
    out = np.empty((len(predictions), BLEU_COLUMNS))
    for i, (refs, pred) in enumerate(zip(references, predictions)):
        bleu.reset()
        bleu.update([pred], [refs])
        out[i, :4] = bleu.numerator.detach().cpu().numpy()
        out[i, 4:8] = bleu.denominator.detach().cpu().numpy()
        out[i, 8], out[i, 9] = float(bleu.preds_len), float(bleu.target_len)
    return out


def _bleu(sums: np.ndarray, n: int) -> np.ndarray:
    """Corpus BLEU from summed statistics, as torchmetrics computes it (uniform weights, no
    smoothing): 0 when some n-gram order has no match; the brevity penalty exp(1 - r / c) unless
    the hypotheses are longer than the references."""
    matches, totals, hypothesis, reference = sums[:, :4], sums[:, 4:8], sums[:, 8], sums[:, 9]
    any_zero = matches.min(axis=1) == 0
    precision = np.where(any_zero[:, None], 1.0, matches / np.where(totals > 0, totals, 1.0))
    geometric = np.exp(np.sum(0.25 * np.log(precision), axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        brevity = np.where(hypothesis > reference, 1.0, np.exp(1 - reference / np.where(hypothesis > 0, hypothesis, 1.0)))
    return np.where(any_zero, 0.0, brevity * geometric)


BLEU = SummedMetric("bleu", _bleu)


# --- detection ------------------------------------------------------------------------------------


def _detections(y_true, scores) -> np.ndarray:
    """The saved detections as float64, checked as the registry checks them."""
    from .metrics_tasks import _detection_arrays

    return _detection_arrays(y_true, scores)[1]


def _coco_map(name: str) -> WeightedMetric:
    def prepare(y_true, detections):
        from .stats._coco import coco_matches

        return coco_matches(y_true, detections)

    def value(matches, counts: np.ndarray) -> np.ndarray:
        from .stats._coco import weighted_map

        return weighted_map(matches, counts, name)

    return WeightedMetric(name, prepare, value)


#: COCO box mAP of image-weighted resamples, by the registry's metric name.
COCO_MAP = {name: _coco_map(name) for name in ("map", "map_50", "map_75")}
