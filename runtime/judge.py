"""LLM-as-judge: compare two arms' outputs item by item with a judge, and say how far to trust it.

The protocol follows the domain document's LLM-evaluation practices:

* **Pairwise** (the recommended mode): each item's two answers are judged as (A = treatment,
  B = control) and, with ``position_swap``, again as (A = control, B = treatment); each order
  ``repeats`` times (default 3). Answers (``"A"``, ``"B"``, ``"tie"``) are mapped back to the arms.
* **Temperature 0**: the spec's schema accepts 0-2 and the linter warns (LLM003); the runtime
  refuses anything above 0, before calling the judge once.
* **Meta-metrics**: self-agreement across repeats, position bias (verdicts that follow a position
  rather than an answer), the tie rate.
* **Human agreement first**: when ``human_agreement.labels`` is declared, Cohen's kappa between the
  judge's item verdicts and the human labels is computed before any verdict is reported; below
  ``min_kappa`` the judge is untrusted, the win rate carries a flag and ``judge_untrusted`` is set.
* **Absolute** mode scores each arm's answer on the declared scale; per-arm means and a paired
  difference over items (plus the same win rate, from which arm scored higher on each item).

A judge is one small plug-in behind :class:`Judge`: a ``module:function`` called in-process
(:class:`CallableJudge`) or a command speaking one JSON request on stdin, one JSON answer on stdout
(:class:`CommandJudge`). :func:`judge_comparison` runs the protocol and returns JSON-ready data;
for a deterministic judge the same items give the same dict.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Any, Iterable, Mapping, Protocol, Sequence

from .config import importable_from, resolve_callable

#: What a pairwise judge may answer (case-insensitive on input).
PAIRWISE_ANSWERS = ("A", "B", "tie")

#: An item's verdict, and the vocabulary of human labels (arm names are accepted for the first two).
VERDICTS = ("treatment", "control", "tie")

#: The two orders an item is judged in: which arm's answer is shown as A.
TREATMENT_FIRST, CONTROL_FIRST = "treatment_first", "control_first"

#: Seconds a command judge gets for one judgement unless the caller says otherwise.
DEFAULT_TIMEOUT_S = 60.0

_RUBRIC_SUFFIXES = (".md", ".txt", ".rst")


class JudgeError(RuntimeError):
    """The judge cannot be run, refused its configuration, or answered something unusable.

    ``item`` is the id of the item being judged when it happened (None for configuration errors),
    ``judge`` a short description of the judge; both are in the message too.
    """

    def __init__(self, message: str, *, item: str | None = None, judge: str | None = None):
        super().__init__(message)
        self.item = item
        self.judge = judge


@dataclass(frozen=True)
class JudgeItem:
    """One item to judge: its id, the prompt both arms answered, and each arm's answer."""

    id: str
    prompt: str
    treatment: str
    control: str


# --- judges -----------------------------------------------------------------------------------------


class Judge(Protocol):
    """A judge: called with one request (a JSON-ready dict), returns one answer.

    ``identity`` is JSON-ready and names the judge in results; ``label`` names it in errors.
    """

    identity: dict
    label: str

    def __call__(self, request: dict) -> Any: ...


class CallableJudge:
    """A ``module:function`` judge, imported relative to ``base_dir`` (the spec's directory) first,
    the way data sources and model factories are (:func:`rigorml.runtime.config.resolve_callable`).

    The function is called with the request dict and returns the answer: ``{"verdict": "A"}`` /
    ``{"score": 4}``, or the bare ``"A"`` / ``4``. Whatever it raises becomes a :class:`JudgeError`.
    """

    def __init__(self, reference: str, base_dir: str | Path = ".", model: str | None = None):
        self.reference = reference
        self.base_dir = Path(base_dir)
        self.identity = {"kind": "callable", "callable": reference, "model": model}
        self.label = f"judge {reference}"
        try:
            self._function = resolve_callable(reference, self.base_dir)
        except (ImportError, AttributeError, TypeError, ValueError) as error:
            raise JudgeError(f"{self.label}: {error}", judge=self.label) from error

    def __call__(self, request: dict) -> Any:
        try:
            with importable_from(self.base_dir):
                return self._function(request)
        except Exception as error:  # a user's judge may raise anything; say which item it was judging
            raise JudgeError(
                f"{self.label} raised {type(error).__name__} on item {request['item_id']!r}: {error}",
                item=request["item_id"],
                judge=self.label,
            ) from error


