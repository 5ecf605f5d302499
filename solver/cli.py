"""The `convsolve` command: the same JSON/YAML documents as the REST API."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from enum import IntEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
import yaml
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from typer.core import TyperCommand, TyperGroup

from . import __version__
from .contract import (
    ASPPPlan,
    DocumentKind,
    EncoderDecoderPlan,
    Goal,
    ImportedModel,
    SampleRequest,
    SolveRequest,
    Status,
    UNetPlan,
    json_schema,
)
from .errors import ConvsolveError, DocumentError
from .rules import CONVENTION, CONVENTIONS, DEFAULT_CONVENTION
from .services.batch import batch as run_batch
from .services.export import to_keras, to_torch
from .services.importers import freed
from .services.importers import import_model as run_import
from .services.input_sizes import input_sizes as run_input_sizes
from .services.plan import plan_aspp, plan_encoder_decoder, plan_unet
from .services.sample import sample as run_sample
from .services.solve import solve as run_solve
from .services.suggest import forward as run_forward
from .tables import (
    SHORT,
    is_default,
    print_plan,
    short_settings,
    show_axes,
    show_count,
    solutions_table,
)


class _Flags:
    """Typer prints `<bool>` beside a flag (--help, --install-completion, --json); a flag takes no value."""

    def get_params(self, ctx):
        params = super().get_params(ctx)
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
        return params


class Group(_Flags, TyperGroup):
    pass


class Command(_Flags, TyperCommand):
    pass


app = typer.Typer(
    cls=Group,
    help="Find the conv, transposed-conv and pooling settings that make CNN sizes line up.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
# Piped output gets a wide page instead of rich's 80 columns, so tables stay whole.
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

FileArg = Annotated[str, typer.Argument(help="Problem file, JSON or YAML; '-' reads stdin.")]
ModelOpt = Annotated[str | None, typer.Option(
    "--model", help="Read the design from a PyTorch model instead of a file: package.module:callable (see "
                    "`convsolve import`).")]
KwargsOpt = Annotated[str | None, typer.Option(help="With --model: the callable's arguments, as JSON.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the JSON answer instead of a table.")]
ToOpt = Annotated[Literal["torch", "keras"], typer.Option(
    "--to", help="torch: an nn.Module (any convention); keras: a Keras model (tensorflow convention).")]
ConventionOpt = Annotated[Literal[CONVENTIONS] | None, typer.Option(
    help="Whose size rules: pytorch (default) | tensorflow | onnx.")]
_EXPORTERS: dict[str, Callable[[Any], str]] = {"torch": to_torch, "keras": to_keras}
ObjectiveOpt = Annotated[str | None, typer.Option(
    help="Goals to rank designs by, most important first, comma-separated: " + ", ".join(Goal)
    + " (default: the planner's own).")]


def _goals(text: str | None) -> list[str] | None:
    """'least_padding,smallest_kernels' -> the document's objective list."""
    return None if text is None else [g.strip() for g in text.split(",") if g.strip()]


class ExitCode(IntEnum):
    """What `convsolve` exits with, so scripts and search loops can tell the cases apart."""

    ANSWERED = 0  # solutions or designs found, a forward table, code written
    NO_SOLUTION = 1  # infeasible, or the time limit passed before any solution
    USAGE = 2  # the command line is wrong (click's own code)
    DOCUMENT = 3  # the document is wrong: a malformed field, a refused layer, a limit


def _exit_for(result: Any) -> None:
    """Exit NO_SOLUTION when a solve or a plan found nothing."""
    found = getattr(result, "solutions", None) or getattr(result, "designs", None)
    if not found and result.status in (Status.INFEASIBLE, Status.TIMEOUT):
        raise typer.Exit(code=ExitCode.NO_SOLUTION)


def _default(model: type[BaseModel], field: str) -> str:
    """" (default: ...)" from the document's own default, for options that override a file."""
    value = model.model_fields[field].default
    shown = "none" if value is None else ",".join(map(str, value)) if isinstance(value, list) else value
    return f" (default: {shown})"


