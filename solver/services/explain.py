"""Why a solve problem has no solution, in the user's terms, and what would work.

The diagnosis runs the exact engine on variants of the user's own document:

1. Each axis alone: which axes fail (a 2D problem often fails on one axis only).
2. On a failing axis, forward from the input with every target dropped: the first
   layer that can produce nothing (and by which rule of the framework), or a join whose inputs
   never match; otherwise the target is out of reach, and the nearest reachable
   size is traced layer by layer ("... gives 12, and layer 'up' gives 24, not 25").
3. Repairs, each checked by solving the changed document: widen one parameter's
   domain (with its tied layers), untie a parameter, move a target to the nearest
   reachable size, or use the nearest input sizes that work (padding or cropping).
"""
from __future__ import annotations

from ..contract import Conflict, Explanation, SolveRequest
from ..engines.deadline import Deadline, Timeout
from ..engines.exact import TooLarge
from ..errors import ConvsolveError
from ..rules import DEFAULT_CONVENTION
from .domains import default, inferred, label, show
from .repairs import Explainer


def explain(document: SolveRequest, deadline: Deadline) -> Explanation:
    """Conflicts and verified repairs for an infeasible solve document."""
    doc = document.model_dump(mode="json", exclude_unset=True, exclude_none=True)
    ex = Explainer(doc, deadline)
    try:
        conflicts, message = ex.diagnose()
    except (Timeout, TooLarge, ConvsolveError):
        conflicts, message = [], "no setting in the domains reaches the targets"
    repairs = ex.repairs()
    # The layers whose settings alone stand in the way take part in the conflict too.
    axis = ex.failing[0] if len(ex.failing) == 1 else None
    for index, field in ex.narrow:
        layer = doc["layers"][index]
        value = layer[field] if field in layer else default(layer, field, doc.get("convention", DEFAULT_CONVENTION))
        allows = "leaves output_padding to Keras" if inferred(doc, layer, field) else \
            f"allows {field} {show(value)} only"
        conflicts.append(Conflict(layer=index, name=layer.get("name"), axis=axis, rule="domain_too_narrow",
                                  message=f"{label(doc, index)} {allows}"))
    if repairs:
        message += f" Smallest change that works: {repairs[0].message}."
    if ex.note is not None:
        message += f" {ex.note}"
    return Explanation(message=message, conflicts=conflicts, repairs=repairs, note=ex.note)