class CommandJudge:
    """A judge run as a command (argv list) in ``base_dir``: one JSON request on stdin, one JSON
    answer on stdout, for every judgement.

    A non-zero exit (with the end of its stderr), nothing or something other than JSON on stdout,
    or no answer within ``timeout_s`` seconds (the command and anything it started are killed) is a
    :class:`JudgeError` naming the item.
    """

    def __init__(
        self,
        argv: Sequence[str],
        base_dir: str | Path = ".",
        model: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ):
        if not argv or not all(isinstance(part, str) for part in argv):
            raise JudgeError(f"a judge command is a non-empty list of strings, not {argv!r}")
        self.argv = list(argv)
        self.base_dir = Path(base_dir)
        self.timeout_s = float(timeout_s)
        self.identity = {"kind": "command", "command": self.argv, "model": model}
        self.label = f"judge command {self.argv}"

    def __call__(self, request: dict) -> Any:
        item = request["item_id"]
        payload = json.dumps(request, ensure_ascii=False).encode("utf-8")
        try:
            # A session of its own: on timeout the whole group goes, so a child the command started
            # cannot keep stdout open and turn the timeout into a hang.
            process = subprocess.Popen(
                self.argv,
                cwd=self.base_dir,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=hasattr(os, "killpg"),
            )
        except OSError as error:
            raise JudgeError(f"{self.label} cannot be started on item {item!r}: {error}", item=item, judge=self.label) from error
        try:
            stdout, stderr = process.communicate(payload, timeout=self.timeout_s)
        except subprocess.TimeoutExpired:
            self._kill(process)
            raise JudgeError(
                f"{self.label} gave no answer within {self.timeout_s:g} s on item {item!r} "
                f"(repeat {request['repeat']}); it was killed",
                item=item,
                judge=self.label,
            ) from None
        if process.returncode != 0:
            tail = stderr.decode("utf-8", "replace").strip()[-500:]
            raise JudgeError(
                f"{self.label} exited with status {process.returncode} on item {item!r}"
                + (f": {tail}" if tail else " (nothing on stderr)"),
                item=item,
                judge=self.label,
            )
        text = stdout.decode("utf-8", "replace").strip()
        if not text:
            raise JudgeError(
                f"{self.label} printed nothing on item {item!r}; expected one JSON answer", item=item, judge=self.label
            )
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            shown = text if len(text) <= 200 else text[:200] + "..."
            raise JudgeError(
                f"{self.label} printed something that is not JSON on item {item!r}: {shown!r}; expected e.g. "
                '{"verdict": "A"} or {"score": 4}',
                item=item,
                judge=self.label,
            ) from None

    @staticmethod
    def _kill(process: subprocess.Popen) -> None:
        try:
            if hasattr(os, "killpg"):
                os.killpg(process.pid, signal.SIGKILL)
            else:  # pragma: no cover - no process groups
                process.kill()
        except ProcessLookupError:
            pass
        process.communicate()


def load_judge(judge_section: Mapping, base_dir: str | Path = ".", timeout_s: float = DEFAULT_TIMEOUT_S) -> Judge:
    """The judge a resolved ``llm_judge`` section names (``callable`` or ``command``).

    Errors: :class:`JudgeError` when both or neither are set, the callable cannot be imported, or
    the command is not a list of strings.
    """
    reference, argv, model = judge_section.get("callable"), judge_section.get("command"), judge_section.get("model")
    if (reference is None) == (argv is None):
        raise JudgeError("set exactly one of `llm_judge.callable` (module:function) or `llm_judge.command` (argv list)")
    if reference is not None:
        return CallableJudge(reference, base_dir, model)
    return CommandJudge(argv, base_dir, model, timeout_s)


# --- the protocol -----------------------------------------------------------------------------------


