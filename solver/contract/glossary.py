"""What every field of the JSON documents means, said once for every model that has it.

`FIELDS` maps a field's name to its description and examples (the JSON Schema keyword:
a list of values, or None).  A "Model.field" entry wins over the plain name for that
model and its subclasses (looked up along the class's MRO), where the same name means
something else: `count` of an AxisSizes is not a SolveResponse's.  `describe` fills
them in as a model's JSON Schema is generated (contract models: values.Described), so
`convsolve schema`, /v1/schema/{kind} and /openapi.json all carry them; a description
given on the field itself wins.  In a description, "{const}" and "{default}" stand for
the property's own const and default.

The enums are described on themselves (Goal and Status in solve.py, LayerType in
layers.py); a Literal inlined in a field is described on the field, and so are the
rules (solver.rules.Rule) a Conflict names.
"""

from __future__ import annotations

import json
from typing import Any

from ..rules import Rule
from ..rules.verdicts import MAX_AXIS_SIZE
from .values import MAX_CHANNELS, MAX_LAYERS, MAX_PARAM, MAX_SIZE

Entry = tuple[str, list[Any] | None]

_SIZE = f"1 to {MAX_SIZE:,}"
_PARAM = "an int for every axis, one per axis, or (in a solve document) a domain to search"

#: What breaks each rule, from the rules' own messages (solver/rules).
RULES: dict[Rule, str] = {
    Rule.KERNEL_POSITIVE: "kernel_size below 1",
    Rule.STRIDE_POSITIVE: "stride below 1",
    Rule.DILATION_POSITIVE: "dilation below 1",
    Rule.PADDING_NON_NEGATIVE: "a negative padding or padding_end (or an onnx max pool's same_* needing one)",
    Rule.KERNEL_FITS_INPUT: "the padded input is smaller than the (dilated) kernel window",
    Rule.SAME_NEEDS_STRIDE_1: "PyTorch's padding 'same' with a stride above 1",
    Rule.SAME_NOT_FOR_TRANSPOSED: "padding 'same' on a PyTorch transposed conv",
    Rule.OUTPUT_PADDING_NON_NEGATIVE: "a negative output_padding",
    Rule.OUTPUT_PADDING_SMALLER: "output_padding not smaller than the stride (PyTorch: than the stride or the dilation)",
    Rule.OUTPUT_POSITIVE: "the output size would be 0 or less",
    Rule.POOL_PADDING_HALF_KERNEL: "a pool's padding above half its kernel size (onnx: not below the kernel size)",
    Rule.AVG_POOL3D_INPUT_FITS_KERNEL: "a 3d average pool's unpadded input is smaller than its kernel",
    Rule.SCALE_POSITIVE: "an upsample's scale_factor is not positive",
    Rule.GROUPS_POSITIVE: "groups below 1",
    Rule.GROUPS_DIVIDE_CHANNELS: "in_channels or out_channels not divisible by groups (a group norm's channels by num_groups)",
    Rule.CHANNELS_MATCH: "in_channels (a linear's in_features, a norm's num_features) differs from the incoming "
                         "tensor's, or an add's channels neither match nor are 1",
    Rule.LINEAR_NEEDS_FLAT: "a linear layer on a tensor that is not flat (a size above 1): flatten it first",
    Rule.PAD_FITS_INPUT: "a reflect pad not below the input's size, or a circular pad above it",
    Rule.NORM_NEEDS_VALUES: "pytorch: one pixel to a batch or instance norm without running stats, or to a group "
                            "norm of one channel per group",
    Rule.CHANNELS_POSITIVE: "in_channels or out_channels below 1",
    Rule.UPSAMPLE_MODE_NDIM: "an upsample mode on the wrong number of axes (linear 1, bilinear and bicubic 2, trilinear 3)",
    Rule.JOIN_SIZES_MATCH: "a concat's inputs differ in spatial size",
    Rule.ADD_SIZES_BROADCAST: "an add's input sizes on an axis are neither equal nor 1",
    Rule.SIZE_LIMIT: f"an output larger than {MAX_AXIS_SIZE:,} (2^31 - 1) on an axis",
    Rule.CROP_FITS: "a crop to a size larger than its input",
    Rule.ADAPTIVE_KEEP_NEEDS_2D: "an adaptive pool's null output_size (keep the size) with 1 axis: needs 2 or 3",
    Rule.PADDING_MODE: "a padding the convention does not have for this layer (tensorflow pads by mode only; "
                       "padding_end needs an int padding)",
    Rule.NOT_IN_CONVENTION: "a field or setting the convention does not have (padding_end or output_shape outside "
                            "onnx; an adaptive pool to other than 1 outside pytorch; in tensorflow ceil_mode, a "
                            "dilated pool, groups on a transposed conv, a fractional scale_factor; in onnx same_* "
                            "with dilation)",
    Rule.STRIDE_WITH_DILATION: "Keras: a stride above 1 together with a dilation above 1",
    Rule.OUTPUT_SHAPE_MISMATCH: "a transposed conv's output that TensorFlow would not map back to its input, or an "
                                "onnx output_shape longer than the input can give",
}

