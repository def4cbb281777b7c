"""The metric naming convention: ``{split}/{metric_name}``, ``{split}/{task}/{metric_name}``, ``system/{resource}``.

The domain's rule ("Establish naming conventions before the first experiment, not after.
Inconsistent names make comparison impossible.")::

    {split}/{metric_name}          train/loss, eval/accuracy
    {split}/{task}/{metric_name}   eval/mmlu/accuracy, eval/gsm8k/exact_match
    system/{resource}              system/gpu_memory, system/gpu_utilization

One check, used wherever a metric name is judged: the linter's naming and sweep rules (on the spec
and on Python source) and the runtime tracker (on every name it is asked to log), so a name the
linter accepts is a name the tracker logs, and the other way round.

Pure standard library (no pydantic): ``rigorml.runtime`` imports it on the training path.
"""

from __future__ import annotations

import re

#: Splits a logged metric name may start with (``eval`` as in the domain's ``eval/mmlu/accuracy``).
NAME_SPLITS = ("train", "val", "test", "eval")

#: The convention in words, for messages.
CONVENTION_TEXT = (
    "`{split}/{metric_name}`, `{split}/{task}/{metric_name}` or `system/{resource}` "
    f"(splits: {', '.join(NAME_SPLITS)}; names start lowercase)"
)

_SEGMENT = r"[a-z0-9][A-Za-z0-9_@.\-]*"  # lowercase start; `rougeL`, `ndcg@10` allowed
_SPLIT = "|".join(NAME_SPLITS)
CONVENTION = re.compile(rf"^(?:(?:{_SPLIT})/{_SEGMENT}(?:/{_SEGMENT})?|system/{_SEGMENT})$")
#: ``val_loss``, ``val-loss``, ``val.loss``: a known split glued to the metric by the wrong separator.
_GLUED = re.compile(rf"^(?P<split>{_SPLIT})[_.\-](?P<metric>{_SEGMENT})$")


def follows_convention(name: str) -> bool:
    """Whether ``name`` is ``{split}/{metric}``, ``{split}/{task}/{metric}`` or ``system/{resource}``."""
    return CONVENTION.fullmatch(name) is not None  # fullmatch: `$` would accept a trailing newline


def is_system_metric(name: str) -> bool:
    """Whether ``name`` is a ``system/{resource}`` metric (logged against time, not training steps)."""
    return name.startswith("system/")


def conventional_form(name: str) -> str | None:
    """``val_loss`` -> ``val/loss``; None when the name is not a known split glued to a metric."""
    match = _GLUED.fullmatch(name)
    return f"{match['split']}/{match['metric']}" if match else None


def split_of(name: str) -> str | None:
    """The split a metric name is logged on (``test/f1`` and ``test_f1`` -> ``test``), or None."""
    match = re.match(rf"^({_SPLIT})[/_.\-]", name)
    return match[1] if match else None


def metric_of(name: str) -> str:
    """The metric a name measures: its last ``/`` segment (``eval/mmlu/accuracy`` -> ``accuracy``)."""
    return name.rsplit("/", 1)[-1]
