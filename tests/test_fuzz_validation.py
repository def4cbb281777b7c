"""Random damage to a real spec never crashes validation, and every diagnostic is located and coded.

Starting from examples/quickstart.yaml, hypothesis deletes keys, replaces values with random
JSON-like data, misspells keys and inserts keys, writes the result to a file and runs compose +
validate; separately it throws random override strings at ``apply_overrides``.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rigorml.compiler.compose import apply_overrides, compose
from rigorml.compiler.validate import validate_data

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "examples" / "quickstart.yaml"
QUICKSTART_DATA = yaml.safe_load(QUICKSTART.read_text(encoding="utf-8"))
CODE = re.compile(r"^(YML|SPC|CMP)\d{3}$")


def _schema_keys() -> list[str]:
    schema = json.loads((REPO / "schemas" / "experiment.schema.json").read_text(encoding="utf-8"))
    keys = set(schema["properties"])
    for definition in schema["$defs"].values():
        keys.update(definition.get("properties", {}))
    return sorted(keys)


SPEC_KEYS = _schema_keys()


def _paths(value, prefix=()):
    """Every path to a value inside ``value`` (mapping keys and list indices), the root excluded."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield prefix + (key,)
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield prefix + (index,)
            yield from _paths(item, prefix + (index,))


def _mappings(value, prefix=()):
    """Every path to a mapping inside ``value``, the root included."""
    if isinstance(value, dict):
        yield prefix
        for key, item in value.items():
            yield from _mappings(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _mappings(item, prefix + (index,))


def _at(data, path):
    for segment in path:
        data = data[segment]
    return data


scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["builtin:digits", "adamw", "sgd", "fp16", "val/loss", "f1_macro", "baseline", "a.b:c", "sqlite:///x.db"])
)
json_like = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8) | st.sampled_from(SPEC_KEYS), children, max_size=4),
    max_leaves=8,
)
keys = st.sampled_from(SPEC_KEYS) | st.text(min_size=1, max_size=10)


@st.composite
def typo(draw, word: str) -> str:
    """``word`` with one character inserted, deleted, replaced or two swapped."""
    text = str(word)
    i = draw(st.integers(min_value=0, max_value=max(len(text) - 1, 0)))
    kind = draw(st.sampled_from(["insert", "delete", "replace", "swap"]))
    letter = draw(st.sampled_from("abcdefghijklmnopqrstuvwxyz_."))
    if kind == "insert" or len(text) < 2:
        return text[:i] + letter + text[i:]
    if kind == "delete":
        return text[:i] + text[i + 1 :]
    if kind == "replace":
        return text[:i] + letter + text[i + 1 :]
    j = min(i + 1, len(text) - 1)
    chars = list(text)
    chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)


@st.composite
def damaged_spec(draw) -> dict:
    """The quickstart data with one to three random mutations."""
    data = copy.deepcopy(QUICKSTART_DATA)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        if not isinstance(data, dict):
            break
        kind = draw(st.sampled_from(["delete", "replace", "rename", "insert"]))
        paths = list(_paths(data))
        if kind == "insert" or not paths:
            parent = _at(data, draw(st.sampled_from(list(_mappings(data)))))
            parent[draw(keys)] = draw(json_like)
            continue
        path = draw(st.sampled_from(paths))
        parent = _at(data, path[:-1])
        if kind == "delete":
            del parent[path[-1]]
        elif kind == "replace":
            parent[path[-1]] = draw(json_like)
        elif isinstance(parent, dict):
            new_key = draw(typo(path[-1]))
            parent[new_key] = parent.pop(path[-1])
    return data


def assert_located_and_coded(diagnostics) -> None:
    for d in diagnostics:
        assert d.span.line >= 1 and d.span.col >= 1, d.format_text()
        assert CODE.match(d.code), d.format_text()
        assert d.message, d.format_text()


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "spec.yaml"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=damaged_spec())
def test_damaged_spec_gives_located_coded_diagnostics(spec_file, data):
    spec_file.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    composed = compose(str(spec_file))
    diagnostics = list(composed.diagnostics)
    if composed.data is not None and not diagnostics:
        diagnostics = validate_data(composed.data, composed.source_map).diagnostics
    assert_located_and_coded(diagnostics)


# --- overrides -------------------------------------------------------------------------------------

DOTTED_PATHS = sorted(".".join(map(str, p)) for p in _paths(QUICKSTART_DATA))
dotted = st.sampled_from(DOTTED_PATHS) | st.sampled_from(DOTTED_PATHS).flatmap(typo) | st.text(max_size=20)
values = st.text(max_size=20) | json_like.map(lambda v: yaml.safe_dump(v, default_flow_style=True, width=10**6).strip())
structured_override = st.builds(
    lambda prefix, key, sep, value: f"{prefix}{key}{sep}{value}",
    st.sampled_from(["", "", "+", "++", "~"]),
    dotted,
    st.sampled_from(["=", "=", ""]),
    values,
)
override = structured_override | st.text(max_size=30)


@pytest.fixture(scope="module")
def quickstart_composed():
    composed = compose(str(QUICKSTART))
    assert composed.ok
    return composed


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(overrides=st.lists(override, min_size=1, max_size=3))
def test_random_overrides_never_raise(quickstart_composed, overrides):
    composed = copy.deepcopy(quickstart_composed)
    apply_overrides(composed, overrides)
    diagnostics = list(composed.diagnostics)
    if not diagnostics:
        diagnostics = validate_data(composed.data, composed.source_map).diagnostics
    assert_located_and_coded(diagnostics)