#: The conflicts the search names itself (solver/services/diagnosis.py, explain.py).
SEARCH_CONFLICTS = {
    "target_unreachable": "no setting in the domains gives a target size (the message says which sizes can be had)",
    "targets_conflict": "each target can be reached, but not all at once",
    "tie_domains_disjoint": "the layers of a tie have no value of a parameter in common",
    "axes_share_values": "each axis has solutions alone, but a domain shared by all axes needs different values",
    "domain_too_narrow": "a layer whose domain (or fixed value) takes part in the conflict",
}

_SCORE = (
    "The objective's value, one number per goal in the objective's order: summed over layers and axes, the "
    "parameters (fewest_params), MACs (fewest_macs), padding pixels as forward reports them (least_padding), "
    "kernel sizes (smallest_kernels), dilations (smallest_dilation) or |value - preferred| (prefer); for "
    "largest_receptive_field, the output's receptive field summed over axes (a 7x7 one scores 14); null "
    "without an objective.")
_TIME_LIMIT = (
    "Wall-clock budget in seconds: above 0, at most 3600, default 10; the server caps it (CONVSOLVE_MAX_SOLVE_SECONDS, "
    "30 by default). When it runs out, the answer has status \"timeout\" and what was found in time.")
_PLAN_LIMIT = "How many designs to list at most, the best first: 0 to 1,000, default {default}."
_PLANS = ("UNetPlan", "ASPPPlan", "EncoderDecoderPlan")

