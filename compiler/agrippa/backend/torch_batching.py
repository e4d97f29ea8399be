"""Running a per-example model on a batch: `torch.func.vmap` over the batched inputs, or a
per-example loop (for good) when vmap raises."""
from __future__ import annotations

import keyword
import re
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn


def input_identifier(name: str, taken: set[str]) -> str:
    """A Python identifier for an input name, unique among ``taken``."""
    base = re.sub(r"\W", "_", name) or "input"
    if base[0].isdigit() or keyword.iskeyword(base) or base == "self":
        base = f"x_{base}"
    ident, k = base, 1
    while ident in taken:
        k += 1
        ident = f"{base}_{k}"
    taken.add(ident)
    return ident


def _stack(results: list[Any]) -> Any:
    first = results[0]
    if isinstance(first, torch.Tensor):
        return torch.stack(results)
    if isinstance(first, (tuple, list)):
        return type(first)(_stack([r[k] for r in results]) for k in range(len(first)))
    raise TypeError(f"cannot stack outputs of type {type(first).__name__}")


class BatchedModule(nn.Module):
    """Runs a per-example module on a batch (see :func:`batched`)."""

    def __init__(self, module: nn.Module, batch_inputs: Iterable[str] | None = None) -> None:
        super().__init__()
        self.module = module
        self.input_names: tuple[str, ...] = tuple(getattr(module, "agrippa_input_names", ()))
        self.input_ranks: dict[str, int | None] = dict(getattr(module, "agrippa_input_ranks", {}))
        self.batch_inputs = None if batch_inputs is None else frozenset(batch_inputs)
        unknown = (self.batch_inputs or frozenset()) - set(self.input_names)
        if unknown and self.input_names:
            raise ValueError(f"unknown inputs in batch_inputs: {sorted(unknown)}")
        self.use_vmap = True

    def _bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
        values = [torch.as_tensor(a) if isinstance(a, np.ndarray) else a for a in args]
        if not kwargs:
            return values
        if not self.input_names:
            raise TypeError("keyword inputs need a module from onnx_to_torch")
        taken: set[str] = set()
        idents = [input_identifier(n, taken) for n in self.input_names]
        for key, value in kwargs.items():
            pos = self.input_names.index(key) if key in self.input_names else idents.index(key) if key in idents else None
            if pos is None:
                raise TypeError(f"unknown input {key!r}")
            values.extend([None] * (pos + 1 - len(values)))
            if values[pos] is not None:
                raise TypeError(f"input {key!r} given twice")
            values[pos] = torch.as_tensor(value) if isinstance(value, np.ndarray) else value
        if any(v is None for v in values):
            raise TypeError("missing inputs")
        return values

    def in_dims(self, values: Sequence[Any]) -> tuple[int | None, ...]:
        """0 for each batched input, None for shared ones."""
        dims: list[int | None] = []
        for k, value in enumerate(values):
            name = self.input_names[k] if k < len(self.input_names) else f"#{k}"
            if not isinstance(value, torch.Tensor):
                dims.append(None)
            elif self.batch_inputs is not None:
                dims.append(0 if name in self.batch_inputs else None)
            else:
                rank = self.input_ranks.get(name)
                if rank is None:
                    raise ValueError(f"rank of input {name!r} unknown: pass batch_inputs")
                if value.dim() not in (rank, rank + 1):
                    raise ValueError(f"input {name!r} has rank {value.dim()}, expected {rank} or {rank + 1}")
                dims.append(0 if value.dim() == rank + 1 else None)
        return tuple(dims)

    def loop(self, values: Sequence[Any], dims: Sequence[int | None]) -> Any:
        """Run example by example and stack the results."""
        sizes = {v.shape[0] for v, d in zip(values, dims) if d == 0}
        if len(sizes) != 1:
            raise ValueError(f"batched inputs disagree on the batch size: {sorted(sizes)}")
        n = sizes.pop()
        return _stack([self.module(*(v[i] if d == 0 else v for v, d in zip(values, dims))) for i in range(n)])

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        values = self._bind(args, kwargs)
        dims = self.in_dims(values)
        if all(d is None for d in dims):
            return self.module(*values)
        if not self.use_vmap:
            return self.loop(values, dims)
        try:
            return torch.func.vmap(self.module, in_dims=dims, randomness="different")(*values)
        except Exception as exc:
            result = self.loop(values, dims)
            self.use_vmap = False
            warnings.warn(f"vmap failed ({type(exc).__name__}: {exc}); looping over the batch", stacklevel=2)
            return result


def batched(module: nn.Module, batch_inputs: Iterable[str] | None = None) -> BatchedModule:
    """Run a per-example model on batches: inputs with a leading batch axis are mapped.

    ``batch_inputs`` names the batched inputs; when None, an input is batched if its rank
    is one more than the ONNX model declares. Uses ``torch.func.vmap``; when vmap raises,
    it falls back (for good) to a per-example loop. Gradients flow either way.
    """
    return BatchedModule(module, batch_inputs)
