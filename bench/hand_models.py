"""Handwritten PyTorch versions of the benchmark models, built from the Agrippa models'
weights (by their mangled names) so that both give the same logits.

Written as one would by hand: the heads' projections fused into one matrix per layer,
`F.layer_norm`, and (except HandGPT, the original benchmark's model, which spells the
attention out) `F.scaled_dot_product_attention`.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

W = dict[str, np.ndarray]


def _p(a: np.ndarray) -> nn.Parameter:
    return nn.Parameter(torch.tensor(np.asarray(a, dtype=np.float32)))


def _heads(w: W, prefix: str, name: str, layer: int, heads: int) -> np.ndarray:
    """The per-head matrices `prefix$name$i` of one layer side by side."""
    return np.concatenate([w[f"{prefix}{name}${layer * heads + h + 1}"] for h in range(heads)], 1)


class Attention(nn.Module):
    """Multi-head attention with fused projections (q, k, v in one matrix for self-attention)."""

    def __init__(self, w: W, prefix: str, layer: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.q = _p(_heads(w, prefix, "query_w", layer, heads))
        self.kv = _p(np.concatenate([_heads(w, prefix, "key_w", layer, heads),
                                     _heads(w, prefix, "value_w", layer, heads)], 1))
        self.out = _p(w[f"{prefix}out_w${layer + 1}"])

    def forward(self, xq: torch.Tensor, xkv: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        b, nq, d = xq.shape
        nk, h = xkv.shape[1], self.heads
        if xq is xkv:
            q, k, v = (xq @ torch.cat([self.q, self.kv], 1)).view(b, nq, 3, h, -1).permute(2, 0, 3, 1, 4)
        else:
            q = (xq @ self.q).view(b, nq, h, -1).transpose(1, 2)
            k, v = (xkv @ self.kv).view(b, nk, 2, h, -1).permute(2, 0, 3, 1, 4)
        att = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return att.transpose(1, 2).reshape(b, nq, -1) @ self.out


class Norm(nn.Module):
    def __init__(self, gain: np.ndarray, bias: np.ndarray) -> None:
        super().__init__()
        self.gain, self.bias = _p(gain), _p(bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, self.gain.shape, self.gain, self.bias, eps=1e-5)


class FFN(nn.Module):
    def __init__(self, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray) -> None:
        super().__init__()
        self.w1, self.b1, self.w2, self.b2 = _p(w1), _p(b1), _p(w2), _p(b2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x @ self.w1 + self.b1) @ self.w2 + self.b2


class HandGPT(nn.Module):
    """examples/gpt/gpt.agr (pre-LN decoder, tied embedding)."""

    def __init__(self, w: W, layers: int, heads: int) -> None:
        super().__init__()
        t = _p
        cat = lambda name, k: _heads(w, "", name, k, heads)  # noqa: E731
        self.heads = heads
        self.embed, self.pos = t(w["embed"]), t(w["positions$1"])
        self.norm0 = nn.ParameterList([t(w["embed_norm_gain$1"]), t(w["embed_norm_bias$1"])])
        self.qkv = nn.ParameterList([t(np.concatenate([cat("query_w", k), cat("key_w", k), cat("value_w", k)], 1))
                                     for k in range(layers)])
        names = ["attn_out_w", "attn_norm_gain", "attn_norm_bias", "ffn_norm_gain", "ffn_norm_bias",
                 "ffn_w1", "ffn_b1", "ffn_w2", "ffn_b2"]
        self.layer = nn.ModuleList(nn.ParameterDict({n: t(w[f"{n}${k + 1}"]) for n in names}) for k in range(layers))
        self.norm_f = nn.ParameterList([t(w["final_norm_gain$1"]), t(w["final_norm_bias$1"])])

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, n, _ = tokens.shape
        d = self.embed.shape[1]
        x = F.layer_norm(tokens @ self.embed + self.pos, (d,), *self.norm0, eps=1e-5)
        for qkv, p in zip(self.qkv, self.layer):
            h = F.layer_norm(x, (d,), p["attn_norm_gain"], p["attn_norm_bias"], eps=1e-5)
            q, k, v = (h @ qkv).view(b, n, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
            scores = q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5 + mask
            att = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, n, -1)
            x = x + att @ p["attn_out_w"]
            h = F.layer_norm(x, (d,), p["ffn_norm_gain"], p["ffn_norm_bias"], eps=1e-5)
            x = x + torch.relu(h @ p["ffn_w1"] + p["ffn_b1"]) @ p["ffn_w2"] + p["ffn_b2"]
        x = F.layer_norm(x, (d,), *self.norm_f, eps=1e-5)
        return x @ self.embed.T


class HandPerceiver(nn.Module):
    """bench/models/perceiver: cross-attention down to the latent, blocks, cross-attention up."""

    def __init__(self, w: W, layers: int, heads: int) -> None:
        super().__init__()
        n = lambda name, k=1: Norm(w[f"{name}_gain${k}"], w[f"{name}_bias${k}"])  # noqa: E731
        self.embed, self.pos, self.latent = _p(w["embed$1"]), _p(w["positions$1"]), _p(w["latent$1"])
        self.down_q, self.down_kv, self.down = n("down_query_norm"), n("down_key_norm"), Attention(w, "down$", 0, heads)
        self.self_norm = nn.ModuleList(n("self_norm", k + 1) for k in range(layers))
        self.attn = nn.ModuleList(Attention(w, "self$", k, heads) for k in range(layers))
        self.ffn_norm = nn.ModuleList(n("ffn_norm", k + 1) for k in range(layers))
        self.ffn = nn.ModuleList(FFN(*(w[f"ffn_{p}${k + 1}"] for p in ("w1", "b1", "w2", "b2")))
                                 for k in range(layers))
        self.up_q, self.up_kv, self.up = n("up_query_norm"), n("up_key_norm"), Attention(w, "up$", 0, heads)
        self.final, self.unembed = n("final_norm"), _p(w["unembed$1"])

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = tokens @ self.embed + self.pos
        lat = self.latent.expand(x.shape[0], *self.latent.shape)
        lat = lat + self.down(self.down_q(lat), self.down_kv(x))
        for norm, attn, fnorm, ffn in zip(self.self_norm, self.attn, self.ffn_norm, self.ffn):
            h = norm(lat)
            lat = lat + attn(h, h)
            lat = lat + ffn(fnorm(lat))
        x = x + self.up(self.up_q(x), self.up_kv(lat))
        return self.final(x) @ self.unembed


class HandEncDec(nn.Module):
    """examples/transformer: post-LN encoder-decoder, shared scaled embedding."""

    def __init__(self, w: W, layers: int, heads: int) -> None:
        super().__init__()
        n = lambda name, k: Norm(w[f"{name}$gain${k + 1}"], w[f"{name}$bias${k + 1}"])  # noqa: E731
        f = lambda name, k: FFN(*(w[f"{name}${p}${k + 1}"] for p in ("w1", "b1", "w2", "b2")))  # noqa: E731
        self.embed, self.scale = _p(w["embed"]), float(w["sqrt_dmodel$constant"][0])
        self.src_pos, self.tgt_pos = _p(w["src_positions$1"]), _p(w["tgt_positions$1"])
        r = range(layers)
        self.enc = nn.ModuleList(nn.ModuleList([Attention(w, "enc_attn$", k, heads), n("enc_attn_norm", k),
                                                f("enc_ffn", k), n("enc_ffn_norm", k)]) for k in r)
        self.dec = nn.ModuleList(nn.ModuleList([Attention(w, "dec_attn$", k, heads), n("dec_attn_norm", k),
                                                Attention(w, "cross_attn$", k, heads), n("cross_norm", k),
                                                f("dec_ffn", k), n("dec_ffn_norm", k)]) for k in r)

    def forward(self, src: torch.Tensor, tgt: torch.Tensor, src_mask: torch.Tensor,
                tgt_mask: torch.Tensor) -> torch.Tensor:
        x = src @ self.embed * self.scale + self.src_pos
        for attn, norm1, ffn, norm2 in self.enc:
            x = norm1(x + attn(x, x, src_mask))
            x = norm2(x + ffn(x))
        y = tgt @ self.embed * self.scale + self.tgt_pos
        for attn, norm1, cross, norm2, ffn, norm3 in self.dec:
            y = norm1(y + attn(y, y, tgt_mask))
            y = norm2(y + cross(y, x, src_mask))
            y = norm3(y + ffn(y))
        return y @ self.embed.T


class HandCNN(nn.Module):
    """examples/cnn: two 3×3 convolutions with Relu and 2×2 max pooling, a linear classifier."""

    def __init__(self, w: W) -> None:
        super().__init__()
        self.c1w, self.c1b, self.c2w, self.c2b = (_p(w[f"{k}$1"]) for k in ("conv1_w", "conv1_b", "conv2_w", "conv2_b"))
        self.fcw, self.fcb = _p(w["fc_w$1"]), _p(w["fc_b$1"])

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(torch.relu(F.conv2d(image, self.c1w, self.c1b, padding=1)), 2)
        x = F.max_pool2d(torch.relu(F.conv2d(x, self.c2w, self.c2b, padding=1)), 2)
        return x.flatten(1) @ self.fcw + self.fcb
