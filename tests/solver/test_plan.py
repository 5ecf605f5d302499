"""Planners reproduce published designs from their sizes alone, and every design runs."""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch_ref

import solver
from solver.services.export import to_torch
from solver.services.plan import DESIGNERS_CHOICE

torch.set_num_threads(1)


def _runs_in_torch(design: Any, channels: int) -> list[int]:
    net = torch_ref.exported(to_torch({"input_size": design.input_size, "in_channels": channels,
                                       "layers": design.layers}))
    with torch.no_grad():
        return list(net(torch.zeros(1, channels, *design.input_size)).shape[2:])


def test_original_unet_572_to_388() -> None:
    """Ronneberger et al. 2015, Figure 1: valid 3x3 convs, 2x2 pools and up-convs, cropped skips."""
    r = solver.plan_unet({"input_size": [572, 572], "conv": "valid", "skip": "crop", "output_size": None,
                          "out_channels": 2})
    assert (r.status, r.count) == ("complete", 1)
    d = r.designs[0]
    assert [lvl.encoder[0] for lvl in d.levels] == [568, 280, 136, 64]
    assert [lvl.decoder[0] for lvl in d.levels] == [388, 196, 100, 52]
    assert d.output_size == [388, 388]
    # 64..1024 channels, two 3x3 convs a level, 2x2 up-convs, a 1x1 head to 2 classes.
    assert d.params == 31_030_658
    assert sum(p.numel() for p in _torch_unet().parameters()) == d.params


