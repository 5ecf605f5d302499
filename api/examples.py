"""Named request examples for every operation of the REST API (shown in /docs and
/redoc, ready to send).  Each answers 200 with solutions, designs, sizes or code, but
the one named for an explanation, infeasible on purpose; tests/api/test_examples.py
sends every one.  FastAPI drops nulls from examples, so none is written."""

from __future__ import annotations

from typing import Any

Examples = dict[str, dict[str, Any]]


def _named(summary: str, value: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"summary": summary, "description": description, "value": value}


_STEM = {"input_size": [224, 224], "in_channels": 3, "layers": [
    {"name": "conv1", "type": "conv", "kernel_size": 7, "stride": 2, "padding": 3, "out_channels": 64, "bias": False},
    {"name": "pool1", "type": "max_pool", "kernel_size": 3, "stride": 2, "padding": 1}]}
_UNET = {"input_size": [64, 64], "in_channels": 1, "layers": [
    {"name": "enc", "type": "conv", "kernel_size": 3, "padding": "same", "out_channels": 16},
    {"name": "pool", "type": "max_pool", "kernel_size": 2},
    {"name": "mid", "type": "conv", "kernel_size": 3, "padding": "same", "out_channels": 32},
    {"name": "up", "type": "conv_transpose", "kernel_size": 2, "stride": 2, "out_channels": 16},
    {"name": "skip", "type": "concat", "inputs": ["enc", "up"]},
    {"name": "head", "type": "conv", "kernel_size": 1, "out_channels": 2}]}
_KERAS = {"convention": "tensorflow", "input_size": [64, 64], "in_channels": 3, "layers": [
    {"type": "conv", "kernel_size": 3, "stride": 2, "padding": "same", "out_channels": 16},
    {"type": "conv_transpose", "kernel_size": 3, "stride": 2, "padding": "same", "out_channels": 3}]}
_FREE = {"kernel_size": {"min": 1, "max": 7}, "stride": {"min": 1, "max": 2}, "padding": {"min": 0, "max": 3}}

FORWARD: Examples = {
    "resnet_stem": _named("ResNet-50's stem", _STEM, "224 x 224 -> 56 x 56, with parameters and MACs."),
    "unet": _named("A one-level U-Net", _UNET, "A skip concatenation whose sizes match."),
    "keras": _named("Keras sizes", _KERAS, "The tensorflow convention: 'same' pads to ceil(i / s)."),
}

SOLVE: Examples = {
    "single_conv": _named("Which single conv halves 224?", {
        "input_size": [224, 224], "target_size": [112, 112], "limit": 5,
        "objective": ["smallest_dilation", "least_padding", "smallest_kernels"],
        "layers": [{"type": "conv", "kernel_size": {"min": 1, "max": 11}, "stride": {"min": 1, "max": 4},
                    "padding": {"min": 0, "max": 10}, "dilation": {"min": 1, "max": 6}}]},
        "Every kernel, stride, padding and dilation that takes 224 to 112, counted and ranked."),
    "round_trip": _named("An encoder-decoder that gives back its input", {
        "input_size": [256, 256], "target_size": "input", "limit": 5, "objective": "smallest_kernels",
        "layers": [{"type": "conv", **_FREE}] * 2
        + [{"type": "conv_transpose", **_FREE, "output_padding": {"min": 0, "max": 1}}] * 2},
        "Two convs down, two transposed convs up, 256 -> 256."),
    "explanation_infeasible": _named("Infeasible on purpose: an explanation", {
        "input_size": [25, 24], "target_size": "input", "layers": [
            {"name": "down", "type": "conv", "kernel_size": 2, "stride": 2},
            {"name": "up", "type": "conv_transpose", "kernel_size": 2, "stride": 2}]},
        "25 cannot come back: the answer says why, and which changes work."),
}

BATCH: Examples = {
    "three_documents": _named("Three solve documents, one of them refused", {"documents": [
        SOLVE["single_conv"]["value"], SOLVE["round_trip"]["value"],
        {"input_size": [64], "target_size": [32], "layers": [{"type": "conv", "kernel_size": 0}]}]},
        "Two answers, and the third document's errors in its place: a bad document never fails the batch."),
}

SAMPLE: Examples = {
    "uniform": _named("Five random designs of a two-conv stem", {
        "input_size": [64, 64], "target_size": [8, 8], "in_channels": 3, "n": 5, "seed": 7, "layers": [
            {"type": "conv", "out_channels": 32, **_FREE, "stride": {"min": 1, "max": 4}},
            {"type": "conv", "out_channels": 64, **_FREE}]},
        "Drawn uniformly from every setting that takes 64 to 8; the same seed draws the same designs."),
    "within_a_budget": _named("Random designs under 30,000 parameters", {
        "input_size": [64, 64], "target_size": [8, 8], "in_channels": 3, "n": 5, "seed": 7,
        "within": {"fewest_params": {"max": 30000}}, "layers": [
            {"type": "conv", "out_channels": 32, **_FREE, "stride": {"min": 1, "max": 4}},
            {"type": "conv", "out_channels": 64, **_FREE}]},
        "Uniform among the designs within the bound: drawn uniformly, kept when within it."),
}

INPUT_SIZES: Examples = {
    "unet_sizes": _named("Which input sizes does a U-Net take?", {
        "layers": _UNET["layers"], "in_channels": 1, "input_size": [500, 375],
        "range": {"min": 16, "max": 1024}},
        "Multiples of 2 here; the nearest to 500 x 375 to pad or crop to."),
}

UNET: Examples = {
    "original": _named("The original U-Net: 572 -> 388", {
        "input_size": [572, 572], "depth": 4, "conv": "valid", "skip": "crop", "output_size": [388, 388]},
        "Valid 3x3 convs and cropped skips, as in Ronneberger et al. 2015."),
    "same": _named("A same-padded U-Net on 256 x 256", {"input_size": [256, 256], "depth": 4}),
}

ASPP: Examples = {
    "deeplab": _named("DeepLabv3's ASPP at output stride 16", {"input_size": [513, 513], "output_stride": 16},
                      "Rates 6, 12, 18 on a 33 x 33 map, with the padding each needs."),
}

ENCODER_DECODER: Examples = {
    "dcgan_generator": _named("A DCGAN generator: 1 x 1 -> 64 x 64", {
        "kind": "generator", "image_size": [64, 64], "latent_size": 1, "depth": 5, "limit": 5}),
    "mnist_autoencoder": _named("An MNIST autoencoder: 28 -> 7 -> 28", {
        "kind": "autoencoder", "image_size": [28, 28], "latent_size": 7, "depth": 2, "limit": 5}),
}

EXPORT_TORCH: Examples = {"resnet_stem": FORWARD["resnet_stem"], "unet": FORWARD["unet"]}
EXPORT_KERAS: Examples = {"keras": FORWARD["keras"]}
