"""What a spec rule sees: the validated spec, the data as written, and where every value is.

``spec`` is read by attribute (a ``Spec`` or the compiled validator's tree; Python field names, so
``seeds.global`` is ``spec.seeds.global_``). ``data`` is the composed document exactly as written,
before defaults: rules ask it whether the author *said* something (a ``sweep`` written as a W&B
configuration is already translated to rigorml's form, located at the W&B text). Derived values
(the primary metric, the correction actually applied, the comparisons a ``baseline`` expands to)
are computed here once, the same way ``rigorml resolve`` fills them.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, NamedTuple

from ..compiler.diagnostics import Span
from ..compiler.paths import get_path
from ..compiler.source import SourceMap
from ..schemas.defaults import PRIMARY_METRIC
from ..schemas.references import arms_of

_MISSING = object()


class ComparisonView(NamedTuple):
    """A comparison after defaults: which arms, metric, test; ``path`` is where it is written."""

    name: str
    treatment: str
    control: str
    metric: str
    test: str
    paired: bool
    alternative: str
    path: tuple


class SpecContext:
    """One spec file for the rules: ``spec`` (validated), ``data`` (as written), ``source_map``, ``text``."""

    def __init__(
        self,
        file: str,
        spec: Any,
        data: dict,
        source_map: SourceMap,
        texts: dict[str, str],
        translation_warnings: tuple = (),
    ):
        self.file = file
        self.spec = spec
        self.data = data
        self.source_map = source_map
        self.texts = texts
        # What translating a section written in another dialect approximated (a W&B sweep;
        # ``Validated.warnings``); rule HPO016 reports it.
        self.translation_warnings = tuple(translation_warnings)

    @property
    def text(self) -> str:
        return self.texts.get(self.file, "")

    # --- locations ----------------------------------------------------------------------------

    def span(self, path: tuple, *, key: bool = False) -> Span:
        """Where ``path`` is written (its key with ``key``); the nearest written ancestor otherwise."""
        return self.source_map.locate(path, prefer_key=key)

    def in_string(self, file: str, line: int, col: int) -> bool:
        """Whether (line, col) of ``file`` falls inside a string value (where ``#`` is not a comment)."""
        for path, span in self.source_map.values.items():
            if span.file != file or not isinstance(self.get(path), str):
                continue
            if (span.line, span.col) <= (line, col) < (span.end_line, span.end_col):
                return True
        return False

    def value_span(self, path: tuple) -> Span | None:
        """The exact span of the value written at ``path``, or None when the spec does not write it."""
        return self.source_map.value_span(path)

    def written(self, path: tuple) -> bool:
        """Whether the author wrote ``path`` (rather than leaving it at its default)."""
        return self.get(path, _MISSING) is not _MISSING

    def get(self, path: tuple, default: Any = None) -> Any:
        """The value written at ``path`` (not the default), or ``default``."""
        return get_path(self.data, path, default)

    # --- derived values -------------------------------------------------------------------------

    @property
    def task(self) -> str:
        return self.spec.experiment.task

    @property
    def traits(self) -> set[str]:
        return set(self.spec.experiment.traits)

    @property
    def arms(self) -> list[str]:
        return arms_of(self.spec)

    @property
    def replicate_seeds(self) -> list[int]:
        value = self.spec.seeds.replicates
        return list(range(value)) if isinstance(value, int) else list(value)

    @property
    def primary_metric(self) -> str:
        return self.spec.metrics.primary or PRIMARY_METRIC[self.task]

    @property
    def correction(self) -> str:
        """The correction actually applied (``auto`` resolved through the family)."""
        evaluation = self.spec.evaluation
        if evaluation.correction != "auto":
            return evaluation.correction
        return "bh" if evaluation.family == "exploratory" else "bonferroni"

    @cached_property
    def comparisons(self) -> list[ComparisonView]:
        """The comparisons that will run: the written ones, or every arm against ``baseline``."""
        evaluation = self.spec.evaluation
        out = []
        for i, c in enumerate(evaluation.comparisons):
            out.append(
                ComparisonView(
                    c.name or f"{c.treatment}-vs-{c.control}",
                    c.treatment,
                    c.control,
                    c.metric or self.primary_metric,
                    c.test,
                    c.paired,
                    c.alternative,
                    ("evaluation", "comparisons", i),
                )
            )
        if not out and evaluation.baseline is not None:
            for arm in self.arms:
                if arm != evaluation.baseline:
                    out.append(
                        ComparisonView(
                            f"{arm}-vs-{evaluation.baseline}",
                            arm,
                            evaluation.baseline,
                            self.primary_metric,
                            "paired_bootstrap",
                            True,
                            "two-sided",
                            ("evaluation", "baseline"),
                        )
                    )
        return out

    @cached_property
    def logged_metrics(self) -> set[str]:
        """Metric names a run of this spec logs: what the runtime logs plus ``metrics.logged``.

        The runtime logs ``train/loss``, ``val/loss``, and ``{val,test}/{metric}`` for the primary
        and secondary metrics (and ``system/...`` resources).
        """
        names = {"train/loss", "val/loss", "test/loss"}
        for metric in [self.primary_metric, *self.spec.metrics.secondary, *self.spec.metrics.custom]:
            names.update({f"val/{metric}", f"test/{metric}"})
        names.update(self.spec.metrics.logged)
        return names
