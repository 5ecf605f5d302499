"""The verdicts of the size rules: which rule a configuration breaks, and the field it blames."""

from __future__ import annotations

from enum import StrEnum, unique


@unique
class Rule(StrEnum):
    """Why a framework refuses a configuration.  Values are stable ids used in the API."""

    KERNEL_POSITIVE = "kernel_positive"
    STRIDE_POSITIVE = "stride_positive"
    DILATION_POSITIVE = "dilation_positive"
    PADDING_NON_NEGATIVE = "padding_non_negative"
    KERNEL_FITS_INPUT = "kernel_fits_input"
    SAME_NEEDS_STRIDE_1 = "same_needs_stride_1"
    SAME_NOT_FOR_TRANSPOSED = "same_not_for_transposed"
    OUTPUT_PADDING_NON_NEGATIVE = "output_padding_non_negative"
    OUTPUT_PADDING_SMALLER = "output_padding_smaller_than_stride_or_dilation"
    OUTPUT_POSITIVE = "output_positive"
    POOL_PADDING_HALF_KERNEL = "pool_padding_at_most_half_kernel"
    AVG_POOL3D_INPUT_FITS_KERNEL = "avg_pool3d_input_at_least_kernel"
    SCALE_POSITIVE = "scale_positive"
    GROUPS_POSITIVE = "groups_positive"
    GROUPS_DIVIDE_CHANNELS = "groups_divide_channels"
    CHANNELS_MATCH = "channels_match"
    CHANNELS_POSITIVE = "channels_positive"
    UPSAMPLE_MODE_NDIM = "upsample_mode_matches_ndim"
    JOIN_SIZES_MATCH = "join_sizes_match"
    ADD_SIZES_BROADCAST = "add_sizes_broadcast"
    SIZE_LIMIT = "size_within_limit"
    CROP_FITS = "crop_fits_input"
    ADAPTIVE_KEEP_NEEDS_2D = "adaptive_keep_size_needs_2d_or_3d"
    LINEAR_NEEDS_FLAT = "linear_reads_a_flat_tensor"
    NORM_NEEDS_VALUES = "norm_needs_more_than_one_value"
    PAD_FITS_INPUT = "pad_fits_input"
    # Rules of the tensorflow and onnx conventions.
    PADDING_MODE = "padding_mode_of_convention"
    NOT_IN_CONVENTION = "not_in_convention"
    STRIDE_WITH_DILATION = "stride_and_dilation_not_both"
    OUTPUT_SHAPE_MISMATCH = "output_shape_consistent"


#: Which document field a rule is about, for an error's `loc` (a rule on sizes alone
#: blames the field that sets the layer's size).
RULE_FIELD = {
    Rule.KERNEL_POSITIVE: "kernel_size",
    Rule.STRIDE_POSITIVE: "stride",
    Rule.DILATION_POSITIVE: "dilation",
    Rule.PADDING_NON_NEGATIVE: "padding",
    Rule.KERNEL_FITS_INPUT: "kernel_size",
    Rule.SAME_NEEDS_STRIDE_1: "stride",
    Rule.OUTPUT_PADDING_NON_NEGATIVE: "output_padding",
    Rule.OUTPUT_PADDING_SMALLER: "output_padding",
    Rule.POOL_PADDING_HALF_KERNEL: "padding",
    Rule.AVG_POOL3D_INPUT_FITS_KERNEL: "kernel_size",
    Rule.SCALE_POSITIVE: "scale_factor",
    Rule.UPSAMPLE_MODE_NDIM: "mode",
    Rule.ADAPTIVE_KEEP_NEEDS_2D: "output_size",
    Rule.LINEAR_NEEDS_FLAT: "input",
    Rule.PAD_FITS_INPUT: "padding",
    Rule.SAME_NOT_FOR_TRANSPOSED: "padding",
    Rule.PADDING_MODE: "padding",
    Rule.STRIDE_WITH_DILATION: "dilation",
    Rule.OUTPUT_SHAPE_MISMATCH: "output_padding",
}

#: Rules on a layer's settings alone, broken whatever its input size.
SETTINGS_RULES = frozenset({
    Rule.KERNEL_POSITIVE, Rule.STRIDE_POSITIVE, Rule.DILATION_POSITIVE, Rule.PADDING_NON_NEGATIVE,
    Rule.SAME_NEEDS_STRIDE_1, Rule.OUTPUT_PADDING_NON_NEGATIVE, Rule.OUTPUT_PADDING_SMALLER,
    Rule.POOL_PADDING_HALF_KERNEL,
})


class Rejected(Exception):  # noqa: N818 - a verdict, not an error of the program
    """One axis of one layer breaks a rule.  The caller adds layer and axis; `field`
    names the document field at fault when the rule alone does not tell."""

    def __init__(self, rule: Rule, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.field = field
        #: The axis, when a rule on a whole layer names one.
        self.axis: int | None = None


#: The largest size of any axis of any tensor: int32's, which ONNX Runtime's and cuDNN's
#: index arithmetic and CP-SAT's tables use; past it a layer is refused (rule size_limit).
MAX_AXIS_SIZE = 2**31 - 1

