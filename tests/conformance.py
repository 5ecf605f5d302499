"""The skeleton the three conformance suites share (torch, Keras, onnxruntime).

Each suite brings its oracle, its `check` and its cases; this module gives them one
shape: every layer family in 1d, 2d and 3d, generated and derandomized; a framework's
error message read as the rules it names; one hand-made case per rule, and the check
that no rule lacks one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from solver import LayerRejected, Rule

#: The layer families every suite generates (adaptive_avg_pool draws both adaptive pools).
FAMILIES = ["conv", "conv_transpose", "max_pool", "avg_pool", "upsample", "adaptive_avg_pool", "identity"]
NDIMS = [1, 2, 3]
#: (rule, axis) a layer breaks; axis None for a rule on the whole layer.
Broken = set[tuple[Rule, int | None]]
#: (rule, input size, layer): a layer the framework refuses by that rule.
RuleCase = tuple[Rule, list[int], dict[str, Any]]


def each_family(max_examples: int, **more: Any) -> Callable[[Callable[..., None]], Any]:
    """A test over every family and rank: `test(family, ndim, data)`, derandomized."""
    def wrap(test: Callable[..., None]) -> Any:
        test = given(data=st.data())(test)
        test = settings(derandomize=True, deadline=None, max_examples=max_examples, **more)(test)
        return pytest.mark.parametrize("ndim", NDIMS)(pytest.mark.parametrize("family", FAMILIES)(test))
    return wrap


def reader(framework: str, messages: Iterable[tuple[str, set[Rule]]]) -> Callable[[str], set[Rule]]:
    """The rules a framework's error message names, by its fragments; a message never
    seen fails the test (its fragment belongs in the suite's table)."""
    table = list(messages)

    def rules(message: str) -> set[Rule]:
        found: set[Rule] = set().union(*(rules for fragment, rules in table if fragment in message))
        assert found, f"unknown {framework} message, add it to the suite's table: {message!r}"
        return found
    return rules


def each_rule(cases: list[RuleCase]) -> Any:
    """A test over the hand-made cases, one per rule: `test(rule, size, layer)`."""
    return pytest.mark.parametrize(("rule", "size", "layer"), cases,
                                   ids=[f"{r.value}-{i}" for i, (r, _, _) in enumerate(cases)])


def assert_every_rule_has_a_case(cases: list[RuleCase], *elsewhere: set[Rule]) -> None:
    """Every rule is either shown by a case of this suite or said to be checked elsewhere."""
    assert {rule for rule, _, _ in cases}.union(*elsewhere) == set(Rule)


def axis_values(value: Any, ndim: int) -> tuple[Any, ...]:
    """A document value, one per axis (an int stands for every axis)."""
    return tuple(value) if isinstance(value, list) else (value,) * ndim


def record(rejected: LayerRejected | None) -> None:
    """What hypothesis' statistics show: accepted, or refused by which rule."""
    event("accepted" if rejected is None else f"refused: {rejected.rule}")


def agrees_layer_by_layer(document: dict[str, Any], size: list[int],
                          framework: dict[str, list[int]] | None, who: str, every: bool = True) -> bool:
    """forward and a framework agree on an imported document at one input size: both
    refuse it, or both run it and every layer forward reports has the framework's size
    (by name; `framework` maps the framework's layers to their output sizes, None when it
    refused; `every`: it reports every layer, else only some, as torch's module hooks do,
    which do not see functions).  Whether both ran it."""
    import solver

    try:
        report = solver.forward({**document, "input_size": size})
    except LayerRejected:
        assert framework is None, (size, f"forward refuses what {who} runs")
        return False
    assert framework is not None, (size, f"{who} refuses what forward accepts")
    got = {r.name: r.output_size for r in report.layers}
    if every:
        assert set(got) <= set(framework), (size, f"layers {who} did not report: {set(got) - set(framework)}")
    compared = [name for name in got if name in framework]
    assert len(compared) >= 2, (size, "too few layers to compare")
    assert {name: got[name] for name in compared} == {name: framework[name] for name in compared}, size
    return True
