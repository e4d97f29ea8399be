"""Fuzz regressions of the spatial ops and pooling (RoiAlign, ConvTranspose, DeformConv, Pad,
the pools' padding and ceil_mode), of recurrent ops and of normalisation outputs: one test per
bug the differential fuzzer (tests/fuzz) found, with its minimal markup (see
tests/test_fuzz_regressions.py for how green and red cases are judged)."""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
pytest.importorskip("torch")

from regression_helpers import green, the_error  # noqa: E402

X23 = '<import from="x" dim="[2, 3]"/>'
X1233 = '<import from="x" dim="[1, 2, 3, 3]"/>'
Y1 = '<export from="y" dim="[1]"/>'
ROIS = '<import from="x" dim="[1, 2, 6, 6]"/><import from="r" dim="[1, {n}]"/><import from="b" dim="[1]" type="int64"/>'


def test_trilu_needs_a_matrix(tmp_path) -> None:
    """The hand-written elementwise rule let a 1-D input through; ONNX's full check refuses it."""
    assert the_error(tmp_path, '<import from="x" dim="[4]"/>', '<node op="Trilu" upper="1"><input src="x"/>'
                     '<output name="y"/></node>', '<export from="y" dim="[4]"/>', opset=17) == (
        "rank-mismatch", "x", "Trilu: the input must be a matrix or a batch of matrices (rank 2 or more), got [4]")


@pytest.mark.parametrize("attr", ["sampling_ratio", "output_height"])
def test_roi_align_sizes_are_not_negative(tmp_path, attr: str) -> None:
    """onnxruntime refuses a negative sampling_ratio when it loads, a negative output size when it runs."""
    assert the_error(tmp_path, ROIS.format(n=4), f'<node op="RoiAlign" {attr}="-2"><input src="x"/><input src="r"/>'
                     '<input src="b"/><output name="y"/></node>', Y1, opset=18) == (
        "bad-attribute", "-2", f"RoiAlign: attribute '{attr}' cannot be negative; got -2")


@pytest.mark.parametrize(("op", "n", "attrs", "message"), [
    ("RoiAlign", 5, "", "RoiAlign: rois must be [num_rois, 4] (x1, y1, x2, y2), got [1, 5]"),
    ("MaxRoiPool", 4, ' pooled_shape="[2, 2]"',
     "MaxRoiPool: rois must be [num_rois, 5] (batch index, x1, y1, x2, y2), got [1, 4]"),
])
def test_roi_boxes_have_their_coordinates(tmp_path, op: str, n: int, attrs: str, message: str) -> None:
    ins = '<input src="x"/><input src="r"/>' + ('<input src="b"/>' if op == "RoiAlign" else "")
    assert the_error(tmp_path, ROIS.format(n=n), f'<node op="{op}"{attrs}>{ins}<output name="y"/></node>', Y1) == (
        "shape-error", "r", message)


def test_max_roi_pool_spatial_scale_is_positive(tmp_path) -> None:
    assert the_error(tmp_path, ROIS.format(n=5), '<node op="MaxRoiPool" pooled_shape="[2, 2]" spatial_scale="0">'
                     '<input src="x"/><input src="r"/><output name="y"/></node>', Y1) == (
        "bad-attribute", "0", "MaxRoiPool: attribute 'spatial_scale' must be positive; got 0.0")


def conv_transpose(attrs: str) -> str:
    return (f'<node op="ConvTranspose" {attrs}><input src="x"/><params name="w" dim="[2, 3, 2, 2]"/>'
            '<output name="y"/></node>')


@pytest.mark.parametrize(("attrs", "code", "marked", "message"), [
    ('strides="[2, 2]" output_shape="[1, 0]"', "bad-attribute", "[1, 0]",
     "ConvTranspose: attribute 'output_shape' must be positive; got [1, 0]"),
    ('strides="[2, 2]" output_shape="[8, 7]"', "shape-error", "[8, 7]", "ConvTranspose: output_shape [8, 7] asks "
     "for 8 on axis 2, but an input dim of 3 with stride 2 and kernel 2 makes 1 to 7"),
    ('dilations="[2, 2]" output_padding="[1, 1]"', "shape-error", "[1, 1]", "ConvTranspose: output_padding 1 on "
     "axis 2 must be smaller than the stride 1 there (onnxruntime refuses it)"),
    ('pads="[2, 2, 2, 2]"', "shape-error", "[2, 2, 2, 2]", "ConvTranspose: pads [2, 2, 2, 2] leave nothing of axis "
     "2 (its size would be 0; input dim 3, stride 1, kernel 2)"),
    ('kernel_shape="[3, 3]"', "shape-mismatch", "[3, 3]", "ConvTranspose: kernel_shape [3, 3] differs from the "
     "weights' [2, 2]"),
    ('auto_pad="SAME_UPPER" strides="[2, 2]" output_padding="[1, 1]"', "shape-error", "[1, 1]", "ConvTranspose: "
     "output_padding 1 with auto_pad SAME_UPPER on axis 2: onnxruntime makes 6 there, ONNX's shape inference more, "
     "so onnx.checker refuses the model; drop output_padding or give explicit pads"),
])
def test_conv_transpose_output_sizes(tmp_path, attrs: str, code: str, marked: str, message: str) -> None:
    """ONNX's inference passes these; onnxruntime refuses them when it runs the node."""
    assert the_error(tmp_path, X1233, conv_transpose(attrs), Y1, opset=17) == (code, marked, message)


