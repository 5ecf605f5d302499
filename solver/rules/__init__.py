"""The rules: per-axis size arithmetic of each convention, the rules on whole layers, and
the verdicts they give.  Everything above reaches them through this package."""

from .axis import axis_layer, axis_output, axis_rule
from .catalogue import (
    ANY_PADDING_MODE,
    CONVENTION,
    CONVENTIONS,
    DEFAULT_CONVENTION,
    KINDS,
    NO_PADDING,
    NORMS,
    PAD_MODES,
    PADDING_MODES,
    SAME_PADDING,
    SEARCHABLE_FIELDS,
    UPSAMPLE_MODES,
    Kind,
    params_and_macs,
    unset,
)
from .layer import (
    DENSE_FIELDS,
    broadcast,
    conv_channels,
    crop,
    dense,
    join,
    layer_rule,
    norm_needs_pixels,
    receptive_step,
    resize_rule,
    same_rule,
    sizes_recur,
    spans_axes,
    window,
)
from .pytorch import (
    adaptive_pool,
    avg_pool,
    conv,
    conv_transpose,
    padding_sides,
    pool,
    same_needs_stride_1,
    same_padding,
    upsample,
)
from .shared import (
    MINIMUM,
    AxisFn,
    SizeFn,
    auto_pad,
    effective_kernel,
    least,
    onnx_fields,
    padding_mode,
    upsample_mode,
)
from .verdicts import MAX_AXIS_SIZE, RULE_FIELD, SETTINGS_RULES, Rejected, Rule
