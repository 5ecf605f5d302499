"""The rules: per-axis size arithmetic of each convention, the rules on whole layers, and
the verdicts they give.  Everything above reaches them through this package."""

from .axis import axis_layer, axis_output
from .layer import broadcast, conv_channels, crop, join, layer_rule, receptive_step, window
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
    PADDING_MODES,
    auto_pad,
    effective_kernel,
    onnx_fields,
    padding_mode,
    upsample_mode,
)
from .verdicts import MAX_AXIS_SIZE, RULE_FIELD, SETTINGS_RULES, Rejected, Rule