FIELDS: dict[str, Entry] = {
    # --- every layer --------------------------------------------------------------------
    "type": ("The layer kind, \"{const}\" here: it says which layer schema applies (see LayerType).", None),
    "name": ("Names the layer and its output tensor, for later layers' input, inputs and to, for ties and "
             "for targets; unique in the document.", ["enc1"]),
    "input": ("The tensor this layer reads: \"input\" (the network input) or an earlier layer's name; "
              "default: the output of the layer before.", ["input", "enc1"]),
    "kernel_size": (f"The window's size on each axis, in pixels: {_PARAM}; at least 1. Required.",
                    [3, [1, 3]]),
    "stride": (f"Step between neighbouring windows, in pixels: {_PARAM}; at least 1, default 1.", [2, [1, 2]]),
    "_Pool.stride": (f"Step between neighbouring windows, in pixels: {_PARAM}; at least 1. Default (null): the "
                     "kernel size; in onnx 1.", [2]),
    "dilation": (f"Spacing of the kernel's taps, in pixels (d spreads a kernel k over d*(k-1)+1 pixels): {_PARAM}; "
                 "at least 1, default 1. tensorflow: not with a stride above 1, nor on a pool; onnx: not with "
                 "same_upper or same_lower.", [1, 2]),
    "padding": (f"Zero padding of each axis, in pixels: {_PARAM}; at least 0 (a pytorch pool's at most half its "
                "kernel, an onnx pool's below it). "
                "pytorch pads both ends, onnx the beginning and, unless padding_end says otherwise, the end. Or a "
                "mode, for every axis: \"same\" (output ceil(input / stride); pytorch: a conv at stride 1 only) "
                "or \"valid\" (none) in pytorch and tensorflow, which pads by mode only (default \"valid\"); "
                "\"same_upper\", \"same_lower\" (the odd pixel at the end, or at the beginning) or \"valid\" "
                "in onnx. Default 0.", [1, "same"]),
    "ConvTranspose.padding": (
        f"Pixels cut from the full output (input-1)*stride + dilation*(kernel-1) + 1 of each axis, as PyTorch's "
        f"padding: {_PARAM}; at least 0. pytorch cuts both ends, onnx the beginning and, unless padding_end says "
        "otherwise, the end. Or a mode: tensorflow \"same\" (output input*stride) or \"valid\" (output the "
        "larger of input*stride and the full output; the default there), onnx \"same_upper\", \"same_lower\" or \"valid\"; pytorch takes ints only. "
        "Default 0.", [1, "same"]),
    "padding_end": ("onnx only: the padding at the end of each axis in pixels, when it differs from padding (then "
                    f"the beginning's), as ONNX's pads list the begins then the ends: {_PARAM}; at least 0, with "
                    "an int padding only. Default: the same as padding.", [1]),
    "in_channels": (f"Channels of the network input, 1 to {MAX_CHANNELS:,}; optional: without channel counts sizes "
                    "still work, and parameter and MAC counts are null.", [3]),
    "_Weighted.in_channels": ("Channels this layer reads; default: the incoming tensor's. Where those are not "
                              "known it sets them, for every later reader; refused when it differs from a known "
                              "count.", [64]),
    "out_channels": ("Channels this layer produces (Keras' filters); without them its parameters and MACs are "
                     "null.", [64]),
    "groups": ("Grouped convolution: the channels split into this many groups, each convolved on its own "
               "(in_channels for a depthwise conv); at least 1 and dividing in_channels and out_channels, "
               "default 1.", [1, 32]),
    "Pad.padding": (f"Pixels added at the beginning of each axis (and at its end, unless padding_end says "
                    f"otherwise): an int for every axis or one per axis, 0 to {MAX_SIZE:,}. Required.", [3, [1, 2]]),
    "Pad.padding_end": ("Pixels added at the end of each axis, when they differ from padding: an int for every "
                        "axis or one per axis; default: padding.", [[0, 1]]),
    "Pad.mode": ("What the pad adds: \"constant\" zeros (the default), \"reflect\" the input mirrored without "
                 "its edge (each side below the input's size), \"replicate\" its edge, \"circular\" its other "
                 "end (each side at most the input's size).", ["reflect"]),
    "Match.to": ("The tensor whose spatial size `input` is brought to: \"input\" or an earlier layer's name; any "
                 "size of `input` works.", ["enc1"]),
    "by": ("How a match brings its input to the size of `to`: \"pad\" (the default: zeros around the centre, "
           "the odd pixel at the end, or a crop where the input is larger, as F.pad with the difference of sizes "
           "does) or \"interpolate\" (F.interpolate to that size, with mode).", ["interpolate"]),
    "Match.mode": ("A match by interpolation's mode: \"nearest\" (the default), \"linear\" (1 axis), "
                   "\"bilinear\" or \"bicubic\" (2), \"trilinear\" (3); ignored by a pad.", ["bilinear"]),
    "in_features": ("A linear layer's inputs: the channels of the flat tensor it reads (after a flatten, the "
                    "channels times every flattened size); optional, refused when it differs. In a solve it fixes "
                    "the product of the sizes that the flatten before it reads.", [400]),
    "out_features": ("A linear layer's outputs (Keras Dense's units), at least 1. Required.", [10]),
    "norm": ("The norm: \"batch\" (the default), \"instance\", \"group\" (with num_groups) or \"layer\" (over the "
             "channels, as timm's LayerNorm2d). Sizes are kept; pytorch refuses one pixel to a batch or instance "
             "norm without running stats, and to a group norm of one channel per group (eval mode, a batch of "
             "one).", ["group"]),
    "num_features": ("The norm's channels (torch's num_features, GroupNorm's num_channels); default: the incoming "
                     "tensor's; refused when it differs.", [64]),
    "num_groups": ("A group norm's groups, dividing its channels; only for norm \"group\", and required there.", [32]),
    "affine": ("Whether the norm learns a scale and a shift per channel (2 parameters per channel); default "
               "true.", [False]),
    "track_running_stats": ("Whether a batch or instance norm normalizes with running statistics in eval mode "
                            "(then any size works) or with its input's (then it needs more than one pixel); "
                            "default: torch's, true for batch norms, false for instance norms.", [True]),
    "bias": ("Whether the layer adds a learned bias per output channel (counted in params); default true.", [False]),
    "output_padding": (
        f"Rows added at the end of each axis of a transposed conv's output, to pick among the output sizes one "
        f"input size can come from: {_PARAM}; at least 0 and below the stride (pytorch: below the stride or the "
        "dilation). Default 0; in tensorflow left out (null): Keras infers the output size.", [1, {"min": 0, "max": 1}]),
    "output_shape": ("onnx only: the transposed conv's output size on each axis, in pixels (an int for every axis "
                     "or one per axis); the padding is worked out from it, padding and padding_end are ignored.",
                     [[64, 64]]),
    "ceil_mode": ("Round a pool's output size up instead of down, so that a last, partial window counts (it must "
                  "start inside the input or the beginning's padding); pytorch and onnx only, default false. A solve "
                  "document may search it: {\"choices\": [false, true]}.", [True, {"choices": [False, True]}]),
    "scale_factor": ("Multiplies each axis' size: the output is floor(input * scale_factor) (onnx: computed in "
                     "float32; tensorflow: a whole number); above 0 and at most 1024, one number for every axis or "
                     "one per axis. Give it or size.", [2, [1, 2]]),
    "Upsample.size": (f"The output size on each axis, in pixels ({_SIZE}): an int for every axis or one per axis. "
                      "Give it or scale_factor.", [[64, 64]]),
    "mode": ("Interpolation: \"nearest\" (the default; any number of axes), \"linear\" (1 axis), \"bilinear\" or "
             "\"bicubic\" (2 axes), \"trilinear\" (3 axes), as PyTorch's Upsample; it does not change the size.",
             ["nearest", "bilinear"]),
    "_Adaptive.output_size": (f"The output size on each axis, in pixels ({_SIZE}): an int for every axis, or one per "
                              "axis where null keeps that axis' input size (with 2 or 3 axes only); outside pytorch only 1 "
                              "(a global pool).", [1, [7, 7]]),
    "inputs": ("The tensors joined, in order: \"input\" or earlier layers' names, 2 to 64. concat: their spatial "
               "sizes must be equal; add: on each axis, and in channels, equal or 1 (broadcast).",
               [["enc1", "up1"]]),
    "to": ("The tensor whose spatial size `input` is centre-cropped to: \"input\" or an earlier layer's name; it may "
           "not be larger than `input`.", ["up1"]),
    # --- documents ----------------------------------------------------------------------
    "input_size": (f"The network input's spatial size in pixels, one int per axis: 1 to 3 axes (length; height, "
                   f"width; depth, height, width), each {_SIZE}.", [[224, 224]]),
    "SolveRequest.input_size": (f"The network input's spatial size in pixels, one int per axis (1 to 3 axes, each "
                                f"{_SIZE}); give it or input_sizes.", [[572, 572]]),
    "input_sizes": ("Several input sizes the one design must handle (1 to 16), each one int per axis in pixels: "
                    "every target must hold for each of them. Give it or input_size.", [[[256, 256], [320, 320]]]),
    "layers": (f"The layers in order, up to {MAX_LAYERS}: each an object whose `type` says its kind; a layer reads "
               "the one before it unless its `input` says otherwise.", None),
    "SolveRequest.layers": (f"The layers in order, 1 to {MAX_LAYERS}: each an object whose `type` says its kind; a "
                            "layer reads the one before it unless its `input` says otherwise. Searchable parameters "
                            "may be domains: the settings to search.", None),
    "convention": ("Whose size rules the document follows, with their padding modes and fields: \"pytorch\" (the "
                   "default; torch.nn), \"tensorflow\" (Keras 3) or \"onnx\" (onnxruntime).", ["tensorflow"]),
    "target_size": ("The last layer's output size in pixels: an int for every axis, one per axis, a range "
                    "{\"min\", \"max\"} (for every axis, or per axis), or \"input\" (the same as the input: a round "
                    "trip).", [[388, 388], "input"]),
    "targets": ("Sizes required of named tensors: a layer's name -> a size given like target_size (an int, one per "
                "axis, a range, or \"input\"). Not the network input, nor the last layer when target_size is given.",
                [{"enc2": 7}]),
    "ties": (f"Groups of layers that take the same values of some parameters (their domains intersected), such as "
             f"every conv of a U-Net sharing kernel_size and padding; up to {MAX_LAYERS}.",
             [[{"layers": ["e1", "e2"], "params": ["kernel_size", "padding"]}]]),
    "EncoderDecoderPlan.objective": (
        "What ranks the designs, as a solve document's objective; default (null): closest to DCGAN's layers, "
        "{\"prefer\": {\"kernel_size\": 4, \"padding\": 1, \"output_padding\": 0}}, the strides following "
        "from the sizes.", ["least_padding"]),
    "objective": ("What ranks the solutions: a goal (see Goal), {\"prefer\": {...}}, or a list of up to 8 compared "
                  "lexicographically, the first deciding; without one, solutions come in a fixed order.",
                  ["least_padding", ["least_padding", "smallest_kernels"]]),
    "limit": ("How many solutions to list at most, the best first: 0 to 10,000, default 100; 0 counts them "
              "without listing any.", [10]),
    "time_limit_s": (_TIME_LIMIT, [10]),
    "SolveRequest.time_limit_s": (
        _TIME_LIMIT.removesuffix(" and what was found in time.") + ": the best designs found so far, not counted "
        "(or status \"limit\" when a lower bound proves them the best).", [10]),
    "cursor": ("The next_cursor of the previous answer, to get the next `limit` solutions in rank order: send the "
               "same document with it (limit and time_limit_s may change); another document's cursor is refused.",
               ["MTAwOjVkNDE0MDJhYmM0YjJhNzY="]),
    "range": ("The input sizes to try, in pixels: one range {\"min\", \"max\"} for every axis, or one per axis; "
              "sizes from 1.", [{"min": 64, "max": 1024}]),
    "InputSizesRequest.input_size": ("The input size you have, one int per axis in pixels: the answer adds the "
                                     "nearest valid sizes around it; optional.", [[500, 500]]),
    "round_trip": ("Only sizes whose output equals the input (an autoencoder, a U-Net); default false.", [True]),
    # --- the sample document --------------------------------------------------------------
    "n": ("How many designs to draw: 1 to 10,000, default 10.", [10]),
    "seed": ("Seed of the draw: the same document and seed draw the same designs (in the library, the CLI and "
             "REST alike); default (null): a random seed, reported in the answer.", [7]),
    "replace": ("Draw with replacement (a design may come twice; the default) or, false, without: every design "
                "drawn at most once.", [False]),
    "within": ("Bounds on scores, by goal (see Goal): the designs kept are uniform among those within every "
               "bound (drawn uniformly and kept when within); a bound no design meets is refused at once. The "
               "solutions' scores are the objective's, then these goals' (those the objective does not have).",
               [{"fewest_params": {"max": 100000}}, {"largest_receptive_field": {"min": 31}}]),
    "ScoreBound.min": ("The lowest score kept, inclusive, as a solution's score shows it; null: no lower bound.",
                       [31]),
    "ScoreBound.max": ("The highest score kept, inclusive, as a solution's score shows it; null: no upper bound.",
                       [100000]),
    "SampleRequest.limit": ("Not read by a sample (n says how many designs to draw).", None),
    "SampleRequest.time_limit_s": (_TIME_LIMIT.removesuffix(" and what was found in time.") + ": the designs "
                                   "drawn so far.", [10]),
    # --- batches ---------------------------------------------------------------------------
    "documents": ("The solve documents to answer, 1 to 32, each as /v1/solve takes it; each is read on its own, "
                  "so one that is malformed fails alone.", None),
    "BatchItem.index": ("The document's place in the batch, from 0 (blank lines in a file not counted).", [0]),
    "BatchItem.answer": ("The document's answer, as its own route gives it; null when it has errors.", None),
    "detail": ("Why the document has no answer: its errors, each {type, loc, msg, ...} as a 422's detail; null "
               "when it has an answer.", None),
    "items": ("One item per document, in the order of the documents.", None),
    # --- imports ---------------------------------------------------------------------------
    "ImportedModel.document": ("The model's spatial path as a forward document: its layers named after the "
                               "modules or nodes, wired with input and inputs.", None),
    "traced_with": ("How the model was read: \"fx\" (torch.fx's graph), \"hooks\" (one run watched, when fx "
                    "cannot trace), \"onnx\" (the graph's nodes) or \"keras\" (the model's config).", ["fx"]),
    "folded": ("The modules or nodes left out as keeping every size (activations, norms, dropout), by name.",
               [["bn1", "relu"]]),
    "KerasImport.model": ("The Keras model's config: model.get_config(), or the JSON model.to_json() writes; "
                          "Sequential or functional, channels last.", None),
    "OnnxImport.model": ("The .onnx file's bytes as base64 text; the weights are not needed (a graph saved "
                         "without them imports alike).", None),
    # --- domains, goals and ties ----------------------------------------------------------
    "min": (f"The smallest value, inclusive (within ±{MAX_PARAM:,}).", [1]),
    "max": ("The largest value, inclusive; not below min.", [7]),
    "choices": (f"The values allowed, 1 to 1,024 of them: ints (within ±{MAX_PARAM:,}); padding modes of the "
                "document's convention (\"same\", \"valid\"; in onnx \"same_upper\", \"same_lower\", \"valid\"), in "
                "a scalar domain only; or true and false, for ceil_mode.", [[1, 3, 5], ["same", "valid"]]),
    "prefer": ("Preferred values: a parameter (kernel_size, stride, padding, padding_end, dilation or output_padding) "
               "-> the value wanted; a solution costs the sum over layers and axes of |value - wanted| (for "
               "padding, the beginning's as applied).", [{"stride": 2}]),
    "Tie.layers": ("The layers that take the same values, by name or by index in `layers` (from 0); at least 2.",
                   [["e1", "e2"]]),
    "Tie.params": ("The parameters they share: kernel_size, stride, padding, padding_end, dilation, output_padding, "
                   "ceil_mode; at least one.", [["kernel_size", "padding"]]),
    # --- planners -----------------------------------------------------------------------
    "UNetPlan.input_size": (f"The image's spatial size in pixels, one int per axis (1 to 3 axes, each {_SIZE}).",
                            [[572, 572]]),
    "UNetPlan.depth": ("Levels down, and as many up: 1 to 7, default 4.", [4]),
    "UNetPlan.in_channels": (f"The image's channels, 1 to {MAX_CHANNELS:,}; default 1.", [3]),
    "base_channels": ("Channels of the first level's convs, doubled at every level down; default 64.", [64]),
    "UNetPlan.out_channels": ("Channels of a final 1x1 conv (the classes); none without it.", [2]),
    "convs_per_level": ("Convs at each level, on each side and at the bottom: 1 to 4, default 2.", [2]),
    "conv": ("How the convs pad: \"same\" (the size kept; the default), \"valid\" (no padding, as in the U-Net "
             "paper), or \"search\" (kernel_size and padding searched, shared by every conv).", ["valid"]),
    "UNetPlan.kernel_size": ("Kernel size of every conv, shared by all of them: an int, one per axis, or a domain "
                             "to search; default 3.", [3, {"choices": [3, 5]}]),
    "UNetPlan.padding": ("The padding the convs may take with conv \"search\": an int, one per axis, or a domain; "
                         "default 0 to 2 (tensorflow searches \"same\" and \"valid\").", [{"min": 0, "max": 2}]),
    "down": ("How each level goes down: \"max_pool\" (the default), \"avg_pool\", or \"strided_conv\" (a conv whose "
             "kernel and stride are the factor).", ["max_pool"]),
    "up": ("How each level goes up: \"conv_transpose\" (the default; kernel and stride the factor) or \"upsample\" "
           "(by the factor, then a conv).", ["conv_transpose"]),
    "factor": ("The down and up factor of every level: an int (1 to 16) for every axis, or one per axis ([1, 2, 2] "
               "for thin volumes); default 2.", [2, [1, 2, 2]]),
    "level_factors": ("Or one factor per level, first level first, each an int or one per axis; as many as depth.",
                      [[[1, 2, 2], 2, 2]]),
    "skip": ("How skips join: \"match\" (the two sides' sizes must be equal; the default) or \"crop\" (the encoder "
             "side centre-cropped to the decoder's, as in the paper).", ["crop"]),
    "UNetPlan.output_size": ("The output size, one int per axis in pixels; \"same\" as the input (the default), or "
                             "null for any.", ["same", [388, 388]]),
    "bottleneck_size": ("The spatial size of the feature map the branches see, one int per axis in pixels; or give "
                        "input_size and output_stride.", [[33, 33]]),
    "ASPPPlan.input_size": ("The image's spatial size, one int per axis in pixels: with output_stride, the "
                            "bottleneck is (input - 1) // output_stride + 1, as after a backbone's \"same\" stages.",
                            [[513, 513]]),
    "output_stride": ("The backbone's total stride, 1 to 64 (DeepLab: 8 or 16), with input_size.", [16]),
    "rates": ("The atrous branches' dilation rates (1 to 8 of them, each 1 to 512), or a range to search; default "
              "[6, 12, 18].", [[6, 12, 18], {"min": 1, "max": 40}]),
    "ASPPPlan.kernel_size": ("Kernel size of the atrous branches, 1 to 15; default 3.", [3]),
    "ASPPPlan.padding": ("The padding each atrous branch may take, a range searched in pixels; default 0 to 256. "
                         "tensorflow pads every branch \"same\".", [{"min": 0, "max": 64}]),
    "ASPPPlan.in_channels": (f"Channels of the bottleneck feature map, 1 to {MAX_CHANNELS:,}; default 2048 (a "
                             "ResNet's).", [2048]),
    "channels": ("Output channels of every branch and of the final 1x1 projection; default 256.", [256]),
    "image_pooling": ("Add the image-level branch: global average pooling, a 1x1 conv, upsampled back; default "
                      "true.", [True]),
    "kind": ("What to plan: \"autoencoder\" (image -> latent -> image; the default), \"generator\" (latent -> "
             "image, transposed convs) or \"discriminator\" (image -> latent, convs).", ["generator"]),
    "image_size": ("The image's spatial size, one int per axis in pixels.", [[64, 64]]),
    "latent_size": ("The latent's spatial size in pixels, an int for every axis or one per axis (1 for a GAN's 1x1 "
                    "noise); default 1.", [1, [7, 7]]),
    "EncoderDecoderPlan.depth": ("Stages, one searched layer each (a conv down, a transposed conv up): 1 to 12, "
                                 "default 4.", [5]),
    "EncoderDecoderPlan.in_channels": (f"Channels of the input, the image's (the latent's for a generator), 1 to "
                                       f"{MAX_CHANNELS:,}; default 1.", [3]),
    "EncoderDecoderPlan.kernel_size": ("The kernel sizes each stage may take: an int, one per axis, or a domain; "
                                       "default 1 to 5.", [4, {"min": 1, "max": 5}]),
    "EncoderDecoderPlan.stride": ("The strides each stage may take: an int, one per axis, or a domain; default 1 "
                                  "to 2.", [2, {"min": 1, "max": 2}]),
    "EncoderDecoderPlan.padding": ("The padding each stage may take, in pixels: an int, one per axis, or a domain; "
                                   "default 0 to 2 (tensorflow searches \"same\" and \"valid\").",
                                   [{"min": 0, "max": 2}]),
    "EncoderDecoderPlan.output_padding": ("The output_padding each transposed-conv stage may take: an int, one per "
                                          "axis, or a domain; default 0 to 1.", [{"min": 0, "max": 1}]),
    "tie": ("Every stage but the one at the latent shares its settings, as DCGAN's do; default true.", [True]),
    **{f"{plan}.limit": (_PLAN_LIMIT, [5]) for plan in _PLANS},
    # --- forward's report ---------------------------------------------------------------
    "index": ("The layer's position in the document's layers, from 0.", [0]),
    "LayerReport.name": ("The layer's name; null when it has none.", ["enc1"]),
    "LayerReport.type": ("The layer's kind, as the document gives it.", ["conv"]),
    "LayerReport.input_size": ("Spatial size of the tensor the layer reads, per axis, in pixels.", [[224, 224]]),
    "output_size": ("Spatial size of the last layer's output, per axis, in pixels.", [[56, 56]]),
    "LayerReport.output_size": ("Spatial size of the layer's output, per axis, in pixels.", [[112, 112]]),
    "LayerReport.padding": (
        "Padding the convention applied, in pixels, per axis as [begin, end] (uneven for a \"same\" padding); "
        "null for layers that do not pad. A transposed conv's is what it cuts from (input-1)*stride + "
        "dilation*(kernel-1) + 1 before output_padding adds rows at the end, as PyTorch's padding: [p, p] there; "
        "negative when the output is longer.", [[[3, 3], [3, 3]]]),
    "LayerReport.in_channels": ("Channels of the tensor the layer reads; null when not known.", [3]),
    "LayerReport.out_channels": ("Channels of the layer's output; null when not known.", [64]),
    "ForwardResponse.in_channels": ("The input's channels, as the document gives them; null when it does not.", [3]),
    "ForwardResponse.out_channels": ("Channels of the last layer's output; null when not known.", [64]),
    "params": ("Learned parameters (weights and biases): 0 for a layer without weights, null when channel counts "
               "are missing.", [9408]),
    "ForwardResponse.params": ("Learned parameters of the whole design, summed over its layers; null when any "
                               "layer's is not known.", [9408]),
    "Design.params": ("Learned parameters of the design, as forward counts them; null when channel counts are "
                      "missing.", [31030658]),
    "macs": ("Multiply-accumulates for one sample: one per weight per output position (a transposed conv: per "
             "input position); 0 for a layer without weights, null when channel counts are missing.", [118013952]),
    "ForwardResponse.macs": ("Multiply-accumulates of the whole design for one sample, summed over its layers; null "
                             "when any layer's is not known.", [118013952]),
    "receptive_field": ("Receptive field per axis after this layer, in input pixels: how many input pixels one "
                        "output pixel sees (fractional after an upsample); null when not exact (an interpolating "
                        "upsample, joins of different jumps).", [[7, 7]]),
    "ForwardResponse.receptive_field": ("Receptive field of the last layer's output per axis, in input pixels; null "
                                        "when not exact.", [[11, 11]]),
    "jump": ("Distance in input pixels between neighbouring outputs of this layer (the strides multiplied), per axis; "
             "fractional after an upsample, null when not exact.", [[2, 2]]),
    "ForwardResponse.layers": ("One report per layer, in the document's order.", None),
    # --- solve's answer -----------------------------------------------------------------
    "status": ("How complete the answer is (see Status).", ["complete"]),
    "InputSizesResponse.status": ("\"complete\", or \"timeout\" (then axes is empty and message says why).",
                                  ["complete"]),
    "count": ("Exact number of solutions in the domains; null when it could not be counted (the anytime search, a "
              "timeout).", [4]),
    "PlanResponse.count": ("Exact number of designs in the planner's domains; null when it could not be counted.",
                           [12]),
    "solutions": ("The solutions, best first: at most `limit`, from the cursor's position on.", None),
    "Solution.layers": ("The design's layers with every parameter explicit, one int per axis: a valid forward "
                        "document's layers.", None),
    "sizes": ("Output size in pixels of every layer, for each input size: one list per input size, of one list per "
              "layer, of one int per axis.", [[[[284, 284], [142, 142]]]]),
    "score": (_SCORE, [[4, 6]]),
    "engine": ("Which engine answered: \"exact\" (over intermediate sizes), \"cpsat\" (its enumeration, ranked) or "
               "\"anytime\" (the exact engine on narrowed domains: the best designs found).", ["exact"]),
    "elapsed_s": ("Time the answer took, in seconds.", [0.012]),
    "message": ("What to know about the answer, in a sentence (why infeasible, what a timeout cut short, how the "
                "solutions were found); null when there is nothing to say.", None),
    "explanation": ("With status \"infeasible\": why, and the smallest changes that work; null otherwise.", None),
    "next_cursor": ("Send it back as `cursor` (the same document otherwise) for the next page; null on the last "
                    "page.", ["MTAwOjVkNDE0MDJhYmM0YjJhNzY="]),
    "warnings": ("What the document holds that the search skipped: domain values no layer can take.", None),
    "PlanResponse.warnings": ("What to know of the designs (an ASPP rate too large for its feature map); empty "
                              "when nothing.", None),
    "optimal": ("Whether the solutions listed are proved the first of the ranking: always, but for the anytime "
                "search's best found (then true only when a lower bound proves them the cheapest).", [True]),
    "SampleResponse.count": ("Exact number of solutions in the domains (the designs are drawn from them); null "
                             "when it could not be counted, and then the draw is not uniform.", [130]),
    "SampleResponse.solutions": ("The designs drawn, in the order drawn.", None),
    "uniform": ("Whether the designs are drawn uniformly from the solutions (and within the bounds). False only when "
                "the solutions could not be counted in time: then they come from random parts of the domains.",
                [True]),
    "SampleResponse.seed": ("The seed used (the document's, or the one picked): send it back to draw the same "
                            "designs.", [7]),
    "drawn": ("How many designs were drawn, those kept and those outside the bounds (and, without replacement, "
              "not counting repeats).", [12]),
    "share_within": ("The share of the designs drawn that were within the bounds: an estimate of the share of all "
                     "solutions within them; null without bounds.", [0.25]),
    "Explanation.message": ("Why the document has no solution, and the smallest change that works, in a few "
                            "sentences.", None),
    "conflicts": ("The constraints that cannot hold together.", None),
    "repairs": ("Changes to the document that make it solvable, smallest first, each checked by solving it.", None),
    "note": ("Set when the time limit cut the search short: which repairs were not tried; null otherwise.", None),
    "Conflict.layer": ("Index of the layer in the document's layers, from 0; null for a target or the input.", [2]),
    "Conflict.name": ("The layer's name, when it has one; null otherwise.", ["enc1"]),
    "Conflict.axis": ("The spatial axis, from 0; null when the conflict is not about one axis.", [0]),
    "Conflict.rule": (
        "A stable id of what cannot hold. A framework's rule: "
        + "; ".join(f"{rule.value}: {text}" for rule, text in RULES.items())
        + ". Or the search's own: "
        + "; ".join(f"{name}: {text}" for name, text in SEARCH_CONFLICTS.items()) + ".",
        ["kernel_fits_input", "target_unreachable"]),
    "Conflict.message": ("What cannot hold, in a sentence.", None),
    "Repair.message": ("The change, in words.", None),
    "Repair.document": ("The changed solve document; it has solutions.", None),
    # --- input sizes' answer -------------------------------------------------------------
    "axes": ("One entry per spatial axis; empty on a timeout.", None),
    "InputSizesResponse.message": ("The valid sizes in a sentence, and what to crop or pad to reach one.", None),
    "AxisSizes.axis": ("The spatial axis, from 0.", [0]),
    "AxisSizes.count": ("How many sizes of the range are valid on this axis.", [61]),
    "pattern": ("The valid sizes said compactly: \"multiples of 16 from 64\", \"every size from 3\", the runs "
                "\"1-5, 8, 12-20\", or \"none\".", ["multiples of 4 from 8"]),
    "AxisSizes.sizes": ("Every valid size of the range on this axis, ascending, in pixels.", [[64, 80, 96]]),
    "nearest": ("With an input_size: the valid sizes nearest to it on this axis; null otherwise.", None),
    "requested": ("The size asked for (input_size on this axis), in pixels.", [500]),
    "below": ("The largest valid size not above the request, in pixels; null when none.", [496]),
    "crop": ("How many pixels to crop to reach `below`; null when none.", [4]),
    "above": ("The smallest valid size not below the request, in pixels; null when none.", [512]),
    "pad": ("How many pixels to pad to reach `above`; null when none.", [12]),
    # --- the planners' answer ------------------------------------------------------------
    "designs": ("The designs, best first, at most `limit`.", None),
    "PlanResponse.document": ("The solve document the planner built: change it and send it to /v1/solve.", None),
    "Design.layers": ("The design's layers with every parameter explicit, one int per axis: a forward document's "
                      "layers.", None),
    "Design.input_size": ("The input's spatial size in pixels, one int per axis (ASPP: the bottleneck's).",
                          [[572, 572]]),
    "Design.output_size": ("Spatial size of the design's output, per axis, in pixels.", [[388, 388]]),
    "levels": ("U-Net plans: the sizes at each level, first level first; null for the other planners.", None),
    "level": ("The level, from 1 (the input's resolution) to depth.", [1]),
    "encoder": ("Output size of the level's last encoder conv, per axis, in pixels.", [[568, 568]]),
    "decoder": ("Output size of the level's last decoder conv, per axis, in pixels; null when it has none.",
                [[388, 388]]),
    # --- the service's own answers (api/) ------------------------------------------------
    "ErrorResponse.detail": ("What is wrong: one entry per problem found.", None),
    "ErrorDetail.type": ("Machine-readable kind of error: pydantic's (\"missing\", \"int_type\", ...), convsolve's "
                         "(\"layer_rejected\", \"document_error\", \"limit_exceeded\") or the service's (\"busy\", "
                         "...).", ["layer_rejected"]),
    "ErrorDetail.loc": ("Where in the request, as a path of keys and indices (the document's under \"body\"); [] for "
                        "the service as a whole.", [["body", "layers", 0, "kernel_size"]]),
    "ErrorDetail.msg": ("What is wrong, in a sentence.", None),
    "ExportResponse.language": ("The language of `code`: \"python\".", ["python"]),
    "ExportResponse.code": ("A runnable module: an nn.Module class `Net` (torch) or a function `build_net` "
                            "returning a keras.Model (keras), wiring every layer, skip and sum.", None),
}


def entry(cls: type, field: str) -> Entry | None:
    """The glossary's entry for a model's field: the most specific along its MRO."""
    for klass in cls.__mro__:
        found = FIELDS.get(f"{klass.__name__}.{field}")
        if found is not None:
            return found
    return FIELDS.get(field)


def describe(schema: dict[str, Any], cls: type) -> None:
    """Give each property of a model's JSON Schema its description and examples, unless
    it has them (values.Described calls it as the schema is generated)."""
    for field, prop in schema.get("properties", {}).items():
        found = entry(cls, field)
        if found is None:
            continue
        text, examples = found
        if "{const}" in text and "const" in prop:
            text = text.replace("{const}", str(prop["const"]))
        if "{default}" in text and "default" in prop:
            text = text.replace("{default}", json.dumps(prop["default"]))
        prop.setdefault("description", text)
        if examples is not None:
            prop.setdefault("examples", examples)
