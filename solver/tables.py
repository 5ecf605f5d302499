"""How the CLI shows answers: rich tables, and a layer's settings in a few characters."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def is_default(field: str, value: Any) -> bool:
    """PyTorch's default dilation, output_padding or ceil_mode: not worth showing."""
    if field == "ceil_mode":
        return value is False
    return (field, set(value)) in (("dilation", {1}), ("output_padding", {0}))


def show_axes(xs: list[Any] | None) -> str:
    return "-" if xs is None else " x ".join(f"{x:g}" if isinstance(x, float) else str(x) for x in xs)


def show_count(x: int | None) -> str:
    return "-" if x is None else f"{x:,}"


SHORT = {"kernel_size": "k", "stride": "s", "padding": "p", "padding_end": "pe", "dilation": "d",
          "output_padding": "op", "ceil_mode": "ceil"}


def searched(layer: dict[str, Any]) -> list[str]:
    """The fields of a document layer that hold a domain: what the table shows."""
    def is_domain(v: Any) -> bool:
        return isinstance(v, dict) or (isinstance(v, list) and any(isinstance(x, dict) for x in v))
    return [f for f in SHORT if is_domain(layer.get(f))]


def short_settings(layer: dict[str, Any], fields: list[str]) -> str:
    """A layer's searched settings in a few characters: 'k3 p1', 'k1x3 s2'."""
    parts = []
    for field in fields:
        v = layer[field]
        if isinstance(v, list):
            v = v[0] if len(set(v)) == 1 else "x".join(map(str, v))
        named = field == "ceil_mode" or isinstance(layer[field], str)  # True, "same": p=same
        parts.append(f"{SHORT[field]}={v}" if named else f"{SHORT[field]}{v}")
    return " ".join(parts) or "·"


#: Above this many layers the table turns: one row per layer, one column per solution.
TURN_AFTER_LAYERS = 6
TURNED_COLUMNS = 8


def solutions_table(doc_layers: list[dict[str, Any]], solutions: list[Any], sizes: bool = False) -> Table:
    """Solutions (or planned designs) side by side: the searched settings of each layer,
    and with `sizes` its output size too (for the first input size)."""
    fields = [searched(layer) for layer in doc_layers]
    names = [layer.get("name") or f"{i} {layer['type']}" for i, layer in enumerate(doc_layers)]
    ranked = solutions[0].score is not None

    def output(sol: Any) -> str:
        sizes = [s[-1] for s in sol.sizes] if hasattr(sol, "sizes") else [sol.output_size]
        return " / ".join(show_axes(size) for size in sizes)

    def cell(sol: Any, i: int, layer: dict[str, Any], f: list[str]) -> str:
        text = short_settings(layer, f)
        if not sizes or not hasattr(sol, "sizes"):
            return text
        size = show_axes(sol.sizes[0][i])
        return size if text == "·" else f"{text} -> {size}"

    rows = [[cell(sol, i, layer, f) for i, (layer, f) in enumerate(zip(sol.layers, fields, strict=True))]
            + [output(sol)]
            + ([", ".join(f"{x:,g}" for x in sol.score)] if ranked else [])
            for sol in solutions]
    heads = names + ["output"] + (["score"] if ranked else [])
    table = Table()
    if len(doc_layers) <= TURN_AFTER_LAYERS:
        table.add_column("#", justify="right")
        for h in heads:
            table.add_column(h)
        for rank, row in enumerate(rows, 1):
            table.add_row(str(rank), *row)
        return table
    shown = rows[:TURNED_COLUMNS]
    table.add_column("layer")
    for rank in range(1, len(shown) + 1):
        table.add_column(f"#{rank}")
    # A long design with few layers searched (an imported model): those layers only.
    kept = [i for i, f in enumerate(fields) if f or sizes] + list(range(len(doc_layers), len(heads)))
    for i in kept:
        table.add_row(heads[i], *(row[i] for row in shown))
    notes = [f"the best {len(shown)} of {len(rows)} listed; --json shows all"] if len(rows) > len(shown) else []
    if len(kept) < len(heads):
        notes.append(f"{len(heads) - len(kept)} layers not searched are not shown (--sizes shows them)")
    table.caption = "; ".join(notes) or None
    return table


def print_plan(out: Console, result: Any, kind: str) -> None:
    count = "unknown" if result.count is None else f"{result.count:,}"
    out.print(f"status: {result.status.value}   designs: {count}   listed: {len(result.designs)}", highlight=False)
    for w in result.warnings:
        out.print(f"warning: {w}", highlight=False, markup=False)
    if result.message:
        out.print(result.message, highlight=False, markup=False)
    if kind == "encoder_decoder":  # one searched layer a stage: the solutions table says it all
        if result.designs:
            out.print(solutions_table(result.document["layers"], result.designs))
        return
    for rank, d in enumerate(result.designs, 1):
        params = "-" if d.params is None else f"{d.params:,}"
        out.print(f"#{rank}: {show_axes(d.input_size)} -> {show_axes(d.output_size)}, {params} parameters", highlight=False)
        table = Table()
        if kind == "unet":
            for col in ("level", "encoder", "decoder"):
                table.add_column(col, justify="right")
            for level in d.levels or []:
                table.add_row(str(level.level), show_axes(level.encoder), show_axes(level.decoder))
            conv = next(layer for layer in d.layers if layer["type"] == "conv")
            table.caption = f"convs: {short_settings(conv, ['kernel_size', 'padding'])}"
        else:
            for col in ("branch", "kernel", "dilation", "padding"):
                table.add_column(col, justify="right")
            for layer in d.layers:
                if layer["type"] == "conv" and layer.get("input") == "input":
                    table.add_row(layer["name"], show_axes(layer["kernel_size"]), show_axes(layer.get("dilation")),
                                  show_axes(layer["padding"]) if isinstance(layer["padding"], list) else layer["padding"])
        out.print(table)