@pytest.mark.parametrize(("w", "extra", "marked", "message"), [
    ("[3, 3, 2, 2]", "", "[3, 3, 2, 2]", "ConvTranspose: the input has 2 channels but the weights [3, 3, 2, 2] take 3 (their "
     "first dimension)"),
    ("[2, 3, 2, 2]", '<params name="b" dim="[4]"/>', "[4]", "ConvTranspose: the bias [4] does not match the 3 output "
     "channels of the weights [2, 3, 2, 2]"),
])
def test_conv_transpose_operands(tmp_path, w: str, extra: str, marked: str, message: str) -> None:
    """ConvTranspose went through ONNX's inference, which checks neither; onnxruntime refuses both."""
    node = (f'<node op="ConvTranspose"><input src="x"/><params name="w" dim="{w}"/>{extra}<output name="y"/>'
            '</node>')
    assert the_error(tmp_path, X1233, node, Y1, opset=17) == ("shape-mismatch", marked, message)


def test_conv_transpose_output_padding_below_the_stride(tmp_path) -> None:
    green(tmp_path, X1233, conv_transpose('strides="[2, 2]" output_padding="[1, 1]"'),
          '<export from="y" dim="[1, 3, 7, 7]"/>', opset=17)


def deform_conv(offset: str) -> tuple[str, str]:
    return (X1233 + f'<import from="o" dim="{offset}"/>', '<node op="DeformConv"><input src="x"/>'
            '<params name="w" dim="[1, 2, 3, 3]"/><input src="o"/><output name="y"/></node>')


@pytest.mark.parametrize(("offset", "code", "message"), [
    ("[2, 3, 4]", "rank-mismatch", "DeformConv: onnxruntime computes 2-D DeformConv only: the offset must be 4-D, "
     "got [2, 3, 4]"),
    ("[1, 18, 2, 2]", "shape-error", "DeformConv: the offset must be [N, 2 × offset_group × kH × kW, oH, oW] = "
     "[1, 18, 1, 1] here, got [1, 18, 2, 2]"),
])
def test_deform_conv_offset_fits(tmp_path, offset: str, code: str, message: str) -> None:
    assert the_error(tmp_path, *deform_conv(offset), Y1, opset=20) == (code, "o", message)


def test_deform_conv_with_its_offset(tmp_path) -> None:
    green(tmp_path, *deform_conv("[1, 18, 1, 1]"), '<export from="y" dim="[1, 1, 1, 1]"/>', opset=20)


@pytest.mark.parametrize(("mode", "pads", "message"), [
    ("reflect", "[1, 0, 2, 1]", "Pad: reflect padding 2 is wider than the input dim 2 on axis 0 allows (at most 1: "
     "a reflection does not repeat the edge)"),
    ("edge", "[0, -2, 0, 1]", "Pad: edge padding copies input values, but pads [0, -2, 0, 1] leave none of axis 1 "
     "(dim 2)"),
    ("constant", "[0, -2, 0, -1]", "Pad: pads [0, -2, 0, -1] crop axis 1 of [2, 2] to -1 elements"),
])
def test_pad_modes_need_input_to_copy(tmp_path, mode: str, pads: str, message: str) -> None:
    assert the_error(tmp_path, '<import from="x" dim="[2, 2]"/>', f'<node op="Pad" mode="{mode}" pads="{pads}">'
                     '<input src="x"/><output name="y"/></node>', Y1, opset=18) == ("shape-error", pads, message)


def test_pad_reflect_as_wide_as_it_goes(tmp_path) -> None:
    green(tmp_path, X23, '<node op="Pad" mode="reflect" pads="[2, 2]" axes="[1]"><input src="x"/><output name="y"/>'
          '</node>', '<export from="y" dim="[2, 7]"/>', opset=18)


X1288 = '<import from="x" dim="[1, 2, 8, 8]"/>'


