"""Resolution: a valid spec with every derived default filled, in a canonical JSON form and its hash.

The resolved JSON is what later stages save next to every checkpoint; its sha256 identifies the
experiment configuration independently of formatting, comments, key order or ``extends`` layout.
"""

from __future__ import annotations

import hashlib
import json

from ..schemas.defaults import fill_derived_defaults
from ..schemas.spec import Spec


def resolve_spec(spec: Spec) -> tuple[Spec, dict]:
    """Fill derived defaults: returns the resolved ``Spec`` and its JSON form."""
    resolved = fill_derived_defaults(spec.model_dump(mode="json", by_alias=True))
    return Spec.model_validate(resolved), resolved


def canonical_json(resolved: dict) -> str:
    """Sorted keys, no insignificant whitespace, UTF-8 text: equal specs give equal strings."""
    return json.dumps(resolved, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def spec_hash(resolved: dict) -> str:
    """sha256 (hex) of the canonical JSON of a resolved spec."""
    return hashlib.sha256(canonical_json(resolved).encode("utf-8")).hexdigest()
