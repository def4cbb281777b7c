"""JSON Schema for editors, generated from the pydantic models (never written by hand).

``schemas/experiment.schema.json`` is this module's output, committed so that editors can use it
from the repository; a test fails when it drifts from the models. Regenerate with
``rigorml schema --generate -o schemas/experiment.schema.json``.
"""

from __future__ import annotations

import json

from .spec import Spec

SCHEMA_ID = "https://rigorml.dev/schemas/experiment.schema.json"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def generate_json_schema() -> dict:
    """The spec's JSON Schema (draft 2020-12) as a dict: titles, descriptions, defaults, enums, examples."""
    schema = Spec.model_json_schema(by_alias=True, mode="validation")
    ordered = {"$schema": DIALECT, "$id": SCHEMA_ID, "title": "rigorml experiment spec"}
    ordered.update({k: v for k, v in schema.items() if k != "title"})
    # `extends` is consumed by composition before validation, but editors must accept it.
    return ordered


def schema_text() -> str:
    """The schema as the exact text committed to the repository (stable key order, trailing newline)."""
    return json.dumps(generate_json_schema(), indent=2, ensure_ascii=False) + "\n"
