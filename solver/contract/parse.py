"""Reading documents: validation with convsolve's own errors, and per-axis values.

Every front door and engine reads a document through `parse`; every per-axis field
(an int for all axes, or one per axis) through `per_axis`.
"""

from __future__ import annotations

import difflib
import functools
from typing import Any, NamedTuple

from pydantic import BaseModel, ValidationError

from ..errors import DocumentError
from ..rules import KINDS
from .values import Choices, Range, StrictModel

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
        raise _reason(model, exc, document) from exc


def _user_path(loc: tuple[Any, ...], document: Any, missing: bool) -> tuple[tuple[str | int, ...], bool]:
    """The path as the user wrote it (pydantic adds a layer's type tag and the names of a
    union's branches), and whether the error is about one branch of a union."""
    path: list[str | int] = []
    node, branch = document, False
    for n, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif missing and n == len(loc) - 1 and isinstance(node, dict):
            path.append(part)  # a missing field: named, though not in the data
            break
        else:  # a name pydantic added: the layer's type tag, or a union's branch
            branch = branch or not (isinstance(node, dict) and node.get("type") == part)
            continue
        path.append(part)
    return tuple(path), branch


def validation_errors(model: type[BaseModel], document: Any) -> list[dict[str, Any]]:
    """The document's validation errors as `parse` states them, in pydantic's shape
    ({type, loc, msg}, type being pydantic's): for a front door that validates on its own
    (FastAPI) to answer in the same words.  Empty when the document is valid."""
    try:
        parse(model, document)
    except DocumentError as exc:
        return [{"type": e.cause or e.kind, "loc": list(e.loc), "msg": e.message} for e in exc.errors]
    return []


def _reason(model: type[BaseModel], exc: ValidationError, document: Any) -> DocumentError:
    """Every error, in the user's terms, one per field: the first says best what is
    wrong (a validator's reason such as min above max, then a misspelt field with the
    closest valid name, then a missing field; errors about union branches the value was
    never meant for, last), the others follow in `more`, in the document's order."""
    errors = [(e, *_user_path(tuple(e["loc"]), document, e["type"] == "missing")) for e in exc.errors()]
    rank = {"value_error": 0, "extra_forbidden": 1, "missing": 2}

    def order(item: tuple[Any, tuple[str | int, ...], bool]) -> int:
        error, _, branch = item
        return rank.get(error["type"], 3) if error["type"] == "value_error" or not branch else 4

    best: dict[tuple[str | int, ...], tuple[Any, tuple[str | int, ...], bool]] = {}
    for item in errors:  # per field, the error that says most
        if item[1] not in best or order(item) < order(best[item[1]]):
            best[item[1]] = item

    def said_better(item: tuple[Any, tuple[str | int, ...], bool]) -> bool:
        """An error about a union's branch the value was never meant for, when another
        error says more: deeper in the value, or about the value itself or its parts."""
        path = item[1]
        return order(item) == 4 and any(
            p != path and (p[:len(path)] == path or path[:len(p)] == p and order(other) < 4)
            for p, other in best.items())

    kept = [item for item in best.values() if not said_better(item)]  # in the document's order
    head = min(kept, key=order)
    found = [_one(model, *item[:2], errors, document) for item in [head, *(i for i in kept if i is not head)]]
    # A field the user misspelt is also missing under its real name: said once.
    meant = {(f.loc[:-1], f.meant) for f in found if f.meant}
    found = [f for f in found if not (f.kind == "missing" and (f.loc[:-1], str(f.loc[-1])) in meant)]
    first, *rest = [DocumentError(f.message, loc=f.loc, cause=f.kind) for f in found]
    first.more = rest
    return first


class _Found(NamedTuple):
    message: str
    loc: tuple[str | int, ...]
    kind: str  # pydantic's error type
    meant: str | None = None  # a missing field this unknown one stands for


def _one(model: type[BaseModel], error: Any, path: tuple[str | int, ...],
         errors: list[tuple[Any, tuple[str | int, ...], bool]], document: Any) -> _Found:
    """One pydantic error as ours, with its path as the user wrote it."""
    where = ".".join(map(str, path)) or "document"
    if error["type"] != "extra_forbidden":
        message = error["msg"].removeprefix("Value error, ")
        if path == ("input_size",) and isinstance(document, dict) and isinstance(document.get("input_size"), list) \
                and len(document["input_size"]) > 3:
            message += ("; input_size is the spatial size only (1 to 3 axes): leave out the batch and "
                        "channel dimensions (in_channels gives the channels)")
        return _Found(f"{where}: {message}", path, error["type"])
    mine = getattr(model, "command", None)
    if len(path) == 1 and mine is not None:  # a field of another kind of document?
        for other in _documents():
            command = getattr(other, "command", mine)
            if command != mine and path[0] in other.model_fields:
                a = "an" if command[0] in "aeiou" else "a"
                return _Found(f"{where}: this looks like {a} {command} document (it has {path[0]}), "
                              f"not a {mine} document: use `convsolve {command}` "
                              f"or solver.{command.replace('-', '_')}", path, error["type"])
    name, parent = str(path[-1]), path[:-1]
    missing = [str(p[-1]) for e, p, branch in errors if e["type"] == "missing" and not branch and p[:-1] == parent]
    close = difflib.get_close_matches(name, missing or _field_names(), n=1, cutoff=0.6)
    owner = ".".join(map(str, parent)) or "document"
    if len(parent) == 2 and parent[0] == "layers" and isinstance(document, dict):
        layer = document["layers"][parent[1]]
        owner = f"layer {parent[1]} ({layer.get('type')})" if isinstance(layer, dict) else owner
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return _Found(f"{where}: unknown field '{name}' in {owner}{hint}", path, error["type"],
                  close[0] if close and close[0] in missing else None)


@functools.cache
def _documents() -> list[type[BaseModel]]:
    """Every model of the contract (all defined once the contract is imported)."""
    found, todo = [], [StrictModel]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        found.append(cls)
    return found


@functools.cache
def _field_names() -> list[str]:
    """Every field name of every document, for 'did you mean'."""
    return list(dict.fromkeys(name for cls in _documents() for name in cls.model_fields))



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
