"""One test per bug the differential fuzzer (tests/fuzz) found, each with its minimal markup.

Green cases are judged by the fuzzer's own oracle (compile, onnx.checker, onnxruntime,
inferred shapes and types, the PyTorch bridge's forward and one backward step); red cases
check the error the markup must get."""
from __future__ import annotations

import os
import sys
import warnings

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
pytest.importorskip("torch")

from fuzz.oracle import judge  # noqa: E402

from agrippa.sema.analysis import analyze  # noqa: E402


def project(tmp_path, imports: str, nodes: str, exports: str, opset: int = 13) -> str:
    (tmp_path / "main.agr").write_text(f"<model>\n{imports}\n<block>\n{nodes}\n</block>\n{exports}\n</model>\n")
    (tmp_path / "agrippa.toml").write_text(f'[model]\nindex = "main.agr"\nopset = {opset}\n')
    return str(tmp_path)


def green(tmp_path, *a, **kw) -> None:
    warnings.filterwarnings("ignore")
    v = judge(project(tmp_path, *a, **kw))
    assert v.category == "green-ok", (v.category, v.detail)


def error_codes(tmp_path, *a, **kw) -> set[str]:
    return {d.code for d in analyze(project(tmp_path, *a, **kw), strict=True).errors}


X23 = '<import from="x" dim="[2, 3]"/>'
Y = '<export from="y" dim="[2, 3]"/>'


# -- the PyTorch bridge (backend/converters/fixes.py, torch_bridge.py) ------------------------------
def test_cumsum_without_reverse_runs_forward(tmp_path) -> None:
    green(tmp_path, X23, '<node op="CumSum" axis="1"><input src="x"/><output name="y"/></node>', Y)


def test_cumsum_exclusive(tmp_path) -> None:
    green(tmp_path, X23, '<node op="CumSum" axis="0" exclusive="1"><input src="x"/><output name="y"/></node>', Y)


def test_flatten_at_the_last_axis(tmp_path) -> None:
    green(tmp_path, X23, '<node op="Flatten" axis="2"><input src="x"/><output name="y"/></node>',
          '<export from="y" dim="[6, 1]"/>')


def test_prelu_with_a_broadcast_slope(tmp_path) -> None:
    green(tmp_path, '<import from="x" dim="[4]"/>',
          '<node op="PRelu"><input src="x"/><params name="s" dim="[4]"/><output name="y"/></node>',
          '<export from="y" dim="[4]"/>')


def test_batch_normalization_with_trainable_statistics_trains(tmp_path) -> None:
    stats = "".join(f'<params name="{n}" dim="[3]" init="ones"/>' for n in ("scale", "b", "mean", "var"))
    green(tmp_path, X23, f'<node op="BatchNormalization"><input src="x"/>{stats}<output name="y"/></node>', Y)


@pytest.mark.parametrize("mode", ["edge", "reflect"])
@pytest.mark.parametrize("opset", [13, 18])
def test_pad_edge_and_reflect_on_any_rank(tmp_path, mode: str, opset: int) -> None:
    green(tmp_path, X23, f'<node op="Pad" pads="[0, 2, 0, 1]" mode="{mode}"><input src="x"/><output name="y"/></node>',
          '<export from="y" dim="[2, 6]"/>', opset=opset)


def test_dropout_with_a_seed(tmp_path) -> None:
    green(tmp_path, X23, '<node op="Dropout" seed="5"><input src="x"/><output name="y"/></node>', Y)


def test_pow_keeps_an_integer_base_type(tmp_path) -> None:
    green(tmp_path, '<import from="x" dim="[2, 3]" type="int64"/>',
          '<node op="Pow"><input src="x"/><params name="e" dim="[1]" init="ones"/><output name="y"/></node>',
          '<export from="y" dim="[2, 3]" type="int64"/>')


def test_nonzero_layout(tmp_path) -> None:
    green(tmp_path, '<import from="x" dim="[4]"/>', '<node op="NonZero"><input src="x"/><output name="y"/></node>',
          '<export from="y" dim="[1, 4]" type="int64"/>')


def test_selu_with_its_own_alpha(tmp_path) -> None:
    green(tmp_path, X23, '<node op="Selu" alpha="0.5" gamma="2"><input src="x"/><output name="y"/></node>', Y)


def test_instance_normalization_of_one_spatial_element(tmp_path) -> None:
    green(tmp_path, '<import from="x" dim="[4, 4, 1]"/>',
          '<node op="InstanceNormalization"><input src="x"/><params name="s" dim="[4]"/>'
          '<params name="b" dim="[4]"/><output name="y"/></node>', '<export from="y" dim="[4, 4, 1]"/>')