def judge_comparison(
    judge_section: Mapping,
    items: Iterable[JudgeItem | Mapping],
    *,
    base_dir: str | Path = ".",
    treatment: str = "treatment",
    control: str = "control",
    confidence: float = 0.95,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> dict:
    """Judge ``treatment``'s answers against ``control``'s on every item, as ``llm_judge`` declares.

    Inputs: ``judge_section``, the resolved ``llm_judge`` mapping; ``items``, :class:`JudgeItem` or
    mappings with ``id``, ``prompt``, ``treatment`` and ``control`` (ids are compared as text and
    must be unique); ``base_dir``, the spec's directory (the callable's import root, the command's
    working directory, where ``human_agreement.labels`` and a rubric file are found); ``treatment``
    / ``control``, the arm names (recorded, and accepted as human labels); ``confidence``, of the win
    rate's interval (``evaluation.confidence``); ``timeout_s``, per command judgement.

    Output: a JSON-ready dict (see ``docs/runtime.md``, "LLM-as-judge"): ``judge`` (identity, model,
    temperature, repeats), ``counts``, ``human_agreement``, ``trusted``, ``judge_untrusted``,
    ``self_agreement``, ``position_bias`` (pairwise), ``tie_rate``, ``win_rate`` (estimate, Wilson
    interval, flag), ``scores`` (absolute), ``items`` (per-item records), ``notes``.

    Errors: :class:`JudgeError` for a temperature above 0, a bad section, no or duplicate items, a
    judge that fails or answers outside the protocol (naming the item), an unreadable labels file.
    """
    section = dict(judge_section)
    _refuse_sampling(section.get("temperature", 0.0))
    mode = section.get("mode", "pairwise")
    if mode not in ("pairwise", "absolute"):
        raise JudgeError(f"`llm_judge.mode` is {mode!r}; use `pairwise` (recommended) or `absolute`")
    repeats = section.get("repeats", 3)
    if not isinstance(repeats, int) or isinstance(repeats, bool) or repeats < 1:
        raise JudgeError(f"`llm_judge.repeats` is {repeats!r}; it must be a whole number of at least 1 (3 is recommended)")
    scale = section.get("scale")
    if mode == "absolute" and (not scale or len(scale) != 2 or not scale[0] < scale[1]):
        raise JudgeError(f"`absolute` mode needs `llm_judge.scale: [low, high]` with low < high, not {scale!r}")
    if not 0 < confidence < 1:
        raise JudgeError(f"confidence must be between 0 and 1, not {confidence!r}")
    if treatment == control:
        raise JudgeError(f"treatment and control are the same arm ({treatment!r})")
    base_dir = Path(base_dir)
    items = _as_items(items)
    rubric = _read_rubric(section.get("rubric"), base_dir)
    # Human labels are read (and a bad file refused) before the judge runs: no judge calls wasted.
    agreement = section.get("human_agreement")
    labels = _read_labels(base_dir / agreement["labels"], (treatment, control)) if agreement else None
    judge = load_judge(section, base_dir, timeout_s)

    notes: list[str] = []
    context = {"model": section.get("model"), "rubric": rubric, "temperature": 0.0, "repeats": repeats}
    if mode == "pairwise":
        swap = section.get("position_swap", True)
        records = [_judge_pair(judge, item, context, swap) for item in items]
        meta = {"position_bias": _position_bias(records) if swap else None}
        if not swap:
            notes.append(
                "position_swap is off: every item was judged with the treatment as A only, so the judge's "
                "preference for a position lands on one arm and position bias cannot be measured"
            )
        cells = [cell for record in records for cell in record["orders"].values()]
        categories = PAIRWISE_ANSWERS
    else:
        records = [_score_item(judge, item, context, tuple(scale)) for item in items]
        meta = {"scores": _paired_scores(records, confidence)}
        cells = [cell for record in records for cell in record["scores"].values()]
        categories = None

    # Human agreement before any verdict leaves this function: it decides whether the verdict is trusted.
    human = _human_agreement(records, labels, agreement) if labels is not None else None
    if human is None:
        trusted = None
        flag = "the judge is not validated against human labels (add `llm_judge.human_agreement`)"
        notes.append("no human_agreement declared: the judge's verdicts are reported without validation (LLM001)")
    else:
        trusted = human["passed"]
        flag = None if trusted else human["reason"]

    if section.get("track_self_agreement", True):
        self_agreement = _self_agreement(cells, categories)
        if self_agreement is None:
            notes.append("repeats is 1: self-agreement needs at least 2 judgements of each item")
    else:
        self_agreement = None
        notes.append("track_self_agreement is off: self-agreement is not reported")
    if not section.get("model"):
        notes.append("the judge's model is not recorded: pin a dated model version in `llm_judge.model`")

    if mode == "pairwise":
        protocol = {"position_swap": bool(section.get("position_swap", True))}
    else:
        protocol = {"scale": list(scale)}
    verdicts = Counter(record["verdict"] for record in records)
    n = len(records)
    judgements = len(cells) * repeats
    result: dict[str, Any] = {
        "mode": mode,
        "judge": {**judge.identity, "temperature": 0.0, "repeats": repeats, **protocol},
        "arms": {"treatment": treatment, "control": control},
        "counts": {
            "items": n,
            "judgements": judgements,
            "treatment": verdicts["treatment"],
            "control": verdicts["control"],
            "tie": verdicts["tie"],
        },
        "human_agreement": human,
        "trusted": trusted,
        "judge_untrusted": trusted is False,
        "self_agreement": self_agreement,
        **meta,
        "tie_rate": verdicts["tie"] / n,
        "win_rate": {
            **_win_rate(verdicts["treatment"], verdicts["tie"], n, confidence),
            "flag": flag,
        },
        "items": records,
        "notes": notes,
    }
    if mode == "pairwise":
        answers = Counter(answer for cell in cells for answer in cell)
        result["tie_answer_rate"] = answers["tie"] / judgements
    return result


def _refuse_sampling(temperature: Any) -> None:
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or math.isnan(temperature):
        raise JudgeError(f"`llm_judge.temperature` is {temperature!r}; set `llm_judge.temperature: 0`")
    if temperature != 0:
        raise JudgeError(
            f"`llm_judge.temperature` is {temperature:g}: the runtime judges at temperature 0 only, so that a "
            "verdict is a judgement rather than a sample (the spec schema accepts 0 to 2 and `rigorml lint` "
            "warns with LLM003). Set `llm_judge.temperature: 0` (`rigorml lint --fix` does it); the repeats "
            "then measure the judge's own inconsistency"
        )


def _as_items(items: Iterable[JudgeItem | Mapping]) -> list[JudgeItem]:
    out: list[JudgeItem] = []
    seen: set[str] = set()
    for position, item in enumerate(items):
        if not isinstance(item, JudgeItem):
            missing = [key for key in ("id", "prompt", "treatment", "control") if key not in item]
            if missing:
                raise JudgeError(f"item {position} lacks {', '.join(missing)}; an item has id, prompt, treatment, control")
            item = JudgeItem(item["id"], item["prompt"], item["treatment"], item["control"])
        item_id = str(item.id)
        if item_id in seen:
            raise JudgeError(f"item id {item_id!r} appears twice; item ids must be unique", item=item_id)
        seen.add(item_id)
        for field in ("prompt", "treatment", "control"):
            if not isinstance(getattr(item, field), str):
                kind = type(getattr(item, field)).__name__
                raise JudgeError(f"item {item_id!r}: `{field}` is a {kind}, not text", item=item_id)
        out.append(JudgeItem(item_id, item.prompt, item.treatment, item.control))
    if not out:
        raise JudgeError("there are no items to judge")
    return out


def _read_rubric(rubric: str | None, base_dir: Path) -> str | None:
    """``llm_judge.rubric`` is the instructions, or (one line naming a file) a path to them."""
    if rubric is None or "\n" in rubric.strip():
        return rubric
    candidate = base_dir / rubric.strip()
    if candidate.is_file():
        return candidate.read_text(encoding="utf-8")
    if rubric.strip().lower().endswith(_RUBRIC_SUFFIXES):
        raise JudgeError(
            f"rubric file {rubric.strip()!r} does not exist (looked in {base_dir}); `llm_judge.rubric` is resolved "
            "against the spec's directory"
        )
    return rubric


# --- pairwise -----------------------------------------------------------------------------------------


def _judge_pair(judge: Judge, item: JudgeItem, context: dict, swap: bool) -> dict:
    """Judge one item in both orders (or treatment-first only), ``repeats`` times each."""
    orders = {TREATMENT_FIRST: (item.treatment, item.control)}
    if swap:
        orders[CONTROL_FIRST] = (item.control, item.treatment)
    raw: dict[str, list[str]] = {}
    for order, (answer_a, answer_b) in orders.items():
        raw[order] = []
        for repeat in range(context["repeats"]):
            # Blind: nothing in the request says which arm wrote which answer.
            request = {
                "mode": "pairwise",
                "item_id": item.id,
                "prompt": item.prompt,
                "answer_a": answer_a,
                "answer_b": answer_b,
                "rubric": context["rubric"],
                "model": context["model"],
                "temperature": context["temperature"],
                "repeat": repeat,
            }
            raw[order].append(_pairwise_answer(judge(request), judge, item.id))
    votes = Counter(_to_arm(order, answer) for order, answers in raw.items() for answer in answers)
    per_order = {order: _majority(answers) for order, answers in raw.items()}
    record = {
        "id": item.id,
        "orders": raw,
        "order_majority": per_order,
        "votes": {verdict: votes[verdict] for verdict in VERDICTS},
        "verdict": _plurality(votes),
    }
    if swap:
        first, second = per_order[TREATMENT_FIRST], per_order[CONTROL_FIRST]
        record["position_preferred"] = first is not None and first == second and first != "tie"
        record["order_consistent"] = _to_arm(TREATMENT_FIRST, first) == _to_arm(CONTROL_FIRST, second)
    return record


def _pairwise_answer(answer: Any, judge: Judge, item: str) -> str:
    value = answer
    if isinstance(answer, Mapping):
        if "verdict" not in answer:
            raise JudgeError(
                f"{judge.label} answered {_short(answer)} on item {item!r} without a `verdict` field; expected "
                '{"verdict": "A" | "B" | "tie"}',
                item=item,
                judge=judge.label,
            )
        value = answer["verdict"]
    if isinstance(value, str):
        normal = value.strip()
        normal = normal.upper() if normal.upper() in ("A", "B") else normal.lower()
        if normal in PAIRWISE_ANSWERS:
            return normal
    raise JudgeError(
        f"{judge.label} answered {_short(value)} on item {item!r}; a pairwise verdict is \"A\", \"B\" or \"tie\"",
        item=item,
        judge=judge.label,
    )


def _to_arm(order: str, answer: str | None) -> str | None:
    """A raw answer in an order, as the arm it prefers."""
    if answer is None or answer == "tie":
        return answer
    first_is_treatment = order == TREATMENT_FIRST
    return "treatment" if (answer == "A") == first_is_treatment else "control"


def _majority(answers: Sequence[str]) -> str | None:
    """The answer more than half of ``answers`` give, else None (no majority)."""
    (top, count), = Counter(answers).most_common(1)
    return top if count * 2 > len(answers) else None


def _plurality(votes: Counter) -> str:
    """The verdict with the most votes; a draw for the most (treatment = control, or either = tie)
    is a tie: the judge did not prefer one arm."""
    ranked = sorted(((votes[v], v) for v in VERDICTS), reverse=True)
    if ranked[0][0] == ranked[1][0]:
        return "tie"
    return ranked[0][1]


def _position_bias(records: list[dict]) -> dict:
    """Position bias over items judged in both orders.

    ``rate``: items where the majority answer is the same position in both orders (A and A, or B
    and B): the verdict flips with the order, the judge prefers a position rather than an answer.
    ``order_inconsistency``: items whose arm verdict differs at all between the orders (also a win
    in one order and a tie in the other). ``first_position_share``: share of all non-tie answers
    that are A (0.5 for a judge without position bias); None when every answer was a tie.
    """
    n = len(records)
    answers = Counter(answer for record in records for cell in record["orders"].values() for answer in cell)
    decided = answers["A"] + answers["B"]
    return {
        "rate": sum(record["position_preferred"] for record in records) / n,
        "order_inconsistency": sum(not record["order_consistent"] for record in records) / n,
        "first_position_share": answers["A"] / decided if decided else None,
        "items": [record["id"] for record in records if record["position_preferred"]],
    }


# --- absolute -----------------------------------------------------------------------------------------


def _score_item(judge: Judge, item: JudgeItem, context: dict, scale: tuple) -> dict:
    """Score each arm's answer ``repeats`` times; the item's verdict is the arm with the higher mean."""
    scores: dict[str, list[float]] = {}
    for arm, answer in (("treatment", item.treatment), ("control", item.control)):
        scores[arm] = []
        for repeat in range(context["repeats"]):
            request = {
                "mode": "absolute",
                "item_id": item.id,
                "prompt": item.prompt,
                "answer": answer,
                "scale": list(scale),
                "rubric": context["rubric"],
                "model": context["model"],
                "temperature": context["temperature"],
                "repeat": repeat,
            }
            scores[arm].append(_absolute_score(judge(request), judge, item.id, scale))
    means = {arm: sum(values) / len(values) for arm, values in scores.items()}
    difference = means["treatment"] - means["control"]
    verdict = "treatment" if difference > 0 else "control" if difference < 0 else "tie"
    return {"id": item.id, "scores": scores, "mean": means, "difference": difference, "verdict": verdict}


def _absolute_score(answer: Any, judge: Judge, item: str, scale: tuple) -> float:
    value = answer
    if isinstance(answer, Mapping):
        if "score" not in answer:
            raise JudgeError(
                f"{judge.label} answered {_short(answer)} on item {item!r} without a `score` field; expected "
                f'{{"score": <number in [{scale[0]}, {scale[1]}]>}}',
                item=item,
                judge=judge.label,
            )
        value = answer["score"]
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not is_number or not math.isfinite(value) or not scale[0] <= value <= scale[1]:
        raise JudgeError(
            f"{judge.label} answered {_short(value)} on item {item!r}; a score is a number in the scale "
            f"[{scale[0]}, {scale[1]}]",
            item=item,
            judge=judge.label,
        )
    return value


def _paired_scores(records: list[dict], confidence: float) -> dict:
    """Mean score per arm and the paired difference treatment - control over items (t interval)."""
    n = len(records)
    arms = {arm: [record["mean"][arm] for record in records] for arm in ("treatment", "control")}
    differences = [record["difference"] for record in records]
    mean = sum(differences) / n
    out: dict[str, Any] = {arm: {"mean": sum(values) / n, "sd": _sd(values)} for arm, values in arms.items()}
    sd = _sd(differences)
    if sd is None:
        ci = None
    elif sd == 0:
        ci = [mean, mean]
    else:
        from scipy import stats

        half = stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n)
        ci = [mean - half, mean + half]
    out["difference"] = {"mean": mean, "sd": sd, "ci": ci, "confidence": confidence, "n": n, "method": "paired t over items"}
    return out


