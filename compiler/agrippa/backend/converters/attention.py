"""Attention (23, 24, 25), RotaryEmbedding (23), LinearAttention and CausalConvWithState
(27), written from the ONNX specs.

Attention: 3-D inputs are split into heads (``q_num_heads``/``kv_num_heads``), the past
cache is prepended to K and V (``present_*``), grouped-query heads are repeated, and the
bias is the sum of the mask (boolean: ``-inf`` where False; float: added; padded with
``-inf`` when shorter), the bottom-right causal frontier, ``nonpad_kv_seqlen`` padding and
the sliding window. A fully masked query row gives a zero row. The optional fourth output
is the scores at the stage ``qk_matmul_output_mode`` names.
"""
from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from agrippa.backend.converters._common import converter, result

_SOFTMAX_TYPES = {1: torch.float32, 10: torch.float16, 11: torch.float64, 16: torch.bfloat16}


def _heads(x: torch.Tensor, n: int) -> torch.Tensor:
    """(B, S, n*h) -> (B, n, S, h)."""
    b, s, hidden = x.shape
    return x.reshape(b, s, n, hidden // n).transpose(1, 2)


class Attention(nn.Module):
    """ONNX Attention: scaled dot-product attention with masks, caches and GQA."""

    def __init__(self, attrs: dict[str, Any], outputs: tuple[bool, bool, bool, bool]) -> None:
        super().__init__()
        self.q_heads = attrs.get("q_num_heads")
        self.kv_heads = attrs.get("kv_num_heads")
        self.scale = attrs.get("scale")
        self.causal = bool(attrs.get("is_causal", 0))
        self.softcap = float(attrs.get("softcap", 0.0))
        self.mode = int(attrs.get("qk_matmul_output_mode", 0))
        self.softmax_type = _SOFTMAX_TYPES.get(attrs.get("softmax_precision", 0))
        self.left = int(attrs.get("left_window_size", -1))
        self.right = int(attrs.get("right_window_size", -1))
        self.outputs = outputs  # which of Y, present_key, present_value, qk_matmul_output are asked for

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, attn_mask: torch.Tensor | None = None,
                past_key: torch.Tensor | None = None, past_value: torch.Tensor | None = None,
                nonpad_kv_seqlen: torch.Tensor | None = None) -> Any:
        three_d = q.dim() == 3
        if three_d:
            q, k, v = _heads(q, self.q_heads), _heads(k, self.kv_heads), _heads(v, self.kv_heads)
        past = 0
        if past_key is not None:
            past = past_key.shape[-2]
            k = torch.cat([past_key, k], dim=-2)
            v = torch.cat([past_value, v], dim=-2)
        present_k, present_v = k, v
        groups = q.shape[-3] // k.shape[-3]
        if groups > 1:
            k, v = k.repeat_interleave(groups, dim=-3), v.repeat_interleave(groups, dim=-3)
        scale = self.scale if self.scale is not None else 1.0 / math.sqrt(q.shape[-1])
        root = math.sqrt(scale)
        scores = torch.matmul(q * root, (k * root).transpose(-1, -2))
        stages = [scores]
        if self.softcap > 0:
            scores = self.softcap * torch.tanh(scores / self.softcap)
        stages.append(scores)
        s_q, total = scores.shape[-2], scores.shape[-1]
        bias = torch.zeros((), dtype=scores.dtype, device=scores.device)
        if attn_mask is not None:
            if attn_mask.shape[-1] < total:
                fill = False if attn_mask.dtype == torch.bool else float("-inf")
                attn_mask = F.pad(attn_mask, (0, total - attn_mask.shape[-1]), value=fill)
            if attn_mask.dtype == torch.bool:
                bias = bias + torch.where(attn_mask, 0.0, float("-inf")).to(scores.dtype)
            else:
                bias = bias + attn_mask.to(scores.dtype)
        i = torch.arange(s_q, device=q.device).unsqueeze(-1)
        j = torch.arange(total, device=q.device)
        if nonpad_kv_seqlen is not None:
            lens = nonpad_kv_seqlen.to(torch.int64).reshape(-1, 1, 1, 1)
            offset = lens - s_q
            allowed = j < lens
        else:
            offset = torch.tensor(past, device=q.device)
            allowed = torch.ones((), dtype=torch.bool, device=q.device)
        pos = i + offset
        if self.causal:
            allowed = allowed & (j <= pos)
        if self.left >= 0:
            allowed = allowed & (j >= pos - self.left)
        if self.right >= 0:
            allowed = allowed & (j <= pos + self.right)
        bias = bias + torch.where(allowed, 0.0, float("-inf")).to(scores.dtype)
        scores = scores + bias
        stages.append(scores)
        dead = torch.isneginf(scores).all(dim=-1, keepdim=True)
        work = torch.where(dead, torch.zeros_like(scores), scores)
        if self.softmax_type is not None:
            probs = torch.softmax(work.to(self.softmax_type), dim=-1).to(scores.dtype)
        else:
            probs = torch.softmax(work, dim=-1)
        probs = torch.where(dead, torch.zeros_like(probs), probs)
        stages.append(probs)
        y = torch.matmul(probs, v)
        if three_d:
            y = y.transpose(1, 2).reshape(y.shape[0], y.shape[2], -1)
        values = (y, present_k, present_v, stages[self.mode])
        picked = tuple(value for value, wanted in zip(values, self.outputs) if wanted)
        return picked[0] if len(picked) == 1 else picked


