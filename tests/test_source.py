"""The safe, located YAML loader: what it reads, where it says things are, and what it refuses."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rigorml.compiler import source
from rigorml.compiler.diagnostics import Diagnostic, Span
from rigorml.compiler.source import (
    LoadLimits,
    SourceDocument,
    SourceMap,
    decode_source,
    load_yaml_file,
    parse_yaml,
)

# Every test runs with libyaml's parser (what users get when PyYAML has it) and with PyYAML's pure
# Python parser (the fallback), since the two scan ahead differently and report errors differently.
LOADERS = {"python": yaml.SafeLoader}
if getattr(yaml, "CSafeLoader", None) is not None:
    LOADERS["libyaml"] = yaml.CSafeLoader


@pytest.fixture(autouse=True, params=sorted(LOADERS))
def yaml_parser(request, monkeypatch):
    monkeypatch.setattr(source, "_LOADER_CLASS", LOADERS[request.param])
    return request.param


def write(tmp_path, content, name="spec.yaml"):
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def load(tmp_path, content, name="spec.yaml", **kwargs):
    return load_yaml_file(write(tmp_path, content, name), **kwargs)


def codes(diagnostics):
    return [d.code for d in diagnostics]


def only(diagnostics) -> Diagnostic:
    assert len(diagnostics) == 1, diagnostics
    return diagnostics[0]


def at(span: Span) -> tuple[int, int, int, int]:
    return (span.line, span.col, span.end_line, span.end_col)


SPEC = """\
name: mnist-baseline      # a comment
seed: 7
model:
  kind: mlp
  layers: [128, 64]
  dropout: 0.1
train:
  - epochs: 3
  - epochs: 5
    lr: 1e-3