def _sd(values: Sequence[float]) -> float | None:
    if len(values) < 2:
        return None
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


# --- meta-metrics ---------------------------------------------------------------------------------------


def _self_agreement(cells: list[list], categories: Sequence[str] | None) -> dict | None:
    """How often the judge agrees with itself over the repeats of one cell (an item in one order, or
    one arm's answer in absolute mode).

    ``rate``: share of cells where every repeat gave the same answer (the headline number).
    ``pairwise``: mean over cells of the share of pairs of repeats that agree (Fleiss's P-bar).
    ``fleiss_kappa``: Fleiss' kappa with the repeats as raters and the cells as subjects: agreement
    beyond what the judge's overall answer frequencies give by chance; None when undefined (the
    judge gave a single answer throughout) or in absolute mode.
    """
    repeats = len(cells[0])
    if repeats < 2:
        return None
    agree_all = sum(len(set(cell)) == 1 for cell in cells) / len(cells)
    pair_shares = []
    for cell in cells:
        counts = Counter(cell)
        pair_shares.append(sum(c * (c - 1) for c in counts.values()) / (repeats * (repeats - 1)))
    p_bar = sum(pair_shares) / len(pair_shares)
    kappa = None
    if categories is not None:
        totals = Counter(answer for cell in cells for answer in cell)
        p_e = sum((totals[c] / (len(cells) * repeats)) ** 2 for c in categories)
        kappa = (p_bar - p_e) / (1 - p_e) if p_e < 1 else None
    return {"rate": agree_all, "pairwise": p_bar, "fleiss_kappa": kappa, "cells": len(cells), "repeats": repeats}


