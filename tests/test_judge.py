"""The LLM-as-judge protocol (runtime/judge.py), with small deterministic judges standing in for LLMs.

The judges live in a real module next to a "spec" directory (imported as `module:function`, the way
a spec names them) and in a real script run as a command with this interpreter.
"""

from __future__ import annotations

import json
import sys
import time

import pytest

from rigorml.runtime.judge import JudgeError, JudgeItem, judge_comparison, read_human_labels, wilson_interval

MODULE = "rigorml_test_judges"

JUDGES = '''
"""Stand-ins for LLM judges: deterministic, so the protocol's numbers are exact."""
import random

SEEN = []


def prefer_longer(request):
    a, b = request["answer_a"], request["answer_b"]
    return {"verdict": "A" if len(a) > len(b) else "B" if len(b) > len(a) else "tie"}


def always_a(request):
    return "A"


def coin(request):
    # Seeded per call (item, order, repeat): a different draw for every judgement, the same on every run.
    rng = random.Random(f"{request['item_id']}|{request['answer_a']}|{request['repeat']}")
    return {"verdict": rng.choice(["A", "B", "tie"])}


def score_by_length(request):
    low, high = request["scale"]
    return {"score": min(high, max(low, len(request["answer"]) // 10))}


def out_of_scale(request):
    return {"score": request["scale"][1] + 1}


def recording(request):
    SEEN.append(request)
    return prefer_longer(request)


def broken(request):
    raise ValueError("the API said no")
'''

SCRIPT = '''
import json, sys, time
import {module} as judges

behaviour = sys.argv[1]
request = json.load(sys.stdin)
if behaviour == "exit":
    print("rate limited", file=sys.stderr)
    sys.exit(3)
if behaviour == "garbage":
    print("I think A is better")
elif behaviour == "hang":
    time.sleep(60)
elif behaviour == "no-verdict":
    print(json.dumps({{"reason": "A is longer"}}))
else:
    print(json.dumps(getattr(judges, behaviour)(request)))
'''.format(module=MODULE)


def make_items(n: int = 24) -> list[JudgeItem]:
    """Items whose answers differ in length: treatment longer on half, control on a quarter, equal on a quarter."""
    items = []
    for i in range(n):
        short, long = f"answer {i}", f"a longer answer to question {i}"
        treatment, control = [(long, short), (long, short), (short, long), (f"same {i:03d}", f"also {i:03d}")][i % 4]
        items.append(JudgeItem(f"q{i}", f"question {i}?", treatment, control))
    return items


def longer(item: JudgeItem) -> str:
    """What a person who prefers the longer answer says."""
    if len(item.treatment) == len(item.control):
        return "tie"
    return "treatment" if len(item.treatment) > len(item.control) else "control"


@pytest.fixture(scope="module")
def spec_dir(tmp_path_factory):
    """A spec directory holding the judge module, the judge script and human labels."""
    root = tmp_path_factory.mktemp("spec")
    (root / f"{MODULE}.py").write_text(JUDGES, encoding="utf-8")
    (root / "judge_cli.py").write_text(SCRIPT, encoding="utf-8")
    items = make_items()
    with (root / "labels.jsonl").open("w", encoding="utf-8") as handle:
        for item in items:
            handle.write(json.dumps({"id": item.id, "label": longer(item)}) + "\n")
    yield root
    sys.modules.pop(MODULE, None)


def judge(ref: str = "prefer_longer", **section) -> dict:
    """A resolved `llm_judge` section with the schema's defaults."""
    base = {
        "callable": f"{MODULE}:{ref}",
        "command": None,
        "model": "length-judge-2024-01-01",
        "mode": "pairwise",
        "scale": None,
        "temperature": 0.0,
        "repeats": 3,
        "position_swap": True,
        "human_agreement": {"labels": "labels.jsonl", "min_kappa": 0.6},
        "track_self_agreement": True,
        "rubric": "Prefer the better answer.",
    }
    return base | section


def command(behaviour: str, **section) -> dict:
    return judge(callable=None, command=[sys.executable, "judge_cli.py", behaviour], **section)


# --- a good judge ---------------------------------------------------------------------------------


