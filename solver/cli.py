"""The `convsolve` command: the same JSON/YAML documents as the REST API."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.table import Table

from ._errors import ConvsolveError
from ._forward import forward as run_forward

app = typer.Typer(
    help="Find the conv, transposed-conv and pooling settings that make CNN sizes line up.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
# Piped output gets a wide page instead of rich's 80 columns, so tables stay whole.
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

FileArg = Annotated[str, typer.Argument(help="Problem file, JSON or YAML; '-' reads stdin.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the JSON answer instead of a table.")]


def read_document(path: str) -> Any:
    """Load a JSON or YAML document (YAML is a superset of JSON) from a file or '-'."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
    except OSError as exc:
        raise ConvsolveError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConvsolveError(f"cannot read {path}: not UTF-8 text ({exc.reason})") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConvsolveError(f"{path} is neither JSON nor YAML: {exc}") from exc
    except RecursionError as exc:  # PyYAML's parser recurses once per nesting level
        raise ConvsolveError(f"{path} is nested too deeply to read") from exc


def _fail(exc: ConvsolveError) -> typer.Exit:
    err.print(f"[bold red]error:[/] {exc.message}", highlight=False)
    return typer.Exit(code=2)


def _axes(xs: list[Any] | None) -> str:
    return "-" if xs is None else " x ".join(f"{x:g}" if isinstance(x, float) else str(x) for x in xs)


def _count(x: int | None) -> str:
    return "-" if x is None else f"{x:,}"


@app.command()
def forward(file: FileArg, as_json: JsonOpt = False) -> None:
    """Sizes, channels, parameters, MACs and receptive field of a stack of layers."""
    try:
        result = run_forward(read_document(file))
    except ConvsolveError as exc:
        raise _fail(exc) from None
    if as_json:
        out.print_json(result.model_dump_json())
        return
    table = Table(title=f"input {_axes(result.input_size)} x {result.in_channels or '?'} channels")
    for col in ("#", "layer", "output", "channels", "params", "MACs", "receptive field", "jump"):
        table.add_column(col, justify="left" if col == "layer" else "right")
    for r in result.layers:
        label = r.type.value if r.name is None else f"{r.name} ({r.type.value})"
        table.add_row(str(r.index), label, _axes(r.output_size), _count(r.out_channels),
                      _count(r.params), _count(r.macs), _axes(r.receptive_field), _axes(r.jump))
    out.print(table)
    out.print(f"output {_axes(result.output_size)} x {_count(result.out_channels)} channels, "
              f"{_count(result.params)} parameters, {_count(result.macs)} MACs", highlight=False)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Start the REST API (the same as `uvicorn api.main:app`)."""
    import uvicorn

    uvicorn.run("api.main:app", host=host, port=port)