def test_constant_input_of_the_first_node_is_read_before_use(tmp_path) -> None:
    """The bridge put initializer reads before a node it had erased: the graph was not topological."""
    green(tmp_path, '<import from="x" dim="[4, 3]"/>',
          '<node op="Slice" starts="[1]" ends="[3]" axes="[0]"><input src="x"/><output name="s"/></node>'
          '<node op="Sum"><params name="p" dim="[2, 3]"/><input src="s"/><output name="y"/></node>',
          '<export from="y" dim="[2, 3]"/>')


# -- check (sema) -------------------------------------------------------------------------------------
def test_a_model_without_exports_is_an_error_when_compiling(tmp_path) -> None:
    assert "no-exports" in error_codes(tmp_path, X23, '<node op="Relu"><input src="x"/><output name="y"/></node>', "")
    warned = analyze(str(tmp_path)).diagnostics  # while editing: a warning
    assert [d.severity.name for d in warned if d.code == "no-exports"] == ["WARNING"]


def test_pool_pads_must_be_smaller_than_the_kernel(tmp_path) -> None:
    assert "shape-error" in error_codes(
        tmp_path, '<import from="x" dim="[1, 1, 4, 4]"/>',
        '<node op="AveragePool" kernel_shape="[1, 1]" pads="[1, 1, 1, 1]"><input src="x"/><output name="y"/></node>',
        '<export from="y" dim="[1, 1, 6, 6]"/>')


@pytest.mark.parametrize(("op", "attr"), [("ReduceMean", 'keepdims="-1"'), ("ArgMax", 'keepdims="2"'),
                                          ("CumSum", 'axis="1" exclusive="3"')])
def test_flags_are_0_or_1(tmp_path, op: str, attr: str) -> None:
    assert "bad-attribute" in error_codes(tmp_path, X23, f'<node op="{op}" {attr}><input src="x"/><output name="y"/></node>', Y)


def test_element_type_attributes_must_name_a_type(tmp_path) -> None:
    assert "bad-attribute" in error_codes(tmp_path, X23, '<node op="Cast" to="0"><input src="x"/><output name="y"/></node>', Y)


def test_cumsum_axis_in_range(tmp_path) -> None:
    assert "bad-axis" in error_codes(tmp_path, X23, '<node op="CumSum" axis="7"><input src="x"/><output name="y"/></node>', Y)


@pytest.mark.parametrize("node", [
    '<node op="Tile"><input src="x"/><input src="r"/><output name="y"/></node>',
    '<node op="Slice" starts="[0]"><input src="x"/><input src="r"/><output name="y"/></node>',
])
def test_shape_like_inputs_must_be_vectors(tmp_path, node: str) -> None:
    node = node.replace('<input src="r"/>', '<input src="r"/>' if "Tile" in node else "")
    imports = X23 + '<import from="r" dim="[2, 1]" type="int64"/>'
    if "Slice" in node:
        node = '<node op="Slice"><input src="x"/><input src="r"/><input src="r"/><output name="y"/></node>'
    assert "rank-mismatch" in error_codes(tmp_path, imports, node, Y)


def test_constant_needs_a_value(tmp_path) -> None:
    assert "shape-error" in error_codes(tmp_path, "<import from=\"x\" dim=\"[1]\"/>",
                                        '<node op="Constant"><output name="y"/></node>', '<export from="y" dim="[1]"/>')


def test_clip_bounds_are_scalars(tmp_path) -> None:
    imports = X23 + '<import from="m" dim="[2, 3]"/>'
    assert "rank-mismatch" in error_codes(tmp_path, imports, '<node op="Clip"><input src="x"/><input src="m"/>'
                                          '<output name="y"/></node>', Y)


def test_prelu_slope_broadcasts_one_way(tmp_path) -> None:
    assert "shape-mismatch" in error_codes(tmp_path, X23, '<node op="PRelu"><input src="x"/>'
                                           '<params name="s" dim="[2, 2, 3]"/><output name="y"/></node>', Y)


def test_a_sequence_cannot_be_a_graph_output(tmp_path) -> None:
    assert "type-mismatch" in error_codes(tmp_path, X23, '<node op="SplitToSequence"><input src="x"/>'
                                          '<output name="y"/></node>', Y)


def test_stft_onesided_by_default(tmp_path) -> None:
    """ONNX's inference reads a missing onesided as 0; onnxruntime (and the spec) as 1."""
    green(tmp_path, '<import from="s" dim="[2, 16, 1]"/><import from="w" dim="[6]"/>',
          '<node op="STFT" frame_step="4" frame_length="6"><input src="s"/><input src="w"/><output name="y"/></node>',
          '<export from="y" dim="[2, 3, 4, 2]"/>', opset=18)