def _version(value: bool) -> None:
    if value:
        out.print(f"convsolve {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", "-V", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """Find the conv, transposed-conv and pooling settings that make CNN sizes line up."""
_LANGUAGES = {"torch": "PyTorch", "keras": "Keras"}


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
    for each in getattr(exc, "errors", [exc]):  # a document's every validation error
        err.print(f"[bold red]error:[/] {escape(each.message)}", highlight=False)
    for layer in getattr(exc, "suggestions", [])[:3]:
        fields = [f for f in SHORT if f in layer and not is_default(f, layer[f])]
        err.print(f"  nearest valid: {short_settings(layer, fields)}", highlight=False, markup=False)
    return typer.Exit(code=ExitCode.DOCUMENT)


@app.command(cls=Command)
def forward(
    file: Annotated[str | None, typer.Argument(help="A forward document, JSON or YAML; '-' reads stdin.")] = None,
    as_json: JsonOpt = False,
    model: ModelOpt = None,
    kwargs: KwargsOpt = None,
    input_size: Annotated[str | None, typer.Option(help="With --model: the input size (default: 224 on every "
                                                        "axis).")] = None,
) -> None:
    """Sizes, channels, parameters, MACs and receptive field of a stack of layers."""
    try:
        doc = _design(file, model, kwargs, _ints(input_size))
        result = run_forward(doc)
    except ConvsolveError as exc:
        raise _fail(exc) from None
    if as_json:
        out.print_json(result.model_dump_json())
        return
    # Outside PyTorch the padding is the convention's doing: show what it applied.
    pads = isinstance(doc, dict) and CONVENTION[doc.get("convention", DEFAULT_CONVENTION)].modes_read_input
    table = Table(title=f"input {show_axes(result.input_size)} x {result.in_channels or '?'} channels"
                        + (f" ({doc['convention']} convention)" if pads else ""))
    for col in ("#", "layer", "output", *(["padding"] if pads else []), "channels", "params", "MACs",
                "receptive field", "jump"):
        table.add_column(col, justify="left" if col in ("layer", "padding") else "right")
    for r in result.layers:
        label = r.type.value if r.name is None else f"{r.name} ({r.type.value})"
        padding = ["-" if r.padding is None else " ".join(f"{b}/{e}" for b, e in r.padding)] if pads else []
        table.add_row(str(r.index), label, show_axes(r.output_size), *padding, show_count(r.out_channels),
                      show_count(r.params), show_count(r.macs), show_axes(r.receptive_field), show_axes(r.jump))
    out.print(table)
    out.print(f"output {show_axes(result.output_size)} x {show_count(result.out_channels)} channels, "
              f"{show_count(result.params)} parameters, {show_count(result.macs)} MACs", highlight=False)


@app.command(cls=Command)
def solve(
    file: Annotated[str | None, typer.Argument(help="Problem file, JSON or YAML; '-' reads stdin.")] = None,
    as_json: JsonOpt = False,
    limit: Annotated[int | None, typer.Option(help="List at most this many solutions." + _default(SolveRequest, "limit"))] = None,
    time_limit: Annotated[float | None, typer.Option(help="Seconds to search at most." + _default(SolveRequest, "time_limit_s"))] = None,
    export_to: Annotated[Path | None, typer.Option(
        "--export", help="Write the best solution as code to this file (see --to).")] = None,
    to: ToOpt = "torch",
    pick: Annotated[int, typer.Option(help="Which listed solution --export writes (1: the best).", min=1)] = 1,
    sizes: Annotated[bool, typer.Option("--sizes", help="Show each layer's output size in the table.")] = False,
    model: ModelOpt = None,
    kwargs: KwargsOpt = None,
    free: Annotated[list[str] | None, typer.Option(
        help="With --model: search the kernel, stride and padding of the layers named so ('decoder.*'), keeping "
             "the others as imported; repeat for more.")] = None,
    target: Annotated[str | None, typer.Option(help="With --model: the output size to reach: 500,375.")] = None,
    input_size: Annotated[str | None, typer.Option(help="With --model: the input size (default: the target).")] = None,
) -> None:
    """Find, rank and count the layer settings that take input_size to target_size."""
    try:
        if model is not None and not (free and target):
            raise typer.BadParameter("--model needs --free and --target: which layers to search, and the size "
                                     "they must reach")
        if model is not None:
            wanted = _ints(target) or []
            design = _design(None, model, kwargs, _ints(input_size) or wanted)
            if len(wanted) == 1:  # one size for every axis
                wanted = wanted * len(design["input_size"])
            file, doc = None, freed(design, free or [], wanted)
        else:
            doc = _design(file, None, None)
        if isinstance(doc, dict):
            doc = {**doc, **({"limit": limit} if limit is not None else {}),
                   **({"time_limit_s": time_limit} if time_limit is not None else {})}
        # A spinner with the elapsed time on a terminal, for searches that take a while.
        with err.status("solving...", spinner="dots") if err.is_terminal else nullcontext():
            result = run_solve(doc)
    except ConvsolveError as exc:
        raise _fail(exc) from None
    if as_json:
        out.print_json(result.model_dump_json())
        _exit_for(result)
        return
    count = "unknown" if result.count is None else f"{result.count:,}"
    # The anytime search's lists are the best found: proved the best, or not.
    ranked = "" if result.engine != "anytime" else (
        "   ranking: proved the best" if result.optimal else "   ranking: best found, not proved")
    out.print(f"status: {result.status.value}   solutions: {count}   "
              f"listed: {len(result.solutions)}{ranked}   time: {result.elapsed_s:.3f} s", highlight=False)
    for warning in result.warnings:
        out.print(f"warning: {warning}", highlight=False, markup=False)
    if result.message:
        out.print(result.message, highlight=False, markup=False)
    if result.explanation is not None:
        for c in result.explanation.conflicts:
            if c.message not in (result.message or ""):  # the message already said it
                out.print(f"  also: {c.message}  [{c.rule}]", highlight=False, markup=False)
        if result.explanation.repairs:
            out.print("what would work (each checked by solving it; --json has the documents):")
            for i, r in enumerate(result.explanation.repairs, 1):
                out.print(f"  {i}. {r.message}", highlight=False, markup=False)
    if result.solutions:
        out.print(solutions_table(doc["layers"], result.solutions, sizes))
    if export_to is not None and result.solutions:
        if pick > len(result.solutions):
            err.print(f"[bold red]error:[/] --pick {pick}: only {len(result.solutions)} solutions are listed "
                      "(raise --limit)", highlight=False)
            raise typer.Exit(code=ExitCode.USAGE)
        sizes = doc.get("input_size") or doc["input_sizes"][0]
        chosen = {"input_size": sizes, "in_channels": doc.get("in_channels"),
                  "layers": result.solutions[pick - 1].layers, "convention": doc.get("convention", DEFAULT_CONVENTION)}
        try:
            export_to.write_text(_EXPORTERS[to](chosen))
        except ConvsolveError as exc:
            raise _fail(exc) from None
        which = "the best solution" if pick == 1 else f"solution #{pick}"
        out.print(f"wrote {which} as {_LANGUAGES[to]} code to {export_to}", highlight=False)
    _exit_for(result)


@app.command(cls=Command)
def sample(
    file: Annotated[str, typer.Argument(help="A solve document, JSON or YAML; '-' reads stdin.")],
    n: Annotated[int | None, typer.Option("-n", help="How many designs to draw." + _default(SampleRequest, "n"))] = None,
    seed: Annotated[int | None, typer.Option(help="Seed: the same seed draws the same designs (default: a "
                                             "random one, printed on stderr).")] = None,
    distinct: Annotated[bool, typer.Option("--distinct", help="Draw without replacement: no design twice.")] = False,
    time_limit: Annotated[float | None, typer.Option(help="Seconds at most." + _default(SampleRequest, "time_limit_s"))] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole JSON answer instead of JSON lines.")] = False,
) -> None:
    """Draw designs uniformly at random from a solve document's solutions: one JSON line each.

    The document's `within` bounds a score, e.g. {"fewest_params": {"max": 100000}}; stderr says how many were drawn, and how.
    """
    try:
        doc = read_document(file)
        if isinstance(doc, dict) and time_limit is not None:
            doc = {**doc, "time_limit_s": time_limit}
        with err.status("sampling...", spinner="dots") if err.is_terminal else nullcontext():
            result = run_sample(doc, n, seed=seed, replace=False if distinct else None)
    except ConvsolveError as exc:
        raise _fail(exc) from None
    if as_json:
        out.print_json(result.model_dump_json())
    else:
        for solution in result.solutions:  # plain lines: a pipe gets them whole, unwrapped
            sys.stdout.write(solution.model_dump_json() + "\n")
        sys.stdout.flush()  # the designs before the summary on stderr, when both go to one terminal
        count = "uncounted" if result.count is None else f"of {result.count:,}"
        how = "uniformly" if result.uniform else "NOT uniformly"
        within = "" if result.share_within is None else f", {result.share_within:.1%} of {result.drawn:,} within the bounds"
        designs = f"{len(result.solutions)} design{'' if len(result.solutions) == 1 else 's'}"
        err.print(f"{result.status.value}: {designs} {count}, drawn {how} "
                  f"(seed {result.seed}{within})", highlight=False, markup=False)
        if result.message:
            err.print(result.message, highlight=False, markup=False)
    _exit_for(result)


@app.command("batch", cls=Command)
def batch_command(
    file: Annotated[str, typer.Argument(help="Documents, one JSON document a line (JSON Lines); '-' reads stdin.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the answers here (default: stdout).")] = None,
    kind: Annotated[DocumentKind, typer.Option(help="What the documents are.")] = "solve",
    workers: Annotated[int | None, typer.Option(help="Local processes (default: one per core).", min=1)] = None,
    ray: Annotated[str | None, typer.Option(
        "--ray", help="Run on a Ray cluster at this address ('auto': the one this machine is in; 'local': "
                      "start one here) instead of local processes; needs convsolve[ray].")] = None,
) -> None:
    """Answer many documents: one answer a line, in their order, each {"index", "answer"} or {"index", "detail"}.

    A document that fails gives its errors in its place and the batch goes on; the exit code is 3 when any failed.
    """
    try:
        lines = _jsonl(file)
        total = None if file == "-" else _documents_in(file)
        items = run_batch(lines, kind, workers=workers, ray_address=ray)
        failed = 0
        with (output.open("w") if output is not None else nullcontext(sys.stdout)) as sink, \
                Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                         console=err, disable=not err.is_terminal) as progress:
            task = progress.add_task(kind, total=total)
            for item in items:
                failed += item.detail is not None
                sink.write(item.model_dump_json(exclude_none=True) + "\n")
                progress.advance(task)
    except ConvsolveError as exc:
        raise _fail(exc) from None
    except OSError as exc:  # the documents' file, or the answers'
        raise _fail(ConvsolveError(f"cannot use {exc.filename or file}: {exc.strerror}")) from None
    done = progress.tasks[0].completed
    err.print(f"{done - failed:,} answered, {failed:,} failed", highlight=False)
    if failed:
        raise typer.Exit(code=ExitCode.DOCUMENT)


