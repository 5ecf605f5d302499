"""What a document's convention changes beyond the arithmetic (which the conformance
suites check): the defaults of left-out fields, and the fields and padding modes that
belong to another convention, refused up front everywhere."""

from __future__ import annotations

from typing import Any

import pytest

import solver


@pytest.mark.parametrize(("convention", "layers", "output"), [
    # Keras pads 'valid' unless told: Conv1D(k=3) then MaxPooling1D(2) on 8 gives 6, then 3.
    ("tensorflow", [{"type": "conv", "kernel_size": 3}, {"type": "max_pool", "kernel_size": 2}], [3]),
    # An ONNX pool's strides default to 1 (PyTorch's, to the kernel): MaxPool(2) on 8 gives 7.
    ("onnx", [{"type": "max_pool", "kernel_size": 2}], [7]),
    ("pytorch", [{"type": "max_pool", "kernel_size": 2}], [4]),
])
def test_left_out_fields_take_the_conventions_defaults(convention: str, layers: list[dict[str, Any]],
                                                       output: list[int]) -> None:
    assert solver.forward({"convention": convention, "input_size": [8], "layers": layers}).output_size == output
    result = solver.solve({"convention": convention, "input_size": [8], "target_size": output, "layers": layers})
    assert result.status == "complete" and result.count == 1


@pytest.mark.parametrize(("convention", "layer", "words"), [
    ("pytorch", {"type": "conv", "kernel_size": 3, "padding": {"choices": ["same_upper", 1]}},
     "layers.0.padding: padding 'same_upper' is not a pytorch conv padding"),
    ("pytorch", {"type": "max_pool", "kernel_size": 3, "padding": {"choices": ["same", 1]}},
     "not a pytorch max_pool padding; use an int"),
    ("tensorflow", {"type": "conv", "kernel_size": 3, "padding": {"choices": [1, "same"]}},
     "the tensorflow convention pads 'same' or 'valid', not by a number of pixels"),
    ("onnx", {"type": "conv", "kernel_size": 3, "padding": {"choices": ["same", 1]}},
     "use an int, 'same_upper', 'same_lower' or 'valid'"),
    ("pytorch", {"type": "conv", "kernel_size": 3, "padding": 1, "padding_end": {"min": 0, "max": 1}},
     "layers.0.padding_end: padding_end exists in the onnx convention only"),
    ("tensorflow", {"type": "conv_transpose", "kernel_size": 3, "padding": "same", "output_shape": 8},
     "layers.0.output_shape: output_shape exists in the onnx convention only"),
])
def test_another_conventions_padding_is_refused_up_front(convention: str, layer: dict[str, Any],
                                                         words: str) -> None:
    """In a domain it would otherwise be dropped without a word; forward refuses it too."""
    doc = {"convention": convention, "input_size": [8], "target_size": [8], "layers": [layer]}
    with pytest.raises(solver.DocumentError, match=words.replace("(", r"\(")):
        solver.solve(doc)
    # The design as input-sizes takes it: each domain's first value, the offending one.
    design = {k: v["choices"][0] if isinstance(v, dict) and "choices" in v else
              v["min"] if isinstance(v, dict) else v for k, v in layer.items()}
    with pytest.raises(solver.ConvsolveError, match="layers.0"):
        solver.input_sizes({"convention": convention, "range": {"min": 4, "max": 9}, "layers": [design]})
