"""The metric naming convention, and reading the split a metric name belongs to.

The domain's convention ("Metric Naming Convention")::

    {split}/{metric_name}          train/loss, eval/accuracy
    {split}/{task}/{metric_name}   eval/mmlu/accuracy
    system/{resource}              system/gpu_memory

with the splits ``train``, ``val``, ``test`` and ``eval``. Whether a name follows it is decided by the
check the spec rule NAM001 uses (``rules/naming/_convention.py``), so a name is judged alike in a spec
and in the code that logs it. Names in other styles (``val_loss``, ``loss_val``, ``validation/loss``,
the PyTorch tutorial's ``Loss/train``) still say their split: :func:`split_of` reads it and
:func:`conventional_name` spells them the conventional way.
"""

from __future__ import annotations

import re

from ..naming._convention import follows_convention as _named_by_convention

#: Splits of the evaluation side: metrics of these are per-epoch or per-evaluation, not per-batch.
EVAL_SPLITS = ("val", "test", "eval")
#: Keys logged as an x-axis rather than as a metric (``wandb.log({"epoch": epoch, ...})``).
AXIS_KEYS = frozenset({"epoch", "step", "global_step", "iteration"})

_ALIASES = {
    "train": "train",
    "training": "train",
    "val": "val",
    "valid": "val",
    "validation": "val",
    "test": "test",
    "testing": "test",
    "eval": "eval",
    "evaluation": "eval",
}
_SPLIT = "|".join(sorted(_ALIASES, key=len, reverse=True))
_PREFIXED = re.compile(rf"({_SPLIT})[/_\-.](.+)")
_SUFFIXED = re.compile(rf"([^/]+?)[/_\-.]({_SPLIT})")


def follows_convention(name: str) -> bool:
    """Whether ``name`` is ``{split}/{metric}``, ``{split}/{task}/{metric}`` or ``system/{resource}``
    (or an x-axis key such as ``epoch``)."""
    return name in AXIS_KEYS or _named_by_convention(name)


def split_of(name: str) -> str | None:
    """The split ``name`` says it belongs to (``"val"`` for ``val/loss``, ``val_loss``,
    ``validation/loss``, ``loss_val`` and ``loss/val``), or None."""
    match = _PREFIXED.fullmatch(name)
    if match:
        return _ALIASES[match[1]]
    match = _SUFFIXED.fullmatch(name)
    if match:
        return _ALIASES[match[2]]
    return None


def conventional_name(name: str) -> str | None:
    """``name`` spelled ``{split}/{metric}`` when it names its split another way (``val_loss`` ->
    ``val/loss``, ``loss_train`` and ``Loss/train`` -> ``train/loss``, ``validation/acc`` -> ``val/acc``),
    else None."""
    match = _PREFIXED.fullmatch(name)
    if match:
        split, metric = _ALIASES[match[1]], match[2]
    else:
        match = _SUFFIXED.fullmatch(name)
        if not match:
            return None
        split, metric = _ALIASES[match[2]], match[1]
    candidate = f"{split}/{metric[:1].lower()}{metric[1:]}"  # names start lowercase: `Loss/train` -> `train/loss`
    return candidate if candidate != name and follows_convention(candidate) else None
