"""The model to train: compiled from the project, converted to torch, run on batches."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
import torch
from onnx import helper

from agrippa.backend.compile import CompileResult, compile_project, weights_path_for


class TrainError(Exception):
    """A mistake in the project or its data that stops training, with a message for the user."""


@dataclass
class InputSpec:
    name: str
    rank: int | None
    dtype: torch.dtype
    batch_axis: bool = False  # the model's own leading dim is a dynamic dim (`[model] dynamic`): the batch


@dataclass
class Model:
    """The compiled project and its torch module."""

    result: CompileResult
    module: torch.nn.Module  # the per-example module from onnx_to_torch
    runner: torch.nn.Module  # runs `module` on batches
    inputs: list[InputSpec]
    outputs: list[str]  # ONNX output names
    exports: list[str]  # the root exports' `from` names, in the same order
    weights_path: str
    params: dict[str, torch.Tensor] = field(default_factory=dict)  # the graph's parameters

    def output_index(self, prediction: str | None) -> int:
        if prediction is None:
            if len(self.outputs) == 1:
                return 0
            raise TrainError("the model has several exports (" + ", ".join(self.exports)
                             + "); choose one with prediction = \"<name>\" in [train]")
        for names in (self.exports, self.outputs):
            if prediction in names:
                return names.index(prediction)
        raise TrainError(f"prediction = {prediction!r} is not an export of the model "
                         f"(exports: {', '.join(self.exports)})")

    def weights(self, params: Mapping[str, torch.Tensor] | None = None) -> dict[str, np.ndarray]:
        """What the weights file holds: the trained parameters (`params`, default the
        model's), and the stored entries the markup no longer uses, kept as they were (a
        commented-out block loses nothing)."""
        out = dict(self.result.unused)
        params = self.params if params is None else params
        out.update({k: v.detach().cpu().numpy() for k, v in params.items()})
        return out

    def load(self, values: Mapping[str, torch.Tensor]) -> None:
        with torch.no_grad():
            for k, v in values.items():
                self.params[k].copy_(v)


def build(project: str, out_dir: str, *, bindings: Mapping[str, Any], profile: str | None,
          seed: int, reinit: bool, write_weights: bool, device: torch.device,
          fast: bool = True) -> Model:
    """Compile `project` into `out_dir` and convert it; `fast` uses the batched path if it can.

    A model whose inputs lead with a dynamic dim (`[model] dynamic = ["batch"]`) already
    takes batches: it is run as it is, without vmap or the batched path."""
    from agrippa.backend.torch_bridge import batched, onnx_to_torch

    result = compile_project(project, os.path.join(out_dir, "model.onnx"), bindings=dict(bindings),
                             profile=profile, seed=seed, reinit=reinit, write_weights=write_weights)
    proto = onnx.load(result.onnx_path)
    inits = {i.name for i in proto.graph.initializer}
    dynamic = set(result.analysis.graph.dynamic)
    inputs = []
    for i in proto.graph.input:
        if i.name in inits:
            continue
        tt = i.type.tensor_type
        rank = len(tt.shape.dim) if tt.HasField("shape") else None
        dtype = torch.from_numpy(np.zeros(0, helper.tensor_dtype_to_np_dtype(tt.elem_type))).dtype
        lead = tt.shape.dim[0].dim_param if rank else ""
        inputs.append(InputSpec(i.name, rank, dtype, batch_axis=bool(lead) and lead in dynamic))
    module = onnx_to_torch(proto)
    runner: torch.nn.Module | None = None
    if any(s.batch_axis for s in inputs):
        runner = module  # the model's own batch dim
    elif fast:
        from agrippa.train.batching import native_batched

        runner = native_batched(module, proto)
    if runner is None:
        runner = batched(module)
    runner.to(device)
    an = result.analysis
    exports = [el.get("from") or t.name for t, el in an.graph.outputs]
    inits_module = module.initializers
    params = {name: getattr(inits_module, name) for name in an.graph.params if hasattr(inits_module, name)}
    wpath = weights_path_for(an.project_dir, an.config.weights)
    return Model(result, module, runner, inputs, [o.name for o in proto.graph.output], exports, wpath, params)


def prepare(batch: Mapping[str, Any], specs: list[InputSpec], target_key: str, device: torch.device,
            rank: int = 0, world: int = 1) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Tensors for the model's inputs (this process's share of the batch) and the target."""
    if not isinstance(batch, Mapping):
        raise TrainError(f"a batch must be a dict of arrays, got {type(batch).__name__}")
    missing = [s.name for s in specs if s.name not in batch]
    if target_key not in batch:
        missing.append(f"{target_key} (the target)")
    if missing:
        raise TrainError("a batch lacks " + ", ".join(missing) + f"; it has {', '.join(map(str, batch))}")

    def shard(t: torch.Tensor, what: str) -> torch.Tensor:
        if world == 1:
            return t
        if t.shape[0] % world:
            raise TrainError(f"{what}: batch of {t.shape[0]} does not split over {world} processes")
        n = t.shape[0] // world
        return t[rank * n:(rank + 1) * n]

    values = []
    for s in specs:
        t = _to(torch.as_tensor(np.asarray(batch[s.name])), device, s.dtype)
        if s.batch_axis:  # the model's own leading dim is the batch
            if t.dim() != s.rank:
                raise TrainError(f"input {s.name!r} has {t.dim()} axes; the model declares {s.rank}, "
                                 f"the first being its dynamic batch dim")
            values.append(shard(t, s.name))
            continue
        if s.rank is not None and t.dim() not in (s.rank, s.rank + 1):
            raise TrainError(f"input {s.name!r} has {t.dim()} axes; the model declares {s.rank} "
                             f"(add a leading batch axis for per-example values)")
        values.append(shard(t, s.name) if s.rank is None or t.dim() == s.rank + 1 else t)
    target = _to(torch.as_tensor(np.asarray(batch[target_key])), device)
    if target.is_floating_point():
        target = target.float()
    return values, shard(target, target_key)


def _to(t: torch.Tensor, device: torch.device, dtype: torch.dtype | None = None) -> torch.Tensor:
    """`t` on `device`; to CUDA through pinned memory, without blocking."""
    if device.type == "cuda":
        return t.pin_memory().to(device=device, dtype=dtype, non_blocking=True)
    return t.to(device=device, dtype=dtype)
