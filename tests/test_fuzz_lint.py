"""The linter and the fixer on mangled specs: they never raise, locate every finding, and never
break a file they fix.

Hypothesis mutates the text of every ``examples/*.yaml`` the way people and merges do -- a key
deleted, a value replaced by some other JSON-like value, a key misspelt, a list item duplicated,
comments and ``# rigorml: ignore[...]`` comments (with real, prefix and made-up codes) inserted --
and runs ``lint_path`` and ``fix_path(..., unsafe=True)`` over the result with every rule enabled.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rigorml.compiler.lint import fix_path, lint_path
from rigorml.compiler.source import parse_yaml
from rigorml.rules.config import LintConfig
from rigorml.rules.registry import all_rules

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = {path.name: path.read_text(encoding="utf-8") for path in sorted((REPO / "examples").glob("*.yaml"))}
CODES = sorted(all_rules())
PREFIXES = sorted({code.rstrip("0123456789") for code in CODES})

_KEY_LINE = re.compile(r"^(?P<indent>[ ]*)(?P<dash>- +)?(?P<key>[A-Za-z_][\w.]*):(?P<rest>.*)$")
_ITEM_LINE = re.compile(r"^(?P<indent>[ ]*)- ")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _block_end(lines: list[str], start: int, indent: int) -> int:
    """The index just past the block that starts at ``start``: its line and every following line
    indented deeper than ``indent`` (blank lines and comment lines inside it included)."""
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > indent):
        end += 1
    return end


# --- mutations: each takes the lines and a random source, returns new lines -----------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.floats(allow_nan=True) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)


def delete_key(lines, draw):
    keys = [i for i, line in enumerate(lines) if _KEY_LINE.match(line)]
    if not keys:
        return lines
    i = draw(st.sampled_from(keys))
    return lines[:i] + lines[_block_end(lines, i, _indent(lines[i])) :]


def replace_value(lines, draw):
    keys = [i for i, line in enumerate(lines) if _KEY_LINE.match(line)]
    if not keys:
        return lines
    i = draw(st.sampled_from(keys))
    match = _KEY_LINE.match(lines[i])
    value = json.dumps(draw(json_values))  # JSON is YAML flow syntax
    new = f"{match['indent']}{match['dash'] or ''}{match['key']}: {value}"
    return lines[:i] + [new] + lines[_block_end(lines, i, _indent(lines[i])) :]


def perturb_value(lines, draw):
    """A scalar replaced by another of its kind (a count, a rate, a flag, another word of the spec):
    specs that still validate, so the rules run on them."""
    scalars = [
        i
        for i, line in enumerate(lines)
        if (m := _KEY_LINE.match(line)) and m["rest"].strip() and not m["rest"].strip().startswith(("#", "[", "{", "|", ">"))
    ]
    if not scalars:
        return lines
    i = draw(st.sampled_from(scalars))
    match = _KEY_LINE.match(lines[i])
    value, _, comment = match["rest"].strip().partition(" #")
    if re.fullmatch(r"-?\d+", value):
        new = str(draw(st.integers(-2, 2 * abs(int(value)) + 3)))
    elif re.fullmatch(r"-?\d*\.\d+(e-?\d+)?|-?\d+e-?\d+", value):
        new = repr(draw(st.floats(-1.0, 2.0 * abs(float(value)) + 1.0, allow_nan=False)))
    elif value in ("true", "false"):
        new = "false" if value == "true" else "true"
    else:
        words = sorted({m["rest"].strip() for line in lines if (m := _KEY_LINE.match(line)) and re.fullmatch(r"[\w:/.-]+", m["rest"].strip())})
        new = draw(st.sampled_from(words)) if words else value
    lines = list(lines)
    lines[i] = f"{match['indent']}{match['dash'] or ''}{match['key']}: {new}" + (f" #{comment}" if comment else "")
    return lines


def misspell_key(lines, draw):
    keys = [i for i, line in enumerate(lines) if _KEY_LINE.match(line)]
    if not keys:
        return lines
    i = draw(st.sampled_from(keys))
    match = _KEY_LINE.match(lines[i])
    key = match["key"]
    at = draw(st.integers(0, len(key) - 1))
    typo = draw(st.sampled_from(["drop", "double", "swap", "case", "underscore"]))
    if typo == "drop" and len(key) > 1:
        key = key[:at] + key[at + 1 :]
    elif typo == "double":
        key = key[: at + 1] + key[at:]
    elif typo == "swap" and at + 1 < len(key):
        key = key[:at] + key[at + 1] + key[at] + key[at + 2 :]
    elif typo == "case":
        key = key[:at] + key[at].swapcase() + key[at + 1 :]
    else:
        key = key.replace("_", "-") if "_" in key else key + "_"
    lines = list(lines)
    lines[i] = f"{match['indent']}{match['dash'] or ''}{key}:{match['rest']}"
    return lines


def duplicate_list_item(lines, draw):
    items = [i for i, line in enumerate(lines) if _ITEM_LINE.match(line)]
    flows = [i for i, line in enumerate(lines) if re.search(r"\[[^\[\]]+\]", line)]
    if not items and not flows:
        return lines
    i = draw(st.sampled_from(items + flows))
    lines = list(lines)
    if i in items and (i not in flows or draw(st.booleans())):
        end = _block_end(lines, i, _indent(lines[i]))
        return lines[:end] + lines[i:end] + lines[end:]
    # a flow list: repeat its first element
    lines[i] = re.sub(r"\[([^\[\],]+)", lambda m: f"[{m[1]}, {m[1].strip()}", lines[i], count=1)
    return lines


comment_text = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufeff"), max_size=20)
suppressed_codes = st.lists(
    st.sampled_from(CODES) | st.sampled_from(PREFIXES) | st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", max_size=7),
    max_size=3,
)


def _comment(draw) -> str:
    kind = draw(st.sampled_from(["plain", "ignore", "ignore", "ignore-file"]))
    if kind == "plain":
        return "#" + draw(comment_text)
    spacing = draw(st.sampled_from(["", " ", "  "]))
    return f"#{spacing}rigorml:{spacing}{kind}[{', '.join(draw(suppressed_codes))}]"


def insert_comment(lines, draw):
    lines = list(lines)
    i = draw(st.integers(0, len(lines)))
    comment = _comment(draw)
    if i < len(lines) and lines[i].strip() and draw(st.booleans()):
        lines[i] = f"{lines[i]}  {comment}"  # after the value (inside a block scalar it is text)
    else:
        indent = " " * (_indent(lines[i]) if i < len(lines) else 0)
        lines.insert(i, indent + comment)
    return lines


# Weighted towards mutations that keep a spec valid, so that the rules (not only validation) run.
MUTATIONS = [delete_key, replace_value, misspell_key, duplicate_list_item, *[perturb_value] * 3, *[insert_comment] * 3]


@st.composite
def mangled_specs(draw) -> tuple[str, str]:
    name = draw(st.sampled_from(sorted(EXAMPLES)))
    lines = EXAMPLES[name].splitlines()
    for mutation in draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=3)):
        lines = mutation(lines, draw)
    return name, "\n".join(lines) + "\n"


# --- properties ------------------------------------------------------------------------------------


def _assert_located(report) -> None:
    for d in report.diagnostics:
        where = d.format_text()
        assert d.span.line >= 1 and d.span.col >= 1, where
        assert (d.span.end_line, d.span.end_col) >= (d.span.line, d.span.col), where


def _parses(text: str) -> bool:
    document, problems = parse_yaml(text, "spec.yaml")
    return document is not None and not problems


def _validation_errors(report) -> list[str]:
    return [d.format_text() for d in report.diagnostics if d.code[:3] in ("YML", "SPC", "CMP")]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled_specs())
def test_lint_and_fix_never_raise_and_fixes_keep_the_spec_readable(case):
    name, text = case
    with tempfile.TemporaryDirectory() as directory:
        path = str(Path(directory) / name)
        Path(path).write_text(text, encoding="utf-8")

        report = lint_path(path, LintConfig())
        _assert_located(report)

        fixed_report, changes = fix_path(path, LintConfig(), unsafe=True)
        _assert_located(fixed_report)
        assert set(changes) <= {path}, f"a fix edited another file: {sorted(changes)}"
        if path not in changes:
            return
        before, after = changes[path]
        assert before == text
        if _parses(text):
            assert _parses(after), f"the fixes made the YAML unreadable:\n{after}"
        Path(path).write_text(after, encoding="utf-8")
        relinted = lint_path(path, LintConfig())
        _assert_located(relinted)
        if not _validation_errors(report):
            assert not _validation_errors(relinted), f"the fixes made a valid spec invalid:\n{after}"
