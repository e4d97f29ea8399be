"""RNN, GRU and LSTM (every version the catalog uses), written from the ONNX specs: gates
in ONNX order (LSTM i, o, f, c; GRU z, r, h), forward, reverse or bidirectional,
``sequence_lens`` (steps past a sequence's length leave the state alone and output 0),
initial states, LSTM peepholes and ``input_forget``, GRU ``linear_before_reset``, ``clip``,
the activation list with its alphas and betas, and both layouts."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from agrippa.backend.converters._common import converter, result

_WITH_ALPHA = {"Affine": (1.0, 0.0), "LeakyRelu": (0.01, None), "ThresholdedRelu": (1.0, None),
               "ScaledTanh": (1.0, 1.0), "HardSigmoid": (0.2, 0.5), "Elu": (1.0, None)}


def _activation(name: str, alpha: float | None, beta: float | None) -> Callable[[torch.Tensor], torch.Tensor]:
    name = {k.lower(): k for k in ("Relu", "Tanh", "Sigmoid", "Softsign", "Softplus", *_WITH_ALPHA)}.get(
        name.lower(), name)
    simple = {"Relu": torch.relu, "Tanh": torch.tanh, "Sigmoid": torch.sigmoid,
              "Softsign": F.softsign, "Softplus": F.softplus}
    if name in simple:
        return simple[name]
    if name == "Affine":
        return lambda x: alpha * x + beta
    if name == "LeakyRelu":
        return lambda x: F.leaky_relu(x, alpha)
    if name == "ThresholdedRelu":
        return lambda x: torch.where(x > alpha, x, torch.zeros_like(x))
    if name == "ScaledTanh":
        return lambda x: alpha * torch.tanh(beta * x)
    if name == "HardSigmoid":
        return lambda x: torch.clamp(alpha * x + beta, 0.0, 1.0)
    if name == "Elu":
        return lambda x: F.elu(x, alpha)
    raise NotImplementedError(f"recurrent activation {name!r} is not supported in training")


class Recurrent(nn.Module):
    """One ONNX RNN, GRU or LSTM node."""

    GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}
    DEFAULT_ACTIVATIONS = {"RNN": ["Tanh"], "GRU": ["Sigmoid", "Tanh"], "LSTM": ["Sigmoid", "Tanh", "Tanh"]}

    def __init__(self, op: str, attrs: dict[str, Any], outputs: tuple[bool, ...]) -> None:
        super().__init__()
        self.op = op
        self.hidden = int(attrs["hidden_size"]) if "hidden_size" in attrs else None
        self.direction = attrs.get("direction", "forward")
        self.dirs = 2 if self.direction == "bidirectional" else 1
        self.layout = int(attrs.get("layout", 0))
        self.clip = attrs.get("clip")
        self.linear_before_reset = bool(attrs.get("linear_before_reset", 0))
        self.input_forget = bool(attrs.get("input_forget", 0))
        self.outputs = outputs
        per_dir = self.DEFAULT_ACTIVATIONS[op]
        names = list(attrs.get("activations", per_dir * self.dirs))
        alphas, betas = list(attrs.get("activation_alpha", [])), list(attrs.get("activation_beta", []))
        self.activation_names = names
        self.params: list[tuple[float | None, float | None]] = []
        for name in names:
            defaults = _WITH_ALPHA.get(name, (None, None))
            a = alphas.pop(0) if defaults[0] is not None and alphas else defaults[0]
            b = betas.pop(0) if defaults[1] is not None and betas else defaults[1]
            self.params.append((a, b))

    def _acts(self, d: int) -> list[Callable[[torch.Tensor], torch.Tensor]]:
        n = len(self.DEFAULT_ACTIVATIONS[self.op])
        picked = list(zip(self.activation_names, self.params))[d * n:(d + 1) * n]
        return [_activation(name, a, b) for name, (a, b) in picked]

    def _clip(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.clip is None else torch.clamp(x, -self.clip, self.clip)

    def forward(self, x: torch.Tensor, w: torch.Tensor, r: torch.Tensor, b: torch.Tensor | None = None,
                sequence_lens: torch.Tensor | None = None, initial_h: torch.Tensor | None = None,
                initial_c: torch.Tensor | None = None, p: torch.Tensor | None = None) -> Any:
        if self.layout == 1:
            x = x.transpose(0, 1)
            initial_h = None if initial_h is None else initial_h.transpose(0, 1)
            initial_c = None if initial_c is None else initial_c.transpose(0, 1)
        steps, batch = x.shape[0], x.shape[1]
        hidden = r.shape[-1]
        ys, hs, cs = [], [], []
        t_index = torch.arange(steps, device=x.device)
        for d in range(self.dirs):
            reverse = self.direction == "reverse" or d == 1
            gates = self.GATES[self.op]
            wb = b[d, : gates * hidden] if b is not None else None
            rb = b[d, gates * hidden:] if b is not None else None
            h = initial_h[d] if initial_h is not None else x.new_zeros(batch, hidden)
            c = initial_c[d] if initial_c is not None else x.new_zeros(batch, hidden)
            xw = torch.matmul(x, w[d].t()) + (wb if wb is not None else 0)  # (T, B, G*H)
            acts = self._acts(d)
            out: list[torch.Tensor] = [x.new_zeros(())] * steps
            for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
                h_new, c_new = self._cell(xw[t], h, c, r[d], rb, p[d] if p is not None else None, acts, hidden)
                if sequence_lens is not None:
                    live = (t_index[t] < sequence_lens.to(torch.int64)).unsqueeze(-1)
                    h = torch.where(live, h_new, h)
                    c = torch.where(live, c_new, c)
                    out[t] = torch.where(live, h_new, torch.zeros_like(h_new))
                else:
                    h, c = h_new, c_new
                    out[t] = h_new
            ys.append(torch.stack(out))  # (T, B, H)
            hs.append(h)
            cs.append(c)
        y = torch.stack(ys, dim=1)  # (T, D, B, H)
        y_h, y_c = torch.stack(hs), torch.stack(cs)
        if self.layout == 1:
            y, y_h, y_c = y.permute(2, 0, 1, 3), y_h.transpose(0, 1), y_c.transpose(0, 1)
        values = (y, y_h, y_c)[: len(self.outputs)]
        picked = tuple(v for v, wanted in zip(values, self.outputs) if wanted)
        return picked[0] if len(picked) == 1 else picked

    def _cell(self, xw: torch.Tensor, h: torch.Tensor, c: torch.Tensor, r: torch.Tensor, rb: torch.Tensor | None,
              p: torch.Tensor | None, acts: list, hidden: int) -> tuple[torch.Tensor, torch.Tensor]:
        hr = torch.matmul(h, r.t()) + (rb if rb is not None else 0)
        if self.op == "RNN":
            return acts[0](self._clip(xw + hr)), c
        if self.op == "GRU":
            f, g = acts
            xz, xr, xh = xw.split(hidden, -1)
            hz, hr_, hh = hr.split(hidden, -1)
            z = f(self._clip(xz + hz))
            rg = f(self._clip(xr + hr_))
            if self.linear_before_reset:
                cand = g(self._clip(xh + rg * hh))
            else:
                rh = r[2 * hidden:]
                rbh = rb[2 * hidden:] if rb is not None else 0
                cand = g(self._clip(xh + torch.matmul(rg * h, rh.t()) + rbh))
            return (1 - z) * cand + z * h, c
        f, g, hact = acts
        xi, xo, xf, xc = xw.split(hidden, -1)
        hi, ho, hf, hc = hr.split(hidden, -1)
        pi, po, pf = (p.split(hidden) if p is not None else (0, 0, 0))
        i = f(self._clip(xi + hi + pi * c))
        fg = 1 - i if self.input_forget else f(self._clip(xf + hf + pf * c))
        cand = g(self._clip(xc + hc))
        c_new = fg * c + i * cand
        o = f(self._clip(xo + ho + po * c_new))
        return o * hact(c_new), c_new


def _recurrent(node: Any, graph: Any):
    names = list(node.output_values)
    wanted = tuple(bool(n) for n in names)
    module = Recurrent(node.operation_type, dict(node.attributes), wanted)
    return result(module, node, outputs=[n for n in names if n])


converter("RNN", 7, 14, 22)(_recurrent)
converter("GRU", 7, 14, 22)(_recurrent)
converter("LSTM", 7, 14, 22)(_recurrent)