def test_a_judge_preferring_the_longer_answer_is_consistent_unbiased_and_trusted(spec_dir):
    result = judge_comparison(judge(), make_items(), base_dir=spec_dir)
    assert result["self_agreement"]["rate"] == 1.0
    assert result["self_agreement"]["pairwise"] == 1.0
    assert result["position_bias"]["rate"] == 0.0
    assert result["position_bias"]["order_inconsistency"] == 0.0
    assert result["human_agreement"]["kappa"] == pytest.approx(1.0)
    assert result["trusted"] is True and result["judge_untrusted"] is False
    assert result["counts"] == {"items": 24, "judgements": 144, "treatment": 12, "control": 6, "tie": 6}
    assert result["win_rate"]["estimate"] == pytest.approx((12 + 0.5 * 6) / 24)
    assert result["win_rate"]["flag"] is None
    assert result["tie_rate"] == pytest.approx(0.25)


def test_the_result_records_the_judge_identity_and_protocol(spec_dir):
    result = judge_comparison(judge(), make_items(4), base_dir=spec_dir, treatment="r64", control="r8")
    assert result["judge"] == {
        "kind": "callable",
        "callable": f"{MODULE}:prefer_longer",
        "model": "length-judge-2024-01-01",
        "temperature": 0.0,
        "repeats": 3,
        "position_swap": True,
    }
    assert result["arms"] == {"treatment": "r64", "control": "r8"}
    record = result["items"][0]
    assert record["orders"] == {"treatment_first": ["A"] * 3, "control_first": ["B"] * 3}
    assert record["votes"] == {"treatment": 6, "control": 0, "tie": 0}
    assert record["verdict"] == "treatment"
    json.dumps(result)  # JSON-ready


def test_human_agreement_comes_before_the_verdict_in_the_result(spec_dir):
    keys = list(judge_comparison(judge(), make_items(4), base_dir=spec_dir))
    assert keys.index("human_agreement") < keys.index("trusted") < keys.index("win_rate")


def test_every_request_carries_the_item_answers_rubric_temperature_and_repeat(spec_dir):
    (spec_dir / "rubric.md").write_text("Prefer the longer answer.\n", encoding="utf-8")
    judge_comparison(judge("recording", rubric="rubric.md"), make_items(1), base_dir=spec_dir)
    seen = sys.modules[MODULE].SEEN
    assert [(r["answer_a"], r["repeat"]) for r in seen] == [
        ("a longer answer to question 0", 0),
        ("a longer answer to question 0", 1),
        ("a longer answer to question 0", 2),
        ("answer 0", 0),
        ("answer 0", 1),
        ("answer 0", 2),
    ]
    first = seen[0]
    assert set(first) == {"mode", "item_id", "prompt", "answer_a", "answer_b", "rubric", "model", "temperature", "repeat"}
    assert first["item_id"] == "q0" and first["prompt"] == "question 0?" and first["answer_b"] == "answer 0"
    assert first["rubric"] == "Prefer the longer answer.\n"  # read from the file the spec names
    assert first["temperature"] == 0.0 and first["model"] == "length-judge-2024-01-01"
    assert "treatment" not in json.dumps(first)  # the judge is blind to which arm is which


def test_the_same_items_give_the_same_result(spec_dir):
    first = judge_comparison(judge("coin"), make_items(), base_dir=spec_dir)
    second = judge_comparison(judge("coin"), make_items(), base_dir=spec_dir)
    assert json.dumps(first) == json.dumps(second)


# --- biased and noisy judges -------------------------------------------------------------------------


def test_a_judge_that_always_answers_a_shows_a_position_bias_of_one(spec_dir):
    result = judge_comparison(judge("always_a"), make_items(), base_dir=spec_dir)
    assert result["position_bias"]["rate"] == 1.0
    assert result["position_bias"]["first_position_share"] == 1.0
    assert len(result["position_bias"]["items"]) == 24
    # Consistent with itself, but every preference is for a position: the swap cancels it to ties.
    assert result["self_agreement"]["rate"] == 1.0
    assert result["self_agreement"]["fleiss_kappa"] is None  # one answer throughout: chance agreement is 1
    assert result["counts"]["tie"] == 24 and result["tie_rate"] == 1.0
    assert result["win_rate"]["estimate"] == 0.5
    assert result["trusted"] is False and result["judge_untrusted"] is True


def test_a_random_judge_has_low_self_agreement_and_is_untrusted(spec_dir):
    result = judge_comparison(judge("coin"), make_items(), base_dir=spec_dir)
    assert result["self_agreement"]["rate"] < 0.3  # 1/9 expected for three repeats of three answers
    assert abs(result["self_agreement"]["fleiss_kappa"]) < 0.15
    assert result["human_agreement"]["kappa"] < 0.3
    assert result["trusted"] is False and result["judge_untrusted"] is True
    assert "below min_kappa 0.6" in result["win_rate"]["flag"]
    assert 0 <= result["win_rate"]["estimate"] <= 1  # reported, but flagged


