"""The base model every spec section derives from, and the small string types sections share."""


from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

from . import checks


class StrictModel(BaseModel):
    """A spec section: unknown keys are errors (typos must not pass silently), values are immutable.

    ``populate_by_name`` lets Python code build sections with field names where the YAML key is a
    Python keyword (``seeds.global`` is the field ``global_``).
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        validate_default=False,
        use_enum_values=True,
        defer_build=True,
        allow_inf_nan=False,
    )


CallableRef = Annotated[str, AfterValidator(checks.callable_ref)]
"""``package.module:function``: a Python callable rigorml imports at run time (never at validation)."""


def unique_list(item_type):
    """A list type whose items must not repeat (a repeated seed or tag is always a mistake)."""
    return Annotated[list[item_type], AfterValidator(checks.unique)]


Name = Annotated[str, AfterValidator(checks.name)]
"""A name used in file paths and run names: letters, digits, ``_``, ``-``, ``.``."""
