"""The compiled validator (pre-commit path) agrees with the pydantic models, and stays in sync with them."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from rigorml.schemas import compiled
from rigorml.schemas.snapshot import SNAPSHOT_PATH, snapshot_text
from rigorml.schemas.spec import Spec

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
STARTERS = sorted((ROOT / "templates" / "starters").glob("*.yaml"))


def _outcome(validate, data):
    """('ok', plain data) or ('errors', [(type, loc, msg)]) for one validator."""
    try:
        result = validate(data)
    except ValidationError as exc:
        return "errors", [(e["type"], e["loc"], e["msg"]) for e in exc.errors(include_url=False)]
    return "ok", _plain(result)


def _plain(value):
    """A validated tree (pydantic models or SpecNodes) as plain data, to compare the two."""
    if hasattr(value, "__dict__") and not isinstance(value, type):
        return {k: _plain(v) for k, v in vars(value).items() if not k.startswith("__pydantic")}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _compiled(data):
    return compiled.validator().validate_python(data)


def test_snapshot_is_generated_from_the_current_models():
    assert SNAPSHOT_PATH.read_text(encoding="utf-8") == snapshot_text(), (
        "schemas/spec-validator.json is out of date with the models; regenerate it with "
        "`python -m rigorml.schemas.snapshot --write`"
    )


def test_compiled_validator_is_available_with_the_pinned_pydantic_core():
    assert compiled.validator() is not None, "pydantic-core differs from the snapshot's; see constraints.txt"


@pytest.mark.parametrize("path", EXAMPLES + STARTERS, ids=lambda p: p.name)
def test_compiled_and_model_validation_agree_on_shipped_specs(path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert _outcome(_compiled, data) == _outcome(Spec.model_validate, data)


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 200),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from(["", "sgd", "adamw", "log_uniform", "builtin:digits", "x.y:z", "hyperband", "val/loss", "fp33"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text("abcdelmnoprstu_", max_size=8), inner, max_size=3)),
    max_leaves=8,
)


def _paths(data, prefix=()):
    yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _paths(value, prefix + (i,))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_compiled_and_model_validation_agree_on_mutated_specs(data):
    base = yaml.safe_load(data.draw(st.sampled_from(EXAMPLES)).read_text(encoding="utf-8"))
    mutated = copy.deepcopy(base)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = [p for p in _paths(mutated) if p]
        path = data.draw(st.sampled_from(paths))
        parent = mutated
        for segment in path[:-1]:
            parent = parent[segment]
        action = data.draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = data.draw(_values)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[data.draw(st.text("abcdelmnoprstu_", min_size=1, max_size=8))] = data.draw(_values)
    assert _outcome(_compiled, mutated) == _outcome(Spec.model_validate, mutated)


def test_validate_without_the_compiled_validator_gives_the_same_diagnostics(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        (ROOT / "examples" / "quickstart.yaml").read_text().replace("name: adamw", "name: sgd").replace("epochs: 12", "epochs: 0"),
        encoding="utf-8",
    )

    def run(extra_env):
        env = {**os.environ, **extra_env}
        env.pop("RIGORML_NO_COMPILED", None) if not extra_env else None
        done = subprocess.run(
            [sys.executable, "-m", "rigorml.compiler", "validate", "--format", "json", str(spec)],
            capture_output=True, text=True, env=env, timeout=60,
        )  # fmt: skip
        assert done.returncode == 1, done.stderr
        return done.stdout

    assert run({}) == run({"RIGORML_NO_COMPILED": "1"})


def test_validating_a_valid_spec_does_not_import_pydantic_or_the_pydantic_core_package():
    code = (
        "import sys\n"
        "from rigorml.compiler.cli import main\n"
        f"assert main(['validate', '-q', {str(ROOT / 'examples' / 'quickstart.yaml')!r}]) == 0\n"
        "print(sorted(m for m in sys.modules if m.startswith('pydantic')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['pydantic_core._pydantic_core']"