def _documents_in(path: str) -> int:
    """How many documents (lines not blank) a JSON Lines file holds: the progress bar's end."""
    with open(path) as stream:
        return sum(1 for line in stream if line.strip())


def _jsonl(path: str) -> Iterator[Any]:
    """The documents of a JSON Lines file, read as they are needed; a line that is not
    JSON stands as its error (the batch answers it in its place)."""
    stream = sys.stdin if path == "-" else open(path)  # noqa: SIM115 - closed below, once read
    try:
        for number, line in enumerate(stream, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    yield DocumentError(f"line {number} is not JSON: {exc.msg} (column {exc.colno})")
    finally:
        if stream is not sys.stdin:
            stream.close()


@app.command("import", cls=Command)
def import_command(
    model: Annotated[str, typer.Argument(help="An ONNX file (.onnx), a Keras model (.keras, or its JSON in a .json "
                                              "file), or a PyTorch model: package.module:callable, called (with "
                                              "--kwargs) to make the nn.Module.")],
    input_size: Annotated[str | None, typer.Option(
        help="The spatial input size: 224 (every axis), 224,224 or 224x224 (default: the ONNX graph's; 224 on "
             "every axis for PyTorch).")] = None,
    in_channels: Annotated[int | None, typer.Option(
        help="PyTorch: the input channels (default: the first conv's); ONNX and Keras models say theirs.")] = None,
    kwargs: Annotated[str | None, typer.Option(help="Arguments for the callable, as JSON: '{\"num_classes\": 2}'.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the document here, YAML (or JSON "
                                                                        "for a .json name); default: stdout.")] = None,
) -> None:
    """A model's spatial path as a forward document, for every other command.

    PyTorch: torch.fx reads the graph; when it cannot (control flow on the data), hooks watch one run on a zero input. ONNX and Keras: the graph's nodes or the model's config, in their conventions.
    """
    try:
        imported = _imported(model, kwargs, _ints(input_size), in_channels)
    except ConvsolveError as exc:
        raise _fail(exc) from None
    document = imported.document
    text = json.dumps(document, indent=2) + "\n" if output is not None and output.suffix == ".json" \
        else yaml.safe_dump(document, sort_keys=False, default_flow_style=None, width=120)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)
    folded = f"; left out as keeping sizes: {', '.join(imported.folded)}" if imported.folded else ""
    err.print(f"{len(document['layers'])} layers, read with {imported.traced_with}{folded}"
              + (f"; wrote {output}" if output is not None else ""), highlight=False, markup=False)