def test_fleiss_kappa_matches_statsmodels(spec_dir):
    inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
    result = judge_comparison(judge("coin"), make_items(), base_dir=spec_dir)
    table = [[cell.count(a) for a in ("A", "B", "tie")] for r in result["items"] for cell in r["orders"].values()]
    assert result["self_agreement"]["fleiss_kappa"] == pytest.approx(inter_rater.fleiss_kappa(table, method="fleiss"))


def test_without_position_swap_bias_is_not_measured_and_a_note_says_why(spec_dir):
    result = judge_comparison(judge("always_a", position_swap=False), make_items(4), base_dir=spec_dir)
    assert result["position_bias"] is None
    assert result["counts"]["judgements"] == 12
    assert result["counts"]["treatment"] == 4  # the position preference landed on the treatment
    assert any("position_swap is off" in note for note in result["notes"])


def test_one_repeat_reports_no_self_agreement(spec_dir):
    result = judge_comparison(judge(repeats=1), make_items(4), base_dir=spec_dir)
    assert result["self_agreement"] is None
    assert any("repeats is 1" in note for note in result["notes"])


# --- temperature ------------------------------------------------------------------------------------


def test_a_temperature_above_zero_is_refused_before_the_judge_is_called(spec_dir):
    seen = len(sys.modules[MODULE].SEEN) if MODULE in sys.modules else 0
    with pytest.raises(JudgeError, match=r"temperature 0 only.*LLM003.*`llm_judge.temperature: 0`"):
        judge_comparison(judge("recording", temperature=0.7), make_items(2), base_dir=spec_dir)
    assert (len(sys.modules[MODULE].SEEN) if MODULE in sys.modules else 0) == seen


# --- command judges -----------------------------------------------------------------------------------


def test_a_command_judge_gives_the_callable_judge_result(spec_dir):
    items = make_items(6)
    by_command = judge_comparison(command("prefer_longer"), items, base_dir=spec_dir)
    by_callable = judge_comparison(judge(), items, base_dir=spec_dir)
    assert by_command["judge"]["command"] == [sys.executable, "judge_cli.py", "prefer_longer"]
    assert by_command["judge"]["kind"] == "command"
    by_command.pop("judge"), by_callable.pop("judge")
    assert by_command == by_callable


def test_a_command_that_exits_non_zero_names_the_item_and_shows_stderr(spec_dir):
    with pytest.raises(JudgeError, match=r"judge command .* exited with status 3 on item 'q0': rate limited") as info:
        judge_comparison(command("exit"), make_items(2), base_dir=spec_dir)
    assert info.value.item == "q0"


def test_a_command_that_prints_garbage_names_the_item(spec_dir):
    with pytest.raises(JudgeError, match=r"not JSON on item 'q0': 'I think A is better'"):
        judge_comparison(command("garbage"), make_items(2), base_dir=spec_dir)


def test_a_command_answer_without_a_verdict_names_the_missing_field(spec_dir):
    with pytest.raises(JudgeError, match=r"on item 'q0' without a `verdict` field"):
        judge_comparison(command("no-verdict"), make_items(2), base_dir=spec_dir)


def test_a_command_that_hangs_is_killed_after_the_timeout(spec_dir):
    start = time.monotonic()
    with pytest.raises(JudgeError, match=r"no answer within 0.5 s on item 'q0'"):
        judge_comparison(command("hang"), make_items(2), base_dir=spec_dir, timeout_s=0.5)
    assert time.monotonic() - start < 10


def test_a_callable_that_raises_names_the_item_and_the_judge(spec_dir):
    with pytest.raises(JudgeError, match=rf"judge {MODULE}:broken raised ValueError on item 'q0': the API said no"):
        judge_comparison(judge("broken"), make_items(2), base_dir=spec_dir)


def test_an_answer_outside_the_protocol_is_refused(spec_dir):
    with pytest.raises(JudgeError, match=r"answered 'A' on item 'q0'; a score is a number in the scale \[1, 5\]"):
        judge_comparison(judge("always_a", mode="absolute", scale=[1, 5]), make_items(2), base_dir=spec_dir)


# --- human labels -----------------------------------------------------------------------------------