def test_mean_variance_normalization_axes_fit_the_rank(tmp_path) -> None:
    """The default axes [0, 2, 3] need rank 4."""
    assert "bad-axis" in error_codes(tmp_path, X23, '<node op="MeanVarianceNormalization"><input src="x"/>'
                                     '<output name="y"/></node>', Y)


def test_float64_layer_norm_with_a_frozen_scale_and_no_bias(tmp_path) -> None:
    green(tmp_path, '<import from="x" dim="[2, 3]" type="float64"/>',
          '<node op="LayerNormalization"><input src="x"/><params name="g" dim="[3]" type="float64" frozen="yes" '
          'init="ones"/><output name="y"/></node>', '<export from="y" dim="[2, 3]" type="float64"/>', opset=17)


X4 = '<import from="x" dim="[1, 4, 2, 2]"/>'
Y4 = '<export from="y" dim="[1, 4, 2, 2]"/>'
IDX = '<import from="i" dim="[2, 2]" type="int64"/>'


@pytest.mark.parametrize(("imports", "node", "code", "opset"), [
    # operands that must be vectors or scalars (onnxruntime refuses others)
    (X23 + IDX, '<node op="ReduceSum"><input src="x"/><input src="i"/><output name="y"/></node>', "rank-mismatch", 13),
    (X23 + IDX, '<node op="TopK"><input src="x"/><input src="i"/><output name="y"/><output name="z"/></node>',
     "rank-mismatch", 13),
    # attribute values onnxruntime refuses
    (X4, '<node op="MaxPool" kernel_shape="[1, 1]" auto_pad="nearest"><input src="x"/><output name="y"/></node>',
     "bad-attribute", 13),
    (X4, '<node op="LRN" size="0"><input src="x"/><output name="y"/></node>', "bad-attribute", 13),
    (X23, '<node op="LpNormalization" p="3"><input src="x"/><output name="y"/></node>', "bad-attribute", 13),
    (X23, '<node op="Celu" alpha="0"><input src="x"/><output name="y"/></node>', "bad-attribute", 13),
    (X23, '<node op="RandomUniformLike" low="2" high="1"><input src="x"/><output name="y"/></node>',
     "bad-attribute", 13),
    (X23, '<node op="Cast" to="7" saturate="0"><input src="x"/><output name="y"/></node>', "bad-attribute", 19),
    # kernel rules
    ('<import from="x" dim="[1, 3, 3, 3]"/>', '<node op="SpaceToDepth" blocksize="2"><input src="x"/>'
     '<output name="y"/></node>', "shape-error", 13),
    (X4, '<node op="LRN" size="3"><input src="x"/><output name="y"/></node>'.replace("x", "z").replace(
        '<input src="z"/>', '<input src="x"/>'), None, 13),
    (X23, '<node op="LRN" size="3"><input src="x"/><output name="y"/></node>', "rank-mismatch", 13),
    ('<import from="x" dim="[3, 2, 1]"/><import from="l" dim="[2]" type="int64"/>',
     '<node op="ReverseSequence" time_axis="-1"><input src="x"/><input src="l"/><output name="y"/></node>',
     "bad-axis", 13),
    (X23, '<node op="Split" num_outputs="5" axis="1"><input src="x"/><output name="y"/><output name="z"/></node>',
     "shape-error", 18),
    ('<import from="x" dim="[4, 2, 3]"/><import from="w" dim="[1, 6, 3]"/><import from="r" dim="[1, 6, 2]"/>',
     '<node op="GRU" hidden_size="2" activations="[Relu]"><input src="x"/><input src="w"/><input src="r"/>'
     '<output name="y"/></node>', "bad-attribute", 13),
    (X23 + IDX, '<node op="GatherND" batch_dims="-2"><input src="x"/><input src="i"/><output name="y"/></node>',
     "bad-attribute", 13),
    ('<import from="a" dim="[2, 3]" type="uint8"/><import from="s" dim="[1]"/><import from="z" dim="[2, 2]" '
     'type="uint8"/>', '<node op="QLinearMatMul"><input src="a"/><input src="s"/><input src="z"/><input src="a"/>'
     '<input src="s"/><input src="z"/><input src="s"/><input src="z"/><output name="y"/></node>', "rank-mismatch", 13),
    # output types the schema does not allow
    ('<import from="x" dim="[2, 3]" type="int64"/>', '<node op="RandomNormalLike"><input src="x"/>'
     '<output name="y"/></node>', "type-mismatch", 13),
    (X23, '<node op="RandomNormalLike" dtype="7"><input src="x"/><output name="y"/></node>', "type-mismatch", 13),
    (X23, '<node op="Mod"><input src="x"/><input src="x"/><output name="y"/></node>', "type-mismatch", 13),
])
def test_rules_onnxruntime_enforces(tmp_path, imports: str, node: str, code: str | None, opset: int) -> None:
    got = error_codes(tmp_path, imports, node, '<export from="y" dim="[1]"/>', opset=opset)
    assert (code in got) if code else not got, got