def _imported(model: str, kwargs: str | None, input_size: list[int] | None,
              in_channels: int | None = None) -> ImportedModel:
    """--model and --kwargs, imported (ConvsolveError for what is wrong)."""
    try:
        arguments = json.loads(kwargs) if kwargs else {}
    except json.JSONDecodeError as exc:
        raise ConvsolveError(f"--kwargs is not JSON: {exc.msg}") from None
    if not isinstance(arguments, dict):
        raise ConvsolveError("--kwargs: give a JSON object of the callable's arguments")
    return run_import(model, input_size, in_channels, arguments)


def _design(file: str | None, model: str | None, kwargs: str | None, input_size: list[int] | None = None) -> Any:
    """The document of a FILE, or of a --model (one of the two)."""
    if (file is None) == (model is None):
        raise typer.BadParameter("give a document FILE or --model, one of the two")
    if model is not None:
        return _imported(model, kwargs, input_size).document
    return read_document(file)


@app.command(cls=Command)
def export(
    file: FileArg,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the code here.")] = None,
    to: ToOpt = "torch",
    class_name: Annotated[str, typer.Option(
        help="Name of the nn.Module class, or of the Keras model (its builder: build_<name>).")] = "Net",
) -> None:
    """A forward document (a solution's layers) as a runnable PyTorch nn.Module, or Keras model.

    tensorflow and onnx documents become PyTorch with their padding as pad layers.
    """
    try:
        doc = read_document(file)
        code = to_torch(doc, class_name=class_name) if to == "torch" else to_keras(doc, name=class_name)
    except ConvsolveError as exc:
        raise _fail(exc) from None
    if output is None:
        sys.stdout.write(code)
    else:
        output.write_text(code)
        err.print(f"wrote {output}", highlight=False)


