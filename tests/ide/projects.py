"""The projects the IDE tests (and the end-to-end LSP tests) open."""
from __future__ import annotations

from pathlib import Path

TOML = """[bindings]
batch = 4
dhidden = 16
nlayers = 2
"""

MODEL = """<model>
    <import from="x" dim="[var(batch), var(dhidden)]" />
    <block title="Stack" rep="var(nlayers)">
        <import from="x" />
        <node op="MatMul" title="Linear">
            <input src="x" />
            <params name="W" dim="[var(dhidden), var(dhidden)]" init="zeros" />
            <output name="h" />
        </node>
        <node op="Relu" title="Act">
            <input src="h" />
            <output name="y" />
        </node>
        <export from="y" />
    </block>
    <export from="y" dim="[var(batch), var(dhidden)]" />
</model>
"""
"""A two-layer stack: `h` and `y` are [batch, dhidden], [4, 16] with TOML's bindings."""

SOURCED_PROJECT = {
    "main.agr": """<model>
    <import from="x" dim="[3, 4]" />
    <block title="Main">
        <node op="Identity" title="Feed">
            <input src="x" />
            <output name="enc$inp" />
        </node>
        <block src="sub/enc.agr" name="enc" />
        <node op="Relu" title="R">
            <input src="enc$result" />
            <output name="y" />
        </node>
        <node op="Add" title="Sum">
            <input src="y" />
            <input src="x" />
            <output name="z" />
        </node>
    </block>
    <export from="z" dim="[3, 4]" />
</model>
""",
    "sub/enc.agr": """<block title="Enc">
    <import from="inp" />
    <!-- a shared weight,
         declared twice -->
    <node op="MatMul" title="Lin">
        <input src="inp" />
        <params name="W" dim="[4, 4]" shared="yes" />
        <output name="h" />
    </node>
    <node op="MatMul" title="Lin2">
        <input src="h" />
        <params name="W" dim="[4, 4]" shared="yes" />
        <output name="result" />
    </node>
    <export from="result" />
</block>
""",
}
"""A project whose index sources sub/enc.agr as `enc` (names `enc$inp`, `enc$result`)."""

SOURCED_MAIN = """<model>
    <import from="x" dim="[var(batch), var(dmodel)]" />
    <block title="Prep">
        <node op="Identity" title="Feed">
            <input src="x" />
            <output name="enc$x" />
        </node>
    </block>
    <block src="layer.agr" name="enc" />
    <export from="enc$y" dim="[var(batch), expr(2 * dmodel)]" />
</model>
"""
SOURCED_LAYER = """<block title="Layer">
    <import from="x" />
    <node op="MatMul" title="Up">
        <input src="x" />
        <params name="W" dim="[var(dmodel), expr(2 * dmodel)]" />
        <output name="y" />
    </node>
    <export from="y" />
</block>
"""
SOURCED_TOML = "[model]\nindex = \"main.agr\"\n\n[bindings]\nbatch = 2\ndmodel = 8\n"

_PERCEIVER = Path(__file__).parents[1] / "data" / "perceiver"
PERCEIVER = {p.name: p.read_text() for p in sorted(_PERCEIVER.iterdir())}
"""A PerceiverAR-style project (tests/data/perceiver): attention.agr sourced three times,
`cross_attn` (latents [8, 64] read inputs [32, 64]), `down_attn` (latents on themselves)
and `up_attn` (inputs [32, 64] read latents [8, 64]); its `scores` are [8, 32], [8, 8]
and [32, 8]."""


def perceiver_swapped() -> dict[str, str]:
    """The project with `up_attn`'s q_in and kv_in swapped where the parent feeds them."""
    text = PERCEIVER["perceiver.agr"]
    for old, new in (("inputs", "down_attn$y"), ("down_attn$y", "inputs")):
        kind = "q_in" if old == "inputs" else "kv_in"
        text = text.replace(f'<input src="{old}" /><output name="up_attn${kind}"',
                            f'<input src="{new}" /><output name="up_attn${kind}"')
    return dict(PERCEIVER, **{"perceiver.agr": text})