def test_mean_variance_normalization_compiles_with_default_axes(tmp_path) -> None:
    """ONNX's function body reads `axes` by reference: written out, or the checker refuses it."""
    green(tmp_path, X4, '<node op="MeanVarianceNormalization"><input src="x"/><output name="y"/></node>', Y4,
          opset=18)


@pytest.mark.parametrize("op", ["ReduceL1", "ReduceL2", "ReduceLogSumExp", "ReduceMean"])
@pytest.mark.parametrize("opset", [13, 18])
def test_float_reductions_of_integers(tmp_path, op: str, opset: int) -> None:
    green(tmp_path, '<import from="x" dim="[2, 3]" type="int64"/>',
          f'<node op="{op}" axes="[0]"><input src="x"/><output name="y"/></node>',
          '<export from="y" dim="[1, 3]" type="int64"/>', opset=opset)


def test_tile_repeats_of_the_wrong_length(tmp_path) -> None:
    assert "rank-mismatch" in error_codes(tmp_path, X23 + '<import from="r" dim="[3]" type="int64"/>',
                                          '<node op="Tile"><input src="x"/><input src="r"/><output name="y"/></node>', Y)


def test_random_normal_scale_must_be_positive(tmp_path) -> None:
    """onnxruntime aborts the whole process on scale <= 0 (a libstdc++ assertion)."""
    assert "bad-attribute" in error_codes(tmp_path, X23, '<node op="RandomNormalLike" scale="0"><input src="x"/>'
                                          '<output name="y"/></node>', Y)


def test_lrn_size_is_odd(tmp_path) -> None:
    assert "bad-attribute" in error_codes(tmp_path, X4, '<node op="LRN" size="2"><input src="x"/><output name="y"/></node>',
                                          Y4)


def test_col2im_blocks_match_the_image(tmp_path) -> None:
    assert "shape-error" in error_codes(
        tmp_path, '<import from="x" dim="[1, 4, 9]"/>',
        '<node op="Col2Im" image_shape="[4, 4]" block_shape="[2, 2]" strides="[2, 2]" pads="[0, 0, -1, 2]">'
        '<input src="x"/><output name="y"/></node>', '<export from="y" dim="[1, 1, 4, 4]"/>', opset=18)


def test_depth_to_space_dcr(tmp_path) -> None:
    green(tmp_path, '<import from="x" dim="[1, 8, 2, 3]"/>', '<node op="DepthToSpace" blocksize="2">'
          '<input src="x"/><output name="y"/></node>', '<export from="y" dim="[1, 2, 4, 6]"/>')


def test_recurrent_weights_fit_hidden_size(tmp_path) -> None:
    assert "shape-error" in error_codes(
        tmp_path, '<import from="x" dim="[4, 2, 2]"/><import from="w" dim="[1, 3, 2]"/><import from="r" dim="[1, 3, 3]"/>',
        '<node op="RNN" hidden_size="5"><input src="x"/><input src="w"/><input src="r"/><output name="y"/></node>',
        '<export from="y" dim="[1]"/>')


def test_pad_pads_twice_the_rank(tmp_path) -> None:
    assert "shape-error" in error_codes(tmp_path, X4 + '<import from="p" dim="[4]" type="int64"/>',
                                        '<node op="Pad"><input src="x"/><input src="p"/><output name="y"/></node>', Y4)


def test_einsum_letters_stand_for_one_size(tmp_path) -> None:
    assert "shape-error" in error_codes(tmp_path, '<import from="x" dim="[1, 2, 3, 3]"/>',
                                        '<node op="Einsum" equation="none"><input src="x"/><output name="y"/></node>',
                                        '<export from="y" dim="[1]"/>')


# -- kernel rules of spatial ops (sema/shapes/spatial.py), and Trilu -------------------------------
def the_error(tmp_path, *a, **kw) -> tuple[str, str, str]:
    """The one error check reports: its code, the text its range marks, its message."""
    errors = analyze(project(tmp_path, *a, **kw), strict=True).errors
    assert len(errors) == 1, [e.message for e in errors]
    d = errors[0]
    r = d.range
    assert r.start.line == r.end.line
    line = (tmp_path / "main.agr").read_text().splitlines()[r.start.line]
    return d.code, line[r.start.character:r.end.character], d.message


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
