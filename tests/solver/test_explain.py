"""Infeasible problems are explained in the user's terms, and every repair works."""

from __future__ import annotations

from typing import Any

import pytest

import solver

DOWN_UP = [{"name": "down", "type": "conv", "kernel_size": 2, "stride": 2},
           {"name": "up", "type": "conv_transpose", "kernel_size": 2, "stride": 2}]

CASES = [
    pytest.param(
        {"input_size": [25], "target_size": "input", "layers": DOWN_UP},
        {(None, 0, "target_unreachable"), (1, 0, "domain_too_narrow")}, ["25", "12", "24", "'up'"],
        id="odd-size-stride-2-round-trip"),
    pytest.param(
        {"input_size": [32], "target_size": [200],
         "layers": [{"name": "c", "type": "conv", "kernel_size": {"min": 1, "max": 3},
                     "padding": {"min": 0, "max": 1}}]},
        {(None, 0, "target_unreachable")}, ["200", "34"],
        id="target-larger-than-reachable"),
    pytest.param(
        {"input_size": [64], "target_size": [64],
         "layers": [{"name": "e1", "type": "conv", "kernel_size": 3, "padding": 1},
                    {"name": "pool", "type": "max_pool", "kernel_size": 2},
                    {"name": "e2", "type": "conv", "kernel_size": 3},
                    {"name": "up", "type": "conv_transpose", "kernel_size": 2, "stride": 2},
                    {"name": "skip", "type": "concat", "inputs": ["e1", "up"]}]},
        {(4, 0, "join_sizes_match")}, ["'skip'", "'e1' can be 64", "'up' can be 60"],
        id="skip-cannot-match"),
    pytest.param(
        {"input_size": [33, 33], "target_size": [33, 33],
         "layers": [{"name": "aspp18", "type": "conv", "kernel_size": 3, "dilation": 18,
                     "padding": {"min": 0, "max": 6}}]},
        {(None, 0, "target_unreachable"), (None, 1, "target_unreachable"), (0, None, "domain_too_narrow")},
        ["On every axis", "33", "dilation 18"],
        id="aspp-padding-cannot-reach-dilation"),
    pytest.param(
        {"input_size": [8], "target_size": [9],
         "layers": [{"name": "up", "type": "conv_transpose", "kernel_size": 2, "stride": 1,
                     "output_padding": 1}]},
        {(0, 0, "output_padding_smaller_than_stride_or_dilation")}, ["'up'", "output_padding 1"],
        id="output-padding-forbidden"),
    pytest.param(
        {"input_size": [7], "target_size": [4],
         "layers": [{"name": "p", "type": "max_pool", "kernel_size": 2, "padding": {"min": 2, "max": 3}}]},
        {(0, 0, "pool_padding_at_most_half_kernel")}, ["'p'", "half the kernel"],
        id="pool-padding-above-half-kernel"),
    pytest.param(
        {"input_size": [25, 24], "target_size": "input", "layers": DOWN_UP},
        {(None, 0, "target_unreachable"), (1, 0, "domain_too_narrow")}, ["axis 0", "axes (1) are fine"],
        id="2d-only-one-axis-fails"),
    pytest.param(  # TensorFlow's 'same' rounds 75 up to 38, which comes back as 76
        {"convention": "tensorflow", "input_size": [75], "target_size": "input",
         "layers": [{"name": "down", "type": "conv", "kernel_size": 3, "stride": 2, "padding": "same"},
                    {"name": "up", "type": "conv_transpose", "kernel_size": 3, "stride": 2, "padding": "same"}]},
        {(None, 0, "target_unreachable"), (1, 0, "domain_too_narrow")},
        ["gives 38", "76, not 75", "leaves output_padding to Keras", "allow output_padding 0 in layer 1 'up' (conv_transpose)"],
        id="tensorflow-same-rounds-up"),
    pytest.param(  # ONNX: SAME_LOWER's odd pixel does not change the size; explicit pads do
        {"convention": "onnx", "input_size": [10], "target_size": [6],
         "layers": [{"name": "c", "type": "conv", "kernel_size": 3, "stride": 2,
                     "padding": {"choices": ["same_lower", "valid"]}}]},
        {(None, 0, "target_unreachable")}, ["'c'", "6"],
        id="onnx-auto-pad-cannot-reach"),
]


@pytest.mark.parametrize(("doc", "conflicts", "words"), CASES)
def test_explanation_names_layer_axis_rule_and_repairs_work(
    doc: dict[str, Any], conflicts: set[tuple[Any, ...]], words: list[str],
) -> None:
    result = solver.solve(doc)
    assert result.status == "infeasible" and result.count == 0
    why = result.explanation
    assert why is not None
    got = {(c.layer, c.axis, c.rule) for c in why.conflicts}
    assert conflicts <= got, got
    text = why.message + " " + " ".join(c.message for c in why.conflicts)
    for word in words:
        assert word in text, (word, text)
    assert why.repairs, "no repair suggested"
    for repair in why.repairs:  # every suggested document solves
        fixed = solver.solve(repair.document)
        assert fixed.status in ("complete", "limit") and fixed.count, repair.message


def test_repairs_come_smallest_first() -> None:
    doc = {"input_size": [33], "target_size": [33],
           "layers": [{"name": "b", "type": "conv", "kernel_size": 3, "dilation": 12,
                       "padding": {"min": 0, "max": 6}}]}
    repairs = solver.solve(doc).explanation.repairs
    assert any("padding 12" in r.message for r in repairs)
    assert "kernel_size 2" in repairs[0].message  # 3 -> 2 is a change of 1


def test_a_feasible_problem_has_no_explanation() -> None:
    result = solver.solve({"input_size": [24], "target_size": "input", "layers": DOWN_UP})
    assert result.status == "complete" and result.explanation is None