@pytest.mark.parametrize("op", ["Conv", "MaxPool", "AveragePool"])
def test_negative_pads_are_refused_where_onnxruntime_refuses_them(tmp_path, op: str) -> None:
    """Seed 7, #9726: Conv with negative pads checked green; compile's onnx.checker refused it."""
    weights = '<params name="w" dim="[3, 2, 3, 3]"/>' if op == "Conv" else ""
    kernel = "" if op == "Conv" else ' kernel_shape="[3, 3]"'
    assert the_error(tmp_path, X1288, f'<node op="{op}" pads="[-1, 0, 0, 0]"{kernel}><input src="x"/>{weights}'
                     '<output name="y"/></node>', Y1) == (
        "bad-attribute", "[-1, 0, 0, 0]",
        f"{op}: attribute 'pads' cannot hold negative values; got [-1, 0, 0, 0] (onnxruntime refuses the model)")


@pytest.mark.parametrize("op", ["MaxPool", "AveragePool", "LpPool"])
def test_same_padding_of_a_dilated_pool_is_refused(tmp_path, op: str) -> None:
    """onnxruntime pads a dilated pooling kernel under auto_pad SAME as if undilated: its output
    ([1, 2, 6, 6] here) is smaller than ONNX's inference ([1, 2, 8, 8])."""
    assert the_error(tmp_path, X1288, f'<node op="{op}" kernel_shape="[3, 3]" auto_pad="SAME_UPPER" '
                     'dilations="[2, 2]"><input src="x"/><output name="y"/></node>', Y1, opset=19) == (
        "shape-error", "SAME_UPPER",
        f"{op}: auto_pad SAME_UPPER with dilations [2, 2]: onnxruntime pads as if the kernel were not dilated, "
        "so its output is smaller than ONNX's shape inference says; give explicit pads instead of auto_pad")


def test_same_padding_of_an_undilated_pool_runs(tmp_path) -> None:
    green(tmp_path, X1288, '<node op="MaxPool" kernel_shape="[3, 3]" auto_pad="SAME_UPPER" strides="[2, 2]">'
          '<input src="x"/><output name="y"/></node>', '<export from="y" dim="[1, 2, 4, 4]"/>')


MAXPOOL_CEIL = ('<node op="MaxPool" kernel_shape="[3, 2]" pads="[1, 0, 0, 1]" strides="[2, 2]" ceil_mode="1">'
                '<input src="x"/><output name="y"/></node>')


def test_a_ceil_mode_window_in_the_padding_needs_opset_22(tmp_path) -> None:
    """Seed 7, #6986: before opset 22 ONNX's inference counts a last window that starts in the
    padding (width 4), onnxruntime does not (3): compile's full check refused what check passed."""
    x = '<import from="x" dim="[2, 3, 5, 6]"/>'
    assert the_error(tmp_path, x, MAXPOOL_CEIL, '<export from="y" dim="[2, 3, 3, 3]"/>', opset=13) == (
        "shape-error", "1",
        "MaxPool: with ceil_mode, the last window along dimension 3 would start in the padding: onnxruntime "
        "drops it (3 outputs) but ONNX's shape inference before opset 22 counts it (4), so the compiled model is "
        "refused; set [model] opset to 22 or more, or change pads or ceil_mode")
    green(tmp_path, x, MAXPOOL_CEIL, '<export from="y" dim="[2, 3, 3, 3]"/>', opset=22)


@pytest.mark.parametrize("op", ["Conv", "ConvTranspose"])
def test_group_must_be_positive(tmp_path, op: str) -> None:
    """Seed 7, #8448: ConvTranspose with group="-1" checked green; onnx.checker refused it."""
    assert the_error(tmp_path, X1288, f'<node op="{op}" group="-1"><input src="x"/>'
                     '<params name="w" dim="[2, 2, 3, 3]"/><output name="y"/></node>', Y1) == (
        "bad-attribute", "-1", f"{op}: attribute 'group' must be positive; got -1")


def test_recurrent_clip_must_be_positive(tmp_path) -> None:
    """Seed 8, #2062: GRU with clip="-1.0" checked green; onnxruntime refuses clip <= 0 at load."""
    assert the_error(tmp_path, '<import from="x" dim="[4, 2, 2]"/>', '<node op="GRU" hidden_size="3" clip="-1.0">'
                     '<input src="x"/><params name="w" dim="[1, 9, 2]"/><params name="r" dim="[1, 9, 3]"/>'
                     '<output name="y"/></node>', Y1, opset=20) == (
        "bad-attribute", "-1.0", "GRU: attribute 'clip' must be positive; got -1.0")


