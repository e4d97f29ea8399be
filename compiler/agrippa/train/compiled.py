"""torch.compile for training steps: inductor, with one partitioner setting changed.

AOTAutograd's min-cut partitioner by default refuses to recompute in the backward any value
that the backward would materialise (`ban_recompute_materialized_backward`). For a Relu whose
output is saved anyway (the input of the next MatMul), that makes the forward compute the
comparison `out <= 0` and save it as a bool mask. On CPU, inductor's vectorised bool loads and
stores (`VecMask::from(bool*)`, `VecMask::store(bool*, n)`) go element by element through a
stack buffer: the forward's Relu kernel and the backward's threshold/bias-sum kernel then
cost up to ~10× their eager counterparts (measured: a Transformer FFN's forward and backward
took 2× eager). With the ban lifted the backward recomputes the mask from a saved float
tensor, inside its own fused kernel.

The setting applies while our backend compiles (the partition happens then), never globally.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

PARTITIONER_CONFIG: dict[str, Any] = {"ban_recompute_materialized_backward": False}


def inductor_backend(gm: Any, example_inputs: Sequence[Any]) -> Callable[..., Any]:
    """A torch.compile backend: inductor's `compile_fx` under PARTITIONER_CONFIG."""
    import torch._functorch.config as functorch_config
    from torch._inductor.compile_fx import compile_fx

    with functorch_config.patch(PARTITIONER_CONFIG):
        return compile_fx(gm, list(example_inputs))


def compile_runner(runner: Callable[..., Any], fullgraph: bool = False) -> Callable[..., Any]:
    """`torch.compile(runner)` with inductor_backend."""
    import torch

    return torch.compile(runner, backend=inductor_backend, fullgraph=fullgraph)
