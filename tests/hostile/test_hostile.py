"""Hostile documents (issue #12): adversarial but mostly valid documents, drawn by
tests/strategies.py, sent to every front door, the library and the REST API; what
comes back must keep convsolve's promises:

- the library raises nothing but `solver.ConvsolveError` (and reading a refusal's
  `to_dict()`, which searches for suggestions, raises nothing);
- the service answers 200, 413, 422 or 503, never a 5xx, and a 422 has FastAPI's shape;
- a solve, plan or input-size sweep answers within its time limit plus SLACK_S; forward
  and export within FORWARD_S plus SLACK_S;
- every solution (and every plan's design) is valid: its layers as a forward document
  give the sizes the solution reports and meet the targets, and the first one runs in
  real torch with those sizes (pytorch convention);
- a forward document and real torch agree (pytorch convention, small tensors): what one
  runs, the other runs, with the same sizes; what forward refuses, torch refuses;
- exported PyTorch code runs and gives forward's output size.

Every call runs in a worker process (worker.py) with a hard timeout: a call that never
answers is killed and fails the test instead of blocking CI.  The CI settings are
deterministic (derandomize) and do not shrink (a failing example is reported as drawn:
shrinking through timeouts would take minutes); documents that once broke a promise
(EXAMPLES) run first in every run.  bench/hostile.py runs the same properties with
random seeds, many more examples, and reports every failure class.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import re
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import strategies as S
import torch
import torch_ref
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

import solver

WORKER = Path(__file__).with_name("worker.py")
ROOT = Path(__file__).resolve().parents[2]

#: Seconds a call may take beyond its limit: generous, so that a busy machine does not
#: fail the tests; the bugs this catches overran by 10 to 70 s or never answered.
SLACK_S = 5.0
#: The limit of a forward or export (a refusal's suggestions are a small search).
FORWARD_S = 1.0
#: A solve's time_limit_s when the document leaves it out (SolveRequest's default).
DEFAULT_TIME_S = 10.0
#: The service's cap on a solve (CONVSOLVE_MAX_SOLVE_SECONDS) in the worker; the ASPP
#: planner's library call gets it as max_time_s too.
SERVER_CAP_S = 2.0
#: The answers the service may give.
ALLOWED = {200, 413, 422, 503}
#: Solutions checked with forward per answer (the first ones and the last one).
CHECKED = 20
#: Tensors (elements) and weights up to these sizes run in torch; larger are skipped.
TORCH_ELEMENTS = 1 << 18
TORCH_WEIGHTS = 1 << 20

#: Library function and REST route of each endpoint.
ENDPOINTS = {
    "forward": ("forward", "/v1/forward"),
    "solve": ("solve", "/v1/solve"),
    "stream": ("solve", "/v1/solve/stream"),
    "sample": ("sample", "/v1/sample"),
    "input_sizes": ("input_sizes", "/v1/input-sizes"),
    "unet": ("plan_unet", "/v1/plan/unet"),
    "aspp": ("plan_aspp", "/v1/plan/aspp"),
    "autoencoder": ("plan_encoder_decoder", "/v1/plan/encoder-decoder"),
    "export_torch": ("to_torch", "/v1/export/torch"),
    "export_keras": ("to_keras", "/v1/export/keras"),
}


class Failure(AssertionError):
    """A broken promise; `kind` names its class (for the soak's summary)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"[{kind}] {message}")
        self.kind = kind


def fail(kind: str, message: str) -> None:
    raise Failure(kind, message)


# --- the worker process -----------------------------------------------------------------

class Worker:
    """A worker.py process: `call(request, timeout)` sends one request and waits for
    the reply at most `timeout` seconds; past that the process (and the service's solver
    processes it started, its process group) is killed, and a fresh one serves the next
    call."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.env = {**os.environ, "CONVSOLVE_WORKERS": "1", "CONVSOLVE_MAX_SOLVE_SECONDS": str(SERVER_CAP_S),
                    **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = tempfile.TemporaryFile()  # the worker's stderr, shown when it dies

    def _start(self) -> None:
        self.log.seek(0)
        self.log.truncate()
        self.proc = subprocess.Popen([sys.executable, str(WORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, env=self.env, cwd=ROOT, start_new_session=True)
        # Warm up: start the service's solver process now, so that no timed call pays for
        # it (a cold pool takes seconds to start on a busy machine).
        self.call({"kind": "api", "path": "/v1/solve", "json": WARM_UP}, timeout=120)

    def call(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        """The reply, or {"hung": seconds} (killed), or {"died": returncode, "log": ...}."""
        if self.proc is None or self.proc.poll() is not None:
            self._start()
            if self.proc is None:  # killed while warming up
                return {"died": None, "log": "the worker did not start"}
        proc = self.proc
        assert proc.stdin is not None and proc.stdout is not None
        data = pickle.dumps(request)
        try:
            proc.stdin.write(struct.pack(">I", len(data)) + data)
            proc.stdin.flush()
        except BrokenPipeError:
            return self._died()
        start, buffer, fd = time.monotonic(), b"", proc.stdout.fileno()
        while True:
            left = start + timeout - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                self.kill()
                return {"hung": time.monotonic() - start}
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return self._died()
            buffer += chunk
            if len(buffer) >= 4 and len(buffer) >= 4 + struct.unpack(">I", buffer[:4])[0]:
                return pickle.loads(buffer[4:])

    def _died(self) -> dict[str, Any]:
        assert self.proc is not None
        code = self.proc.wait()
        self.log.seek(0)
        reply = {"died": code, "log": self.log.read().decode(errors="replace")[-3000:]}
        self.kill()
        return reply

    def kill(self) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the group this worker leads
            except ProcessLookupError:
                pass
            self.proc.wait()
            for pipe in (self.proc.stdin, self.proc.stdout):
                if pipe is not None:
                    pipe.close()
            self.proc = None

    def close(self) -> None:
        self.kill()
        self.log.close()


#: A solve that starts the service's solver process.
WARM_UP = {"input_size": [4], "target_size": [4], "layers": [{"type": "conv", "kernel_size": 1}]}


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    w = Worker()
    yield w
    w.close()


# --- budgets and the call itself --------------------------------------------------------

def _time_limit(document: Any) -> float | None:
    """The document's time_limit_s, if it is one the document model takes."""
    t = document.get("time_limit_s") if isinstance(document, dict) else None
    if isinstance(t, bool) or not isinstance(t, int | float) or not 0 < t <= 3600:
        return None
    return float(t)


def budget(endpoint: str, document: Any, api: bool) -> float:
    """How long the call may take, SLACK_S not included: the document's time limit (the
    service caps it, but not an input-size sweep's); a forward or export's FORWARD_S."""
    if endpoint in ("forward", "export_torch", "export_keras"):
        return FORWARD_S
    limit = _time_limit(document) or DEFAULT_TIME_S
    if (api and endpoint != "input_sizes") or endpoint == "aspp":
        limit = min(limit, SERVER_CAP_S)
    return limit


def _origin(traceback: str) -> str:
    """Where it broke: the innermost line of convsolve's own (solver/ or api/) in the
    first traceback printed, the root cause's (an error in the service's solver process
    comes first, as the cause of the one the pool re-raises)."""
    first = re.split(r"\n(?:The above exception|During handling of the above exception)", traceback)[0]
    frames = re.findall(r'File "[^"]*/((?:solver|api)/[^"]+)", line (\d+), in (\w+)', first)
    return f"{frames[-1][0]}:{frames[-1][1]} ({frames[-1][2]})" if frames else "?"


def show(document: Any, limit: int = 3000) -> str:
    """A document as JSON for a failure message (cut when long)."""
    try:
        text = json.dumps(document, ensure_ascii=False, default=repr)
    except (ValueError, RecursionError):
        text = repr(document)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


#: How the calls ended, by door: (door, outcome) -> count; bench/hostile.py prints it, to
#: show how many hostile documents reach the solver rather than a refusal.
OUTCOMES: Counter[tuple[str, str]] = Counter()


@dataclass
class Reply:
    """A call's answer, once its promises were checked: the library's value (None after a
    ConvsolveError, then in `error`), or the service's status and body."""

    value: Any = None
    error: dict[str, Any] | None = None
    status: int | None = None
    text: str = ""

    def json(self) -> Any:
        return json.loads(self.text)


def call(worker: Worker, endpoint: str, document: Any, api: bool, raw: bytes | None = None) -> Reply:
    """Make one call in the worker and check what every answer promises: within its time,
    no crash, no exception but a ConvsolveError (whose to_dict() works), an allowed status
    with FastAPI's error shape.  `raw` is a body to send as it is."""
    fn, path = ENDPOINTS[endpoint]
    limit = budget(endpoint, document, api)
    door = f"POST {path}" if api else f"solver.{fn}"
    if api:
        # JSON as Python writes it (NaN and Infinity included, which httpx refuses to send).
        body = raw if raw is not None else json.dumps(document).encode()
        request: dict[str, Any] = {"kind": "api", "path": path, "content": body,
                                   "headers": {"content-type": "application/json"}}
    else:
        kwargs = {"max_time_s": SERVER_CAP_S} if endpoint == "aspp" else {}
        request = {"kind": "library", "fn": fn, "args": [document], "kwargs": kwargs}
    where = f"{door}({show(document) if raw is None else raw[:300]!r})"
    reply = worker.call(request, timeout=limit + SLACK_S)
    if "hung" in reply:
        fail(f"timeout {door}", f"{where} gave no answer in {reply['hung']:.1f} s "
             f"(limit {limit} s + {SLACK_S} s slack)")
    if "died" in reply:
        fail(f"crash {door}", f"{where} killed the process (exit {reply['died']}):\n{reply['log']}")
    if reply["elapsed"] > limit + SLACK_S:
        fail(f"timeout {door}", f"{where} answered in {reply['elapsed']:.1f} s (limit {limit} s + {SLACK_S} s slack)")
    error = reply["error"]
    if error is not None and (api or not error["convsolve"]):
        fail(f"exception {error['type']} at {_origin(error['traceback'])}",
             f"{where} raised {error['type']}: {error['message'][:500]}\n{error['traceback'][-2500:]}")
    if error is not None:
        if "detail_error" in error:
            inner = error["detail_error"]
            fail(f"to_dict {inner['type']} at {_origin(inner['traceback'])}",
                 f"{where} raised {error['type']} ({error['message'][:200]}), and its to_dict() raised "
                 f"{inner['type']}: {inner['message'][:300]}\n{inner['traceback'][-2500:]}")
        OUTCOMES[door, f"refused ({error['type']})"] += 1
        return Reply(error=error)
    if not api:
        value = reply["value"]
        OUTCOMES[door, f"status {value['status']}" if isinstance(value, dict) and "status" in value else "ok"] += 1
        return Reply(value=value)
    status, text = reply["value"]["status"], reply["value"]["text"]
    OUTCOMES[door, f"{status}" + (f" {json.loads(text).get('status')}" if status == 200 and
                                  text.startswith("{") and endpoint != "stream" else "")] += 1
    if status not in ALLOWED:
        fail(f"status {status} {door}", f"{where} answered {status}: {text[:1000]}")
    if status in (413, 422, 503):
        detail = json.loads(text).get("detail")
        if not (isinstance(detail, list) and detail and all("msg" in d and "type" in d for d in detail)):
            fail("error shape", f"{where} answered {status} without FastAPI's error shape: {text[:500]}")
    return Reply(status=status, text=text)


# --- what a valid answer is -------------------------------------------------------------

def _axes(value: Any, ndim: int) -> list[Any]:
    return list(value) if isinstance(value, list) else [value] * ndim


def _meets(size: list[int], target: Any, input_size: list[int]) -> bool:
    """Whether a tensor's size meets a target: sizes, "input", ranges (all or per axis)."""
    if target == "input":
        return size == input_size
    for got, want in zip(size, _axes(target, len(size)), strict=True):
        if isinstance(want, dict):
            if not want["min"] <= got <= want["max"]:
                return False
        elif got != want:
            return False
    return True


def check_solution(document: dict[str, Any], solution: dict[str, Any], in_torch: bool) -> None:
    """One solution: a forward document giving the reported sizes for every input size,
    meeting every target; in real torch too, when asked and small enough."""
    sizes = document["input_sizes"] if "input_sizes" in document else [document["input_size"]]
    if len(solution["sizes"]) != len(sizes):
        fail("solution sizes", f"{len(solution['sizes'])} lists of sizes for {len(sizes)} input sizes")
    names = {layer.get("name"): i for i, layer in enumerate(document["layers"]) if layer.get("name")}
    for size, reported in zip(sizes, solution["sizes"], strict=True):
        doc = {"input_size": size, "in_channels": document.get("in_channels"),
               "convention": document.get("convention", "pytorch"), "layers": solution["layers"]}
        try:
            out = solver.forward(doc)
        except solver.ConvsolveError as exc:
            fail("invalid solution", f"forward refuses a solution: {exc}\nsolve document: {show(document)}\n"
                 f"forward document: {show(doc)}")
        got = [r.output_size for r in out.layers]
        if got != reported:
            fail("wrong sizes", f"a solution reports sizes {reported}, forward gives {got}\n"
                 f"solve document: {show(document)}\nforward document: {show(doc)}")
        targets = dict(document.get("targets") or {})
        if document.get("target_size") is not None:
            targets[len(document["layers"]) - 1] = document["target_size"]
        for key, target in targets.items():
            if key != "input" and not isinstance(key, int) and key not in names:
                fail("target missed", f"a target on {key!r}, which no layer is named, was accepted: "
                     f"{show(document)}")
            at = size if key == "input" else got[key if isinstance(key, int) else names[key]]
            if not _meets(at, target, size):
                fail("target missed", f"a solution gives {at} for target {key!r} = {target}\n"
                     f"solve document: {show(document)}\nforward document: {show(doc)}")
        if in_torch and doc["convention"] == "pytorch":
            ran = run_in_torch(one_channel(doc), got)
            if ran is not None and ran != got:
                fail("torch disagrees", f"torch gives {ran} for a solution reported as {got}\n"
                     f"forward document: {show(doc)}")
        if in_torch:  # its PyTorch code (a translation, in tensorflow and onnx) runs with those sizes
            try:
                code = solver.to_torch(doc)
            except solver.ConvsolveError as exc:
                fail("export refused", f"to_torch refuses a solution forward accepts: {exc}\n{show(doc)}")
            check_export(doc, code)


def check_solve(document: dict[str, Any], answer: dict[str, Any]) -> None:
    """A solve answer: statuses and counts agree, and its solutions are valid."""
    solutions = answer["solutions"]
    limit = document.get("limit", 100)
    status, count = answer["status"], answer["count"]
    if len(solutions) > limit:
        fail("answer", f"{len(solutions)} solutions listed, limit {limit}: {show(document)}")
    if status == "infeasible" and (solutions or count not in (0, None)):
        fail("answer", f"infeasible with {len(solutions)} solutions, count {count}: {show(document)}")
    paged = "cursor" in document  # a later page: `count` counts every page's solutions
    if status == "complete" and count is not None and count != len(solutions) and not paged:
        fail("answer", f"complete with {len(solutions)} solutions but count {count}: {show(document)}")
    if count is not None and count < len(solutions):
        fail("answer", f"count {count} below the {len(solutions)} listed: {show(document)}")
    if status in ("complete", "limit") and count and limit > 0 and not solutions:
        fail("answer", f"{status} with count {count} and no solution listed: {show(document)}")
    for i, solution in enumerate(solutions[:CHECKED] + solutions[CHECKED:][-1:]):
        check_solution(document, solution, in_torch=i == 0)


def check_design(plan: dict[str, Any], answer: dict[str, Any]) -> None:
    """A plan's designs: forward documents with the input and output sizes they report."""
    convention = plan.get("convention", "pytorch")
    for i, design in enumerate(answer["designs"][:CHECKED]):
        doc = {"input_size": design["input_size"], "convention": convention, "layers": design["layers"]}
        if "in_channels" in plan:
            doc["in_channels"] = plan["in_channels"]
        try:
            out = solver.forward(doc)
        except solver.ConvsolveError as exc:
            fail("invalid design", f"forward refuses a design: {exc}\nplan: {show(plan)}\ndesign: {show(doc)}")
        if out.output_size != design["output_size"]:
            fail("wrong sizes", f"a design reports {design['output_size']}, forward gives {out.output_size}\n"
                 f"plan: {show(plan)}")
        if i == 0 and convention == "pytorch":
            got = [r.output_size for r in out.layers]
            ran = run_in_torch(one_channel(doc), got)
            if ran is not None and ran != got:
                fail("torch disagrees", f"torch gives {ran} for a design reported as {got}\ndesign: {show(doc)}")
        if i == 0:
            check_export(doc, solver.to_torch(doc))


def check_input_sizes(document: dict[str, Any], answer: dict[str, Any]) -> None:
    """A few of the sizes said valid run through forward (and round-trip, if asked)."""
    axes = answer["axes"]
    if answer.get("status") == "timeout" or not all(ax["sizes"] for ax in axes):
        return  # a timeout lists no axes; an axis without valid sizes has nothing to check
    for pick in (0, -1):
        size = [ax["sizes"][pick] for ax in axes]
        doc = {"input_size": size, "layers": document["layers"], "convention": document.get("convention", "pytorch"),
               "in_channels": document.get("in_channels")}
        try:
            out = solver.forward(doc)
        except solver.ConvsolveError as exc:
            fail("invalid input size", f"{size} is said valid but forward refuses it: {exc}\n{show(document)}")
        if document.get("round_trip") and out.output_size != size:
            fail("invalid input size", f"{size} is said to round-trip but gives {out.output_size}\n{show(document)}")


# --- torch ------------------------------------------------------------------------------

def one_channel(document: dict[str, Any]) -> dict[str, Any]:
    """The document with one channel everywhere: sizes do not depend on channels, and
    torch then needs no channel count the document left out."""
    layers = []
    for layer in document["layers"]:
        if layer["type"] in ("conv", "conv_transpose"):
            layer = {k: v for k, v in layer.items() if k not in ("in_channels", "groups")} | {"out_channels": 1}
        layers.append(layer)
    return {**document, "in_channels": 1, "layers": layers}


def _small(document: dict[str, Any], sizes: list[list[int]] | None) -> bool:
    """Whether the document's tensors and weights are small enough to run in torch."""
    names = [layer.get("name") for layer in document["layers"] if layer.get("name")]
    if len(set(names)) != len(names) or "input" in names:
        return False  # names torch_graph would read otherwise than forward
    channels = [document.get("in_channels") or 1] + [
        layer.get("out_channels") or 1 for layer in document["layers"] if isinstance(layer, dict)]
    widest = max(c for c in channels if isinstance(c, int))
    for size in [document["input_size"], *(sizes or [])]:
        if math.prod(size) * widest * 4 > TORCH_ELEMENTS:  # concat can widen a few times
            return False
    for layer in document["layers"]:
        k = layer.get("kernel_size", 1)
        if math.prod(_axes(k, len(document["input_size"]))) * widest * widest > TORCH_WEIGHTS:
            return False
    return True


def torch_graph(document: dict[str, Any]) -> list[list[int]]:
    """Run a (pytorch-convention) forward document in torch, joins and wiring included;
    every layer's output size.  Raises torch_ref.TorchRejected where torch refuses."""
    ndim = len(document["input_size"])
    tensors = {"input": torch.zeros(1, torch_ref.input_channels(document), *document["input_size"])}
    previous, out = "input", []
    for index, layer in enumerate(document["layers"]):
        kind = layer["type"]
        try:
            with torch.no_grad():
                if kind in ("concat", "add"):
                    xs = [tensors[n] for n in layer["inputs"]]
                    y = torch.cat(xs, dim=1) if kind == "concat" else sum(xs[1:], xs[0])
                elif kind == "crop":  # the document's centre crop, refused where it cannot fit
                    x, like = tensors[layer.get("input") or previous], tensors[layer["to"]]
                    if any(a < b for a, b in zip(x.shape[2:], like.shape[2:], strict=True)):
                        raise RuntimeError(f"crop: {list(x.shape[2:])} is smaller than {list(like.shape[2:])}")
                    crops = [slice((a - b) // 2, (a - b) // 2 + b) for a, b in zip(x.shape[2:], like.shape[2:])]
                    y = x[(slice(None), slice(None), *crops)]
                else:
                    x = tensors[layer.get("input") or previous]
                    module = torch_ref.quiet(torch_ref.build, layer, ndim, x.shape[1])
                    y = torch_ref.quiet(module, x)
        except torch_ref.TORCH_ERRORS as exc:
            raise torch_ref.TorchRejected(index, exc, []) from exc
        previous = layer.get("name") or f"#{index}"
        tensors[previous] = y
        out.append(list(y.shape[2:]))
    return out


def run_in_torch(document: dict[str, Any], sizes: list[list[int]]) -> list[list[int]] | None:
    """torch's sizes for a document forward accepted (None when too large to run)."""
    if not _small(document, sizes):
        return None
    try:
        return torch_graph(document)
    except torch_ref.TorchRejected as exc:
        fail("torch refuses", f"torch refuses layer {exc.index} ({exc.message}) of a document convsolve "
             f"accepts with sizes {sizes}: {show(document)}")
    return None


def _channels_complete(document: dict[str, Any]) -> bool:
    """Every channel count is given, so torch can be built with the document's own."""
    return isinstance(document.get("in_channels"), int) and all(
        isinstance(layer.get("out_channels"), int) for layer in document["layers"]
        if layer["type"] in ("conv", "conv_transpose"))


def _modest(layer: dict[str, Any]) -> bool:
    """Whether a layer's numbers are small (a refused layer runs in torch only then: if
    torch accepts it, its output must not be huge)."""
    def small(value: Any, high: float) -> bool:
        values = value if isinstance(value, list) else [value]
        return all(v is None or isinstance(v, str) or (isinstance(v, int | float) and abs(v) <= high)
                   for v in values)
    return all(small(layer.get(f), 16) for f in ("kernel_size", "stride", "padding", "dilation",
                                                 "output_padding")) and small(layer.get("scale_factor"), 4) \
        and small(layer.get("size"), 64) and small(layer.get("output_size"), 64)


def check_forward_against_torch(document: dict[str, Any], answer: Reply) -> None:
    """Forward and torch agree on a pytorch-convention document: the sizes when forward
    accepts it; when forward refuses a layer (channels given, tensors small), torch
    refuses that layer too."""
    if document.get("convention", "pytorch") != "pytorch" or not isinstance(document.get("input_size"), list):
        return
    if answer.value is not None:
        sizes = [layer["output_size"] for layer in answer.value["layers"]]
        ran = run_in_torch(one_channel(document), sizes)
        if ran is not None and ran != sizes:
            fail("torch disagrees", f"torch gives {ran}, forward {sizes}: {show(document)}")
        return
    detail = (answer.error or {}).get("detail") or {}
    at, rule = detail.get("layer"), detail.get("rule")
    if at is None or not _channels_complete(document) or rule in ("not_in_convention", "padding_mode_of_convention") \
            or any(f in document["layers"][at] for f in ("padding_end", "output_shape")):
        return  # not a refused layer; or channels torch would need; or fields torch has not
    head = {**document, "layers": document["layers"][:at + 1]}  # up to the refused layer
    try:
        sizes = [r.output_size for r in solver.forward({**head, "layers": head["layers"][:-1]}).layers]
    except solver.ConvsolveError:
        return
    if not _small(head, sizes) or not _modest(head["layers"][-1]):
        return
    try:
        ran = torch_graph(head)
    except torch_ref.TorchRejected:
        return
    fail("torch accepts", f"forward refuses layer {at} ({answer.error['message'][:300]}) but torch runs it, "
         f"giving {ran[-1]}: {show(document)}")


def check_export(document: dict[str, Any], code: str) -> None:
    """Exported PyTorch code runs and gives forward's output size (small documents)."""
    report = solver.forward(document)
    sizes = [r.output_size for r in report.layers]
    # The input as the code's own example makes it: its channels (the export picks a count
    # that fits every groups when the document leaves them open).
    example = re.search(r"torch\.zeros\((\d+), (\d+),", code)
    batch, channels = (int(example.group(1)), int(example.group(2))) if example else (
        1, document.get("in_channels") or 1)
    widest = max([channels, report.in_channels or 1] + [r.out_channels or 1 for r in report.layers])
    if not _small({**document, "in_channels": widest}, sizes):
        return
    try:
        net = torch_ref.exported(code)
        with torch.no_grad():
            y = torch_ref.quiet(net, torch.zeros(batch, channels, *document["input_size"]))
    except Exception as exc:  # noqa: BLE001 - any failure of the exported code is the finding
        fail(f"export {type(exc).__name__}", f"exported code fails: {type(exc).__name__}: {exc}\n"
             f"document: {show(document)}\ncode:\n{code}")
    if list(y.shape[2:]) != report.output_size:
        fail("export sizes", f"exported code gives {list(y.shape[2:])}, forward {report.output_size}\n"
             f"document: {show(document)}\ncode:\n{code}")


# --- the properties ---------------------------------------------------------------------
#
# Each takes the worker and what its strategy drew; the tests below and bench/hostile.py
# run the same ones.

def check_followups(worker: Worker, document: dict[str, Any], answer: dict[str, Any]) -> None:
    """What an answer offers must work too: its next page (`next_cursor`) is valid
    solutions of the same document, and its first repair (each was "checked by solving
    it") has solutions."""
    if answer.get("next_cursor"):
        paged = {**document, "cursor": answer["next_cursor"]}
        page = call(worker, "solve", paged, api=False)
        if page.error is not None:
            fail("cursor refused", f"the next page's cursor is refused ({page.error['message'][:200]}): "
                 f"{show(document)}")
        check_solve(paged, page.value)
    repairs = (answer.get("explanation") or {}).get("repairs") or []
    if repairs:
        repaired = repairs[0]["document"]
        fixed = call(worker, "solve", repaired, api=False)
        status = (fixed.value or {}).get("status")
        if fixed.error is not None or status == "infeasible":
            fail("repair fails", f"the repair '{repairs[0]['message']}' gives "
                 f"{status or fixed.error['message'][:200]}\nrepaired: {show(repaired)}\noriginal: {show(document)}")
        check_solve(repaired, fixed.value)


def solve_property(worker: Worker, document: dict[str, Any]) -> None:
    """A hostile solve document, in the library and through /v1/solve: valid solutions,
    a working next page and repair, and the same exact count from both doors."""
    library = call(worker, "solve", document, api=False)
    if library.value is not None:
        check_solve(document, library.value)
        check_followups(worker, document, library.value)
    served = call(worker, "solve", document, api=True)
    if served.status == 200:
        check_solve(document, served.json())
        exact = ("complete", "limit", "infeasible")
        a, b = library.value, served.json()
        if a is not None and a["status"] in exact and b["status"] in exact and \
                (a["status"], a["count"]) != (b["status"], b["count"]):
            fail("library and service disagree", f"solver.solve: {a['status']} {a['count']}, POST /v1/solve: "
                 f"{b['status']} {b['count']}: {show(document)}")


def stream_property(worker: Worker, document: dict[str, Any]) -> None:
    """/v1/solve/stream: the first line is the answer without solutions, then one each."""
    answer = call(worker, "stream", document, api=True)
    if answer.status == 200:
        lines = [json.loads(line) for line in answer.text.splitlines() if line.strip()]
        check_solve(document, {**lines[0], "solutions": lines[1:]})


def sample_property(worker: Worker, drawn: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """A hostile solve document sampled, in the library and through /v1/sample: every
    design valid, as many as asked when complete, and the same designs from both doors
    for the same seed when both finished."""
    document, sampling = drawn
    document = {**document, **sampling} if isinstance(document, dict) else document
    answers = []
    for api in (False, True):
        reply = call(worker, "sample", document, api=api)
        answer = reply.value if not api else reply.json() if reply.status == 200 else None
        if answer is None:
            continue
        solutions = answer["solutions"]
        if answer["status"] == "complete" and len(solutions) != document["n"] and \
                (document.get("replace", True) or answer["count"] is None or len(solutions) < answer["count"]) \
                and not document.get("within"):
            fail("answer", f"complete with {len(solutions)} designs drawn of n = {document['n']}: {show(document)}")
        if answer["status"] == "infeasible" and solutions:
            fail("answer", f"infeasible with {len(solutions)} designs: {show(document)}")
        for i, solution in enumerate(solutions[:CHECKED]):
            check_solution(document, solution, in_torch=i == 0)
        answers.append(answer)
    if len(answers) == 2 and all(a["status"] == "complete" and a["uniform"] for a in answers) and \
            answers[0]["solutions"] != answers[1]["solutions"]:
        fail("library and service disagree", f"solver.sample and POST /v1/sample draw different designs for seed "
             f"{document['seed']}: {show(document)}")


def forward_property(worker: Worker, document: dict[str, Any]) -> None:
    """A hostile forward document: forward agrees with torch; export runs; the service
    accepts what the library accepts."""
    answer = call(worker, "forward", document, api=False)
    check_forward_against_torch(document, answer)
    code = call(worker, "export_torch", document, api=False)
    if answer.value is not None and code.value is not None:
        check_export(document, code.value)
    call(worker, "export_keras", document, api=False)
    for endpoint in ("forward", "export_torch"):
        library = answer if endpoint == "forward" else code
        served = call(worker, endpoint, document, api=True)
        if (served.status == 200) != (library.value is not None) and served.status not in (413, 503):
            fail("library and service disagree", f"POST {ENDPOINTS[endpoint][1]} answers {served.status} "
                 f"({served.text[:300]}), solver.{ENDPOINTS[endpoint][0]} "
                 f"{'refuses' if library.value is None else 'accepts'} it: {show(document)}")


def input_sizes_property(worker: Worker, document: dict[str, Any]) -> None:
    """A hostile input-sizes request: the sizes said valid are."""
    answer = call(worker, "input_sizes", document, api=False)
    if answer.value is not None:
        check_input_sizes(document, answer.value)
    answer = call(worker, "input_sizes", document, api=True)
    if answer.status == 200:
        check_input_sizes(document, answer.json())


def plan_property(worker: Worker, drawn: tuple[str, dict[str, Any]]) -> None:
    """A hostile plan: every design is a valid forward document with its sizes."""
    kind, plan = drawn
    answer = call(worker, kind, plan, api=False)
    if answer.value is not None:
        check_design(plan, answer.value)
    answer = call(worker, kind, plan, api=True)
    if answer.status == 200:
        check_design(plan, answer.json())


def nesting_property(worker: Worker, recipe: dict[str, Any]) -> None:
    """A deeply nested document: refused (or solved), never a crash, in both doors."""
    document = S.build_nested(recipe)
    reply = worker.call({"kind": "library", "fn": "solve", "args": [_NestedDocument(recipe)], "kwargs": {}},
                        timeout=SLACK_S + 1)
    where = f"solver.solve(a document nested {recipe['depth']} deep at {recipe['at']}, {recipe['container']}s)"
    if "hung" in reply or "died" in reply:
        fail("timeout" if "hung" in reply else "crash", f"{where}: {reply}")
    error = reply["error"]
    if error is not None and not error["convsolve"]:
        fail(f"exception {error['type']} at {_origin(error['traceback'])}",
             f"{where} raised {error['type']}: {error['message'][:300]}\n{error['traceback'][-3000:]}")
    call(worker, "solve", document, api=True, raw=S.nested_json(recipe))


class _NestedDocument:
    """A nested document crosses to the worker as its recipe and is built there (pickle
    would recurse as deep as the data); the worker loads tests/strategies.py for it."""

    def __init__(self, recipe: dict[str, Any]) -> None:
        self.recipe = recipe

    def __reduce__(self) -> tuple[Any, ...]:
        return S.build_nested, (self.recipe,)


def sound_property(worker: Worker, document: dict[str, Any]) -> None:
    """A valid, feasible-looking solve document: every solution valid, the first in torch."""
    answer = call(worker, "solve", document, api=False)
    if answer.error is not None:
        fail("valid document refused", f"solver.solve refuses a valid document ({answer.error['message'][:300]}): "
             f"{show(document)}")
    check_solve(document, answer.value)
    check_followups(worker, document, answer.value)


#: name: (strategy, property, examples in CI).
PROPERTIES: dict[str, tuple[st.SearchStrategy[Any], Callable[[Worker, Any], None], int]] = {
    "solve": (S.hostile_solve_documents(), solve_property, 60),
    "stream": (S.hostile_solve_documents(), stream_property, 20),
    "sample": (st.tuples(S.hostile_solve_documents(), st.fixed_dictionaries(
        {"n": st.integers(1, 40), "seed": st.integers(0, 2**63 - 1)},
        optional={"replace": st.booleans(), "within": st.sampled_from([
            {"fewest_params": {"max": 5000}}, {"least_padding": {"max": 2}},
            {"largest_receptive_field": {"min": 9}}, {"smallest_kernels": {"min": 3, "max": 6}}])})),
        sample_property, 30),
    "forward": (S.hostile_forward_documents(), forward_property, 100),
    "input_sizes": (S.hostile_input_sizes_documents(), input_sizes_property, 30),
    "plan": (S.hostile_plans(), plan_property, 25),
    "nesting": (S.nested(), nesting_property, 20),
    "sound": (S.sound_solve_documents(), sound_property, 100),
}


_FREE = {"kernel_size": {"min": 1, "max": 4096}, "stride": {"min": 1, "max": 4096},
         "padding": {"min": 0, "max": 4095}}
_WIDE = {"kernel_size": {"min": 1, "max": 7}, "stride": {"min": 1, "max": 3}, "padding": {"min": 0, "max": 2000}}

#: Documents that once broke a promise (issue #12 and what this suite found), run first,
#: in every CI run, by Hypothesis' explicit phase.
EXAMPLES: dict[str, list[Any]] = {
    "forward": [
        # A refusal's suggestions raised the solver's internal Timeout.
        {"convention": "tensorflow", "input_size": [8, 8, 8], "layers": [
            {"type": "conv", "kernel_size": [5, 6, 1], "stride": [1, 1, 2], "padding": "same",
             "dilation": [1, 3, 1]}]},
        # Sizes past every float: OverflowError.
        {"input_size": [2], "layers": [{"type": "conv_transpose", "kernel_size": 1, "stride": 65536}] * 64
         + [{"type": "upsample", "scale_factor": 2}]},
        # A transposed conv whose output is 0 (forward warns), and a conv after it (refused).
        {"input_size": [2], "in_channels": 1, "layers": [
            {"type": "conv_transpose", "kernel_size": 1, "padding": 1, "out_channels": 1},
            {"type": "conv", "kernel_size": 1, "out_channels": 1}]},
        # torch broadcasts a size-1 axis in a sum.
        {"input_size": [5, 4], "in_channels": 1, "layers": [
            {"type": "adaptive_avg_pool", "output_size": [1, None], "name": "p"},
            {"type": "add", "inputs": ["input", "p"]}]},
        # Export: an adaptive pool keeping every axis was written output_size=None.
        {"input_size": [64, 9], "layers": [{"type": "adaptive_max_pool", "output_size": [None, None]}]},
        # Export: the input's channels, set by a layer reading it, or by a sum with it.
        {"convention": "onnx", "input_size": [3], "layers": [
            {"type": "avg_pool", "kernel_size": [1], "stride": [2], "padding": [0], "input": "input", "name": "l0"},
            {"type": "conv", "kernel_size": [1], "out_channels": 1, "in_channels": 2, "input": "input"}]},
        {"convention": "tensorflow", "input_size": [3, 31, 3], "layers": [
            {"type": "conv", "kernel_size": [1, 1, 2], "stride": [1, 1, 2], "out_channels": 4, "name": "l0"},
            {"type": "add", "inputs": ["input", "l0"]}]},
        # An empty transposed-conv output: refused, as torch refuses it at batch 1.
        {"input_size": [56, 6, 50], "layers": [
            {"type": "conv_transpose", "kernel_size": 1, "padding": 3, "out_channels": 3}]},
    ],
    "solve": [
        # The explanation crashed on a choice past every bound, and on kernel and dilation 65536.
        {"input_size": [8], "target_size": [4], "time_limit_s": 0.5,
         "layers": [{"type": "conv", "kernel_size": {"choices": [10**30, 3]}}]},
        {"input_size": [8], "target_size": [3], "time_limit_s": 0.5, "layers": [
            {"type": "conv", "kernel_size": 65536, "dilation": 65536, "padding": {"choices": ["same", 0]}}]},
        # Targets on "input", and a range target on the last layer beside target_size.
        {"input_size": [8], "target_size": [6], "time_limit_s": 0.5, "targets": {"input": [5]},
         "layers": [{"type": "conv", "kernel_size": 3}]},
        {"input_size": [8], "target_size": [3], "time_limit_s": 0.5, "targets": {"c": {"min": 1, "max": 2}},
         "layers": [{"name": "c", "type": "conv", "kernel_size": {"min": 1, "max": 3}}]},
        # The explanation compared a range or a list target with sizes (TypeError); a target
        # on the input and target_size beside a target on the last layer were ignored.
        {"convention": "onnx", "input_size": [15, 26], "target_size": [1, 1], "limit": 1, "time_limit_s": 0.05,
         "targets": {"l0": [{"min": 29, "max": 33}, 41]},
         "layers": [{"type": "adaptive_avg_pool", "output_size": 1, "name": "l0"}]},
        {"convention": "tensorflow", "input_size": [6], "time_limit_s": 0.5, "targets": {"input": [14]},
         "layers": [{"type": "conv", "kernel_size": {"min": 1, "max": 3}, "name": "l0"}]},
        {"convention": "onnx", "input_size": [4], "in_channels": 1, "time_limit_s": 0.5, "target_size": "input",
         "targets": {"l1": [{"min": 5, "max": 7}]},
         "layers": [{"type": "avg_pool", "name": "l0", "kernel_size": [{"choices": [5, 1, 3]}]},
                    {"type": "upsample", "name": "l1", "scale_factor": [3]}]},
        # Groups that do not divide the channels.
        {"input_size": [8], "in_channels": 3, "target_size": [6], "time_limit_s": 0.5, "layers": [
            {"type": "conv", "kernel_size": {"min": 1, "max": 3}, "out_channels": 4, "groups": 2}]},
        # Time limits overrun: huge domains, wide padding domains in 2d and 3d.
        {"input_size": [1000, 1000], "target_size": [3, 3], "time_limit_s": 0.1,
         "layers": [{"type": "conv", **_FREE}] * 3},
        {"input_size": [512] * 3, "target_size": "input", "time_limit_s": 0.3,
         "layers": [{"type": "conv", **_WIDE}] * 4},
        # About a million settings per layer on a large input: 38 s for a limit of 0.1 s.
        {"input_size": [2**20 - 1], "target_size": [3], "time_limit_s": 0.1, "layers": [
            {"type": "conv", "kernel_size": {"min": 1, "max": 4096}, "stride": {"min": 1, "max": 244}}] * 3},
        # OverflowError in the bounds.
        {"input_size": [2], "target_size": [4], "time_limit_s": 0.5,
         "layers": [{"type": "conv_transpose", "kernel_size": 1, "stride": 65536}] * 64
         + [{"type": "upsample", "scale_factor": 2}]},
    ],
    "input_sizes": [
        # 60 layers, 16384 sizes on each of 3 axes: the sweep overran its time.
        {"range": {"min": 1, "max": 16384}, "input_size": [500] * 3, "time_limit_s": 0.5,
         "layers": [{"type": "conv", "kernel_size": 3, "padding": 1}] * 60},
    ],
    "nesting": [{"depth": 1000, "at": "choices", "container": "list"},
                {"depth": 1000, "at": "objective", "container": "list"}],
}


def _ci(name: str) -> Callable[..., Any]:
    strategy, prop, examples = PROPERTIES[name]

    @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
              phases=(Phase.explicit, Phase.generate),
              suppress_health_check=list(HealthCheck))
    @given(drawn=strategy)
    def test(worker: Worker, drawn: Any) -> None:
        prop(worker, drawn)

    for drawn in reversed(EXAMPLES.get(name, [])):
        test = example(drawn=drawn)(test)
    test.__doc__ = prop.__doc__
    return test


test_hostile_solve = _ci("solve")
test_hostile_stream = _ci("stream")
test_hostile_sample = _ci("sample")
test_hostile_forward_and_export = _ci("forward")
test_hostile_input_sizes = _ci("input_sizes")
test_hostile_plans = _ci("plan")
test_deep_nesting = _ci("nesting")
test_solutions_of_valid_documents_are_sound = _ci("sound")


#: Bodies no JSON document model reads: each must answer 413 or 422, quickly.
RAW_BODIES = {
    "not json": b"{'input_size': [8]}",
    "truncated": b'{"input_size": [8], "layers": [',
    "empty": b"",
    "a list": b"[1, 2, 3]",
    "a string": b'"solve"',
    "NaN": b'{"input_size": [8], "target_size": [4], "time_limit_s": NaN, "layers": []}',
    "Infinity": b'{"input_size": [8], "target_size": [4], "time_limit_s": Infinity, '
                b'"layers": [{"type": "conv", "kernel_size": 3}]}',
    "invalid utf-8": b'{"input_size": [8], "layers": [{"type": "conv", "name": "\xff\xfe"}]}',
    "a lone surrogate": b'{"input_size": [8], "target_size": [6], "layers": [{"type": "conv", "kernel_size": 3, '
                        b'"name": "\\ud800"}]}',
    "a huge number": b'{"input_size": [8], "target_size": [4], "layers": [{"type": "conv", "kernel_size": 1'
                     + b"0" * 5000 + b"}]}",
    "over the body limit": b'{"input_size": [8], "layers": [' + b'{"type": "conv", "kernel_size": 1},' * 9000
                           + b'{"type": "conv", "kernel_size": 1}], "target_size": [8]}',
    "257 layers": json.dumps({"input_size": [8], "target_size": [8],
                              "layers": [{"type": "conv", "kernel_size": 1}] * 257}).encode(),
    "duplicate keys": b'{"input_size": [8], "input_size": [9], "target_size": [9], '
                      b'"layers": [{"type": "conv", "kernel_size": 1}]}',
}


@pytest.mark.parametrize("body", RAW_BODIES)
def test_raw_bodies(worker: Worker, body: str) -> None:
    """Bodies that are not documents, to every route: 200, 413 or 422, never a 5xx."""
    failures = []
    for route in ENDPOINTS:
        try:
            call(worker, route, None, api=True, raw=RAW_BODIES[body])
        except Failure as failure:
            failures.append(str(failure)[:1500])
    assert not failures, "\n\n".join(failures)
