"""The child process that makes the hostile tests' calls, so that a call which never
returns is killed and reported instead of blocking the test run.

Run as `python worker.py`; it reads requests from stdin and writes replies to stdout,
each a pickled dict behind a 4-byte length.  A request is

    {"kind": "library", "fn": "solve", "args": [doc], "kwargs": {...}}
    {"kind": "api", "method": "POST", "path": "/v1/solve", "json": doc}
    {"kind": "api", "method": "POST", "path": "/v1/solve", "content": b"...", "headers": {...}}

and a reply is `{"elapsed": seconds, "value": ..., "error": None | {...}}` with plain
data only (dicts, lists, str, numbers), so that it always pickles:

- a library call's value is its answer as JSON data (`model_dump(mode="json")`) or a
  string (exported code); its error names the exception, says whether it is a
  `solver.ConvsolveError`, and for one carries `to_dict()`, which is what the service
  answers and which computes a refusal's suggestions (a search of its own, timed too);
- an API call's value is `{"status", "headers", "text"}`, through FastAPI's TestClient
  on the real app with its real pool of solver processes; an exception that escapes
  the app (a 500 in production) comes back as the error.

The process limits its own address space (MEMORY_LIMIT), so a document that makes the
library allocate without bound fails with MemoryError instead of taking the machine.
"""

from __future__ import annotations

import pickle
import resource
import struct
import sys
import time
import traceback
from typing import Any, BinaryIO

#: Bytes of address space the worker (and the service's solver processes it starts) may map.
MEMORY_LIMIT = 6 << 30

_client: Any = None


def read_message(stream: BinaryIO) -> Any:
    """One length-prefixed pickle, or None at the end of the stream."""
    header = stream.read(4)
    if len(header) < 4:
        return None
    (size,) = struct.unpack(">I", header)
    return pickle.loads(stream.read(size))


def write_message(stream: BinaryIO, message: Any) -> None:
    data = pickle.dumps(message)
    stream.write(struct.pack(">I", len(data)) + data)
    stream.flush()


def _error(exc: BaseException) -> dict[str, Any]:
    import solver

    error: dict[str, Any] = {
        "type": type(exc).__name__,
        "convsolve": isinstance(exc, solver.ConvsolveError),
        "message": str(exc)[:2000],
        "traceback": "".join(traceback.format_exception(exc))[-6000:],
    }
    return error


def _library(request: dict[str, Any]) -> dict[str, Any]:
    import solver

    fn = getattr(solver, request["fn"])
    start = time.monotonic()
    try:
        value = fn(*request.get("args", ()), **request.get("kwargs", {}))
        if hasattr(value, "model_dump"):
            value = value.model_dump(mode="json")
    except solver.ConvsolveError as exc:
        error = _error(exc)
        try:  # what the service answers; a refusal's suggestions are computed here
            error["detail"] = exc.to_dict()
        except Exception as inner:  # noqa: BLE001 - reported, judged by the test
            error["detail_error"] = _error(inner)
        return {"elapsed": time.monotonic() - start, "value": None, "error": error}
    except Exception as exc:  # noqa: BLE001 - anything else is what the test looks for
        return {"elapsed": time.monotonic() - start, "value": None, "error": _error(exc)}
    return {"elapsed": time.monotonic() - start, "value": value, "error": None}


def _api(request: dict[str, Any]) -> dict[str, Any]:
    global _client
    if _client is None:
        from fastapi.testclient import TestClient

        from api.main import app

        # Raises what escapes the app (a 500 in production); entered, so that the app's
        # lifespan runs as under uvicorn (it starts the solver processes warm).
        _client = TestClient(app).__enter__()
    kwargs: dict[str, Any] = {"headers": request.get("headers")}
    if "json" in request:
        kwargs["json"] = request["json"]
    else:
        kwargs["content"] = request.get("content", b"")
    start = time.monotonic()
    try:
        response = _client.request(request.get("method", "POST"), request["path"], **kwargs)
        value = {"status": response.status_code, "headers": dict(response.headers), "text": response.text}
    except Exception as exc:  # noqa: BLE001
        return {"elapsed": time.monotonic() - start, "value": None, "error": _error(exc)}
    return {"elapsed": time.monotonic() - start, "value": value, "error": None}


def _load_strategies() -> None:
    """tests/strategies.py as `strategies`: some documents arrive as a recipe of its own
    (deep nesting, which pickle cannot carry), unpickled by calling its builder."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "strategies.py"
    spec = importlib.util.spec_from_file_location("strategies", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["strategies"] = module
    spec.loader.exec_module(module)


def main() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    _load_strategies()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # whatever the library prints stays out of the replies
    while (request := read_message(stdin)) is not None:
        handler = _api if request["kind"] == "api" else _library
        write_message(stdout, handler(request))


if __name__ == "__main__":
    main()
