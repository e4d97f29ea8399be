"""Commands: compile (ONNX beside the index, progress), train (streamed, cancellable)."""
from __future__ import annotations

import asyncio
import importlib.util
import os

import pytest
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from .helpers import diagnostics_for, make_project, open_file

MODEL = """<model>
    <import from="x" dim="[var(n)]" />
    <block title="Linear">
        <node op="MatMul" title="Weights">
            <input src="x" />
            <params name="W" dim="[var(n), 1]" />
            <output name="y" />
        </node>
    </block>
    <export from="y" dim="[1]" />
</model>
"""
TOML = """[bindings]
n = 3

[train]
data = "data.py:batches"
loss = "mse"
optimizer = "sgd"
lr = 0.01
batch_size = 8
steps = {steps}
device = "cpu"
log = ""
plot = ""
"""
DATA = """import numpy as np


def batches(batch_size, seed=0):
    rng = np.random.default_rng(seed)
    while True:
        x = rng.normal(size=(batch_size, 3)).astype("float32")
        yield {"x": x, "target": x.sum(axis=1, keepdims=True).astype("float32")}
"""
CAN_TRAIN = all(importlib.util.find_spec(m) is not None for m in ("agrippa.train", "torch"))


async def _project(client: LanguageClient, tmp_path, steps: int = 40, model: str = MODEL) -> str:
    make_project(tmp_path, {"model.agr": model, "agrippa.toml": TOML.format(steps=steps), "data.py": DATA})
    uri = open_file(client, tmp_path / "model.agr")
    await diagnostics_for(client, uri)
    return uri


def _run(client: LanguageClient, command: str, *args: object):
    return client.workspace_execute_command_async(lsp.ExecuteCommandParams(command=command, arguments=list(args)))


def test_commands_are_advertised():
    from pygls.capabilities import ServerCapabilitiesBuilder
    from pytest_lsp import client_capabilities

    from agrippa_lsp.server import create_server

    fm = create_server().protocol.fm
    caps = ServerCapabilitiesBuilder(
        client_capabilities("visual-studio-code"), {**fm.features, **fm.builtin_features}.keys(),
        fm.feature_options, list(fm.commands), lsp.TextDocumentSyncKind.Incremental, None,
        lsp.PositionEncodingKind.Utf16).build()
    assert {"agrippa.compile", "agrippa.train", "agrippa.listProfiles",
            "agrippa.selectProfile"} <= set(caps.execute_command_provider.commands)


async def test_compile_writes_onnx_beside_the_index(client: LanguageClient, tmp_path):
    uri = await _project(client, tmp_path)
    result = await _run(client, "agrippa.compile", uri)
    assert result["path"] == str(tmp_path / "model.onnx") and os.path.isfile(result["path"])
    assert "model.onnx" in result["message"]
    assert any("model.onnx" in m.message for m in client.messages)
    reports = [v for vs in client.progress_reports.values() for v in vs]
    assert isinstance(reports[0], lsp.WorkDoneProgressBegin) and isinstance(reports[-1], lsp.WorkDoneProgressEnd)


async def test_compile_errors_are_shown(client: LanguageClient, tmp_path):
    uri = await _project(client, tmp_path, model=MODEL.replace('src="x"', 'src="nope"'))
    result = await _run(client, "agrippa.compile", uri)
    assert result["path"] is None and "'nope' is not defined" in result["message"]
    assert any(m.type == lsp.MessageType.Error and "nope" in m.message for m in client.messages)


async def test_bad_arguments_answer_with_an_error_result(client: LanguageClient):
    result = await _run(client, "agrippa.compile")
    assert "needs the file's URI" in result["error"]


@pytest.mark.slow
@pytest.mark.skipif(not CAN_TRAIN, reason="agrippa.train or torch is not installed")
async def test_train_streams_progress(client: LanguageClient, tmp_path):
    uri = await _project(client, tmp_path, steps=40)
    result = await asyncio.wait_for(_run(client, "agrippa.train", uri), 120)
    assert result["weights"] and os.path.isfile(result["weights"])
    assert isinstance(result["final_loss"], float)
    reports = [v for vs in client.progress_reports.values() for v in vs
               if isinstance(v, lsp.WorkDoneProgressReport)]
    assert any(r.message and r.message.startswith("step ") and "loss" in r.message for r in reports)


@pytest.mark.slow
@pytest.mark.skipif(not CAN_TRAIN, reason="agrippa.train or torch is not installed")
async def test_train_cancel(client: LanguageClient, tmp_path):
    uri = await _project(client, tmp_path, steps=10_000_000)
    task = asyncio.ensure_future(_run(client, "agrippa.train", uri))
    token = None
    for _ in range(1200):  # until the first step is reported
        token = next((t for t, vs in client.progress_reports.items()
                      if any(isinstance(v, lsp.WorkDoneProgressReport) for v in vs)), None)
        if token is not None or task.done():
            break
        await asyncio.sleep(0.05)
    assert token is not None, task.done() and task.result()
    client.window_work_done_progress_cancel(lsp.WorkDoneProgressCancelParams(token=token))
    result = await asyncio.wait_for(task, 60)
    assert result.get("cancelled") is True
    assert isinstance(client.progress_reports[token][-1], lsp.WorkDoneProgressEnd)