@app.command("input-sizes", cls=Command)
def input_sizes(
    file: Annotated[str | None, typer.Argument(
        help="A forward document (the design); its input_size is the size you have.")] = None,
    low: Annotated[int, typer.Option("--min", help="Smallest size to try, every axis.")] = 1,
    high: Annotated[int, typer.Option("--max", help="Largest size to try, every axis.")] = 1024,
    round_trip: Annotated[bool, typer.Option("--round-trip", help="Only sizes whose output equals the input.")] = False,
    near: Annotated[str | None, typer.Option(help="The size you have: 500 (every axis), 500,375 or 500x375 "
                                             "(default: the document's input_size).")] = None,
    as_json: JsonOpt = False,
    model: ModelOpt = None,
    kwargs: KwargsOpt = None,
) -> None:
    """Which input sizes a design accepts, and the nearest ones to its input_size."""
    try:
        have = _ints(near)
        doc = _design(file, model, kwargs, have)
        if not isinstance(doc, dict):
            raise ConvsolveError(f"{file}: expected a forward document")
        if have is not None and len(have) == 1:  # one size for every axis
            have = have * len(doc.get("input_size") or [1])
        result = run_input_sizes({"layers": doc.get("layers"), "in_channels": doc.get("in_channels"),
                                  "input_size": doc.get("input_size") if have is None else have,
                                  "round_trip": round_trip,
                                  "range": {"min": low, "max": high},
                                  "convention": doc.get("convention", DEFAULT_CONVENTION)})
    except ConvsolveError as exc:
        raise _fail(exc) from None
    if as_json:
        out.print_json(result.model_dump_json())
    else:
        out.print(result.message, highlight=False, markup=False)