def test_items_missing_from_the_labels_are_reported(spec_dir):
    items = make_items()
    labelled = {item.id: longer(item) for item in items[2:]} | {"q99": "tie"}
    (spec_dir / "partial.jsonl").write_text("".join(json.dumps({"id": k, "label": v}) + "\n" for k, v in labelled.items()))
    result = judge_comparison(
        judge(human_agreement={"labels": "partial.jsonl", "min_kappa": 0.6}), items, base_dir=spec_dir
    )
    human = result["human_agreement"]
    assert human["missing_from_labels"] == ["q0", "q1"]
    assert human["labelled_not_judged"] == ["q99"]
    assert human["n"] == 22 and human["kappa"] == pytest.approx(1.0)
    assert "human_label" not in result["items"][0] and result["items"][4]["human_label"] == "treatment"


def test_csv_labels_may_name_the_arms(spec_dir):
    rows = ["item_id,label"] + [f"{i.id},{ {'treatment': 'r64', 'control': 'r8'}.get(longer(i), 'TIE') }" for i in make_items()]
    (spec_dir / "labels.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert read_human_labels(spec_dir / "labels.csv", ("r64", "r8")) == {i.id: longer(i) for i in make_items()}


def test_an_unknown_label_is_refused_with_its_line(spec_dir):
    (spec_dir / "bad.jsonl").write_text('{"id": "q0", "label": "tie"}\n{"id": "q1", "label": "A"}\n')
    with pytest.raises(JudgeError, match=r"bad.jsonl:2: label 'A' of item 'q1' is not one of"):
        read_human_labels(spec_dir / "bad.jsonl")


def test_a_missing_labels_file_is_refused_before_judging(spec_dir):
    with pytest.raises(JudgeError, match=r"resolved against the spec's directory"):
        judge_comparison(judge("broken", human_agreement={"labels": "nope.jsonl"}), make_items(2), base_dir=spec_dir)


def test_without_human_labels_the_win_rate_is_flagged_but_not_untrusted(spec_dir):
    result = judge_comparison(judge(human_agreement=None), make_items(4), base_dir=spec_dir)
    assert result["trusted"] is None and result["judge_untrusted"] is False
    assert "not validated" in result["win_rate"]["flag"]


# --- win rate ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("successes, n", [(15.0, 24), (0, 10), (10, 10), (7.5, 13), (1, 2)])
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_the_win_rate_interval_is_statsmodels_wilson(successes, n, confidence):
    proportion = pytest.importorskip("statsmodels.stats.proportion")
    expected = proportion.proportion_confint(successes, n, alpha=1 - confidence, method="wilson")
    assert wilson_interval(successes, n, confidence) == pytest.approx(expected, abs=1e-12)


def test_the_result_interval_is_the_wilson_interval_of_wins_plus_half_ties(spec_dir):
    result = judge_comparison(judge(), make_items(), base_dir=spec_dir, confidence=0.9)
    assert result["win_rate"]["ci"] == pytest.approx(list(wilson_interval(12 + 3, 24, 0.9)))
    assert result["win_rate"]["method"] == "wilson" and result["win_rate"]["confidence"] == 0.9


# --- absolute mode ---------------------------------------------------------------------------------------


def test_absolute_mode_reports_mean_scores_and_a_paired_difference(spec_dir):
    items = make_items(8)
    result = judge_comparison(judge("score_by_length", mode="absolute", scale=[0, 5]), items, base_dir=spec_dir)
    scores = {i.id: (min(5, len(i.treatment) // 10), min(5, len(i.control) // 10)) for i in items}
    differences = [t - c for t, c in scores.values()]
    assert result["scores"]["treatment"]["mean"] == pytest.approx(sum(t for t, _ in scores.values()) / 8)
    assert result["scores"]["control"]["mean"] == pytest.approx(sum(c for _, c in scores.values()) / 8)
    assert result["scores"]["difference"]["mean"] == pytest.approx(sum(differences) / 8)
    low, high = result["scores"]["difference"]["ci"]
    assert low < result["scores"]["difference"]["mean"] < high
    assert result["self_agreement"]["rate"] == 1.0
    assert result["judge"]["scale"] == [0, 5] and "position_bias" not in result
    assert result["human_agreement"]["kappa"] == pytest.approx(1.0)  # the higher score names the longer answer


def test_absolute_scores_outside_the_scale_are_refused(spec_dir):
    with pytest.raises(JudgeError, match=r"answered 6 on item 'q0'"):
        judge_comparison(judge("out_of_scale", mode="absolute", scale=[1, 5]), make_items(2), base_dir=spec_dir)
