"""The metric registry: every metric of the vocabulary computed for each of its tasks, each checked
against a reference library or a published / hand-computed example, and bad inputs refused clearly."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rigorml.runtime import metrics_tasks
from rigorml.runtime.metrics import (
    COMPUTED_ELSEWHERE,
    MetricUnavailableError,
    higher_is_better,
    metric_function,
    pad_per_image,
)
from rigorml.schemas.vocabulary import METRICS, TASKS


def compute(name: str, task: str, y_true, scores) -> float:
    fn = metric_function(name, task)
    assert fn is not None, f"no implementation of {name} for {task}"
    return fn(y_true, scores)


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


#: A small valid input of each task, in its saved format.
def _example(task: str):
    rng = _rng(1)
    if task == "classification":
        return np.array([0, 1, 2, 1, 0, 2, 2, 1]), rng.normal(size=(8, 3))
    if task == "regression":
        return np.array([3.0, 1.5, 2.0, 7.0]), np.array([2.5, 1.0, 2.0, 8.0])
    if task == "ranking":
        return np.array([[0, 1, 2, -1], [1, 0, 0, 1]]), rng.normal(size=(2, 4))
    if task == "detection":
        truth = pad_per_image([[[0, 0, 10, 10, 0]], [[5, 5, 20, 20, 1], [30, 30, 40, 40, 0]]], 5)
        found = pad_per_image([[[0, 0, 10, 9, 0.9, 0]], [[5, 5, 20, 20, 0.8, 1]]], 6)
        return truth, found
    if task == "generation":
        return np.array(["the cat sat on the mat", "a dog barked"]), np.array(["the cat sat on a mat", "a dog barked"])
    if task == "language_modeling":
        targets = rng.integers(0, 5, size=(2, 4))
        targets[1, 3] = -100
        return targets, rng.normal(size=(2, 4, 5))
    raise AssertionError(task)


# --- the registry ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,task",
    [
        (info.name + suffix, task)
        for info in METRICS.values()
        if info.name not in COMPUTED_ELSEWHERE and info.name != "bertscore_f1"
        for task in info.tasks
        for suffix in (("", "@2") if info.takes_k else ("",))
    ],
)
def test_every_vocabulary_metric_is_computed_for_each_of_its_tasks(name, task):
    # Perplexity reads token log-likelihoods whichever task names it, never text.
    value = compute(name, task, *_example("language_modeling" if name == "perplexity" else task))
    assert isinstance(value, float) and math.isfinite(value)


def test_loss_and_win_rate_are_listed_as_computed_elsewhere_and_nothing_else_is():
    assert set(COMPUTED_ELSEWHERE) == {"loss", "win_rate"}
    assert "training loop" in COMPUTED_ELSEWHERE["loss"] and "LLM judge" in COMPUTED_ELSEWHERE["win_rate"]
    for task in TASKS:
        assert metric_function("loss", task) is None
    assert metric_function("win_rate", "generation") is None


def test_a_metric_of_another_task_or_an_unknown_name_has_no_function():
    assert metric_function("accuracy", "regression") is None
    assert metric_function("ndcg@10", "classification") is None
    assert metric_function("accuracy@3", "classification") is None
    assert metric_function("no_such_metric", "ranking") is None


def test_higher_is_better_reads_the_vocabulary():
    for info in METRICS.values():
        assert higher_is_better(info.name) is info.higher_is_better
    assert higher_is_better("ndcg@10") is True
    assert higher_is_better("perplexity") is False and higher_is_better("mae") is False


def test_higher_is_better_refuses_an_unknown_name():
    with pytest.raises(ValueError, match="unknown metric 'ndgc'"):
        higher_is_better("ndgc")


@pytest.mark.parametrize("task", TASKS)
def test_the_saved_format_of_every_task_survives_npz_without_pickle(task, tmp_path):
    y_true, scores = _example(task)
    np.savez(tmp_path / "test.npz", ids=np.arange(len(y_true)), y_true=y_true, scores=scores)
    with np.load(tmp_path / "test.npz", allow_pickle=False) as saved:
        loaded_true, loaded_scores = saved["y_true"], saved["scores"]
    name = {"classification": "auroc", "regression": "rmse", "ranking": "ndcg@2", "detection": "map",
            "generation": "rouge2", "language_modeling": "perplexity"}[task]
    assert compute(name, task, loaded_true, loaded_scores) == compute(name, task, y_true, scores)


# --- classification -------------------------------------------------------------------------------


def test_binary_auroc_and_auprc_use_the_positive_class_probability():
    from sklearn.metrics import average_precision_score, roc_auc_score

    y, logits = np.array([0, 1, 1, 0, 1, 0, 1, 1]), _rng(2).normal(size=(8, 2))
    positive = np.exp(logits[:, 1]) / np.exp(logits).sum(axis=1)
    assert compute("auroc", "classification", y, logits) == pytest.approx(roc_auc_score(y, positive))
    assert compute("auprc", "classification", y, logits) == pytest.approx(average_precision_score(y, positive))
    assert compute("auroc", "classification", y, positive) == pytest.approx(roc_auc_score(y, positive))


def test_multiclass_auroc_and_auprc_are_one_vs_rest_macro_as_torchmetrics():
    from torchmetrics.functional.classification import multiclass_auroc, multiclass_average_precision

    y, logits = _rng(3).integers(0, 4, size=60), _rng(4).normal(size=(60, 4))
    probs, target = torch.softmax(torch.tensor(logits), dim=1), torch.tensor(y)
    expected_auroc = multiclass_auroc(probs, target, num_classes=4, average="macro", thresholds=None)
    expected_auprc = multiclass_average_precision(probs, target, num_classes=4, average="macro", thresholds=None)
    assert compute("auroc", "classification", y, logits) == pytest.approx(float(expected_auroc), abs=1e-6)
    assert compute("auprc", "classification", y, logits) == pytest.approx(float(expected_auprc), abs=1e-6)


def test_log_loss_is_the_mean_cross_entropy_of_the_logits():
    y, logits = _rng(5).integers(0, 3, size=20), _rng(6).normal(size=(20, 3))
    expected = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(y))
    assert compute("log_loss", "classification", y, logits) == pytest.approx(float(expected))


def test_classification_refuses_mismatched_and_empty_inputs():
    with pytest.raises(ValueError, match="3 targets but 2 rows"):
        compute("f1_macro", "classification", np.array([0, 1, 1]), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="no examples"):
        compute("accuracy", "classification", np.array([], dtype=int), np.zeros((0, 2)))
    with pytest.raises(ValueError, match=r"positive-class probabilities in \[0, 1\]"):
        compute("log_loss", "classification", np.array([0, 1]), np.array([-2.0, 3.0]))


# --- regression -----------------------------------------------------------------------------------


def test_regression_metrics_match_the_scikit_learn_documentation_example():
    # y_true = [3, -0.5, 2, 7], y_pred = [2.5, 0.0, 2, 8]: the example in scikit-learn's user guide.
    y, predicted = np.array([3, -0.5, 2, 7]), np.array([2.5, 0.0, 2, 8])
    assert compute("mae", "regression", y, predicted) == pytest.approx(0.5)
    assert compute("mse", "regression", y, predicted) == pytest.approx(0.375)
    assert compute("rmse", "regression", y, predicted) == pytest.approx(math.sqrt(0.375))
    assert compute("r2", "regression", y, predicted.reshape(-1, 1)) == pytest.approx(0.9486081370449679)
    assert compute("mape", "regression", y, predicted) == pytest.approx(0.3273809523809524)


def test_regression_refuses_a_length_mismatch():
    with pytest.raises(ValueError, match="4 targets but 3 rows"):
        compute("mae", "regression", np.zeros(4), np.zeros(3))


# --- ranking --------------------------------------------------------------------------------------


def test_ndcg_reproduces_the_worked_example_of_the_ndcg_article():
    # Wikipedia's "Discounted cumulative gain" example: ranked relevances 3, 2, 3, 0, 1, 2 (DCG 6.861)
    # plus two unranked documents of relevance 3 and 2 (ideal DCG@6 8.740): nDCG@6 = 0.785.
    relevance = np.array([[3, 2, 3, 0, 1, 2, 3, 2]])
    scores = np.arange(8, 0, -1, dtype=float)[None, :]
    assert compute("ndcg@6", "ranking", relevance, scores) == pytest.approx(6.861 / 8.740, abs=5e-4)
    dcg6 = sum(r / math.log2(i + 2) for i, r in enumerate([3, 2, 3, 0, 1, 2]))
    assert dcg6 == pytest.approx(6.861, abs=5e-4)


def test_ndcg_on_ragged_lists_equals_torchmetrics_normalized_dcg():
    from torchmetrics.retrieval import RetrievalNormalizedDCG

    rng = _rng(7)
    relevance, scores = rng.integers(0, 4, size=(12, 9)).astype(float), rng.normal(size=(12, 9))
    lengths = rng.integers(3, 10, size=12)
    for q, n in enumerate(lengths):
        relevance[q, n:] = -1
    real = relevance >= 0
    queries = torch.tensor(np.nonzero(real)[0])
    for k in (None, 3, 9):
        reference = RetrievalNormalizedDCG(top_k=k, empty_target_action="neg")
        reference.update(torch.tensor(scores[real]), torch.tensor(relevance[real]).long(), indexes=queries)
        name = "ndcg" if k is None else f"ndcg@{k}"
        assert compute(name, "ranking", relevance, scores) == pytest.approx(float(reference.compute()), abs=1e-6)


def test_mrr_precision_recall_and_hit_rate_match_a_hand_computed_example():
    # Query 0 ranks a relevant candidate 2nd (of 3, one padding); query 1 ranks relevant ones 3rd and 4th.
    relevance = np.array([[0, 1, 0, -1], [0, 0, 1, 1]])
    scores = np.array([[0.9, 0.8, 0.1, 0.0], [0.9, 0.8, 0.7, 0.6]])
    assert compute("mrr", "ranking", relevance, scores) == pytest.approx((1 / 2 + 1 / 3) / 2)
    assert compute("precision@3", "ranking", relevance, scores) == pytest.approx((1 / 3 + 1 / 3) / 2)
    assert compute("precision@4", "ranking", relevance, scores) == pytest.approx((1 / 4 + 2 / 4) / 2)
    assert compute("recall@3", "ranking", relevance, scores) == pytest.approx((1 + 1 / 2) / 2)
    assert compute("hit_rate@1", "ranking", relevance, scores) == 0.0
    assert compute("hit_rate@2", "ranking", relevance, scores) == pytest.approx(0.5)


def test_a_query_without_relevant_candidates_scores_zero():
    relevance, scores = np.array([[1, 0], [0, 0]]), np.array([[0.9, 0.1], [0.9, 0.1]])
    for name in ("ndcg", "mrr", "precision@1", "recall@1", "hit_rate@1"):
        assert compute(name, "ranking", relevance, scores) == pytest.approx(0.5), name


def test_ranking_refuses_k_past_the_lists_mismatched_shapes_and_empty_input():
    relevance, scores = np.array([[1, 0, 0]]), np.array([[0.3, 0.2, 0.1]])
    with pytest.raises(ValueError, match="ndcg@5 asks for the top 5, but the saved lists hold at most 3"):
        compute("ndcg@5", "ranking", relevance, scores)
    with pytest.raises(ValueError, match=r"must both be \[queries, candidates\]"):
        compute("mrr", "ranking", relevance, scores[:, :2])
    with pytest.raises(ValueError, match="no queries"):
        compute("mrr", "ranking", np.zeros((0, 3)), np.zeros((0, 3)))
    with pytest.raises(ValueError, match="query 1 has no candidates"):
        compute("recall@1", "ranking", np.array([[1, 0], [-1, -1]]), np.zeros((2, 2)))


# --- detection ------------------------------------------------------------------------------------


def _boxes(*per_image, scored: bool):
    return pad_per_image(list(per_image), 6 if scored else 5)


def test_perfect_detections_have_map_one():
    truth = _boxes([[10, 10, 50, 60, 0], [70, 20, 90, 40, 1]], [[0, 0, 30, 30, 1]], scored=False)
    found = _boxes([[10, 10, 50, 60, 0.9, 0], [70, 20, 90, 40, 0.8, 1]], [[0, 0, 30, 30, 0.7, 1]], scored=True)
    for name in ("map", "map_50", "map_75"):
        assert compute(name, "detection", truth, found) == pytest.approx(1.0)


def test_a_box_with_iou_072_counts_at_five_of_the_ten_coco_thresholds():
    # IoU = 72/100: a hit at 0.50, 0.55, ..., 0.70 and a miss at 0.75, ..., 0.95.
    truth = _boxes([[0, 0, 100, 100, 0]], scored=False)
    found = _boxes([[0, 0, 100, 72, 0.9, 0]], scored=True)
    assert compute("map_50", "detection", truth, found) == pytest.approx(1.0)
    assert compute("map_75", "detection", truth, found) == pytest.approx(0.0)
    assert compute("map", "detection", truth, found) == pytest.approx(0.5)


def test_a_false_positive_ranked_between_two_hits_gives_cocos_101_point_average_precision():
    # Ranked: hit (0.9), false positive (0.8), hit (0.7). Interpolated precision is 1 up to recall
    # 0.5 (51 of COCO's 101 recall points) and 2/3 after it (50 points).
    truth = _boxes([[0, 0, 10, 10, 0]], [[0, 0, 10, 10, 0]], scored=False)
    found = _boxes([[0, 0, 10, 10, 0.9, 0]], [[50, 50, 60, 60, 0.8, 0], [0, 0, 10, 10, 0.7, 0]], scored=True)
    expected = (51 * 1.0 + 50 * 2 / 3) / 101
    for name in ("map", "map_50", "map_75"):
        assert compute(name, "detection", truth, found) == pytest.approx(expected)


def test_map_averages_over_the_labels_with_ground_truth():
    truth = _boxes([[0, 0, 10, 10, 0], [20, 20, 30, 30, 1]], scored=False)
    found = _boxes([[0, 0, 10, 10, 0.9, 0]], scored=True)  # label 1 is never detected
    assert compute("map", "detection", truth, found) == pytest.approx(0.5)
    assert compute("map", "detection", truth, _boxes([], scored=True)) == 0.0


def test_detection_refuses_bad_shapes_image_count_mismatch_and_no_ground_truth():
    truth = _boxes([[0, 0, 10, 10, 0]], scored=False)
    found = _boxes([[0, 0, 10, 10, 0.9, 0]], scored=True)
    with pytest.raises(ValueError, match=r"\[images, detections, 6\]"):
        compute("map", "detection", truth, found[..., :5])
    with pytest.raises(ValueError, match="ground truth for 1 images but detections for 2"):
        compute("map", "detection", truth, np.concatenate([found, found]))
    with pytest.raises(ValueError, match="no ground-truth boxes"):
        compute("map", "detection", _boxes([], scored=False), found[:, :0])
    with pytest.raises(ValueError, match="x2 < x1"):
        compute("map", "detection", _boxes([[10, 0, 0, 10, 0]], scored=False), found)


# --- generation -----------------------------------------------------------------------------------


def test_rouge_matches_a_hand_computed_example():
    # "the cat sat" against "the cat sat on": unigrams P 3/3, R 3/4 (F 6/7); bigrams P 2/2, R 2/3 (F 0.8).
    references, predictions = np.array(["the cat sat on"]), np.array(["the cat sat"])
    assert compute("rouge1", "generation", references, predictions) == pytest.approx(6 / 7)
    assert compute("rouge2", "generation", references, predictions) == pytest.approx(0.8)
    assert compute("rougeL", "generation", references, predictions) == pytest.approx(6 / 7)


def test_rouge_equals_torchmetrics_rouge_score():
    from torchmetrics.text import ROUGEScore

    references = ["police killed the gunman", "the quick brown fox jumps over the lazy dog", "a b c d e f"]
    predictions = ["the gunman was shot dead by police", "the fast brown fox leaps over a lazy dog", "a c e b d f"]
    reference = ROUGEScore(rouge_keys=("rouge1", "rouge2", "rougeL"))(predictions, references)
    for name in ("rouge1", "rouge2", "rougeL"):
        value = compute(name, "generation", np.array(references), np.array(predictions))
        assert value == pytest.approx(float(reference[f"{name}_fmeasure"]), abs=1e-6)


def test_rouge_with_several_references_takes_the_closest():
    references = np.array([["a completely different sentence", "the cat sat on"], ["the cat sat on", ""]])
    predictions = np.array(["the cat sat", "the cat sat"])
    assert compute("rouge1", "generation", references, predictions) == pytest.approx(6 / 7)


def test_bleu_equals_nltk_corpus_bleu_on_tokenized_text():
    from nltk.translate.bleu_score import corpus_bleu

    references = [["the cat is on the mat .", "there is a cat on the mat ."], ["he read the book because he was interested in world history", ""]]
    predictions = ["the cat sat on the mat .", "he was interested in world history because he read the book"]
    expected = corpus_bleu([[r.split() for r in refs if r] for refs in references], [p.split() for p in predictions])
    assert compute("bleu", "generation", np.array(references), np.array(predictions)) == pytest.approx(expected, abs=1e-6)
    assert compute("bleu", "generation", np.array(predictions), np.array(predictions)) == pytest.approx(1.0)


def test_exact_match_ignores_surrounding_whitespace_and_accepts_any_reference():
    references = np.array([["Paris", ""], ["4", "four"], ["blue", ""]])
    predictions = np.array([" Paris\n", "four", "Blue"])
    assert compute("exact_match", "generation", references, predictions) == pytest.approx(2 / 3)


def test_generation_refuses_numbers_mismatched_lengths_and_empty_input():
    with pytest.raises(ValueError, match="rouge1 takes strings"):
        compute("rouge1", "generation", np.array([1, 2]), np.array(["a", "b"]))
    with pytest.raises(ValueError, match="2 references but 1 generated texts"):
        compute("bleu", "generation", np.array(["a", "b"]), np.array(["a"]))
    with pytest.raises(ValueError, match="no examples"):
        compute("rougeL", "generation", np.array([], dtype=str), np.array([], dtype=str))
    with pytest.raises(ValueError, match="example 0 has no reference"):
        compute("rouge2", "generation", np.array([["", ""]]), np.array(["a"]))


def test_bertscore_without_a_local_model_says_how_to_provide_one(monkeypatch, tmp_path):
    monkeypatch.delenv(metrics_tasks.BERTSCORE_MODEL_ENV, raising=False)
    with pytest.raises(MetricUnavailableError, match="set RIGORML_BERTSCORE_MODEL to the directory of a Hugging Face model") as info:
        metric_function("bertscore_f1", "generation")
    assert "never downloads" in str(info.value)
    monkeypatch.setenv(metrics_tasks.BERTSCORE_MODEL_ENV, str(tmp_path / "missing"))
    with pytest.raises(MetricUnavailableError, match="is not a directory"):
        metric_function("bertscore_f1", "generation")


# --- language modeling ----------------------------------------------------------------------------


def _tokens(seed: int = 8):
    rng = _rng(seed)
    logits, targets = rng.normal(size=(3, 6, 11)) * 3, rng.integers(0, 11, size=(3, 6))
    targets[0, 4:] = -100
    targets[2, 1:] = -100
    return targets, logits


def test_perplexity_from_logits_equals_torchmetrics_perplexity():
    from torchmetrics.text import Perplexity

    targets, logits = _tokens()
    expected = Perplexity(ignore_index=-100)(torch.tensor(logits), torch.tensor(targets))
    assert compute("perplexity", "language_modeling", targets, logits) == pytest.approx(float(expected), rel=1e-6)


def test_perplexity_from_saved_token_log_likelihoods_equals_the_logits_path():
    targets, logits = _tokens()
    picked = np.take_along_axis(_log_softmax(logits), np.where(targets < 0, 0, targets)[..., None], axis=-1)[..., 0]
    nll = np.where(targets == -100, np.nan, -picked)  # whatever sits at padding is ignored
    from_nll = compute("perplexity", "generation", targets, nll)
    assert from_nll == pytest.approx(compute("perplexity", "language_modeling", targets, logits), rel=1e-12)


def test_a_uniform_model_has_perplexity_equal_to_its_vocabulary_size():
    targets = _rng(9).integers(0, 50, size=(4, 7))
    assert compute("perplexity", "language_modeling", targets, np.zeros((4, 7, 50))) == pytest.approx(50.0)


def test_token_exact_match_counts_whole_sequences_and_skips_padding():
    targets = np.array([[1, 2, -100], [3, 4, 5], [0, 0, 0]])
    predicted = np.array([[1, 2, 9], [3, 4, 0], [0, 0, 0]])
    assert compute("exact_match", "language_modeling", targets, predicted) == pytest.approx(2 / 3)
    logits = np.eye(10)[predicted] * 5.0
    assert compute("exact_match", "language_modeling", targets, logits) == pytest.approx(2 / 3)


def test_language_modeling_refuses_bad_inputs():
    targets, logits = _tokens()
    with pytest.raises(ValueError, match=r"must be \[sequences, length\] or \[sequences, length, vocab\]"):
        compute("perplexity", "language_modeling", targets, logits[:, :5])
    with pytest.raises(ValueError, match="no target tokens"):
        compute("perplexity", "language_modeling", np.full((2, 3), -100), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"target ids must lie in \[0, vocab\)"):
        compute("perplexity", "language_modeling", np.array([[11]]), np.zeros((1, 1, 11)))
    with pytest.raises(ValueError, match="not text"):
        compute("perplexity", "generation", np.array(["a"]), np.array(["a"]))
    with pytest.raises(ValueError, match="not per-token negative log-likelihoods"):
        compute("exact_match", "language_modeling", targets, np.ones(targets.shape))
