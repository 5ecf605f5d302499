"""Reading documents: validation with convsolve's own errors, and per-axis values.

Every front door and engine reads a document through `parse`; every per-axis field
(an int for all axes, or one per axis) through `per_axis`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import DocumentError
from ..rules import KINDS
from .values import Choices, Range

#: Nesting a document may have: a valid one needs 6 levels; validators recurse.
MAX_NESTING = 32


def _nesting(document: Any) -> tuple[str | int, ...] | None:
    """Where the document goes deeper than MAX_NESTING, or None; without recursion."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(document, ())]
    while stack:
        value, where = stack.pop()
        if isinstance(value, dict | list):
            if len(where) >= MAX_NESTING:
                return where
            items = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend((v, (*where, k)) for k, v in items)
    return None


def parse(model: type[BaseModel], document: Any) -> Any:
    """Validate a document (dict or model) as `model`, turning pydantic errors into ours."""
    if isinstance(document, model):
        return document
    deep = _nesting(document)
    if deep is not None:
        raise DocumentError(f"{'.'.join(map(str, deep[:6]))}...: the document is nested more than "
                            f"{MAX_NESTING} levels deep", loc=deep[:6])
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "document"
        raise DocumentError(f"{where}: {first['msg']}", loc=tuple(first["loc"])) from exc


def per_axis(value: Any, ndim: int, where: tuple[str | int, ...]) -> tuple[Any, ...]:
    """An int (or bool, float, None) for every axis, or one per axis, as a tuple of ndim."""
    if type(value) is int:  # the common case, and the cheap one
        return (value,) * ndim
    if isinstance(value, Range | Choices) or (
        isinstance(value, list) and any(isinstance(v, Range | Choices) for v in value)
    ):
        raise DocumentError(
            f"{'.'.join(map(str, where))}: a domain is only allowed in a solve document; "
            "forward needs concrete values",
            loc=where,
        )
    if isinstance(value, list):
        if len(value) != ndim:
            raise DocumentError(
                f"{'.'.join(map(str, where))}: has {len(value)} values but the input has "
                f"{ndim} spatial axes",
                loc=where,
            )
        return tuple(value)
    return (value,) * ndim


def resize_settings(layer: Any, ndim: int, where: tuple[str | int, ...]) -> list[dict[str, Any]]:
    """A resize-family layer's fixed fields as its size rule's keywords, one dict per axis
    (an upsample's {"size": 64, "mode": "nearest"}; an identity's {})."""
    kind = KINDS[layer.type]
    settings: list[dict[str, Any]] = [{} for _ in range(ndim)]
    for field, key in kind.size_fields:
        value = getattr(layer, field)
        if value is not None:
            for a, v in enumerate(per_axis(value, ndim, (*where, field))):
                settings[a][key] = v
    for field, key in kind.shared_fields:
        for axis in settings:
            axis[key] = getattr(layer, field)
    return settings