@converter("Attention", 23, 24, 25)
def _attention(node: Any, graph: Any):
    names = list(node.output_values) + [""] * (4 - len(node.output_values))
    wanted = tuple(bool(n) for n in names[:4])
    return result(Attention(dict(node.attributes), wanted), node, outputs=[n for n in names if n])


class RotaryEmbedding(nn.Module):
    """RotaryEmbedding-23: rotate (halves or interleaved pairs of) the first
    ``rotary_embedding_dim`` features by the cached cos/sin of each position."""

    def __init__(self, interleaved: bool, rotary_dim: int, num_heads: int) -> None:
        super().__init__()
        self.interleaved, self.rotary_dim, self.num_heads = interleaved, rotary_dim, num_heads

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor,
                position_ids: torch.Tensor | None = None) -> torch.Tensor:
        shape = x.shape
        if x.dim() == 4:
            x = x.transpose(1, 2)  # (B, S, H, D)
        else:
            x = x.reshape(shape[0], shape[1], self.num_heads, shape[2] // self.num_heads)
        dim = self.rotary_dim or x.shape[-1]
        rot, keep = x[..., :dim], x[..., dim:]
        if position_ids is not None:
            cos, sin = cos[position_ids.to(torch.int64)], sin[position_ids.to(torch.int64)]
        cos, sin = cos.unsqueeze(2), sin.unsqueeze(2)
        if self.interleaved:
            x1, x2 = rot[..., 0::2], rot[..., 1::2]
        else:
            x1, x2 = rot[..., : dim // 2], rot[..., dim // 2:]
        real = cos * x1 - sin * x2
        imag = sin * x1 + cos * x2
        if self.interleaved:
            rot = torch.stack([real, imag], dim=-1).reshape(rot.shape)
        else:
            rot = torch.cat([real, imag], dim=-1)
        out = torch.cat([rot, keep], dim=-1)
        return out.reshape(shape) if len(shape) == 3 else out.transpose(1, 2)


@converter("RotaryEmbedding", 23)
def _rotary(node: Any, graph: Any):
    attrs = node.attributes
    module = RotaryEmbedding(bool(attrs.get("interleaved", 0)), int(attrs.get("rotary_embedding_dim", 0)),
                             int(attrs.get("num_heads", 0)))
    return result(module, node)


class LinearAttention(nn.Module):
    """LinearAttention-27: the recurrence of ``update_rule`` run token by token per KV head
    (``linear``, ``gated``, ``delta``, ``gated_delta``), query heads grouped onto KV heads."""

    def __init__(self, q_heads: int, kv_heads: int, scale: float, rule: str) -> None:
        super().__init__()
        self.q_heads, self.kv_heads, self.scale, self.rule = q_heads, kv_heads, scale, rule

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                past_state: torch.Tensor | None = None, decay: torch.Tensor | None = None,
                beta: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        b, steps, _ = query.shape
        hq, hkv = self.q_heads, self.kv_heads
        dk, dv = query.shape[-1] // hq, value.shape[-1] // hkv
        q = query.reshape(b, steps, hq, dk)
        k = key.reshape(b, steps, hkv, dk)
        v = value.reshape(b, steps, hkv, dv)
        state = past_state if past_state is not None else query.new_zeros(b, hkv, dk, dv)
        scale = self.scale or 1.0 / math.sqrt(dk)
        gated, delta = self.rule in ("gated", "gated_delta"), self.rule in ("delta", "gated_delta")
        outputs = []
        for t in range(steps):
            kt, vt = k[:, t], v[:, t]  # (B, Hkv, dk), (B, Hkv, dv)
            if gated:
                g = torch.exp(decay[:, t])
                g = g.reshape(b, hkv, dk, 1) if g.shape[-1] == hkv * dk else g.reshape(b, hkv, 1, 1)
                state = g * state
            if delta:
                bt = beta[:, t].reshape(b, -1, 1)  # (B, Hkv or 1, 1)
                predicted = torch.einsum("bhkv,bhk->bhv", state, kt)
                state = state + torch.einsum("bhk,bhv->bhkv", kt, bt * (vt - predicted))
            else:
                state = state + torch.einsum("bhk,bhv->bhkv", kt, vt)
            per_q = state.repeat_interleave(hq // hkv, dim=1)  # (B, Hq, dk, dv)
            outputs.append(scale * torch.einsum("bhk,bhkv->bhv", q[:, t], per_q))
        out = torch.stack(outputs, dim=1).reshape(b, steps, hq * dv)
        return out, state


@converter("LinearAttention", 27)
def _linear_attention(node: Any, graph: Any):
    attrs = node.attributes
    module = LinearAttention(int(attrs["q_num_heads"]), int(attrs["kv_num_heads"]), float(attrs.get("scale", 0.0)),
                             attrs.get("update_rule", "gated_delta"))
    return result(module, node)


class CausalConvWithState(nn.Module):
    """CausalConvWithState-27: a depthwise 1-D convolution over ``past_state ++ input``
    (zeros without a past), optionally SiLU'd; the new state is the last k - 1 positions."""

    def __init__(self, activation: str, outputs: tuple[bool, bool]) -> None:
        super().__init__()
        self.silu = activation in ("silu", "swish")
        self.outputs = outputs

    def forward(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
                past_state: torch.Tensor | None = None) -> Any:
        k = weight.shape[-1]
        past = past_state if past_state is not None else x.new_zeros(x.shape[0], x.shape[1], k - 1)
        padded = torch.cat([past, x], dim=-1)
        y = F.conv1d(padded, weight, bias, groups=x.shape[1])
        if self.silu:
            y = y * torch.sigmoid(y)
        present = padded[..., padded.shape[-1] - (k - 1):]
        picked = tuple(v for v, wanted in zip((y, present), self.outputs) if wanted)
        return picked[0] if len(picked) == 1 else picked


@converter("CausalConvWithState", 27)
def _causal_conv(node: Any, graph: Any):
    names = list(node.output_values) + [""]
    wanted = (bool(names[0]), bool(names[1]))
    module = CausalConvWithState(node.attributes.get("activation", "none"), wanted)
    return result(module, node, outputs=[n for n in names[:2] if n])
