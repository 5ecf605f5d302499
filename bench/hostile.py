"""Soak convsolve with hostile documents: the properties of tests/hostile/test_hostile.py,
with random seeds and many more examples, every failure recorded instead of stopping
at the first; prints one line per failure class with the smallest example found.

    python bench/hostile.py                          # every property, 10 minutes in all
    python bench/hostile.py --minutes 60 --only solve,sound
    python bench/hostile.py --seed 7 --examples 2000 --out /tmp/soak.md
    python bench/hostile.py --ci                     # exactly the CI's examples, no stop at a failure
    python bench/hostile.py --ci --library /tmp/old  # the same against another checkout's solver and api

A failure class is the kind of broken promise (an exception type and where in
solver/ or api/ it was raised, a timeout of one door, a solution forward refuses, ...)
and the property that found it.  The time is shared out evenly between the properties.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings

TESTS = Path(__file__).resolve().parents[1] / "tests"


def _load(name: str, path: Path) -> Any:
    """A test helper by file, as tests/conftest.py loads them (tests/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_load("strategies", TESTS / "strategies.py")
_load("torch_ref", TESTS / "torch_ref.py")
hostile = _load("test_hostile", TESTS / "hostile" / "test_hostile.py")


@dataclass
class Found:
    """One failure class: how often, and its smallest example."""

    count: int = 0
    example: Any = None
    size: int = 1 << 62
    message: str = ""
    seen: list[float] = field(default_factory=list)


class OutOfTime(Exception):  # noqa: N818 - a signal to stop this property's run
    pass


def soak(name: str, worker: Any, examples: int, seconds: float, run_seed: int | None,
         found: dict[tuple[str, str], Found]) -> int:
    """Run one property until `examples` or `seconds`; record every failure; the count
    run.  Without a seed, the CI's examples (derandomized, as many as the CI draws)."""
    strategy, prop, ci_examples = hostile.PROPERTIES[name]
    stop = time.monotonic() + seconds
    ran = 0
    if run_seed is None:
        config = settings(max_examples=ci_examples, derandomize=True, deadline=None, database=None,
                          phases=(Phase.generate,), suppress_health_check=list(HealthCheck))
    else:
        config = settings(max_examples=examples, deadline=None, database=None, phases=(Phase.generate,),
                          suppress_health_check=list(HealthCheck))

    @config
    @given(drawn=strategy)
    def run(drawn: Any) -> None:
        nonlocal ran
        if time.monotonic() > stop:
            raise OutOfTime
        ran += 1
        try:
            prop(worker, drawn)
        except hostile.Failure as failure:
            record(found, (name, failure.kind), drawn, str(failure))
        except Exception as exc:  # noqa: BLE001 - a bug of the checks themselves: reported too
            record(found, (name, f"check raised {type(exc).__name__}"), drawn, f"{type(exc).__name__}: {exc}")

    if run_seed is not None:
        run = seed(run_seed)(run)
    for drawn in hostile.EXAMPLES.get(name, []):  # what once broke, first, as the CI does
        ran += 1
        try:
            prop(worker, drawn)
        except hostile.Failure as failure:
            record(found, (name, failure.kind), drawn, str(failure))
    try:
        run()
    except OutOfTime:
        pass
    return ran


def record(found: dict[tuple[str, str], Found], key: tuple[str, str], drawn: Any, message: str) -> None:
    entry = found.setdefault(key, Found())
    entry.count += 1
    size = len(hostile.show(drawn, limit=1 << 30))
    if size < entry.size:
        entry.example, entry.size, entry.message = drawn, size, message
    print(f"  ! {key[0]}: {key[1]} ({entry.count})", flush=True)
    if entry.count == 1:  # a new class: say what happened now, not only in the final report
        print("    " + message[:1500].replace("\n", "\n    "), flush=True)


def report(found: dict[tuple[str, str], Found], runs: dict[str, int]) -> str:
    lines = ["# Hostile-document soak", "",
             "examples run: " + ", ".join(f"{name} {n}" for name, n in runs.items()), "",
             "how the calls ended (door: outcome count):", ""]
    doors = sorted({door for door, _ in hostile.OUTCOMES})
    for door in doors:
        outcomes = sorted(((o, n) for (d, o), n in hostile.OUTCOMES.items() if d == door), key=lambda x: -x[1])
        lines.append(f"    {door}: " + ", ".join(f"{o} {n}" for o, n in outcomes))
    lines.append("")
    if not found:
        lines.append("No failure found.")
    for (name, kind), entry in sorted(found.items()):
        lines += [f"## {kind}  (property {name}, {entry.count} examples)", "",
                  "smallest example:", "", "    " + hostile.show(entry.example, limit=4000), "",
                  "what happened:", "", *("    " + line for line in entry.message[:4000].splitlines()), ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10, help="total time, shared by the properties")
    parser.add_argument("--examples", type=int, default=100_000, help="most examples per property")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: a random one, printed)")
    parser.add_argument("--only", default="", help="comma-separated properties: " + ", ".join(hostile.PROPERTIES))
    parser.add_argument("--out", type=Path, default=None, help="also write the report to this file")
    parser.add_argument("--library", type=Path, default=None,
                        help="a checkout whose solver/ and api/ the calls use (PYTHONPATH), e.g. an older "
                             "commit's (git archive COMMIT solver api | tar -x -C DIR): does the suite catch its bugs?")
    parser.add_argument("--ci", action="store_true",
                        help="the CI's examples (derandomized), every failure recorded: what CI would find, "
                             "and how long CI takes once it passes")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or list(hostile.PROPERTIES)
    run_seed = None if args.ci else args.seed if args.seed is not None else random.randrange(1 << 32)
    print(f"seed {run_seed or 'derandomized (CI)'}; {args.minutes} minutes over {', '.join(names)}", flush=True)
    found: dict[tuple[str, str], Found] = {}
    runs: dict[str, int] = {}
    worker = hostile.Worker(env={"PYTHONPATH": str(args.library.resolve())} if args.library else None)
    try:
        for name in names:
            start = time.monotonic()
            runs[name] = soak(name, worker, args.examples, args.minutes * 60 / len(names), run_seed, found)
            print(f"{name}: {runs[name]} examples in {time.monotonic() - start:.0f} s, "
                  f"{sum(1 for k in found if k[0] == name)} failure classes", flush=True)
    finally:
        worker.close()
    text = report(found, runs)
    print(text)
    if args.out is not None:
        args.out.write_text(text)
    print(json.dumps({"seed": run_seed, "classes": len(found)}))


if __name__ == "__main__":
    main()
