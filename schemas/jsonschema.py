"""JSON Schema for editors, generated from the pydantic models (never written by hand).

``schemas/experiment.schema.json`` is this module's output, committed so that editors can use it
from the repository; a test fails when it drifts from the models. Regenerate with
``rigorml schema --generate -o schemas/experiment.schema.json``.
"""

from __future__ import annotations

import json

from .spec import Spec
from .sweep import WandbSweep

SCHEMA_ID = "https://rigorml.dev/schemas/experiment.schema.json"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def generate_json_schema() -> dict:
    """The spec's JSON Schema (draft 2020-12) as a dict: titles, descriptions, defaults, enums, examples."""
    schema = Spec.model_json_schema(by_alias=True, mode="validation")
    _add_wandb_sweep(schema)
    ordered = {"$schema": DIALECT, "$id": SCHEMA_ID, "title": "rigorml experiment spec"}
    ordered.update({k: v for k, v in schema.items() if k != "title"})
    # `extends` is consumed by composition before validation, but editors must accept it.
    return ordered


def _add_wandb_sweep(schema: dict) -> None:
    """Let editors accept ``sweep: {format: wandb, ...}``: the loader converts it before validation,
    so ``Spec`` never sees it, but the file an editor checks holds the W&B form."""
    wandb = WandbSweep.model_json_schema(by_alias=True, mode="validation", ref_template="#/$defs/{model}")
    definitions = schema["$defs"]
    for name, definition in wandb.pop("$defs", {}).items():
        if definitions.setdefault(name, definition) != definition:
            raise ValueError(f"two JSON Schema definitions named {name}")
    definitions["WandbSweep"] = wandb
    schema["$defs"] = dict(sorted(definitions.items()))
    sweep = schema["properties"]["sweep"]
    by_format = {
        "if": {"type": "object", "required": ["format"], "properties": {"format": {"const": "wandb"}}},
        "then": {"$ref": "#/$defs/WandbSweep"},
        "else": {"$ref": "#/$defs/Sweep"},
    }
    sweep["anyOf"] = [by_format if option == {"$ref": "#/$defs/Sweep"} else option for option in sweep["anyOf"]]


def schema_text() -> str:
    """The schema as the exact text committed to the repository (stable key order, trailing newline)."""
    return json.dumps(generate_json_schema(), indent=2, ensure_ascii=False) + "\n"
