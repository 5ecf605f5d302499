"""A real server for the tests that need one: `serve("uvicorn")` or `serve("convsolve")`.

The server runs in its own session, so its process group holds it and every process
it starts (workers, the multiprocessing resource tracker): the group is what must be
gone after a stop, and what the fixture kills at the end whatever happened.  Every
wait is bounded.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


class Served:
    def __init__(self, kind: str, env: dict[str, str], log: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        if kind == "convsolve":  # the CLI's `serve`
            cmd = [str(Path(sys.executable).with_name("convsolve")), "serve", "--port", str(self.port)]
        else:  # the Dockerfile's command
            cmd = [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", str(self.port)]
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=out, start_new_session=True)

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, timeout: float = 120) -> None:
        """Until /healthz answers (the lifespan warms every worker first)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"server exited with {self.proc.returncode}:\n{self.stderr()}"
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"server not ready after {timeout} s:\n{self.stderr()}")

    def request(self, method: str, path: str, doc: Any = None, headers: dict[str, str] | None = None,
                timeout: float = 60) -> tuple[int, str]:
        data = None if doc is None else json.dumps(doc).encode()
        req = urllib.request.Request(f"{self.base}{path}", data=data, method=method,
                                     headers={"content-type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return int(r.status), r.read().decode()
        except urllib.error.HTTPError as e:
            return int(e.code), e.read().decode()

    def send(self, path: str, doc: Any) -> socket.socket:
        """A POST whose answer is not read: the caller keeps (or closes) the socket."""
        body = json.dumps(doc).encode()
        client = socket.create_connection(("127.0.0.1", self.port), timeout=60)
        client.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        return client

    def group(self) -> list[int]:
        """Live processes of the server's process group (zombies are gone, only not yet reaped)."""
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[2]) == self.proc.pid and fields[0] != "Z":
                    pids.append(int(entry.name))
        return pids

    def kill_group(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


@pytest.fixture(scope="session")
def api_routes() -> list[Any]:
    """Every route of the app, as FastAPI APIRoutes, from the routers in api/routes (in
    FastAPI 0.165, app.routes holds the included routers, not their routes)."""
    import importlib
    import pkgutil

    import api.routes
    from api.main import app

    routes = [route for info in pkgutil.iter_modules(api.routes.__path__)
              for route in importlib.import_module(f"api.routes.{info.name}").router.routes
              if route.include_in_schema]  # not the docs pages
    served = {(path, method.upper()) for path, item in app.openapi()["paths"].items() for method in item}
    assert {(r.path, m) for r in routes for m in r.methods} == served  # all of them, and all included
    return routes


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    if not Path("/proc/self/stat").exists():
        pytest.skip("needs Linux /proc to see a server's processes")
    started: list[Served] = []

    def start(kind: str = "uvicorn", **env: str) -> Served:
        served = Served(kind, env, tmp_path / f"server-{len(started)}.log")
        started.append(served)
        return served

    yield start
    for served in started:
        served.kill_group()