def _torch_unet() -> torch.nn.Module:
    """The paper's network written directly in torch, for its parameter count."""
    nn = torch.nn
    layers: list[nn.Module] = []
    c_in, c = 1, 64
    for _ in range(4):
        layers += [nn.Conv2d(c_in, c, 3), nn.Conv2d(c, c, 3)]
        c_in, c = c, c * 2
    layers += [nn.Conv2d(c_in, c, 3), nn.Conv2d(c, c, 3)]
    for _ in range(4):
        layers += [nn.ConvTranspose2d(c, c // 2, 2, stride=2), nn.Conv2d(c, c // 2, 3), nn.Conv2d(c // 2, c // 2, 3)]
        c //= 2
    layers.append(nn.Conv2d(c, 2, 1))
    return nn.ModuleList(layers)


def test_3d_unet_with_anisotropic_first_level() -> None:
    """Thin volumes: the first level pools only in-plane (1, 2, 2), the others in 3D."""
    r = solver.plan_unet({"input_size": [16, 64, 64], "depth": 3, "level_factors": [[1, 2, 2], 2, 2],
                          "base_channels": 4, "in_channels": 1, "out_channels": 2})
    assert r.status == "complete"
    d = r.designs[0]
    assert [lvl.encoder for lvl in d.levels] == [[16, 64, 64], [16, 32, 32], [8, 16, 16]]
    assert d.output_size == [16, 64, 64] == _runs_in_torch(d, 1)


@pytest.mark.parametrize(("stride", "rates", "size"), [(16, [6, 12, 18], 33), (8, [12, 24, 36], 65)])
def test_deeplabv3_aspp(stride: int, rates: list[int], size: int) -> None:
    """Chen et al. 2017: 513x513 input; rates 6/12/18 at output stride 16, doubled at 8."""
    r = solver.plan_aspp({"input_size": [513, 513], "output_stride": stride, "rates": rates,
                          "in_channels": 16, "channels": 8})
    assert r.status == "complete" and r.warnings == []
    d = r.designs[0]
    assert d.input_size == [size, size] == d.output_size
    branches = {layer["name"]: layer for layer in d.layers}
    assert [branches[f"rate{x}"]["padding"] for x in rates] == [[x, x] for x in rates]
    assert _runs_in_torch(d, 16) == [size, size]


def test_aspp_warns_when_a_rate_only_sees_the_centre() -> None:
    r = solver.plan_aspp({"bottleneck_size": [9, 9], "rates": [6, 12, 18]})
    assert len(r.warnings) == 1 and "rates 12, 18" in r.warnings[0] and "centre" in r.warnings[0]
    # Indeed: with rate 12 on 9 pixels, only the centre tap of the 3x3 ever reads the map.
    conv = torch.nn.Conv2d(1, 1, 3, dilation=12, padding=12, bias=False)
    x = torch.randn(1, 1, 9, 9)
    centre_only = torch.nn.functional.conv2d(x, conv.weight * _centre_mask(), padding=12, dilation=12)
    assert torch.allclose(conv(x), centre_only)


def _centre_mask() -> torch.Tensor:
    mask = torch.zeros(1, 1, 3, 3)
    mask[..., 1, 1] = 1
    return mask


def test_aspp_searched_rates_each_keep_the_size() -> None:
    r = solver.plan_aspp({"bottleneck_size": [33, 33], "rates": {"min": 1, "max": 24},
                          "padding": {"min": 0, "max": 24}, "limit": 100})
    found = {(layer["dilation"][0], layer["padding"][0]) for d in r.designs for layer in d.layers
             if layer.get("name") == "atrous"}
    assert found == {(x, x) for x in range(1, 25)}  # padding = rate, for a 3x3 kernel


@pytest.mark.parametrize(("down", "up"), [("max_pool", "conv_transpose"), ("strided_conv", "upsample"),
                                          ("avg_pool", "upsample")])
def test_unet_variants_round_trip_and_run(down: str, up: str) -> None:
    r = solver.plan_unet({"input_size": [48, 40], "depth": 3, "down": down, "up": up, "base_channels": 2,
                          "conv": "search", "kernel_size": {"min": 1, "max": 5}, "limit": 3,
                          "objective": "fewest_params"})
    assert r.status in ("complete", "limit") and r.designs
    assert [d.params for d in r.designs] == sorted(d.params for d in r.designs)
    for d in r.designs:
        assert d.output_size == [48, 40] == _runs_in_torch(d, 1)


def test_a_plan_that_cannot_work_is_explained() -> None:
    # A generous limit: the repairs take seconds on a busy machine (a short limit says so: below).
    r = solver.plan_unet({"input_size": [100, 100], "depth": 3, "time_limit_s": 300})  # not a multiple of 8
    assert r.status == "infeasible" and r.explanation is not None and r.explanation.note is None
    assert any("pad the input to 104 x 104" in x.message for x in r.explanation.repairs)


@pytest.mark.parametrize(("kind", "published"), [
    ("generator", [(4, 1, 0, 0)] + [(4, 2, 1, 0)] * 4),      # Radford et al. 2015: 1 -> 4 -> ... -> 64
    ("discriminator", [(4, 2, 1, 0)] * 4 + [(4, 1, 0, 0)]),  # its mirror: 64 -> 32 -> ... -> 4 -> 1
])
def test_dcgan_at_64(kind: str, published: list[tuple[int, ...]]) -> None:
    r = solver.plan_encoder_decoder({"kind": kind, "image_size": [64, 64], "depth": 5, "limit": 200})
    assert r.status == "complete"
    found = [[(x["kernel_size"][0], x["stride"][0], x["padding"][0], x.get("output_padding", [0])[0])
              for x in d.layers] for d in r.designs]
    assert found[0] == published  # first under the planner's default ranking (DESIGNERS_CHOICE)
    for d in r.designs[:5]:
        assert _runs_in_torch(d, 1) == d.output_size


def test_the_default_ranking_puts_a_design_a_person_would_pick_first() -> None:
    """28 -> 7 -> 28 (an MNIST autoencoder): DCGAN's stage everywhere, not a kernel-1
    stride-2 conv (which never sees three pixels of four)."""
    r = solver.plan_encoder_decoder({"kind": "autoencoder", "image_size": [28, 28], "latent_size": 7, "depth": 2})
    first = [(x["kernel_size"][0], x["stride"][0], x["padding"][0], x.get("output_padding", [0])[0])
             for x in r.designs[0].layers]
    assert first == [(4, 2, 1, 0)] * 4
    for d in r.designs:
        assert all(x["kernel_size"] >= x["stride"] for x in d.layers[:2])
    assert _runs_in_torch(r.designs[0], 1) == [28, 28]


def test_an_infeasible_depth_says_which_depths_work() -> None:
    plan = {"kind": "generator", "image_size": [64, 64], "depth": 3, "time_limit_s": 60}
    r = solver.plan_encoder_decoder(plan)
    assert r.status == "infeasible"
    said = r.message.split("No design of depth 3; depth ")[1].removesuffix(" works.")
    works = [int(x) for x in said.split(" or ")]
    for depth in works:  # each works, and none nearer does
        assert solver.plan_encoder_decoder({**plan, "depth": depth}).count
    nearest = min(abs(d - 3) for d in works)
    for depth in {3 - d for d in range(1, nearest)} | {3 + d for d in range(1, nearest)}:
        assert solver.plan_encoder_decoder({**plan, "depth": depth}).status == "infeasible"


def test_autoencoder_round_trip_picks_output_padding() -> None:
    r = solver.plan_encoder_decoder({"kind": "autoencoder", "image_size": [28, 28], "latent_size": 7,
                                     "depth": 2, "stride": 2, "kernel_size": 3, "limit": 50})
    assert r.status == "complete"
    classic = [(3, 1, 0), (3, 1, 0), (3, 1, 1), (3, 1, 1)]  # conv p1 twice, then convT p1 op1 twice
    found = [[(x["kernel_size"][0], x["padding"][0], x.get("output_padding", [0])[0]) for x in d.layers]
             for d in r.designs]
    assert classic in found
    for d in r.designs:
        assert _runs_in_torch(d, 1) == [28, 28]


def test_a_keras_unet_planned_in_tensorflow_sizes_runs_in_keras() -> None:
    """TensorFlow's 'valid' pooling floors 75 to 37, which no up-conv brings back to 75: the
    planner says so and offers 76; a design for 76 runs in Keras with the planned levels."""
    import tf_ref

    plan = {"input_size": [75, 75], "depth": 2, "base_channels": 4, "convention": "tensorflow"}
    r = solver.plan_unet(plan)
    assert r.status == "infeasible" and r.explanation is not None
    assert "pad the input to 76 x 76" in [repair.message.split(" (")[0] for repair in r.explanation.repairs]
    r = solver.plan_unet({**plan, "input_size": [76, 76], "out_channels": 2})
    assert r.status == "complete" and r.document["convention"] == "tensorflow"
    d = r.designs[0]
    assert [(lvl.encoder, lvl.decoder) for lvl in d.levels] == [([76, 76], [76, 76]), ([38, 38], [38, 38])]
    doc = {"convention": "tensorflow", "input_size": [76, 76], "in_channels": 1, "layers": d.layers}
    sizes = tf_ref.run_model(solver.to_keras(doc), "build_net", (76, 76, 1))
    assert sizes[-1] == [76, 76] == d.output_size
    assert sizes == [layer.output_size for layer in solver.forward(doc).layers]


@pytest.mark.parametrize(("convention", "padding"), [("tensorflow", "same"), ("onnx", [6, 6])])
def test_aspp_in_other_conventions(convention: str, padding: Any) -> None:
    """DeepLabv3 at output stride 16: Keras keeps 33 x 33 with 'same' at any rate; ONNX
    pads explicitly (onnxruntime refuses SAME_* dilated)."""
    r = solver.plan_aspp({"input_size": [513, 513], "output_stride": 16, "rates": [6, 12, 18],
                          "convention": convention})
    assert r.status == "complete"
    rate6 = next(layer for layer in r.designs[0].layers if layer.get("name") == "rate6")
    assert rate6["padding"] == padding
    report = solver.forward({"convention": convention, "input_size": [33, 33], "layers": r.designs[0].layers})
    assert report.output_size == [33, 33]


def test_autoencoder_in_tensorflow_searches_padding_modes() -> None:
    r = solver.plan_encoder_decoder({"image_size": [28, 28], "latent_size": [7, 7], "depth": 2,
                                     "convention": "tensorflow", "limit": 50})
    assert r.status == "limit" and r.count is not None and r.count > 50
    assert {layer["padding"] for d in r.designs for layer in d.layers} == {"same", "valid"}
    for d in r.designs:
        assert solver.forward({"convention": "tensorflow", "input_size": [28, 28],
                               "layers": d.layers}).output_size == [28, 28]


def test_only_the_encoder_decoder_planner_ranks_by_dcgan_by_default() -> None:
    """The U-Net planner keeps its own order unless told; the encoder-decoder one ranks by
    DCGAN's layers unless told otherwise, and a plan's objective wins."""
    unet = solver.plan_unet({"input_size": [572, 572], "conv": "valid", "skip": "crop", "output_size": None})
    assert "objective" not in unet.document
    ae = {"kind": "autoencoder", "image_size": [28, 28], "latent_size": 7, "depth": 2, "limit": 1}
    assert solver.plan_encoder_decoder(ae).document["objective"] == DESIGNERS_CHOICE
    assert solver.plan_encoder_decoder({**ae, "objective": "least_padding"}).document["objective"] == "least_padding"
