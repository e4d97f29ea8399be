"""Loss ops upstream onnx2torch lacks (from the ONNX specs): SoftmaxCrossEntropyLoss and
NegativeLogLikelihoodLoss, with class weights, ``ignore_index`` and every reduction."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from agrippa.backend.converters._common import converter, result

_NO_INDEX = -(2**62)  # torch needs an int; no label is this


class NegativeLogLikelihoodLoss(nn.Module):
    """NegativeLogLikelihoodLoss-13/22: ``-input[n, target[n], ...] * weight[target[n]]``,
    reduced by the sum, the weighted mean or not at all (differentiable in ``weight`` too,
which torch's ``nll_loss`` is not)."""

    def __init__(self, reduction: str = "mean", ignore_index: int | None = None) -> None:
        super().__init__()
        self.reduction = reduction
        self.ignore_index = _NO_INDEX if ignore_index is None else ignore_index

    def forward(self, x: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
        target = target.to(torch.int64)
        keep = target != self.ignore_index
        safe = torch.where(keep, target, torch.zeros_like(target))
        picked = torch.gather(x, 1, safe.unsqueeze(1)).squeeze(1)  # x[n, target[n, ...], ...]
        w = keep.to(x.dtype) if weight is None else weight[safe] * keep.to(x.dtype)
        loss = -picked * w
        if self.reduction == "sum":
            return loss.sum()
        if self.reduction == "mean":
            return loss.sum() / w.sum()
        return loss


class SoftmaxCrossEntropyLoss(NegativeLogLikelihoodLoss):
    """SoftmaxCrossEntropyLoss-13: the NLL of ``log_softmax(scores, axis 1)``; the second
    output, when asked for, is that log-probability."""

    def __init__(self, reduction: str, ignore_index: int | None, with_log_prob: bool) -> None:
        super().__init__(reduction, ignore_index)
        self.with_log_prob = with_log_prob

    def forward(self, scores: torch.Tensor, labels: torch.Tensor,  # type: ignore[override]
                weights: torch.Tensor | None = None) -> Any:
        log_prob = torch.log_softmax(scores, dim=1)
        loss = super().forward(log_prob, labels, weights)
        return (loss, log_prob) if self.with_log_prob else loss


@converter("NegativeLogLikelihoodLoss", 13, 22)
def _nll(node: Any, graph: Any):
    attrs = node.attributes
    return result(NegativeLogLikelihoodLoss(attrs.get("reduction", "mean"), attrs.get("ignore_index")), node)


@converter("SoftmaxCrossEntropyLoss", 13)
def _sce(node: Any, graph: Any):
    attrs = node.attributes
    outputs = [o for o in node.output_values if o]
    module = SoftmaxCrossEntropyLoss(attrs.get("reduction", "mean"), attrs.get("ignore_index"), len(outputs) > 1)
    return result(module, node, outputs=outputs)
