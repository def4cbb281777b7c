"""The metric naming convention, as the naming and sweep rules use it.

The convention itself lives in :mod:`rigorml.schemas.naming`, shared with the runtime tracker, so a
name the linter accepts is exactly a name the tracker accepts.
"""

from ...schemas.naming import (  # noqa: F401  (re-exported for the rules)
    CONVENTION,
    NAME_SPLITS,
    conventional_form,
    follows_convention,
    metric_of,
    split_of,
)
