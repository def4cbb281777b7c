"""The metrics of ranking, detection, generation and language modeling, and their saved formats.

:func:`rigorml.runtime.metrics.metric_function` dispatches here. Each format is what the task's
model naturally produces, padded to plain arrays so that ``predictions/<split>.npz`` keeps one row per
example (query, image, text, sequence) and loads with ``allow_pickle=False``:

* ranking: ``y_true`` relevance labels ``[queries, candidates]`` (0 = not relevant, 1 or a larger
  grade = relevant, ``-1`` = padding of a shorter list); ``scores`` the model's scores of the same
  candidates ``[queries, candidates]`` (higher ranks first; values at padding are ignored).
  ``precision@k`` divides by ``k`` even for a shorter list; recall is over the relevant candidates
  in the saved list; a query without any relevant candidate scores 0 on every ranking metric.
* detection: ``y_true`` ground truth ``[images, max_boxes, 5]`` rows ``x1, y1, x2, y2, label``;
  ``scores`` detections ``[images, max_detections, 6]`` rows ``x1, y1, x2, y2, confidence, label``;
  boxes in pixels, corners inclusive of the top-left; a row whose label is ``-1`` is padding
  (:func:`pad_per_image` builds both arrays from per-image lists). COCO rules: at most 100
  detections per image count, mAP is averaged over the labels that have ground truth.
* generation: ``y_true`` references, strings ``[n]``, or ``[n, refs]`` with ``""`` padding for
  several references; ``scores`` the generated strings ``[n]``. Scores are 0-1 (BLEU too, not 0-100).
* language modeling: ``y_true`` target token ids ``[sequences, length]`` with ``-100`` at padding
  (PyTorch's ``ignore_index``); ``scores`` either the per-token negative log-likelihood in nats
  ``[sequences, length]`` (what to save: logits are vocabulary-times larger) or the logits
  ``[sequences, length, vocab]``. ``exact_match`` needs logits or predicted ids (int
  ``[sequences, length]``), or strings as in generation.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

MetricFunction = Callable[[np.ndarray, np.ndarray], float]

#: Padding label of the ranking and detection formats, and PyTorch's ignore index for token targets.
PADDING_LABEL = -1
IGNORE_INDEX = -100
#: The directory of a Hugging Face model for ``bertscore_f1`` (nothing is downloaded).
BERTSCORE_MODEL_ENV = "RIGORML_BERTSCORE_MODEL"


class MetricUnavailableError(RuntimeError):
    """A metric the vocabulary names that cannot be computed on this machine, and how to enable it."""


# --- ranking --------------------------------------------------------------------------------------


def ranking(name: str, k: int | None) -> MetricFunction:
    """``ndcg`` (scikit-learn's ``ndcg_score``, ties averaged); ``mrr``, ``precision``, ``recall``,
    ``hit_rate`` (torchmetrics' retrieval metrics); each optionally ``@k``."""

    def metric(y_true, scores) -> float:
        relevance, order, real = _ranked_lists(y_true, scores, name, k)
        if name == "ndcg":
            from sklearn.metrics import ndcg_score

            # Padding gains nothing and ranks below every real candidate, so it cannot change a DCG.
            gains = np.where(real, relevance, 0.0)
            lowest = order[real].min() - 1.0
            return float(ndcg_score(gains, np.where(real, order, lowest), k=k))
        return _torchmetrics_retrieval(name, k, relevance, order, real)

    return metric


def _ranked_lists(y_true, scores, name: str, k: int | None):
    relevance, order = np.asarray(y_true, dtype=np.float64), np.asarray(scores, dtype=np.float64)
    if relevance.ndim != 2 or order.shape != relevance.shape:
        raise ValueError(
            f"ranking y_true and scores must both be [queries, candidates], got {relevance.shape} and {order.shape}"
        )
    real = relevance != PADDING_LABEL
    if relevance.size == 0 or not real.any():
        raise ValueError("ranking: no queries with candidates to score")
    if np.isnan(relevance).any() or (relevance[real] < 0).any():
        raise ValueError(f"ranking relevance labels must be >= 0, with {PADDING_LABEL} marking padding")
    if not np.isfinite(order[real]).all():
        raise ValueError("ranking scores must be finite for every real (non-padding) candidate")
    if (~real).all(axis=1).any():
        empty = int(np.flatnonzero((~real).all(axis=1))[0])
        raise ValueError(f"ranking: query {empty} has no candidates (its whole row is padding)")
    if k is not None and k > relevance.shape[1]:
        raise ValueError(f"{name}@{k} asks for the top {k}, but the saved lists hold at most {relevance.shape[1]} candidates")
    return relevance, order, real


def _torchmetrics_retrieval(name: str, k: int | None, relevance, order, real) -> float:
    import torch
    from torchmetrics import retrieval

    cls = {
        "mrr": retrieval.RetrievalMRR,
        "precision": retrieval.RetrievalPrecision,
        "recall": retrieval.RetrievalRecall,
        "hit_rate": retrieval.RetrievalHitRate,
    }[name]
    # "neg": a query whose saved list holds nothing relevant scores 0 (the retriever missed).
    metric = cls(empty_target_action="neg", top_k=k)
    queries = np.broadcast_to(np.arange(len(real))[:, None], real.shape)[real]
    metric.update(
        torch.from_numpy(order[real]), torch.from_numpy(relevance[real] > 0), indexes=torch.from_numpy(queries)
    )
    return float(metric.compute())


# --- detection ------------------------------------------------------------------------------------


def pad_per_image(rows_per_image: Sequence, columns: int) -> np.ndarray:
    """Per-image box rows (each ``[n_i, columns]``, label last) as one ``[images, max_n, columns]``
    float array whose extra rows are padding (label ``-1``): the saved detection format."""
    arrays = [np.asarray(rows, dtype=np.float64).reshape(-1, columns) for rows in rows_per_image]
    padded = np.zeros((len(arrays), max((len(a) for a in arrays), default=0), columns))
    padded[..., -1] = PADDING_LABEL
    for i, a in enumerate(arrays):
        padded[i, : len(a)] = a
    return padded


def detection(name: str, k: int | None) -> MetricFunction:
    """``map`` (mAP@0.5:0.95), ``map_50``, ``map_75``: COCO box mAP from pycocotools' ``COCOeval``."""
    stat = {"map": 0, "map_50": 1, "map_75": 2}[name]

    def metric(y_true, scores) -> float:
        truth, found = _detection_arrays(y_true, scores)
        return _coco_box_stats(truth, found)[stat]

    return metric


def _detection_arrays(y_true, scores):
    truth, found = np.asarray(y_true, dtype=np.float64), np.asarray(scores, dtype=np.float64)
    if truth.ndim != 3 or truth.shape[2] != 5:
        raise ValueError(f"detection y_true must be [images, boxes, 5] (x1, y1, x2, y2, label), got {truth.shape}")
    if found.ndim != 3 or found.shape[2] != 6:
        raise ValueError(
            f"detection scores must be [images, detections, 6] (x1, y1, x2, y2, confidence, label), got {found.shape}"
        )
    if len(truth) != len(found):
        raise ValueError(f"detection: ground truth for {len(truth)} images but detections for {len(found)}")
    for what, rows in (("ground-truth", truth), ("detected", found)):
        real = rows[..., -1] != PADDING_LABEL
        boxes = rows[real]
        if not np.isfinite(boxes).all() or (boxes[:, -1] < 0).any() or (boxes[:, -1] % 1 != 0).any():
            raise ValueError(f"detection: {what} rows must be finite with integer labels >= 0 ({PADDING_LABEL} = padding)")
        if (boxes[:, 2] < boxes[:, 0]).any() or (boxes[:, 3] < boxes[:, 1]).any():
            raise ValueError(f"detection: a {what} box has x2 < x1 or y2 < y1 (boxes are x1, y1, x2, y2)")
    if not (truth[..., -1] != PADDING_LABEL).any():
        raise ValueError("detection: no ground-truth boxes, so mAP is undefined")
    return truth, found


def coco_records(truth: np.ndarray, found: np.ndarray) -> tuple[list[dict], list[dict]]:
    """The COCO ``annotations`` and ``detections`` of checked detection arrays
    (:func:`_detection_arrays`): images numbered from 1, boxes as [x, y, width, height],
    annotation ids from 1 (pycocotools treats id 0 as "unmatched"), every box ``iscrowd`` 0."""

    def bbox(row) -> list[float]:
        return [float(row[0]), float(row[1]), float(row[2] - row[0]), float(row[3] - row[1])]

    annotations, detections = [], []
    for image, rows in enumerate(truth, start=1):
        for row in rows[rows[:, -1] != PADDING_LABEL]:
            box = bbox(row)
            annotations.append(
                {"id": len(annotations) + 1, "image_id": image, "category_id": int(row[-1]), "bbox": box,
                 "area": box[2] * box[3], "iscrowd": 0}
            )  # fmt: skip
    for image, rows in enumerate(found, start=1):
        for row in rows[rows[:, -1] != PADDING_LABEL]:
            detections.append({"image_id": image, "category_id": int(row[-1]), "bbox": bbox(row), "score": float(row[4])})
    return annotations, detections


def _coco_box_stats(truth: np.ndarray, found: np.ndarray) -> list[float]:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    annotations, detections = coco_records(truth, found)
    if not detections:
        return [0.0, 0.0, 0.0]
    labels = sorted({a["category_id"] for a in annotations} | {d["category_id"] for d in detections})
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools narrates every step on stdout
        ground = COCO()
        ground.dataset = {
            "images": [{"id": i} for i in range(1, len(truth) + 1)],
            "categories": [{"id": label} for label in labels],
            "annotations": annotations,
        }
        ground.createIndex()
        evaluation = COCOeval(ground, ground.loadRes(detections), iouType="bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return [float(v) for v in evaluation.stats[:3]]


# --- generation -----------------------------------------------------------------------------------


def generation(name: str, k: int | None) -> MetricFunction:
    """``rouge1``/``rouge2``/``rougeL`` (rouge-score, F-measure, best reference, mean over examples),
    ``bleu`` (torchmetrics' SacreBLEU, 13a tokenizer, corpus level), ``bertscore_f1`` (torchmetrics,
    local model only), ``exact_match`` and ``perplexity`` (as in language modeling)."""
    if name in ("exact_match", "perplexity"):
        return language_modeling(name, k)
    if name == "bertscore_f1":
        return _bertscore_f1(_bertscore_model())

    def metric(y_true, scores) -> float:
        references, predictions = _texts(y_true, scores, name)
        if name == "bleu":
            from torchmetrics.text import SacreBLEUScore

            return float(SacreBLEUScore(tokenize="13a")(predictions, references))
        from rouge_score import rouge_scorer

        scorer = rouge_scorer.RougeScorer([name], use_stemmer=False)
        values = [scorer.score_multi(refs, pred)[name].fmeasure for refs, pred in zip(references, predictions)]
        return float(np.mean(values))

    return metric


def _texts(y_true, scores, name: str) -> tuple[list[list[str]], list[str]]:
    references, predictions = np.asarray(y_true), np.asarray(scores)
    for what, array in (("y_true (references)", references), ("scores (generated texts)", predictions)):
        if array.dtype.kind != "U" and not (array.dtype == object and all(isinstance(v, str) for v in array.flat)):
            raise ValueError(f"{name} takes strings: {what} has dtype {array.dtype}")
    if predictions.ndim != 1 or references.ndim not in (1, 2):
        raise ValueError(
            f"{name}: scores must be [n] generated strings and y_true [n] or [n, refs] references, "
            f"got {predictions.shape} and {references.shape}"
        )
    if len(references) != len(predictions):
        raise ValueError(f"{name}: {len(references)} references but {len(predictions)} generated texts")
    if len(predictions) == 0:
        raise ValueError(f"{name}: no examples to score")
    if references.ndim == 1:
        return [[str(r)] for r in references], [str(p) for p in predictions]
    lists = [[str(r) for r in row if str(r) != ""] for row in references]
    if not all(lists):
        missing = next(i for i, refs in enumerate(lists) if not refs)
        raise ValueError(f"{name}: example {missing} has no reference (its whole row is '' padding)")
    return lists, [str(p) for p in predictions]


def _bertscore_model() -> str:
    how = (
        f"set {BERTSCORE_MODEL_ENV} to the directory of a Hugging Face model saved with "
        "save_pretrained() (for example roberta-large, copied onto this machine); rigorml never "
        "downloads a model"
    )
    path = os.environ.get(BERTSCORE_MODEL_ENV, "")
    if not path:
        raise MetricUnavailableError(f"bertscore_f1 needs a local model: {how}")
    if not Path(path).is_dir():
        raise MetricUnavailableError(f"bertscore_f1: {BERTSCORE_MODEL_ENV}={path!r} is not a directory: {how}")
    try:
        import transformers  # noqa: F401
    except ImportError:
        raise MetricUnavailableError("bertscore_f1 needs the transformers package: pip install transformers") from None
    return path


def _bertscore_f1(model_path: str) -> MetricFunction:
    def metric(y_true, scores) -> float:
        from torchmetrics.functional.text.bert import bert_score

        references, predictions = _texts(y_true, scores, "bertscore_f1")
        pairs = [(pred, ref, i) for i, (refs, pred) in enumerate(zip(references, predictions)) for ref in refs]
        f1 = bert_score([p for p, _, _ in pairs], [r for _, r, _ in pairs], model_name_or_path=model_path)["f1"]
        best = np.full(len(predictions), -np.inf)
        for (_, _, i), value in zip(pairs, np.asarray(f1, dtype=np.float64).reshape(-1)):
            best[i] = max(best[i], value)  # several references: the closest one counts
        return float(best.mean())

    return metric


# --- language modeling ----------------------------------------------------------------------------


def language_modeling(name: str, k: int | None) -> MetricFunction:
    """``perplexity``: exp of the mean negative log-likelihood over all non-padding tokens (every token
    weighs the same, as torchmetrics' ``Perplexity``); ``exact_match``: the share of sequences (or
    texts) predicted exactly."""

    def metric(y_true, scores) -> float:
        scores = np.asarray(scores)
        if scores.dtype.kind in "UO":
            if name == "perplexity":
                raise ValueError("perplexity needs per-token negative log-likelihoods or logits, not text")
            references, predictions = _texts(y_true, scores, name)
            return float(np.mean([p.strip() in {r.strip() for r in refs} for refs, p in zip(references, predictions)]))
        targets, kept = _token_targets(y_true, scores, name)
        if name == "perplexity":
            return _perplexity(targets, kept, scores)
        if scores.ndim == 3:
            predicted = scores.argmax(axis=-1)
        elif scores.dtype.kind in "iu":
            predicted = scores
        else:
            raise ValueError(
                "exact_match needs logits [sequences, length, vocab] or predicted token ids (integers), "
                "not per-token negative log-likelihoods"
            )
        if not kept.any(axis=1).all():
            raise ValueError("exact_match: a sequence has no target tokens (all -100)")
        return float(np.mean(np.all((predicted == targets) | ~kept, axis=1)))

    return metric


def _token_targets(y_true, scores: np.ndarray, name: str):
    targets = np.asarray(y_true)
    if targets.dtype.kind not in "iu" or targets.ndim != 2:
        raise ValueError(f"{name}: y_true must be integer token ids [sequences, length], got {targets.dtype} {targets.shape}")
    if scores.ndim not in (2, 3) or scores.shape[:2] != targets.shape:
        raise ValueError(
            f"{name}: scores must be [sequences, length] or [sequences, length, vocab] matching y_true "
            f"{targets.shape}, got {scores.shape}"
        )
    kept = targets != IGNORE_INDEX
    if not kept.any():
        raise ValueError(f"{name}: no target tokens to score (empty, or every target is {IGNORE_INDEX})")
    if (targets[kept] < 0).any() or (scores.ndim == 3 and (targets[kept] >= scores.shape[2]).any()):
        raise ValueError(f"{name}: target ids must lie in [0, vocab), with {IGNORE_INDEX} marking padding")
    return targets, kept


def _perplexity(targets: np.ndarray, kept: np.ndarray, scores: np.ndarray) -> float:
    if scores.ndim == 3:
        import torch
        import torch.nn.functional as F

        # log-softmax in float64: exact where softmax-then-log would underflow to inf for rare tokens.
        logits = torch.from_numpy(scores.astype(np.float64)).flatten(0, 1)
        nll = F.cross_entropy(logits, torch.from_numpy(targets.astype(np.int64)).flatten(), ignore_index=IGNORE_INDEX, reduction="sum")
        return float(np.exp(float(nll) / kept.sum()))
    nll = scores.astype(np.float64)[kept]
    if not np.isfinite(nll).all() or (nll < 0).any():
        raise ValueError("perplexity: per-token negative log-likelihoods must be finite and >= 0 at every target token")
    return float(np.exp(nll.mean()))
