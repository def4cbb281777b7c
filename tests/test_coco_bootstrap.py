"""COCO box mAP of image-weighted resamples (rigorml.runtime.stats._coco) against pycocotools on the
explicitly duplicated dataset, and its fast path through the paired bootstrap.

Confidence scores are continuous (no ties between different detections: the one case where the
weighted accumulation and pycocotools on a duplicated dataset may order detections differently).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pycocotools")

from rigorml.runtime.example_level import COCO_MAP, example_form, form_value
from rigorml.runtime.metrics import metric_function, pad_per_image
from rigorml.runtime.stats._coco import coco_matches, weighted_map
from rigorml.runtime.stats.bootstrap import (
    BLOCK_ELEMENTS,
    WeightedMetric,
    bootstrap_interval,
    bootstrap_p_value,
    paired_metric_bootstrap,
    paired_two_level_bootstrap,
)

NAMES = ("map", "map_50", "map_75")


def _registry(name: str, truth, found) -> float:
    return metric_function(name, "detection")(truth, found)


def _box(rng, size=(5, 40)):
    x, y = rng.uniform(0, 100, 2)
    w, h = rng.uniform(*size, 2)
    return [x, y, x + w, y + h]


def _detections(seed: int, images: int = 30, labels: int = 4, shift: float = 4.0):
    """Ground truth and detections: labels 0..labels-2 in the ground truth, label ``labels - 1``
    with ground truth on image 0 only and never detected, label ``labels`` detected but never in
    the ground truth; every 7th image without ground truth; image 3 with over 100 detections."""
    rng = np.random.default_rng(seed)
    truth, found = [], []
    for i in range(images):
        count = int(rng.integers(0, 5)) if i % 7 else 0
        gt = [[*_box(rng), int(rng.integers(0, labels - 1))] for _ in range(count)]
        if i == 0:
            gt.append([*_box(rng), labels - 1])  # ground truth nobody detects
        dets = []
        for g in gt:
            for _ in range(int(rng.integers(0, 3))):
                b = np.array(g[:4]) + rng.normal(0, shift, 4)
                b[2:] = np.maximum(b[2:], b[:2])
                dets.append([*b, rng.random(), g[4] if rng.random() < 0.8 else labels])
        for _ in range(int(rng.integers(0, 3))):
            dets.append([*_box(rng, (20, 20)), rng.random(), int(rng.integers(0, labels + 1))])
        if i == 3:  # more than the 100 detections per image and label COCO keeps
            dets += [[*_box(rng, (30, 30)), rng.random(), 0] for _ in range(130)]
        truth.append(gt)
        found.append(dets)
    return pad_per_image(truth, 5), pad_per_image(found, 6)


def _expanded(counts):
    return np.repeat(np.arange(len(counts)), np.asarray(counts, dtype=np.int64))


@pytest.mark.parametrize("name", NAMES)
def test_unit_weights_give_the_registry_map(name):
    for seed in range(3):
        truth, found = _detections(seed)
        matches = coco_matches(truth, found)
        for compiled in (False, None):  # numpy, and the numba kernel where numba imports
            assert weighted_map(matches, np.ones((1, len(truth))), name, compiled=compiled)[0] == pytest.approx(
                _registry(name, truth, found), abs=1e-12
            )
        assert form_value(example_form(name, "detection"), found, truth) == pytest.approx(
            _registry(name, truth, found), abs=1e-12
        )


@pytest.mark.parametrize("compiled", [False, True])
def test_weighted_map_is_pycocotools_on_the_duplicated_dataset(compiled):
    if compiled:
        pytest.importorskip("numba")
    truth, found = _detections(11)
    matches = coco_matches(truth, found)
    rng = np.random.default_rng(12)
    weights = rng.integers(0, 5, (20, len(truth)))
    weights[0, :] = 0
    weights[0, :3] = [4, 1, 2]  # zeros nearly everywhere
    fast = {name: weighted_map(matches, weights, name, compiled=compiled) for name in NAMES}
    for b, counts in enumerate(weights):
        idx = _expanded(counts)
        for name in NAMES:
            assert fast[name][b] == pytest.approx(_registry(name, truth[idx], found[idx]), abs=1e-12)


def test_resampled_image_order_does_not_matter_without_ties():
    # The bootstrap draws images in any order; pycocotools sees them in draw order.
    truth, found = _detections(13)
    matches = coco_matches(truth, found)
    idx = np.random.default_rng(14).integers(0, len(truth), len(truth))
    counts = np.bincount(idx, minlength=len(truth))[None, :]
    for name in NAMES:
        assert weighted_map(matches, counts, name)[0] == pytest.approx(_registry(name, truth[idx], found[idx]), abs=1e-12)


def test_a_label_losing_its_ground_truth_and_a_resample_without_detections_match_pycocotools():
    truth, found = _detections(15, labels=4)
    matches = coco_matches(truth, found)
    n = len(truth)
    # Image 0 alone holds label 3's ground truth: leaving it out drops label 3 from the mean.
    without_first = np.ones(n, dtype=np.int64)
    without_first[0] = 0
    # Only images with ground truth and no detection at all.
    empty = [i for i in range(n) if (truth[i, :, -1] != -1).any() and (found[i, :, -1] == -1).all()]
    if not empty:  # make one
        found[1, :, -1] = -1
        matches = coco_matches(truth, found)
        empty = [1] if (truth[1, :, -1] != -1).any() else []
    assert empty
    no_detections = np.zeros(n, dtype=np.int64)
    no_detections[empty] = 2
    for counts in (without_first, no_detections):
        idx = _expanded(counts)
        for name in NAMES:
            for compiled in (False, True):
                value = weighted_map(matches, counts[None, :], name, compiled=compiled)[0]
                assert value == pytest.approx(_registry(name, truth[idx], found[idx]), abs=1e-12)
    assert weighted_map(matches, no_detections[None, :], compiled=False)[0] == 0.0
    # No ground truth drawn at all (the registry raises: mAP undefined): 0, no difference between arms.
    assert weighted_map(matches, np.zeros((1, n)))[0] == 0.0
    # A run without any detection: the registry's 0.0, on every resample with ground truth.
    nothing = np.full_like(found[:, :1], -1.0)
    assert weighted_map(coco_matches(truth, nothing), np.ones((3, n)))[0] == 0.0 == _registry("map", truth, nothing)


def _arms(seed: int, images: int = 24):
    truth, better = _detections(seed, images=images, shift=2.0)
    rng = np.random.default_rng(seed + 100)
    worse = better.copy()
    real = worse[..., -1] != -1
    worse[..., :4] += np.where(real[..., None], rng.normal(0, 3, worse[..., :4].shape), 0.0)
    worse[..., 2:4] = np.maximum(worse[..., 2:4], worse[..., :2])
    worse[..., 4] = np.where(real, rng.random(real.shape), worse[..., 4])
    return truth, better, worse


@pytest.mark.parametrize("name", ["map", "map_50"])
def test_fast_bootstrap_equals_the_registry_recomputed_on_the_same_resamples(name):
    # numpy backend, one block of resamples: the counts are bincounts of the index rows drawn from
    # the block's stream; recomputing the registry metric on those very resamples (images in draw
    # order) must give the same distribution, interval and p-value.
    truth, t, c = _arms(21)
    n, resamples, seed = len(truth), 50, 3
    assert resamples <= BLOCK_ELEMENTS // n  # one block
    fast = paired_metric_bootstrap(truth, t, c, COCO_MAP[name], resamples=resamples, seed=seed, backend="numpy")
    stream = np.random.SeedSequence(seed).spawn(1)[0]
    idx = np.random.default_rng(stream).integers(0, n, size=resamples * n).reshape(resamples, n)
    slow = np.array([_registry(name, truth[i], t[i]) - _registry(name, truth[i], c[i]) for i in idx])
    estimate = _registry(name, truth, t) - _registry(name, truth, c)
    np.testing.assert_allclose(fast.distribution, slow, rtol=0, atol=1e-12)
    assert fast.estimate == pytest.approx(estimate, abs=1e-12)
    low, high = bootstrap_interval(slow, estimate)
    assert (fast.ci_low, fast.ci_high) == (pytest.approx(low, abs=1e-12), pytest.approx(high, abs=1e-12))
    assert fast.p_value == bootstrap_p_value(slow, estimate)
    assert fast.backend == "numpy"


def test_weighted_jackknife_and_numba_draws():
    truth, t, c = _arms(22, images=12)
    metric = COCO_MAP["map_50"]
    bca = paired_metric_bootstrap(truth, t, c, metric, resamples=40, seed=1, method="bca", backend="numpy")
    assert np.isfinite([bca.ci_low, bca.ci_high]).all()
    # The BCa jackknife leaves each image out: the registry on the other images.
    from rigorml.runtime.stats.bootstrap import _WeightedDifference

    values, weights = _WeightedDifference(metric, truth, t, c).jackknife()
    for i in (0, 5):
        keep = np.arange(len(truth)) != i
        expected = _registry("map_50", truth[keep], t[keep]) - _registry("map_50", truth[keep], c[keep])
        assert values[i] == pytest.approx(expected, abs=1e-12)
    assert (weights == 1).all()
    numba = pytest.importorskip("numba")
    assert numba is not None
    drawn = paired_metric_bootstrap(truth, t, c, metric, resamples=30, seed=1, backend="numba")
    assert drawn.backend == "numba" and np.isfinite(drawn.distribution).all()


def test_two_level_bootstrap_with_a_weighted_metric():
    truth, t, c = _arms(23, images=15)
    t2 = t.copy()
    t2[..., 4] = np.where(t2[..., -1] != -1, np.random.default_rng(1).random(t2.shape[:2]), t2[..., 4])
    metric = COCO_MAP["map"]
    result = paired_two_level_bootstrap(np.stack([t, t2]), np.stack([c, c]), y_true=truth, metric=metric,
                                        resamples=60, seed=4, backend="numpy")  # fmt: skip
    per_seed = [_registry("map", truth, a) - _registry("map", truth, c) for a in (t, t2)]
    assert result.level == "seeds_x_examples"
    assert result.estimate == pytest.approx(np.mean(per_seed), abs=1e-12)
    with pytest.raises(ValueError, match="needs y_true"):
        paired_two_level_bootstrap(np.stack([t]), np.stack([c]), metric=metric, resamples=10, seed=1)
    assert isinstance(metric, WeightedMetric)
