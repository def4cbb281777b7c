"""Resolution: a valid spec with every derived default filled, in a canonical JSON form and its hash.

The resolved JSON is what later stages save next to every checkpoint; its sha256 identifies the
experiment configuration independently of formatting, comments, key order or ``extends`` layout.
"""

from __future__ import annotations

from ..schemas.defaults import fill_derived_defaults
from ..schemas.hashing import canonical_json, spec_hash  # noqa: F401  (part of this pass's API)
from ..schemas.spec import Spec


def resolve_spec(spec: Spec) -> tuple[Spec, dict]:
    """Fill derived defaults: returns the resolved ``Spec`` and its JSON form."""
    resolved = fill_derived_defaults(spec.model_dump(mode="json", by_alias=True))
    return Spec.model_validate(resolved), resolved