"""


# --- data and locations ----------------------------------------------------------------------


def test_nested_mapping_values_and_keys_have_exact_line_and_column(tmp_path):
    doc, diagnostics = load(tmp_path, SPEC)
    assert diagnostics == []
    assert doc.data == {
        "name": "mnist-baseline",
        "seed": 7,
        "model": {"kind": "mlp", "layers": [128, 64], "dropout": 0.1},
        "train": [{"epochs": 3}, {"epochs": 5, "lr": 0.001}],
    }
    smap = doc.source_map
    assert at(smap.value_span(("name",))) == (1, 7, 1, 21)
    assert at(smap.key_span(("name",))) == (1, 1, 1, 5)
    assert at(smap.value_span(("seed",))) == (2, 7, 2, 8)
    assert at(smap.key_span(("model", "dropout"))) == (6, 3, 6, 10)
    assert at(smap.value_span(("model", "dropout"))) == (6, 12, 6, 15)
    assert at(smap.value_span(("model", "layers"))) == (5, 11, 5, 20)
    assert at(smap.value_span(("model",))) == (4, 3, 6, 15)
    assert smap.value_span(()).line == 1
    assert smap.value_span(("name",)).file == str(tmp_path / "spec.yaml")


def test_list_items_have_value_spans_and_no_key_span(tmp_path):
    doc, _ = load(tmp_path, SPEC)
    smap = doc.source_map
    assert at(smap.value_span(("model", "layers", 0))) == (5, 12, 5, 15)
    assert at(smap.value_span(("model", "layers", 1))) == (5, 17, 5, 19)
    assert smap.key_span(("model", "layers", 0)) is None
    assert smap.value_span(("train", 1)).line == 9
    assert at(smap.key_span(("train", 1, "lr"))) == (10, 5, 10, 7)
    assert at(smap.value_span(("train", 1, "lr"))) == (10, 9, 10, 13)


def test_display_name_is_the_file_in_every_span(tmp_path):
    doc, _ = load(tmp_path, SPEC, display_name="specs/mnist.yaml")
    assert {span.file for span in doc.source_map.values.values()} == {"specs/mnist.yaml"}
    assert doc.file == "specs/mnist.yaml"
    assert doc.text == SPEC


def test_merge_key_adds_only_keys_the_mapping_does_not_set(tmp_path):
    text = "base: &base\n  lr: 0.1\n  epochs: 3\nrun:\n  epochs: 9\n  <<: *base\n"
    doc, diagnostics = load(tmp_path, text)
    assert diagnostics == []
    assert doc.data["run"] == {"lr": 0.1, "epochs": 9}
    assert doc.data == yaml.safe_load(text)
    smap = doc.source_map
    assert smap.value_span(("run", "lr")).line == 2  # from the merged source
    assert smap.key_span(("run", "lr")).line == 2
    assert smap.value_span(("run", "epochs")).line == 5  # the explicit key wins, wherever it is


def test_merge_list_earlier_mapping_wins(tmp_path):
    text = "a: &a {x: 1}\nb: &b {x: 2, y: 2}\nc:\n  <<: [*a, *b]\n"
    doc, diagnostics = load(tmp_path, text)
    assert diagnostics == []
    assert doc.data["c"] == {"x": 1, "y": 2} == yaml.safe_load(text)["c"]
    assert doc.source_map.value_span(("c", "x")).line == 1
    assert doc.source_map.value_span(("c", "y")).line == 2


def test_merge_of_inline_mapping_keeps_its_spans(tmp_path):
    doc, _ = load(tmp_path, "c:\n  <<: {x: 1}\n  y: 2\n")
    assert doc.data == {"c": {"x": 1, "y": 2}}
    assert at(doc.source_map.value_span(("c", "x"))) == (2, 11, 2, 12)


def test_merge_value_that_is_not_a_mapping_is_YML004(tmp_path):
    _, diagnostics = load(tmp_path, "a: &a [1]\nb:\n  <<: *a\n")
    diagnostic = only(diagnostics)
    assert diagnostic.code == "YML004"
    assert (diagnostic.span.line, diagnostic.span.col) == (3, 7)


def test_alias_copies_value_and_spans_of_the_anchor(tmp_path):
    text = "opt: &adam\n  name: adam\n  lr: 0.001\nother: *adam\n"
    doc, diagnostics = load(tmp_path, text)
    assert diagnostics == []
    assert doc.data["other"] == {"name": "adam", "lr": 0.001}
    assert doc.data["other"] is not doc.data["opt"]  # downstream code may mutate one of them
    smap = doc.source_map
    assert smap.value_span(("other", "lr")) == smap.value_span(("opt", "lr"))
    assert smap.key_span(("other", "lr")).line == 3
    assert smap.key_span(("other",)).line == 4


def test_alias_to_scalar_reuses_value(tmp_path):
    doc, _ = load(tmp_path, "a: &n 5\nb: *n\n")
    assert doc.data == {"a": 5, "b": 5}
    assert doc.source_map.value_span(("b",)) == doc.source_map.value_span(("a",))


def test_undefined_alias_is_located_YML001(tmp_path):
    diagnostic = only(load(tmp_path, "a: 1\nb: *nope\n")[1])
    assert diagnostic.code == "YML001"
    assert "*nope" in diagnostic.message
    assert (diagnostic.span.line, diagnostic.span.col) == (2, 4)


def test_recursive_alias_is_rejected(tmp_path):
    diagnostic = only(load(tmp_path, "a: &a\n  - *a\n")[1])
    assert diagnostic.code == "YML005"
    assert diagnostic.span.line == 2


def test_anchor_defined_twice_is_rejected_like_safe_load(tmp_path):
    diagnostic = only(load(tmp_path, "a: &x 1\nb: &x 2\n")[1])
    assert diagnostic.code == "YML001"
    assert "line 1" in diagnostic.message


def test_duplicate_key_is_reported_at_second_occurrence_naming_first_line(tmp_path):
    doc, diagnostics = load(tmp_path, "model:\n  lr: 1\n  depth: 2\n  lr: 3\n")
    assert doc is None
    diagnostic = only(diagnostics)
    assert diagnostic.code == "YML002"
    assert (diagnostic.span.line, diagnostic.span.col) == (4, 3)
    assert "'lr'" in diagnostic.message and "line 2" in diagnostic.message
    assert diagnostic.path == ("model", "lr")


def test_every_duplicate_key_is_reported(tmp_path):
    _, diagnostics = load(tmp_path, "a: 1\na: 2\nb: 1\nb: 2\n")
    assert codes(diagnostics) == ["YML002", "YML002"]


def test_python_tag_is_rejected_and_never_run(tmp_path):
    marker = tmp_path / "ran"
    text = f'x: !!python/object/apply:os.system ["touch {marker}"]\n'
    doc, diagnostics = load(tmp_path, text)
    assert doc is None
    diagnostic = only(diagnostics)
    assert diagnostic.code == "YML003"
    assert "!!python/object/apply:os.system" in diagnostic.message
    assert "plain YAML data" in diagnostic.message
    assert (diagnostic.span.line, diagnostic.span.col) == (1, 4)
    assert not marker.exists()


def test_custom_tag_is_rejected(tmp_path):
    diagnostic = only(load(tmp_path, "a: 1\nb: !secret value\n")[1])
    assert diagnostic.code == "YML003"
    assert "!secret" in diagnostic.message
    assert diagnostic.span.line == 2


@pytest.mark.parametrize(
    "value",
    ["!!set {a, b}", "!!binary aGk=", "!!timestamp 2024-01-01", "!!omap [a: 1]", "!!pairs [a: 1]"],
)
def test_non_plain_standard_tags_are_rejected(tmp_path, value):
    assert codes(load(tmp_path, f"a: {value}\n")[1]) == ["YML003"]


def test_plain_data_tags_are_allowed(tmp_path):
    text = (
        "s: !!str 123\ni: !!int '42'\nf: !!float 1\nb: !!bool yes\nn: !!null x\n"
        "m: !!map {a: 1}\nq: !!seq [1]\n"
    )
    doc, diagnostics = load(tmp_path, text)
    assert diagnostics == []
    assert doc.data == {
        "s": "123", "i": 42, "f": 1.0, "b": True, "n": None, "m": {"a": 1}, "q": [1]
    }
    assert doc.data == yaml.safe_load(text)


@pytest.mark.parametrize("value", ["!!int abc", "!!float x", "!!bool maybe", "!!int ''"])
def test_value_its_tag_cannot_build_is_YML003(tmp_path, value):
    diagnostic = only(load(tmp_path, f"a: 1\nb: {value}\n")[1])
    assert diagnostic.code == "YML003"
    assert (diagnostic.span.line, diagnostic.span.col) == (2, 4)


def test_collection_as_key_is_YML004(tmp_path):
    diagnostic = only(load(tmp_path, "a: 1\n? [x, y]\n: 2\n")[1])
    assert diagnostic.code == "YML004"
    assert (diagnostic.span.line, diagnostic.span.col) == (2, 3)


def test_implicit_timestamp_stays_a_string(tmp_path):
    doc, _ = load(tmp_path, "date: 2024-01-31\nwhen: 2001-12-14t21:59:43.10-05:00\n")
    assert doc.data == {"date": "2024-01-31", "when": "2001-12-14t21:59:43.10-05:00"}


def test_yaml_1_1_scalars_read_as_safe_load_reads_them(tmp_path):
    text = (
        "a: yes\nb: off\nc: On\nd: ~\ne: 0o17\nf: 017\ng: 0x1F\nh: 1_000\ni: .inf\nj: -.5\n"
        "k: 1:30\n"
    )
    doc, _ = load(tmp_path, text)
    assert doc.data == yaml.safe_load(text)
    assert doc.data["a"] is True and doc.data["b"] is False and doc.data["f"] == 15


def test_quoted_double_angle_is_an_ordinary_key(tmp_path):
    text = 'a: &a {x: 1}\nb:\n  "<<": 2\n  <<: *a\n'
    doc, diagnostics = load(tmp_path, text)
    assert diagnostics == []
    assert doc.data["b"] == {"<<": 2, "x": 1} == yaml.safe_load(text)["b"]


def test_second_merge_key_in_one_mapping_is_YML002(tmp_path):
    diagnostic = only(load(tmp_path, "a: &a {x: 1}\nb:\n  <<: *a\n  <<: *a\n")[1])
    assert diagnostic.code == "YML002"
    assert diagnostic.span.line == 4


def test_plain_equals_sign_is_a_string(tmp_path):
    # yaml.safe_load fails here (no constructor for the YAML 1.1 'value' tag); a spec means '='.
    assert load(tmp_path, "op: =\n")[0].data == {"op": "="}


# --- syntax errors ---------------------------------------------------------------------------


def test_tab_indentation_is_YML001_with_a_hint(tmp_path):
    diagnostic = only(load(tmp_path, "model:\n\tkind: mlp\n")[1])
    assert diagnostic.code == "YML001"
    assert diagnostic.message.startswith("YAML syntax error: ")
    assert diagnostic.span.line == 2
    assert "tabs" in diagnostic.hint


def test_unclosed_quote_is_YML001_naming_where_it_started(tmp_path):
    diagnostic = only(load(tmp_path, 'name: "mnist\nseed: 1\n')[1])
    assert diagnostic.code == "YML001"
    assert "line 1, column 7" in diagnostic.message
    assert diagnostic.span.line >= 1


def test_bad_indentation_is_located(tmp_path):
    diagnostic = only(load(tmp_path, "a: 1\n b: 2\n")[1])
    assert diagnostic.code == "YML001"
    assert diagnostic.span.line == 2


# --- hostile input ---------------------------------------------------------------------------


def billion_laughs(levels=9, width=10):
    lines = ["l0: &l0 lol"]
    for level in range(1, levels + 1):
        items = ", ".join([f"*l{level - 1}"] * width)
        lines.append(f"l{level}: &l{level} [{items}]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_stops_with_YML005_quickly(tmp_path):
    started = time.monotonic()
    doc, diagnostics = load(tmp_path, billion_laughs())
    elapsed = time.monotonic() - started
    assert doc is None
    diagnostic = only(diagnostics)
    assert diagnostic.code == "YML005"
    assert "billion laughs" in diagnostic.message
    assert diagnostic.span.line == 7  # the alias whose expansion crosses the limit
    assert elapsed < 5  # about 0.2 s; generous for slow CI machines


def test_too_many_values_without_aliases_is_YML005(tmp_path):
    text = "a: [" + ", ".join(["1"] * 50) + "]\n"
    assert codes(load(tmp_path, text, limits=LoadLimits(max_nodes=20))[1]) == ["YML005"]


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 20_000 + "]" * 20_000 + "\n",
        "{a: " * 20_000 + "1" + "}" * 20_000 + "\n",
        "a:\n  " + "- " * 20_000 + "x\n",
    ],
    ids=["flow-list", "flow-mapping", "block-list"],
)
def test_deep_nesting_is_YML006_not_a_crash(tmp_path, text):
    started = time.monotonic()
    doc, diagnostics = load(tmp_path, text)
    assert doc is None
    assert codes(diagnostics) == ["YML006"]
    assert diagnostics[0].span.line in (1, 2)
    assert time.monotonic() - started < 5


def test_block_mapping_nested_past_the_limit_is_YML006_at_the_collection_start(tmp_path):
    text = "".join("  " * level + "a:\n" for level in range(8)) + "  " * 8 + "x\n"
    diagnostic = only(load(tmp_path, text, limits=LoadLimits(max_depth=5))[1])
    assert diagnostic.code == "YML006"
    assert (diagnostic.span.line, diagnostic.span.col) == (6, 11)


def test_alias_that_would_nest_too_deep_is_YML006(tmp_path):
    text = "a: &deep [[[1]]]\nb: [[[*deep]]]\n"
    limits = LoadLimits(max_depth=7)
    assert load(tmp_path, text, limits=limits)[1] == []  # root + 3 + 3 = 7: at the limit
    text = "a: &deep [[[1]]]\nb: [[[[*deep]]]]\n"
    diagnostic = only(load(tmp_path, text, limits=limits)[1])
    assert diagnostic.code == "YML006"
    assert (diagnostic.span.line, diagnostic.span.col) == (2, 8)


def test_file_over_size_limit_is_fatal_YML010_without_reading_it(tmp_path, monkeypatch):
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as handle:
        handle.truncate(10 * 1024 * 1024)  # sparse: nothing written, nothing to read

    def refuse(*args, **kwargs):
        raise AssertionError("the file was opened")

    monkeypatch.setattr(source, "open", refuse, raising=False)
    doc, diagnostics = load_yaml_file(path)
    assert doc is None
    diagnostic = only(diagnostics)
    assert diagnostic.code == "YML010" and diagnostic.fatal
    assert "10485760" in diagnostic.message and str(LoadLimits().max_bytes) in diagnostic.message
    assert "--max-bytes" in diagnostic.hint
    assert (diagnostic.span.line, diagnostic.span.col) == (1, 1)


def test_bytes_over_size_limit_are_fatal_YML010(tmp_path):
    text, diagnostics = decode_source(b"a: 1\n" * 10, "s.yaml", LoadLimits(max_bytes=20))
    assert text is None and codes(diagnostics) == ["YML010"] and diagnostics[0].fatal


def test_two_megabyte_single_line_parses(tmp_path):
    started = time.monotonic()
    doc, diagnostics = load(tmp_path, 'description: "' + "x" * 2_000_000 + '"\n')
    assert diagnostics == []
    assert len(doc.data["description"]) == 2_000_000
    assert time.monotonic() - started < 10


# --- encodings and line endings --------------------------------------------------------------


def test_binary_file_is_fatal_YML012(tmp_path):
    rng = random.Random(1)
    raw = bytes(rng.randrange(256) for _ in range(4096)) + b"\x00\x01\x00"
    doc, diagnostics = load(tmp_path, raw)
    assert doc is None
    diagnostic = only(diagnostics)
    assert diagnostic.code == "YML012" and diagnostic.fatal
    assert "binary" in diagnostic.message


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_utf16_or_utf32_with_bom_is_fatal_YML011(tmp_path, encoding):
    diagnostic = only(load(tmp_path, SPEC.encode(encoding))[1])
    assert diagnostic.code == "YML011" and diagnostic.fatal
    assert encoding.upper() in diagnostic.message
    assert "byte order mark" in diagnostic.message


def test_utf16_without_bom_is_fatal_YML011(tmp_path):
    diagnostic = only(load(tmp_path, SPEC.encode("utf-16-le"))[1])
    assert diagnostic.code == "YML011" and "UTF-16" in diagnostic.message


def test_invalid_utf8_is_fatal_YML011_at_its_line_and_column(tmp_path):
    raw = "a: 1\nname: héllo\nc: d".encode() + b"\n" + b"bad: x\xff\n"
    diagnostic = only(load(tmp_path, raw)[1])
    assert diagnostic.code == "YML011" and diagnostic.fatal
    assert (diagnostic.span.line, diagnostic.span.col) == (4, 7)
    assert "0xff" in diagnostic.message


def test_invalid_utf8_line_counts_lone_cr_line_endings(tmp_path):
    diagnostic = only(load(tmp_path, b"a: 1\rb: \xc3\r")[1])
    assert (diagnostic.span.line, diagnostic.span.col) == (2, 4)


def test_nul_byte_after_first_8_KiB_is_a_located_error(tmp_path):
    text = "".join(f"key{i}: value {i}\n" for i in range(1000))
    assert len(text) > 8192
    doc, diagnostics = load(tmp_path, text + "late: a\x00b\n")
    assert doc is None
    diagnostic = only(diagnostics)
    assert diagnostic.code == "YML001"
    assert (diagnostic.span.line, diagnostic.span.col) == (1001, 8)
    assert "NUL" in diagnostic.message


def test_crlf_file_gives_same_data_and_lines_as_lf(tmp_path):
    lf_doc, _ = load(tmp_path, SPEC, "lf.yaml")
    crlf_doc, diagnostics = load(tmp_path, SPEC.replace("\n", "\r\n"), "crlf.yaml")
    assert diagnostics == []
    assert crlf_doc.data == lf_doc.data
    assert crlf_doc.text == lf_doc.text
    assert [at(s) for s in crlf_doc.source_map.values.values()] == [
        at(s) for s in lf_doc.source_map.values.values()
    ]


def test_lone_cr_line_endings_work(tmp_path):
    doc, diagnostics = load(tmp_path, SPEC.replace("\n", "\r"))
    assert diagnostics == []
    assert doc.data == load(tmp_path, SPEC)[0].data
    assert doc.source_map.value_span(("model", "dropout")).line == 6


def test_crlf_inside_block_scalar_reads_as_lf(tmp_path):
    doc, _ = load(tmp_path, b"text: |\r\n  one\r\n  two\r\n")
    assert doc.data == {"text": "one\ntwo\n"}


def test_utf8_bom_is_stripped(tmp_path):
    doc, diagnostics = load(tmp_path, b"\xef\xbb\xbf" + SPEC.encode())
    assert diagnostics == []
    assert doc.data["name"] == "mnist-baseline"
    assert at(doc.source_map.key_span(("name",))) == (1, 1, 1, 5)


# --- document shape --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["", "\n\n", "# just a comment\n", "---\n", "--- # nothing\n...\n"]
)
def test_empty_document_is_YML007(tmp_path, text):
    doc, diagnostics = load(tmp_path, text)
    assert doc is None
    diagnostic = only(diagnostics)
    assert diagnostic.code == "YML007"
    assert (diagnostic.span.line, diagnostic.span.col) == (1, 1)
    assert "rigorml init" in diagnostic.message


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("just text\n", "a string"),
        ("- a\n- b\n", "a list"),
        ("null\n", "null"),
        ("\n42\n", "a number"),
    ],
)
def test_top_level_that_is_not_a_mapping_is_YML008(tmp_path, text, found):
    diagnostic = only(load(tmp_path, text)[1])
    assert diagnostic.code == "YML008"
    assert diagnostic.message.endswith(f"found {found}")
    assert diagnostic.span.line == text.count("\n", 0, len(text) - len(text.lstrip("\n"))) + 1


def test_require_mapping_false_accepts_any_single_document():
    assert parse_yaml("- a\n- b\n", "o", require_mapping=False)[0].data == ["a", "b"]
    assert parse_yaml("3", "o", require_mapping=False)[0].data == 3
    doc, diagnostics = parse_yaml("", "o", require_mapping=False)
    assert diagnostics == [] and doc.data is None


def test_second_document_is_YML009_at_its_start(tmp_path):
    doc, diagnostics = load(tmp_path, "a: 1\nb: 2\n---\nc: 3\n")
    assert doc is None
    diagnostic = only(diagnostics)
    assert diagnostic.code == "YML009"
    assert (diagnostic.span.line, diagnostic.span.col) == (3, 1)


def test_missing_file_is_fatal_YML013(tmp_path):
    doc, diagnostics = load_yaml_file(tmp_path / "nope.yaml")
    assert doc is None
    diagnostic = only(diagnostics)
    assert diagnostic.code == "YML013" and diagnostic.fatal
    assert diagnostic.message == "cannot read spec: No such file or directory"
    assert diagnostic.format_text().startswith(f"{tmp_path / 'nope.yaml'}:1:1: YML013")


def test_directory_is_fatal_YML013(tmp_path):
    diagnostic = only(load_yaml_file(tmp_path)[1])
    assert diagnostic.code == "YML013" and diagnostic.fatal
    assert "directory" in diagnostic.message


# --- SourceMap -------------------------------------------------------------------------------


def test_locate_falls_back_to_the_longest_present_prefix(tmp_path):
    smap = load(tmp_path, SPEC)[0].source_map
    assert smap.locate(("model", "dropout")) == smap.value_span(("model", "dropout"))
    assert smap.locate(("model", "missing", "deeper")) == smap.value_span(("model",))
    assert smap.locate(("model", "missing"), prefer_key=True) == smap.key_span(("model",))
    assert smap.locate(["train", 5]) == smap.value_span(("train",))
    assert smap.locate(("nothing",)) == smap.value_span(())
    assert smap.locate(("train", 0), prefer_key=True) == smap.value_span(("train", 0))
    assert SourceMap(file="x.yaml").locate(("a",)) == Span.point("x.yaml")


def test_with_prefix_update_drop_and_copy():
    smap = parse_yaml("a:\n  b: 1\n  c: 2\n", "f")[0].source_map
    grafted = smap.with_prefix(("base",))
    assert grafted.value_span(("base", "a", "b")) == smap.value_span(("a", "b"))
    assert grafted.key_span(("base", "a")) == smap.key_span(("a",))
    assert grafted.value_span(("a", "b")) is None

    override = parse_yaml("b: 9\n", "<override 1>")[0].source_map.with_prefix(("a",))
    merged = smap.copy()
    merged.update(override)
    assert merged.value_span(("a", "b")).file == "<override 1>"
    assert smap.value_span(("a", "b")).file == "f"  # the copy is independent

    merged.drop(("a",))
    assert merged.value_span(("a",)) is None and merged.value_span(("a", "c")) is None
    assert merged.key_span(("a", "b")) is None
    assert merged.value_span(()) is not None


# --- speed and imports -----------------------------------------------------------------------


def spec_of_about_300_lines() -> str:
    lines = []
    for i in range(30):
        lines += [
            f"section_{i}:",
            f"  name: item-{i}",
            f"  lr: {0.001 * i}",
            f"  epochs: {i}",
            "  enabled: true",
            "  tags: [a, b, c]",
            "  nested:",
            f"    seed: {i}",
            f"    path: 'data/{i}.csv'",
            "    when: null",
        ]
    return "\n".join(lines) + "\n"


def test_300_line_spec_parses_fast_and_as_safe_load_reads_it():
    text = spec_of_about_300_lines()
    doc, _ = parse_yaml(text, "s.yaml")
    assert doc.data == yaml.safe_load(text)
    started = time.perf_counter()
    for _ in range(10):
        parse_yaml(text, "s.yaml")
    per_call = (time.perf_counter() - started) / 10
    assert per_call < 0.25  # ~2 ms with libyaml, ~12 ms without; generous for loaded machines


def test_loader_imports_no_heavy_library():
    heavy = ["torch", "scipy", "optuna", "jinja2", "libcst", "mlflow", "pydantic"]
    code = (
        "import sys, rigorml.compiler.source\n"
        f"print(sorted(set({heavy!r}) & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# --- properties ------------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
)
keys = st.text(max_size=12) | st.integers(-1000, 1000) | st.booleans() | st.none()
json_like = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(keys, children, max_size=5),
    max_leaves=10,
)


# The autouse parser fixture is set once per test, not per example, which is what we want here.
FIXTURE_IS_PER_TEST = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


def paths_of(data, prefix=()):
    yield prefix, None
    if isinstance(data, dict):
        for key, value in data.items():
            yield prefix + (key,), "key"
            yield from paths_of(value, prefix + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from paths_of(value, prefix + (index,))


@settings(max_examples=200, deadline=None, suppress_health_check=FIXTURE_IS_PER_TEST)
@given(
    data=st.dictionaries(keys, json_like, max_size=4),
    flow=st.sampled_from([None, True, False]),
    unicode=st.booleans(),
)
def test_parse_reads_dumped_data_as_safe_load_does_and_locates_every_path(data, flow, unicode):
    # rigorml's dumper: it also quotes strings YAML 1.2 reads as floats ("1e5"), which PyYAML does not.
    text = yaml.dump(data, Dumper=source._Dumper, default_flow_style=flow, allow_unicode=unicode, sort_keys=False)
    expected = yaml.safe_load(text)
    doc, diagnostics = parse_yaml(text, "p.yaml")
    assert diagnostics == [], text
    assert doc.data == expected
    for path, kind in paths_of(doc.data):
        if kind == "key":
            assert doc.source_map.key_span(path) is not None, path
        else:
            assert doc.source_map.value_span(path) is not None, path


def assert_answers(doc, diagnostics):
    """The loader's contract on any input: a document, or diagnostics; never both, never neither."""
    assert (doc is None) == bool(diagnostics)
    if doc is not None:
        assert isinstance(doc, SourceDocument)
    for diagnostic in diagnostics:
        assert isinstance(diagnostic, Diagnostic)
        assert diagnostic.span.line >= 1 and diagnostic.span.col >= 1
        span = diagnostic.span
        assert (span.end_line, span.end_col) > (span.line, span.col)


