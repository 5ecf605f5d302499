"""The forward engine on known stacks: sizes, receptive field, jump, parameters, MACs.

Expected values are the published ones (ResNet, VGG16, U-Net) or worked out by hand:
receptive field r += (e - 1) * j and jump j *= s per layer, from r = j = 1; parameters
out * in/groups * prod(k) (+ out for the bias), confirmed with
sum(p.numel() for p in module.parameters()) in torch 2.13.
"""

from __future__ import annotations

from typing import Any

import pytest

import solver


def conv(k: int, cout: int, **kw: Any) -> dict[str, Any]:
    return {"type": "conv", "kernel_size": k, "out_channels": cout, **kw}


def pool(k: int = 2, **kw: Any) -> dict[str, Any]:
    return {"type": "max_pool", "kernel_size": k, **kw}


def column(response: solver.ForwardResponse, field: str) -> list[Any]:
    """One field of every layer's report; per-axis values reduced to the first axis."""
    values = [getattr(layer, field) for layer in response.layers]
    return [v[0] if isinstance(v, list) else v for v in values]


def test_resnet_stem() -> None:
    r = solver.forward({"input_size": [224, 224], "in_channels": 3, "layers": [
        conv(7, 64, stride=2, padding=3, bias=False, name="conv1"),
        pool(3, stride=2, padding=1, name="pool1"),
    ]})
    conv1, pool1 = r.layers
    assert conv1.output_size == [112, 112] and pool1.output_size == [56, 56]
    assert conv1.receptive_field == [7, 7] and conv1.jump == [2, 2]
    assert pool1.receptive_field == [11, 11] and pool1.jump == [4, 4]
    assert conv1.params == 64 * 3 * 7 * 7 == 9408
    assert conv1.macs == 112 * 112 * 9408 == 118_013_952  # the usual "118M" of conv1
    assert pool1.params == 0
    assert (r.output_size, r.out_channels, r.params) == ([56, 56], 64, 9408)
    assert r.receptive_field == [11, 11]


def test_resnet_stem_with_bias() -> None:
    r = solver.forward({"input_size": [224, 224], "in_channels": 3, "layers": [
        conv(7, 64, stride=2, padding=3)]})
    assert r.params == 9408 + 64


def test_vgg16_first_two_blocks() -> None:
    r = solver.forward({"input_size": [224, 224], "in_channels": 3, "layers": [
        conv(3, 64, padding=1), conv(3, 64, padding=1), pool(),
        conv(3, 128, padding=1), conv(3, 128, padding=1), pool(),
    ]})
    assert column(r, "output_size") == [224, 224, 112, 112, 112, 56]
    assert column(r, "receptive_field") == [3, 5, 6, 10, 14, 16]
    assert column(r, "jump") == [1, 1, 2, 2, 2, 4]
    assert column(r, "params") == [1792, 36928, 0, 73856, 147584, 0]
    assert r.params == 260_160


def test_unet_contracting_path() -> None:
    """The U-Net paper's 572x572 input: unpadded 3x3 convs and 2x2 max pools."""
    r = solver.forward({"input_size": [572, 572], "in_channels": 1, "layers": [
        conv(3, 64), conv(3, 64), pool(), conv(3, 128), conv(3, 128), pool(),
    ]})
    assert column(r, "output_size") == [570, 568, 284, 282, 280, 140]
    assert column(r, "receptive_field") == [3, 5, 6, 10, 14, 16]  # padding does not matter
    assert column(r, "params") == [640, 36928, 0, 73856, 147584, 0]


@pytest.mark.parametrize(("layer", "size", "cin", "out", "params"), [
    # ConvTranspose2d(64, 32, 2, stride=2): weight (64, 32, 2, 2) + bias 32
    ({"type": "conv_transpose", "kernel_size": 2, "stride": 2, "out_channels": 32},
     28, 64, 56, 8224),
    # groups=2: weight (64, 16, 2, 2) + bias 32
    ({"type": "conv_transpose", "kernel_size": 2, "stride": 2, "out_channels": 32, "groups": 2},
     28, 64, 56, 4128),
    # Conv2d(32, 64, 3, groups=4): weight (64, 8, 3, 3) + bias 64
    (conv(3, 64, groups=4), 10, 32, 8, 4672),
    # Conv2d(32, 32, 3, groups=32, bias=False): depthwise, weight (32, 1, 3, 3)
    (conv(3, 32, groups=32, padding=1, bias=False), 10, 32, 10, 288),
])
def test_params_of_transposed_and_grouped(layer: dict, size: int, cin: int, out: int,
                                          params: int) -> None:
    r = solver.forward({"input_size": [size, size], "in_channels": cin, "layers": [layer]})
    assert r.output_size == [out, out] and r.params == params


@pytest.mark.parametrize(("kernel", "dilation", "padding"), [
    (3, 1, [1, 1]), (4, 1, [1, 2]), (2, 3, [1, 2]), (4, 2, [3, 3]),
])
def test_same_padding_is_reported_begin_end(kernel: int, dilation: int, padding: list[int]) -> None:
    r = solver.forward({"input_size": [7], "in_channels": 1, "layers": [
        conv(kernel, 1, dilation=dilation, padding="same")]})
    assert r.output_size == [7] and r.layers[0].padding == [padding]


@pytest.mark.parametrize(("document", "padding"), [
    # PyTorch's ConvTranspose1d(3, stride=2, padding=1, output_padding=1): its padding argument.
    ({"layers": [{"type": "conv_transpose", "kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1}]},
     [1, 1]),
    # ONNX ConvTranspose pads [1, 2] with output_padding 1: the pads as given.
    ({"convention": "onnx", "layers": [{"type": "conv_transpose", "kernel_size": 3, "stride": 2, "padding": 1,
                                        "padding_end": 2, "output_padding": 1}]}, [1, 2]),
    # Keras Conv1DTranspose(3, 2, 'same', output_padding=1) on 7: 14 of (7-1)*2 + 3 = 15, the
    # one pixel cut at the end: [0, 2] before the output_padding row (PyTorch's padding=1,
    # output_padding=1 gives 14 too, but cuts the first pixel instead).
    ({"convention": "tensorflow", "layers": [{"type": "conv_transpose", "kernel_size": 3, "stride": 2,
                                              "padding": "same", "output_padding": 1}]}, [0, 2]),
])
def test_a_transposed_convs_padding_is_pytorchs(document: dict[str, Any], padding: list[int]) -> None:
    """Reported as PyTorch's padding argument in every convention, output_padding apart."""
    r = solver.forward({"input_size": [7], **document})
    assert r.layers[0].padding == [padding]


def test_pool_stride_defaults_to_kernel() -> None:
    r = solver.forward({"input_size": [9, 8], "layers": [pool(3)]})
    assert r.output_size == [3, 2] and r.layers[0].jump == [3, 3]


def test_rejection_names_layer_axis_and_rule() -> None:
    with pytest.raises(solver.LayerRejected) as exc:
        solver.forward({"input_size": [8, 5], "layers": [
            pool(2, name="p"), conv(3, 4, dilation=[1, 2], name="c")]})
    # 8x5 -> 4x2, then the dilated kernel 5 does not fit the second axis' 2 pixels.
    assert (exc.value.layer, exc.value.name, exc.value.axis) == (1, "c", 1)
    assert exc.value.rule == solver.Rule.KERNEL_FITS_INPUT
