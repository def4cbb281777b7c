"""The identity of a configuration: sha256 of its canonical JSON.

One definition shared by the compiler (``rigorml resolve``, generated projects), the runtime
(checkpoints and run results) and the tracker (``run.json``), so they agree on which configuration a
run belongs to. Standard library only: the runtime may import it without importing the compiler.
"""

import hashlib
import json


def canonical_json(resolved: dict) -> str:
    """Sorted keys, no insignificant whitespace, non-ASCII kept: equal configurations, equal text.

    Raises ValueError for NaN/inf (not JSON) and TypeError for values JSON cannot represent.
    """
    return json.dumps(resolved, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def spec_hash(resolved: dict) -> str:
    """sha256 (hex) of :func:`canonical_json`, UTF-8 encoded."""
    return hashlib.sha256(canonical_json(resolved).encode("utf-8")).hexdigest()
