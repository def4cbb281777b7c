"""COCO box mAP of image-weighted resamples, exactly, from one pycocotools matching per run.

A bootstrap resample of images is a vector of integer weights (how often each image was drawn).
COCO matching (detections to ground truth by IoU, per image and category, at most 100 detections
per image and category, area range ``all``) looks at one image at a time, so an image drawn k
times contributes k identical copies of its matches. :func:`coco_matches` runs pycocotools'
``COCOeval.evaluate`` once on a run's arrays (built as the registry builds them,
:func:`rigorml.runtime.metrics_tasks._coco_box_stats`) and keeps, per category, its detections in
the order ``COCOeval.accumulate`` sorts them (images in id order, a stable sort by descending
score), their true/false-positive indicators at the 10 IoU thresholds, the image each comes from,
and the non-ignored ground-truth count of every image.

:func:`weighted_map` then reproduces ``accumulate`` and ``summarize`` (stats 0..2) for rows of
weights. With weights, detection j stands for w_j consecutive copies in the sorted list of the
duplicated dataset. Evaluating precision and recall only at the last copy of each detection is
exact: within a run of true-positive copies precision increases, so the monotone envelope
``max(pr[i:])`` of any copy in the run is attained at or after its last copy; a run of
false-positive copies starts below the point before it, so it never raises the envelope; and the
first index with recall >= a recall threshold (``searchsorted(rc, recThrs, 'left')``) lies in the
first detection whose cumulative recall reaches it, where the envelope is that detection's
(threshold 0 takes the first detection, whose envelope is the maximum over all). Each recall
threshold r therefore takes the envelope of the first detection j with recall_{j-1} < r <=
recall_j, and the mean over the 101 thresholds is a sum over detections of envelope x the number
of thresholds in that interval. Recall, precision and the envelope use pycocotools' float
formulas on the same integer counts (tp / npig, tp / (fp + tp + eps)), so the values agree to
rounding of the final mean. A category whose resampled ground truth is empty is left out of the
mean (pycocotools' -1); a resample with no ground truth at all has no mAP (the registry raises):
it gets 0 in both arms, no difference. A numba kernel (when numba imports) makes one pass per row,
category and IoU threshold; numpy works on (rows, thresholds, detections) chunks of at most
:data:`CHUNK_ELEMENTS` elements; they differ by rounding only.

**Exactness caveat: score ties.** Copies of one detection carry one score and are adjacent in the
duplicated dataset's sort. Two *different* detections of a category with exactly the same score
are ordered by image id in pycocotools, which on a duplicated dataset interleaves their copies
differently; the value here then can differ from pycocotools' within that tie (the unweighted
value does not: it uses pycocotools' own order). Continuous confidence scores have no such ties.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

import numpy as np

#: pycocotools' ``np.spacing(1)`` in the precision's denominator.
_EPS = np.spacing(1)
#: Elements per temporary array of :func:`weighted_map` (rows x thresholds x detections).
CHUNK_ELEMENTS = 1 << 20
#: The statistics of ``COCOeval.summarize`` the registry reports, by metric name: which IoU
#: threshold (None: all ten).
STATS = {"map": None, "map_50": 0.5, "map_75": 0.75}


@dataclass(frozen=True)
class CategoryMatches:
    """One category's detections in pycocotools' accumulate order: ``image`` (D,) the image index
    (0-based) of each; ``tp``, ``fp`` (T, D) float 0/1 indicators per IoU threshold (both 0 for an
    ignored detection); ``ground_truth`` (n_images,) the non-ignored ground-truth boxes of each
    image."""

    image: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    ground_truth: np.ndarray


@dataclass(frozen=True)
class CocoMatches:
    """One run's COCO matching: ``categories`` (those with ground truth), ``n_images``,
    ``iou_thresholds`` (T,), ``recall_thresholds`` (R,) (pycocotools' parameters)."""

    categories: tuple[CategoryMatches, ...]
    n_images: int
    iou_thresholds: np.ndarray
    recall_thresholds: np.ndarray


def coco_matches(y_true, scores) -> CocoMatches:
    """Match one run's detections to the ground truth once, with pycocotools.

    Inputs: the registry's detection arrays (``y_true`` [images, boxes, 5], ``scores``
    [images, detections, 6], padding label -1). Output: :class:`CocoMatches`. Errors: ValueError
    for arrays the registry rejects (:func:`rigorml.runtime.metrics_tasks._detection_arrays`)."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval, Params

    from ..metrics_tasks import _detection_arrays, coco_records

    truth, found = _detection_arrays(y_true, scores)
    n_images = len(truth)
    params = Params(iouType="bbox")
    iou_thresholds, recall_thresholds = np.asarray(params.iouThrs), np.asarray(params.recThrs)
    max_det = params.maxDets[-1]
    all_range = params.areaRng[params.areaRngLbl.index("all")]

    annotations, detections = coco_records(truth, found)
    gt_labels = sorted({a["category_id"] for a in annotations})
    if not detections:  # the registry's 0.0; every ground-truth box counts (iscrowd 0, area range all)
        categories = []
        for label in gt_labels:
            ground = np.zeros(n_images)
            for a in annotations:
                if a["category_id"] == label and all_range[0] <= a["area"] <= all_range[1]:
                    ground[a["image_id"] - 1] += 1
            if ground.any():
                empty = np.zeros((len(iou_thresholds), 0))
                categories.append(CategoryMatches(np.zeros(0, dtype=np.int64), empty, empty, ground))
        return CocoMatches(tuple(categories), n_images, iou_thresholds, recall_thresholds)
    labels = sorted(set(gt_labels) | {d["category_id"] for d in detections})
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools narrates every step on stdout
        ground = COCO()
        ground.dataset = {
            "images": [{"id": i} for i in range(1, n_images + 1)],
            "categories": [{"id": label} for label in labels],
            "annotations": annotations,
        }
        ground.createIndex()
        evaluation = COCOeval(ground, ground.loadRes(detections), iouType="bbox")
        evaluation.evaluate()
    p = evaluation.params
    area = [tuple(a) for a in p.areaRng].index(tuple(all_range))
    n_ids, n_areas = len(p.imgIds), len(p.areaRng)
    categories = []
    for k, label in enumerate(p.catIds):
        if label not in gt_labels:
            continue
        start = (k * n_areas + area) * n_ids
        entries = [e for e in evaluation.evalImgs[start : start + n_ids] if e is not None]
        ground = np.zeros(n_images)
        for e in entries:
            ground[e["image_id"] - 1] += np.count_nonzero(np.asarray(e["gtIgnore"]) == 0)
        if not ground.any():
            continue
        if entries:
            dt_scores = np.concatenate([np.asarray(e["dtScores"][0:max_det], dtype=np.float64) for e in entries])
            order = np.argsort(-dt_scores, kind="mergesort")
            image = np.concatenate([np.full(len(e["dtScores"][0:max_det]), e["image_id"] - 1) for e in entries])
            levels = len(iou_thresholds)

            def per_threshold(key: str) -> np.ndarray:
                return np.concatenate([np.asarray(e[key]).reshape(levels, -1)[:, 0:max_det] for e in entries], axis=1)

            matched, ignored = per_threshold("dtMatches"), per_threshold("dtIgnore")
            matched, ignored = matched[:, order] != 0, ignored[:, order] != 0
            image = image[order].astype(np.int64)
        else:
            matched = ignored = np.zeros((len(iou_thresholds), 0), dtype=bool)
            image = np.zeros(0, dtype=np.int64)
        tp = (matched & ~ignored).astype(np.float64)
        fp = (~matched & ~ignored).astype(np.float64)
        categories.append(CategoryMatches(image, tp, fp, ground))
    return CocoMatches(tuple(categories), n_images, iou_thresholds, recall_thresholds)


def weighted_map(matches: CocoMatches, weights: np.ndarray, name: str = "map", compiled: bool | None = None) -> np.ndarray:
    """COCO box mAP (``map``, ``map_50`` or ``map_75``) of image-weighted resamples.

    Inputs: ``matches`` from :func:`coco_matches`; ``weights`` (B, n_images) non-negative integer
    counts (float or int); ``name``; ``compiled``: use the numba kernel (one pass per row,
    category and IoU threshold; default: when numba imports) or numpy (cumulative sums over
    (rows, thresholds, detections) chunks); the two differ by rounding only. Output: (B,) float64,
    each row pycocotools' stat on the dataset with image i repeated ``weights[b, i]`` times
    (module docstring: exact up to score ties between different detections). Errors: ValueError
    for an unknown name or a weight matrix of the wrong width."""
    if name not in STATS:
        raise ValueError(f"unknown COCO statistic {name!r}; use one of {', '.join(STATS)}")
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 2 or w.shape[1] != matches.n_images:
        raise ValueError(f"weights must be (resamples, {matches.n_images}), not {w.shape}")
    threshold = STATS[name]
    chosen = (
        np.arange(len(matches.iou_thresholds))
        if threshold is None
        else np.flatnonzero(threshold == matches.iou_thresholds)
    )
    recall_thresholds = np.ascontiguousarray(matches.recall_thresholds, dtype=np.float64)
    if compiled is None:
        from . import _kernels

        compiled = _kernels.available()
    w = np.ascontiguousarray(w)
    n_recall = len(recall_thresholds)
    rows = len(w)
    total = np.zeros(rows)
    valid = np.zeros(rows)
    for category in matches.categories:
        npig = w @ category.ground_truth
        present = npig > 0
        valid += present
        d = len(category.image)
        if d == 0:
            continue  # ground truth and no detection: precision 0 at every threshold
        tp, fp = category.tp[chosen], category.fp[chosen]
        if compiled:
            _compiled()(w, category.image, np.ascontiguousarray(tp), np.ascontiguousarray(fp), npig, recall_thresholds, total)
            continue
        step = max(1, CHUNK_ELEMENTS // (len(chosen) * d))
        for start in range(0, rows, step):
            block = slice(start, min(start + step, rows))
            drawn = w[block][:, category.image][:, None, :]  # (b, 1, D)
            tp_sum = np.cumsum(drawn * tp, axis=2)
            fp_sum = np.cumsum(drawn * fp, axis=2)
            n = npig[block]
            with np.errstate(divide="ignore", invalid="ignore"):
                recall = tp_sum / np.where(n > 0, n, 1.0)[:, None, None]
            precision = tp_sum / (fp_sum + tp_sum + _EPS)
            envelope = np.maximum.accumulate(precision[:, :, ::-1], axis=2)[:, :, ::-1]
            reached = np.searchsorted(recall_thresholds, recall, side="right")  # thresholds <= recall_j
            served = np.diff(reached, axis=2, prepend=0)  # thresholds in (recall_{j-1}, recall_j]
            ap = (envelope * served).sum(axis=2).sum(axis=1) / n_recall
            total[block] += np.where(present[block], ap, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(valid > 0, total / (np.where(valid > 0, valid, 1.0) * len(chosen)), 0.0)


_KERNEL = None


def _compiled():
    """The numba kernel of :func:`weighted_map` (compiled on first use): for each row with ground
    truth of the category, each IoU threshold: cumulative weighted tp and fp, recall and precision
    at each detection, the envelope from the back, and each recall threshold's envelope value at
    the first detection whose recall reaches it; adds the mean over thresholds to ``total``."""
    global _KERNEL
    if _KERNEL is None:
        import numba

        @numba.njit(nogil=True, cache=False)
        def category_ap(w, image, tp, fp, npig, thresholds, total):  # pragma: no cover - compiled
            rows, (levels, d), r_count = w.shape[0], tp.shape, len(thresholds)
            precision = np.empty(d)
            recall = np.empty(d)
            for b in range(rows):
                n = npig[b]
                if n <= 0:
                    continue
                ap = 0.0
                for t in range(levels):
                    tp_sum = 0.0
                    fp_sum = 0.0
                    for j in range(d):
                        drawn = w[b, image[j]]
                        tp_sum += drawn * tp[t, j]
                        fp_sum += drawn * fp[t, j]
                        recall[j] = tp_sum / n
                        precision[j] = tp_sum / (fp_sum + tp_sum + _EPS)
                    for j in range(d - 2, -1, -1):
                        if precision[j + 1] > precision[j]:
                            precision[j] = precision[j + 1]
                    r = 0
                    served = 0.0
                    for j in range(d):
                        while r < r_count and thresholds[r] <= recall[j]:
                            served += precision[j]
                            r += 1
                    ap += served / r_count
                total[b] += ap

        _KERNEL = category_ap
    return _KERNEL
