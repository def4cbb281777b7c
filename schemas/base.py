"""The base model every spec section derives from, and the small string types sections share."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict


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


_CALLABLE_REF = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def check_callable_ref(value: str) -> str:
    """Return ``value`` if it reads ``module.path:function``; raise ValueError otherwise."""
    if not _CALLABLE_REF.match(value):
        raise ValueError(
            f"{value!r} is not a `module.path:function` reference "
            "(a dotted module path, a colon, then the function's name)"
        )
    return value


CallableRef = Annotated[str, AfterValidator(check_callable_ref)]
"""``package.module:function``: a Python callable rigorml imports at run time (never at validation)."""


def _unique(values: list) -> list:
    seen: set = set()
    for value in values:
        key = repr(value)
        if key in seen:
            raise ValueError(f"{value!r} is listed twice")
        seen.add(key)
    return values


def unique_list(item_type):
    """A list type whose items must not repeat (a repeated seed or tag is always a mistake)."""
    return Annotated[list[item_type], AfterValidator(_unique)]


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def _identifier(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError(
            f"{value!r} is not a valid name: use letters, digits, '_', '-' and '.', starting with a letter or digit"
        )
    return value


Name = Annotated[str, AfterValidator(_identifier)]
"""A name used in file paths and run names: letters, digits, ``_``, ``-``, ``.``."""