YAML_NOISE = list(":-[]{},#&*!|>'\"%@`?\t\n\r ") + [
    "---", "...", "<<", "!!", "&a", "*a", "\x00", "\xff"
]


@settings(max_examples=200, deadline=None, suppress_health_check=FIXTURE_IS_PER_TEST)
@given(st.lists(st.sampled_from(YAML_NOISE + list("ab1é")), max_size=60).map("".join))
def test_random_text_never_raises(text):
    assert_answers(*parse_yaml(text, "fuzz.yaml"))


@settings(max_examples=200, deadline=None, suppress_health_check=FIXTURE_IS_PER_TEST)
@given(st.data())
def test_mutated_spec_never_raises(data):
    raw = bytearray((SPEC + "anchors: &a {x: 1}\nuse:\n  <<: *a\n  y: *a\n").encode())
    for _ in range(data.draw(st.integers(1, 6))):
        position = data.draw(st.integers(0, len(raw)))
        action = data.draw(st.sampled_from(["flip", "delete", "insert"]))
        if action == "flip" and position < len(raw):
            raw[position] ^= 1 << data.draw(st.integers(0, 7))
        elif action == "delete":
            del raw[position : position + data.draw(st.integers(1, 8))]
        else:
            raw[position:position] = data.draw(st.sampled_from(YAML_NOISE)).encode()
    text, diagnostics = decode_source(bytes(raw), "fuzz.yaml")
    if text is None:
        assert_answers(None, diagnostics)
    else:
        assert_answers(*parse_yaml(text, "fuzz.yaml"))


@pytest.mark.parametrize(
    ("text", "value"),
    [("1e-3", 0.001), ("1E5", 100000.0), ("-2.5e+2", -250.0), ("3e0", 3.0)],
)
def test_exponent_without_a_dot_is_a_float_as_in_yaml_1_2(tmp_path, text, value):
    # YAML 1.1 (PyYAML) reads `lr: 1e-3` as a string; learning rates are written that way.
    document, problems = parse_yaml(f"lr: {text}\n", "spec.yaml")
    assert problems == []
    assert document.data["lr"] == value and isinstance(document.data["lr"], float)


@pytest.mark.parametrize("text", ["'1e-3'", "1e", "3e-4abc", "e5"])
def test_exponent_lookalikes_stay_strings(text):
    document, problems = parse_yaml(f"x: {text}\n", "spec.yaml")
    assert problems == [] and isinstance(document.data["x"], str)


def test_dumped_yaml_reads_back_identically_even_for_exponent_like_strings():
    data = {"tags": ["1e5", "0E0", "-2e3", "plain"], "lr": 1e-3, "n": 10}
    document, problems = parse_yaml(source.dump_yaml(data), "resolved.yaml")
    assert problems == [] and document.data == data