def _ints(text: str | None) -> list[int] | None:
    """'572,572' (or '572x572') -> [572, 572]."""
    if text is None:
        return None
    try:
        return [int(x) for x in text.replace("x", ",").split(",") if x.strip()]
    except ValueError:
        raise typer.BadParameter(f"expected sizes like 572,572, got {text!r}") from None


def _run_plan(planner: Callable[[dict[str, Any]], Any], file: str | None, flags: dict[str, Any],
              as_json: bool, kind: str, **forced: Any) -> None:
    """Run a planner on a plan file (or none) with the given flags, and print its answer.

    Flags left unset keep the file's values; `forced` values apply even when None."""
    try:
        doc = read_document(file) if file else {}
        if not isinstance(doc, dict):
            raise ConvsolveError(f"{file}: expected a planner document (a mapping)")
        result = planner({**doc, **{k: v for k, v in flags.items() if v is not None}, **forced})
    except ConvsolveError as exc:
        raise _fail(exc) from None
    if as_json:
        out.print_json(result.model_dump_json())
    else:
        print_plan(out, result, kind)
    _exit_for(result)


@app.command(cls=Command)
def unet(
    file: Annotated[str | None, typer.Argument(help="A U-Net plan (JSON/YAML); flags override it.")] = None,
    input_size: Annotated[str | None, typer.Option(help="e.g. 572,572 or 32,128,128")] = None,
    depth: Annotated[int | None, typer.Option(help="Levels down (and up)." + _default(UNetPlan, "depth"))] = None,
    conv: Annotated[str | None, typer.Option(help="same | valid | search" + _default(UNetPlan, "conv"))] = None,
    down: Annotated[str | None, typer.Option(help="max_pool | avg_pool | strided_conv" + _default(UNetPlan, "down"))] = None,
    up: Annotated[str | None, typer.Option(help="conv_transpose | upsample" + _default(UNetPlan, "up"))] = None,
    factor: Annotated[str | None, typer.Option(help="Down/up factor: 2, or per axis: 1,2,2" + _default(UNetPlan, "factor"))] = None,
    skip: Annotated[str | None, typer.Option(help="match | crop" + _default(UNetPlan, "skip"))] = None,
    output_size: Annotated[str | None, typer.Option(help="same | none | e.g. 388,388" + _default(UNetPlan, "output_size"))] = None,
    limit: Annotated[int | None, typer.Option(help="Designs to list." + _default(UNetPlan, "limit"))] = None,
    objective: ObjectiveOpt = None,
    convention: ConventionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Plan a U-Net: ranked designs with the size of every level."""
    factors = _ints(factor)
    flags: dict[str, Any] = {
        "input_size": _ints(input_size), "depth": depth, "conv": conv, "down": down, "up": up, "skip": skip,
        "factor": factors[0] if factors and len(factors) == 1 else factors, "limit": limit,
        "objective": _goals(objective), "convention": convention}
    forced: dict[str, Any] = {}
    if output_size is not None:  # "none" must override a file's output_size, so it is forced
        forced["output_size"] = None if output_size == "none" else (
            output_size if output_size == "same" else _ints(output_size))
    _run_plan(plan_unet, file, flags, as_json, "unet", **forced)


@app.command(cls=Command)
def aspp(
    file: Annotated[str | None, typer.Argument(help="An ASPP plan (JSON/YAML); flags override it.")] = None,
    bottleneck_size: Annotated[str | None, typer.Option(help="e.g. 33,33")] = None,
    input_size: Annotated[str | None, typer.Option(help="e.g. 513,513 (with --output-stride)")] = None,
    output_stride: Annotated[int | None, typer.Option(help="8 or 16 in DeepLab")] = None,
    rates: Annotated[str | None, typer.Option(help="e.g. 6,12,18, or a range to search: 1-40" + _default(ASPPPlan, "rates"))] = None,
    limit: Annotated[int | None, typer.Option(help="Designs to list." + _default(ASPPPlan, "limit"))] = None,
    convention: ConventionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Plan DeepLab's ASPP: the padding that keeps every dilated branch at the bottleneck size."""
    rate_value: Any = None
    if rates is not None:
        lo, _, hi = rates.partition("-")
        rate_value = {"min": int(lo), "max": int(hi)} if hi else _ints(rates)
    flags = {"bottleneck_size": _ints(bottleneck_size), "input_size": _ints(input_size),
             "output_stride": output_stride, "rates": rate_value, "limit": limit, "convention": convention}
    _run_plan(plan_aspp, file, flags, as_json, "aspp")


@app.command("encoder-decoder", cls=Command)
@app.command("autoencoder", cls=Command, hidden=True, deprecated=True)  # the planner's first name
def encoder_decoder(
    file: Annotated[str | None, typer.Argument(help="A plan (JSON/YAML); flags override it.")] = None,
    kind: Annotated[str | None, typer.Option(help="autoencoder | generator | discriminator" + _default(EncoderDecoderPlan, "kind"))] = None,
    image_size: Annotated[str | None, typer.Option(help="e.g. 64,64")] = None,
    latent_size: Annotated[str | None, typer.Option(help="e.g. 1 or 7,7" + _default(EncoderDecoderPlan, "latent_size"))] = None,
    depth: Annotated[int | None, typer.Option(help="Stages (one layer each)." + _default(EncoderDecoderPlan, "depth"))] = None,
    limit: Annotated[int | None, typer.Option(help="Designs to list." + _default(EncoderDecoderPlan, "limit"))] = None,
    objective: ObjectiveOpt = None,
    convention: ConventionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Plan an encoder-decoder: an autoencoder round trip, or a GAN generator or discriminator."""
    flags = {"kind": kind, "image_size": _ints(image_size), "depth": depth, "limit": limit,
             "latent_size": _ints(latent_size), "objective": _goals(objective), "convention": convention}
    _run_plan(plan_encoder_decoder, file, flags, as_json, "encoder_decoder")


@app.command(cls=Command)
def schema(
    kind: Annotated[DocumentKind, typer.Argument(help="The kind of document.")],
) -> None:
    """Print the JSON Schema of a kind of document, for editors (a YAML file's
    `# yaml-language-server: $schema=...` line) and validators."""
    out.print_json(json.dumps(json_schema(kind)))


@app.command(cls=Command)
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Start the REST API (the same as `uvicorn api.main:app`)."""
    import uvicorn

    uvicorn.run("api.main:app", host=host, port=port)
