"""Loss functions: `mse`, `cross_entropy`, or a callable `"loss.py:fn"` from the project."""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from agrippa.train.data import call_with_accepted, load_callable

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error; a target with as many elements as the prediction is reshaped."""
    target = target.to(pred.dtype)
    if target.shape != pred.shape and target.numel() == pred.numel():
        target = target.reshape(pred.shape)
    return F.mse_loss(pred, target)


def cross_entropy(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross entropy of logits `[..., C]` with class indices `[...]` or probabilities `[..., C]`."""
    classes = pred.shape[-1]
    logits = pred.reshape(-1, classes)
    if target.is_floating_point() and target.shape[-1:] == pred.shape[-1:] and target.numel() == pred.numel():
        probs = target.reshape(-1, classes).to(pred.dtype)
        return -(probs * F.log_softmax(logits, dim=-1)).sum(-1).mean()
    return F.cross_entropy(logits, target.reshape(-1).long())


def make_loss(spec: str, project_dir: str) -> LossFn:
    if spec == "mse":
        return mse
    if spec == "cross_entropy":
        return cross_entropy
    fn = load_callable(spec, project_dir)

    def user_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loss = call_with_accepted(fn, {}, pred, target)
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            raise TypeError(f"{spec} must return a scalar tensor, got {type(loss).__name__}")
        return loss.reshape(())

    return user_loss