def test_a_layer_rule_is_named_before_axes() -> None:
    result = solver.solve({"input_size": [8, 8], "target_size": [16, 16],
                           "layers": [{"type": "upsample", "scale_factor": 2, "mode": "linear", "name": "up"}]})
    assert result.status == "infeasible"
    [conflict] = result.explanation.conflicts
    assert (conflict.layer, conflict.axis, conflict.rule) == (0, None, "upsample_mode_matches_ndim")
    assert "'up'" in result.message and "linear" in result.message


@pytest.mark.parametrize(("doc", "changed"), [
    ({"input_size": [5], "layers": [{"type": "max_pool", "kernel_size": 3, "padding": 2, "name": "p"}]},
     "padding"),
    ({"input_size": [4, 9], "layers": [{"type": "conv", "kernel_size": 5, "name": "c"}]}, "padding"),
    ({"input_size": [8], "layers": [{"type": "conv_transpose", "kernel_size": 3, "stride": 1,
                                     "output_padding": 1, "name": "t"}]}, "output_padding"),
])
def test_forward_error_offers_the_nearest_valid_settings(doc: dict[str, Any], changed: str) -> None:
    with pytest.raises(solver.LayerRejected) as refused:
        solver.forward(doc)
    suggestions = refused.value.suggestions
    assert suggestions, "no suggestion"
    for layer in suggestions:  # each is accepted by the forward engine, on the same input
        solver.forward({"input_size": doc["input_size"], "layers": [layer]})
    first = suggestions[0]
    layer = doc["layers"][0]
    stride = layer["kernel_size"] if layer["type"] == "max_pool" else 1  # PyTorch's defaults
    original = {"stride": stride, "padding": 0, "dilation": 1, "output_padding": 0} | layer
    ndim = len(doc["input_size"])
    differ = [f for f in ("kernel_size", "stride", "padding", "dilation", "output_padding")
              if f in first and first[f] != [original[f]] * ndim]
    assert differ == [changed]  # the nearest changes one parameter, by one step
    assert all(abs(v - original[changed]) == 1 for v in first[changed])


def test_a_tie_with_no_common_value_is_named_and_untied() -> None:
    doc = {"input_size": [8], "target_size": [4], "ties": [{"layers": ["a", "b"], "params": ["kernel_size"]}],
           "layers": [{"type": "avg_pool", "kernel_size": 2, "name": "a"},
                      {"type": "avg_pool", "kernel_size": 1, "name": "b"}]}
    why = solver.solve(doc).explanation
    assert (why.conflicts[0].layer, why.conflicts[0].rule) == (0, "tie_domains_disjoint")
    assert "'a' (avg_pool) allows 2" in why.message and "'b' (avg_pool) allows 1" in why.message
    assert any("different kernel_size" in r.message for r in why.repairs)
    for r in why.repairs:
        assert solver.solve(r.document).count


def test_suggestions_are_searched_only_when_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """forward() as a validity check stays cheap: refusing does not run the search."""
    import solver.services.suggest

    calls = []
    real = solver.services.suggest.nearest_settings
    monkeypatch.setattr(solver.services.suggest, "nearest_settings", lambda *a, **k: calls.append(a) or real(*a, **k))
    doc = {"input_size": [5], "layers": [{"type": "max_pool", "kernel_size": 3, "padding": 2}]}
    with pytest.raises(solver.LayerRejected) as refused:
        solver.forward(doc)
    assert calls == []
    assert refused.value.suggestions and len(calls) == 1
    assert refused.value.to_dict()["suggestions"] and len(calls) == 1  # found once, kept


@pytest.mark.parametrize(("doc", "rule", "words"), [
    ({"convention": "tensorflow", "input_size": [10, 10], "target_size": [5, 5],
      "layers": [{"type": "conv", "kernel_size": 3, "stride": [2, 1], "dilation": [1, 2], "padding": "same"}]},
     "stride_and_dilation_not_both", ["stride [2, 1] with dilation [1, 2]"]),
    ({"convention": "tensorflow", "input_size": [10, 10, 10], "target_size": [5, 5, 5],
      "layers": [{"type": "upsample", "size": [5, 5, 5]}]}, "not_in_convention", ["in 3d"]),
    ({"input_size": [10, 10], "target_size": [20, 20],
      "layers": [{"type": "upsample", "scale_factor": 2, "mode": "trilinear"}]},
     "upsample_mode_matches_ndim", ["needs 3 spatial axes, got 2"]),
], ids=["keras-stride-with-dilation", "keras-resizing-3d", "torch-trilinear-2d"])
def test_rules_on_a_whole_layer_are_explained_first(doc: dict[str, Any], rule: str, words: list[str]) -> None:
    """Rules one axis alone cannot show: across axes, or on the number of axes."""
    result = solver.solve(doc)
    assert result.status == "infeasible" and result.explanation is not None
    [conflict] = result.explanation.conflicts
    assert (conflict.layer, conflict.rule) == (0, rule)
    assert all(word in conflict.message for word in words), conflict.message


def test_onnx_linear_resize_is_not_blamed_in_2d() -> None:
    """ONNX's Resize takes 'linear' at any rank: the explanation looks elsewhere."""
    result = solver.solve({"convention": "onnx", "input_size": [10, 10], "target_size": [7, 7], "layers": [
        {"type": "upsample", "scale_factor": 2, "mode": "linear"},
        {"type": "conv", "kernel_size": 3, "padding": "same_upper"}]})
    assert result.explanation is not None
    assert {c.rule for c in result.explanation.conflicts} == {"target_unreachable", "domain_too_narrow"}
