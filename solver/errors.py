"""The exception tree: one root, so callers can catch everything convsolve raises.

    ConvsolveError(ValueError)
    ├── DocumentError      the document is malformed or inconsistent (wrong axis count, ...)
    ├── LayerRejected      the convention's framework would refuse this layer: which layer, axis and rule
    └── LimitExceeded      the request goes past a configured limit
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class ConvsolveError(ValueError):
    """Root of every error convsolve raises on purpose."""

    #: Stable machine-readable kind, used as `type` in the API's 422 body.
    kind = "convsolve_error"

    def __init__(self, message: str, *, loc: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        #: Where in the document the problem is, like pydantic's `loc`.
        self.loc = loc

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.kind, "loc": list(self.loc), "msg": self.message}

    def details(self) -> list[dict[str, Any]]:
        """Every error found, as to_dict() gives each: this one, then a document's others."""
        return [self.to_dict(), *(more.to_dict() for more in getattr(self, "more", []))]

    def __reduce__(self) -> tuple[Any, ...]:
        # Whole, across processes (the service solves in worker processes).
        return _rebuild, (type(self), self._state())

    def _state(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _rebuild(cls: type[ConvsolveError], state: dict[str, Any]) -> ConvsolveError:
    error = cls.__new__(cls)
    Exception.__init__(error, state["message"])
    error.__dict__.update(state)
    return error


class DocumentError(ConvsolveError):
    """The document cannot be read as asked: wrong axis count, a domain where a value is needed."""

    kind = "document_error"

    def __init__(self, message: str, *, loc: tuple[str | int, ...] = (), cause: str | None = None) -> None:
        super().__init__(message, loc=loc)
        #: The other errors found in the same document (validation reports them all), each
        #: with its own message and loc; this one says best what is wrong.
        self.more: list[DocumentError] = []
        #: pydantic's error type ("missing", "int_type", ...) when validation found it.
        self.cause = cause

    @property
    def errors(self) -> list[DocumentError]:
        """Every error found: this one, then the others."""
        return [self, *self.more]


class LimitExceeded(ConvsolveError):
    """The request is larger than the configured limits allow."""

    kind = "limit_exceeded"


class LayerRejected(ConvsolveError):
    """A layer configuration that the document's framework (PyTorch, Keras, onnxruntime) would refuse."""

    kind = "layer_rejected"

    def __init__(
        self,
        message: str,
        *,
        rule: str,
        layer: int | None = None,
        name: str | None = None,
        axis: int | None = None,
        loc: tuple[str | int, ...] = (),
        suggestions: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message, loc=loc)
        self.rule = rule
        self.layer = layer
        self.name = name
        self.axis = axis
        self._suggestions = suggestions
        self._suggest: Callable[[], list[dict[str, Any]]] | None = None
        #: The refused layer (as a dict), its input size and the convention: what the
        #: search for suggestions starts from (set by the forward engine).
        self.refused: tuple[dict[str, Any], list[int], str] | None = None

    def suggest_with(self, finder: Callable[[], list[dict[str, Any]]]) -> None:
        """How to find the suggestions: run only if someone reads them (it is a search)."""
        self._suggest = finder

    def _state(self) -> dict[str, Any]:
        return {**self.__dict__, "_suggestions": self.suggestions, "_suggest": None}

    @property
    def suggestions(self) -> list[dict[str, Any]]:
        """Nearby settings of this layer that the framework accepts (may be empty)."""
        if self._suggestions is None:
            self._suggestions = self._suggest() if self._suggest is not None else []
        return self._suggestions

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "rule": self.rule,
            "layer": self.layer,
            "name": self.name,
            "axis": self.axis,
            "suggestions": self.suggestions,
        }


def layer_label(index: int, name: str | None, kind: str, settings: str = "") -> str:
    """How every message names a layer: "layer 3 'up' (conv_transpose)", "layer 0 (conv)",
    with its settings when they matter: "layer 0 (conv: kernel 3, stride 2)"."""
    named = f" '{name}'" if name else ""
    return f"layer {index}{named} ({kind}{': ' + settings if settings else ''})"


class LayerContext:
    """One layer of a document, to raise LayerRejected with its index, name and axis."""

    def __init__(self, index: int, layer: Any) -> None:
        self.index = index
        self.layer = layer

    def label(self) -> str:
        return layer_label(self.index, self.layer.name, self.layer.type)

    def reject(self, rule: str, message: str, axis: int | None, field: str) -> LayerRejected:
        """`rule` is a rules.Rule (a str enum: its value is the rule's id)."""
        where = f", axis {axis}" if axis is not None else ""
        return LayerRejected(f"{self.label()}{where}: {message}", rule=str(rule), layer=self.index,
                             name=self.layer.name, axis=axis, loc=("layers", self.index, field))