def wilson_interval(successes: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``successes / n`` (Wilson 1927; statsmodels'
    ``proportion_confint(method="wilson")``). ``successes`` may be fractional (ties count half).

    Errors: ValueError when ``n`` is not positive or ``successes`` is outside ``[0, n]``.
    """
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError(f"a proportion needs 0 <= successes <= n and n > 0, not {successes}/{n}")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def _win_rate(wins: int, ties: int, n: int, confidence: float) -> dict:
    successes = wins + 0.5 * ties
    low, high = wilson_interval(successes, n, confidence)
    return {
        "estimate": successes / n,
        "ci": [low, high],
        "confidence": confidence,
        "method": "wilson",
        "n": n,
    }


# --- human agreement --------------------------------------------------------------------------------------


def read_human_labels(path: str | Path, arms: tuple[str, str] = ("treatment", "control")) -> dict[str, str]:
    """Human labels: item id -> ``treatment`` | ``control`` | ``tie``.

    ``path``: JSONL (one object per line with ``id`` or ``item_id``, and ``label``) or CSV (a header
    with those columns). A label is ``treatment``, ``control``, ``tie`` or one of ``arms`` (the arm
    names, mapped to treatment/control), case-insensitive. Ids are compared as text.
    Errors: :class:`JudgeError` for a missing file, a row without id or label, an unknown label, or
    an item labelled twice.
    """
    return _read_labels(Path(path), arms)


def _read_labels(path: Path, arms: tuple[str, str]) -> dict[str, str]:
    if not path.is_file():
        raise JudgeError(
            f"human labels {str(path)!r} do not exist (`llm_judge.human_agreement.labels` is resolved against the "
            "spec's directory)"
        )
    rows = _label_rows(path)
    names = {arms[0].lower(): "treatment", arms[1].lower(): "control"} | {v: v for v in VERDICTS}
    labels: dict[str, str] = {}
    lines: dict[str, int] = {}
    for line, row in rows:
        item = row.get("id", row.get("item_id"))
        label = row.get("label")
        if item is None or label is None or str(item).strip() == "":
            raise JudgeError(f"{path}:{line}: a label row needs `id` (or `item_id`) and `label`")
        item = str(item).strip()
        verdict = names.get(str(label).strip().lower())
        if verdict is None:
            raise JudgeError(
                f"{path}:{line}: label {label!r} of item {item!r} is not one of treatment, control, tie, "
                f"{arms[0]}, {arms[1]}",
                item=item,
            )
        if item in labels:
            raise JudgeError(
                f"{path}:{line}: item {item!r} is labelled again (first on line {lines[item]}); give one label "
                "per item (e.g. the annotators' majority)",
                item=item,
            )
        labels[item], lines[item] = verdict, line
    return labels


def _label_rows(path: Path) -> list[tuple[int, dict]]:
    if path.suffix.lower() == ".csv":
        import csv

        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            return [(number + 2, {k.strip(): v for k, v in row.items() if k}) for number, row in enumerate(reader)]
    rows = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except json.JSONDecodeError as error:
            raise JudgeError(f"{path}:{number}: not a JSON object ({error.msg}); labels are JSONL or CSV") from None
        if not isinstance(row, dict):
            raise JudgeError(f"{path}:{number}: a label row is a JSON object with `id` and `label`")
        rows.append((number, row))
    return rows


def _human_agreement(records: list[dict], labels: dict[str, str], agreement: Mapping) -> dict:
    """Cohen's kappa between the judge's item verdicts and the human labels, on the items both have."""
    judged = [record["id"] for record in records]
    common = [item for item in judged if item in labels]
    missing = [item for item in judged if item not in labels]
    judged_set = set(judged)
    unjudged = sorted(item for item in labels if item not in judged_set)
    min_kappa = agreement.get("min_kappa", 0.6)
    kappa = None
    verdict_of = {record["id"]: record["verdict"] for record in records}
    for record in records:
        if record["id"] in labels:
            record["human_label"] = labels[record["id"]]
    if common:
        from sklearn.metrics import cohen_kappa_score

        judge_side = [verdict_of[item] for item in common]
        human_side = [labels[item] for item in common]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # 0/0 when both sides give one label only: reported as None
            value = cohen_kappa_score(judge_side, human_side, labels=list(VERDICTS))
        kappa = None if math.isnan(value) else float(value)
        agreement_rate = sum(a == b for a, b in zip(judge_side, human_side)) / len(common)
    else:
        agreement_rate = None
    passed = kappa is not None and kappa >= min_kappa
    if not common:
        reason = "no judged item has a human label: the judge cannot be validated"
    elif kappa is None:
        reason = (
            "Cohen's kappa is undefined (the judge and the humans each gave a single label): agreement beyond "
            "chance cannot be shown; label items where the arms differ"
        )
    elif not passed:
        reason = f"the judge is untrusted: Cohen's kappa with human labels is {kappa:.3f}, below min_kappa {min_kappa:g}"
    else:
        reason = None
    return {
        "labels": agreement["labels"],
        "min_kappa": min_kappa,
        "kappa": kappa,
        "agreement": agreement_rate,
        "n": len(common),
        "missing_from_labels": missing,
        "labelled_not_judged": unjudged,
        "passed": passed,
        "reason": reason,
    }


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=repr) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 200 else text[:200] + "..."
