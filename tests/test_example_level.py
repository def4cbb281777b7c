"""The example-level forms of the registry's metrics (rigorml.runtime.example_level): on all examples
each form gives back the number the registry computes (so the bootstrap's estimate is the number the
report shows), and on resamples the sums forms give the registry's value of the resampled data.

Inputs are float64 where the registry computes in the inputs' precision, so that agreement is to
1e-12; torchmetrics (retrieval, BLEU) computes in float32, so those agree to float32 precision.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from rigorml.runtime.example_level import BLEU, PERPLEXITY, R2, RMSE, example_form, form_value
from rigorml.runtime.metrics import metric_function
from rigorml.runtime.stats._metric_cells import CONFUSION_METRICS

FLOAT32_REL = 1e-6  # torchmetrics' float32 arithmetic


def _registry(metric: str, task: str, y, scores) -> float:
    return metric_function(metric, task)(y, scores)


def _form_value(metric: str, task: str, y, scores) -> float:
    form = example_form(metric, task)
    return form_value(form, form.per_run(y, scores))


# --- data -----------------------------------------------------------------------------------------


def _ranking(seed: int = 0, queries: int = 40, candidates: int = 7):
    rng = np.random.default_rng(seed)
    relevance = rng.integers(0, 3, (queries, candidates)).astype(np.float64)
    relevance[:6, -2:] = -1  # shorter lists, padded
    relevance[7] = np.where(relevance[7] == -1, -1, 0)  # a query with nothing relevant
    return relevance, rng.normal(size=(queries, candidates))


WORDS = "the a cat dog sat lay on under mat rug big small red".split()


def _texts(seed: int = 0, n: int = 30):
    rng = np.random.default_rng(seed)
    references = np.array([[" ".join(rng.choice(WORDS, 9)), " ".join(rng.choice(WORDS, 6))] for _ in range(n)])
    generated = np.array([" ".join(rng.choice(WORDS, int(rng.integers(4, 11)))) for _ in range(n)])
    generated[:4] = references[:4, 0]  # some exact matches, and n-grams of every order
    return references, generated


def _tokens(seed: int = 0, sequences: int = 25, length: int = 10, vocab: int = 12):
    rng = np.random.default_rng(seed)
    targets = rng.integers(0, vocab, (sequences, length))
    targets[:, 7:] = -100  # padding
    targets[2] = -100  # an empty sequence
    logits = rng.normal(size=(sequences, length, vocab))
    nll = rng.exponential(2.0, (sequences, length))
    return targets, logits, nll


# --- on all examples: the registry's number -------------------------------------------------------


@pytest.mark.parametrize("metric", ["mae", "mse", "mape", "rmse", "r2"])
def test_regression_forms_give_the_registry_metric(metric):
    rng = np.random.default_rng(1)
    y = rng.normal(size=300)
    predictions = (y + 0.4 * rng.normal(size=300)).reshape(-1, 1)
    assert _form_value(metric, "regression", y, predictions) == pytest.approx(
        _registry(metric, "regression", y, predictions), rel=1e-12
    )


@pytest.mark.parametrize("scores", ["binary", "multiclass"])
def test_log_loss_form_gives_the_registry_metric(scores):
    rng = np.random.default_rng(2)
    if scores == "binary":
        y, s = rng.integers(0, 2, 200), rng.random(200)
        s[:3] = [0.0, 1.0, 1e-20]  # clipped to [eps, 1 - eps] as scikit-learn clips
    else:
        y, s = rng.integers(0, 4, 200), 3 * rng.normal(size=(200, 4))
    assert example_form("log_loss", "classification").kind == "mean"
    expected = _registry("log_loss", "classification", y, s)
    assert _form_value("log_loss", "classification", y, s) == pytest.approx(expected, rel=1e-12)


def test_label_and_auroc_forms_pass_the_saved_predictions_on():
    scores = np.array([[0.1, 2.0], [3.0, -1.0], [0.0, 0.5]])
    for metric in CONFUSION_METRICS:
        form = example_form(metric, "classification")
        assert form.kind == "labels" and form.bootstrap_metric == metric
        np.testing.assert_array_equal(form.per_run(None, scores), [1, 0, 1])
    auroc = example_form("auroc", "classification")
    assert auroc.kind == "auroc" and auroc.per_run(None, scores) is not None


@pytest.mark.parametrize("metric, rel", [("ndcg", 1e-12), ("ndcg@3", 1e-12), ("mrr", FLOAT32_REL), ("precision@3", FLOAT32_REL),
                                          ("recall@5", FLOAT32_REL), ("hit_rate@2", FLOAT32_REL)])  # fmt: skip
def test_ranking_forms_are_per_query_scores_whose_mean_is_the_registry_metric(metric, rel):
    relevance, scores = _ranking()
    form = example_form(metric, "ranking")
    per_query = form.per_run(relevance, scores)
    assert form.kind == "mean" and per_query.shape == (len(relevance),)
    assert per_query[7] == 0.0  # nothing relevant: 0, as the registry scores it
    assert per_query.mean() == pytest.approx(_registry(metric, "ranking", relevance, scores), rel=rel)


@pytest.mark.parametrize("metric", ["rouge1", "rouge2", "rougeL", "exact_match"])
def test_generation_forms_are_per_text_scores_whose_mean_is_the_registry_metric(metric):
    references, generated = _texts()
    form = example_form(metric, "generation")
    assert form.kind == "mean"
    expected = _registry(metric, "generation", references, generated)
    assert form.per_run(references, generated).mean() == pytest.approx(expected, rel=1e-12)


def test_bleu_form_sums_sacrebleu_statistics_to_the_corpus_bleu():
    references, generated = _texts()
    form = example_form("bleu", "generation")
    assert form.kind == "sums" and form.bootstrap_metric is BLEU
    statistics = form.per_run(references, generated)
    assert statistics.shape == (len(generated), 10)
    assert form_value(form, statistics) == pytest.approx(_registry("bleu", "generation", references, generated), rel=FLOAT32_REL)


@pytest.mark.parametrize("saved", ["nll", "logits"])
def test_perplexity_form_sums_sequence_log_likelihoods_and_tokens(saved):
    targets, logits, nll = _tokens()
    scores = nll if saved == "nll" else logits
    form = example_form("perplexity", "language_modeling")
    columns = form.per_run(targets, scores)
    np.testing.assert_array_equal(columns[:, 1], (targets != -100).sum(axis=1))
    assert form.bootstrap_metric is PERPLEXITY
    assert form_value(form, columns) == pytest.approx(_registry("perplexity", "language_modeling", targets, scores), rel=1e-12)
    assert example_form("perplexity", "generation").bootstrap_metric is PERPLEXITY


def test_exact_match_of_token_sequences_is_per_sequence():
    targets, logits, _ = _tokens()
    targets[5] = np.where(targets[5] == -100, -100, logits[5].argmax(axis=-1))  # one sequence predicted exactly
    targets[2, 0] = 1  # every sequence has a target
    form = example_form("exact_match", "language_modeling")
    per_sequence = form.per_run(targets, logits)
    assert per_sequence[5] == 1.0
    assert per_sequence.mean() == _registry("exact_match", "language_modeling", targets, logits)


@pytest.mark.parametrize(
    "metric, task, why",
    [("auprc", "classification", "not a mean or a function of sums"), ("bertscore_f1", "generation", "not saved")],
)  # fmt: skip
def test_metrics_without_a_form_say_why(metric, task, why):
    reason = example_form(metric, task)
    assert isinstance(reason, str) and why in reason


@pytest.mark.parametrize("metric", ["map", "map_50", "map_75"])
def test_detection_forms_are_image_weighted_coco_map_giving_the_registry_value(metric):
    pytest.importorskip("pycocotools")
    from rigorml.runtime.metrics import pad_per_image

    rng = np.random.default_rng(4)
    truth = pad_per_image([[[10, 10, 50, 50, 0]], [[20, 20, 60, 70, 1], [5, 5, 15, 15, 0]], []] * 3, 5)
    real = truth[..., -1] != -1
    boxes = truth[..., :4] + np.where(real[..., None], 3 * rng.random(truth[..., :4].shape), 0)
    found = np.concatenate([boxes, rng.random(truth.shape[:2])[..., None], truth[..., 4:]], axis=2)
    form = example_form(metric, "detection")
    assert form.kind == "coco" and form.bootstrap_metric.name == metric
    detections = form.per_run(truth, found)
    assert form_value(form, detections, truth) == pytest.approx(_registry(metric, "detection", truth, found), abs=1e-12)
    with pytest.raises(ValueError, match="needs the ground truth"):
        form_value(form, detections)


# --- on resamples: the sums forms are the registry on the resampled data ----------------------------


def _resamples(n: int, count: int, seed: int):
    return np.random.default_rng(seed).integers(0, n, size=(count, n))


@pytest.mark.parametrize("metric, summed", [("rmse", RMSE), ("r2", R2)])
def test_regression_sums_give_the_registry_metric_of_every_resample(metric, summed):
    rng = np.random.default_rng(3)
    y = np.round(rng.normal(size=12), 1)
    y[:4] = 0.5  # some resamples draw constant targets: r2's force_finite rule
    predictions = y + 0.3 * rng.normal(size=12)
    columns = example_form(metric, "regression").per_run(y, predictions)
    worst = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for idx in _resamples(12, 200, 4):
            counts = np.bincount(idx, minlength=12).astype(np.float64)
            fast = summed.value((counts @ columns)[None, :], 12)[0]
            worst = max(worst, abs(fast - _registry(metric, "regression", y[idx], predictions[idx])))
    assert worst <= 1e-9


@pytest.mark.parametrize("saved", ["nll", "logits"])
def test_perplexity_sums_give_the_registry_metric_of_every_resample(saved):
    targets, logits, nll = _tokens(5, sequences=8)
    scores = nll if saved == "nll" else logits
    columns = example_form("perplexity", "language_modeling").per_run(targets, scores)
    for idx in _resamples(8, 40, 6):
        counts = np.bincount(idx, minlength=8).astype(np.float64)
        fast = PERPLEXITY.value((counts @ columns)[None, :], 8)[0]
        if (targets[idx] != -100).any():
            assert fast == pytest.approx(_registry("perplexity", "language_modeling", targets[idx], scores[idx]), rel=1e-12)
        else:  # only empty sequences drawn: no tokens, perplexity 1 in both arms (no difference)
            assert fast == 1.0


def test_bleu_sums_give_the_registry_bleu_of_every_resample():
    references, generated = _texts(7, n=10)
    statistics = example_form("bleu", "generation").per_run(references, generated)
    zeros = 0
    for idx in _resamples(10, 40, 8):
        counts = np.bincount(idx, minlength=10).astype(np.float64)
        fast = BLEU.value((counts @ statistics)[None, :], 10)[0]
        registry = _registry("bleu", "generation", references[idx], generated[idx])
        zeros += registry == 0
        assert fast == pytest.approx(registry, rel=FLOAT32_REL, abs=1e-12)
    assert zeros < 40  # the resamples exercise the formula, not only its zero case


def test_ranking_per_query_scores_average_to_the_registry_metric_of_every_resample():
    relevance, scores = _ranking(9, queries=15)
    per_query = example_form("ndcg@3", "ranking").per_run(relevance, scores)
    for idx in _resamples(15, 20, 10):
        assert per_query[idx].mean() == pytest.approx(_registry("ndcg@3", "ranking", relevance[idx], scores[idx]), rel=1e-12)