def test_center_crop_pad_needs_an_int64_shape(tmp_path) -> None:
    """Seed 8, #9: CenterCropPad with an int32 shape checked green; onnxruntime's expansion of the
    op binds its int64 constants and the int32 shape to one type, and refuses the model."""
    code, text, message = the_error(tmp_path, '<import from="x" dim="[1, 2, 3, 3]"/>\n'
                                    '<import from="s" dim="[4]" type="int32"/>', '<node op="CenterCropPad">'
                                    '<input src="x"/><input src="s"/><output name="y"/></node>', Y1, opset=18)
    assert (code, text) == ("type-mismatch", "s")
    assert message.startswith("CenterCropPad: onnxruntime needs an int64 shape here")


BN_INPUTS = '<input src="x"/>' + "".join(f'<params name="{n}" dim="[3]"/>' for n in ("s", "b", "m", "v"))


def test_batch_norm_outputs_follow_training_mode(tmp_path) -> None:
    """Seed 8, #8287: BatchNormalization with training_mode="1" and one output checked green;
    ONNX's inference wants 3 outputs then (1 otherwise), and compile's full check refused it."""
    x = '<import from="x" dim="[2, 3, 4]"/>'
    assert the_error(tmp_path, x, f'<node op="BatchNormalization" training_mode="1">{BN_INPUTS}'
                     '<output name="y"/></node>', Y1, opset=20) == (
        "arity", "1", "BatchNormalization: in training_mode=\"1\" it has 3 outputs, here 1; write Y, running_mean "
        "and running_var")
    green(tmp_path, x, f'<node op="BatchNormalization">{BN_INPUTS}<output name="y"/></node>',
          '<export from="y" dim="[2, 3, 4]"/>', opset=20)


def test_reverse_sequence_lengths_one_per_batch_entry(tmp_path) -> None:
    """Seed 10, #3360: sequence_lens of 4 for a batch of 3 (axis 1) checked green; onnxruntime
    refuses it at run time."""
    code, text, message = the_error(tmp_path, '<import from="x" dim="[2, 3, 4]"/>\n'
                                    '<import from="n" dim="[4]" type="int64"/>', '<node op="ReverseSequence">'
                                    '<input src="x"/><input src="n"/><output name="y"/></node>', Y1, opset=20)
    assert (code, text) == ("shape-error", "n")
    assert message == ("ReverseSequence: sequence_lens must hold one length per batch entry, [3] (axis 1 of "
                       "[2, 3, 4]), got [4]")


def test_squeeze_axes_fed_at_run_time_cannot_outnumber_the_ones(tmp_path) -> None:
    """Seed 10, #4447: four axes fed at run time for [1, 2, 3, 3], which has one dim of 1: check
    inferred a scalar; onnxruntime, given repeated axes, squeezed one."""
    code, text, message = the_error(tmp_path, '<import from="x" dim="[1, 2, 3, 3]"/>\n'
                                    '<import from="a" dim="[4]" type="int64"/>', '<node op="Squeeze">'
                                    '<input src="x"/><input src="a"/><output name="y"/></node>', Y1)
    assert (code, text) == ("bad-axis", "a")
    assert "would repeat an axis" in message


def test_max_unpool_indices_have_the_shape_of_x(tmp_path) -> None:
    """Seed 10, #6028: MaxUnpool with indices of another shape than X checked green; onnxruntime
    refuses it at run time."""
    code, text, message = the_error(tmp_path, '<import from="x" dim="[2, 3, 4]"/>\n'
                                    '<import from="i" dim="[1, 2, 3, 3]" type="int64"/>', '<node op="MaxUnpool" '
                                    'kernel_shape="[1]"><input src="x"/><input src="i"/><output name="y"/></node>',
                                    Y1, opset=18)
    assert (code, text, message) == ("shape-error", "i", "MaxUnpool: the indices must have the shape of X, "
                                     "[2, 3, 4], got [1, 2, 3, 3]")


def test_max_unpool_pads_must_be_smaller_than_the_kernel(tmp_path) -> None:
    """Seed 15, #3407: MaxUnpool with pads [2, 0, 0, 2] and a 2x2 kernel checked green;
    onnxruntime refuses it when it loads the model, as it does for MaxPool."""
    code, text, message = the_error(tmp_path, '<import from="x" dim="[1, 1, 2, 2]"/>\n'
                                    '<import from="i" dim="[1, 1, 2, 2]" type="int64"/>', '<node op="MaxUnpool" '
                                    'kernel_shape="[2, 2]" strides="[2, 2]" pads="[2, 0, 0, 2]"><input src="x"/>'
                                    '<input src="i"/><output name="y"/></node>', Y1)
    assert (code, text) == ("shape-error", "[2, 0, 0, 2]")
    assert message.startswith("MaxUnpool: every pad must be smaller than the kernel")
