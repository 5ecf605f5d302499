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

#: A tiny ONNX graph (conv, relu, max pool, resize), as torch.onnx.export wrote it, in base64.
_ONNX_GRAPH = (
    "CAkSB3B5dG9yY2gaBjIuMTMuMDrwDAqUAQoBeAoIMC53ZWlnaHQKBjAuYmlhcxIQLzAvQ29udl9vdXRwdXRfMBoHLzAvQ29udiIE"
    "Q29udioSCglkaWxhdGlvbnNAAUABoAEHKgwKBWdyb3VwGAGgAQIqFQoMa2VybmVsX3NoYXBlQANAA6ABByoRCgRwYWRzQAFAAUAB"
    "QAGgAQcqEAoHc3RyaWRlc0ACQAKgAQcKMwoQLzAvQ29udl9vdXRwdXRfMBIQLzEvUmVsdV9vdXRwdXRfMBoHLzEvUmVsdSIEUmVs"
    "dQqeAQoQLzEvUmVsdV9vdXRwdXRfMBITLzIvTWF4UG9vbF9vdXRwdXRfMBoKLzIvTWF4UG9vbCIHTWF4UG9vbCoQCgljZWlsX21v"
    "ZGUYAKABAioSCglkaWxhdGlvbnNAAUABoAEHKhUKDGtlcm5lbF9zaGFwZUACQAKgAQcqEQoEcGFkc0AAQABAAEAAoAEHKhAKB3N0"
    "cmlkZXNAAkACoAEHClESFC8zL0NvbnN0YW50X291dHB1dF8wGgsvMy9Db25zdGFudCIIQ29uc3RhbnQqIgoFdmFsdWUqFggEEAFK"
    "EAAAgD8AAIA/AAAAQAAAAECgAQQKvAEKEy8yL01heFBvb2xfb3V0cHV0XzAKAAoULzMvQ29uc3RhbnRfb3V0cHV0XzASAjEwGgkv"
    "My9SZXNpemUiBlJlc2l6ZSovCh5jb29yZGluYXRlX3RyYW5zZm9ybWF0aW9uX21vZGUiCmFzeW1tZXRyaWOgAQMqFwoNY3ViaWNf"
    "Y29lZmZfYRUAAEC/oAEBKhIKBG1vZGUiB25lYXJlc3SgAQMqGAoMbmVhcmVzdF9tb2RlIgVmbG9vcqABAxIKbWFpbl9ncmFwaCr3"
    "BggICAMIAwgDEAFCCDAud2VpZ2h0SuAGOZOfvV1Yk7x+2iM+cUlhO4NNbDyVywc+30w4vSG5Nb4F/+O9UDsfPjR2Y7xR+Ik8A+rX"
    "PY32b7wc5Bc+PinhvbS4jzxjPd29nGj+PfONYD1YO0u7i/QXPn7yJT5HRYC8cngXvutKMj4yLju+0hr2POAwxT26zjS+UePovdbi"
    "v7xF7jg+OJHuPZNEkbzmLJs9Vo2TuwlubLyAqXo8FE9Avp7frD3BKte9sHWlO3kwOD6KDSe9ChG7PMvMnz3Digw9k0UyPtulyr0k"
    "8iu+UYqcPH+geT34ocS8tH+vPTaJZDzITjK+7cOfPbZb5D144Sm+82NSvQ/I6z04Zhu+NtGnvIO0Qb7C7Ua919CSvWOzFD6Ecvs8"
    "9R2SvWVJDL5QLOU8w5jpPcnBHL5XLN69M+oYvTs6Qz788yE+b/urvVxCLbwD7R0+eSMgvsUrWD2rG8W9wePMPYO9rb2TZ0A+qaG6"
    "vLcYW72EQii+gY1JPYr1IT7tKZc9ViXsPX6kCD55/tC8TDnZvWKfBD53uc66sccxvoTYtL0tLi09MlmJPcR5xT1UT/e9xGiPvYCY"
    "ST1P0sQ9uRuCOzcs1jzgKio+rfzcvOj7OL2S0Tw+iSkGvRTqJrsx/yI+ICYAPYPhO74GvBi+tF6VvbEu370GdR+9LVY6vvES1Lwl"
    "Bho+Fs4hPvefI72Zgou8WUj/Peck7Dy/J6U8fok/vGmWxL1zAIw9XKYrvsMxzD1Pji4+KlImPq+stDoeRze+OUqkPYgiuDt83Ru+"
    "pm3YvYvJUz1nRQy+dS+gO896j738SSC+sS8dPuCgrb35Kdk87/aCPQuLljwUVUQ+3ATsvZGRw70dq9o6SXgSvvaF7r3j2RC9wM6m"
    "PGV8SL0NWUs9zxcvvl/awT3d3EU9c+Tfuz4m+b1/vEM+ZUq/PcHVMz7I1vY9ri2LPZMVKL5sgK08YFb1PdDXK74p//89/vN1vECs"
    "Mb6unWC9NFsMPDxWpT0MUUA+/JKfPaKJCL41h6a9MaonviWVq7wuTqm9LSoHvnuRUb2+OJy9GtAKPPh9rb3AW6+9NhDWPdIuN73t"
    "B+G9yESOvSkSEj4Xp/K8P+IavsAFfr2WgfY9TntEPrmNFj7+nAg+G5rlvQCBAT6nUIq9xvdrPXv5Az0g0HU9Ki4ICBABQgYwLmJp"
    "YXNKIIkboz1JW8M805cgPmRiKD7cQre9GEEEPmAVuL0fNiA+WhsKAXgSFgoUCAESEAoCCAEKAggDCgIIQAoCCEBiHAoCMTASFgoU"
    "CAESEAoCCAEKAggICgIIIAoCCCBCAhAU"
)

IMPORT_ONNX: Examples = {
    "small_graph": _named("A conv, a pool and a resize, from torch.onnx.export", {"model": _ONNX_GRAPH},
                          "Its input size is the graph's (64 x 64); give input_size for another."),
}

IMPORT_KERAS: Examples = {
    "sequential": _named("A Keras Sequential model's config (its verbose entries left out)", {"model": {
        "class_name": "Sequential", "config": {"name": "net", "layers": [
            {"class_name": "InputLayer", "config": {"batch_shape": [1, 32, 32, 3], "name": "image"}},
            {"class_name": "Conv2D", "config": {"name": "conv", "filters": 4, "kernel_size": [3, 3], "strides": [2, 2],
                                                "padding": "same", "activation": "relu"}},
            {"class_name": "BatchNormalization", "config": {"name": "bn"}},
            {"class_name": "AveragePooling2D", "config": {"name": "pool", "pool_size": [2, 2], "padding": "valid"}},
            {"class_name": "UpSampling2D", "config": {"name": "up", "size": [2, 2], "interpolation": "bilinear"}}]}}},
        "What model.get_config() gives, trimmed; its Input's size is the default."),
}

EXPORT_TORCH: Examples = {"resnet_stem": FORWARD["resnet_stem"], "unet": FORWARD["unet"]}
EXPORT_KERAS: Examples = {"keras": FORWARD["keras"]}
