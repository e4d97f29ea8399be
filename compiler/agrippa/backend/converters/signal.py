"""Signal ops from the ONNX specs: the Hann, Hamming and Blackman windows, DFT (17, 20)
and STFT. Complex values are the ONNX way: a trailing axis of 2 (real, imaginary), or 1
for a real input."""
from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from agrippa.backend.converters._common import constant_ints, converter, dynamic_inputs, result

DTYPES = {1: torch.float32, 2: torch.uint8, 3: torch.int8, 5: torch.int16, 6: torch.int32, 7: torch.int64,
          10: torch.float16, 11: torch.float64, 16: torch.bfloat16}


def _scalar(x: torch.Tensor | int) -> int:
    return x if isinstance(x, int) else int(x.reshape(-1)[0])


class Window(nn.Module):
    """HannWindow / HammingWindow / BlackmanWindow-17: ``sum_k a_k cos(2 pi k n / N)`` with
    ``N = size`` (periodic) or ``size - 1`` (symmetric)."""

    COEFFICIENTS = {"HannWindow": (0.5, -0.5, 0.0), "HammingWindow": (25 / 46, -21 / 46, 0.0),
                    "BlackmanWindow": (0.42, -0.5, 0.08)}

    def __init__(self, op: str, periodic: bool, dtype: torch.dtype, size: int | None) -> None:
        super().__init__()
        self.coefficients = self.COEFFICIENTS[op]
        self.periodic, self.dtype, self.size = periodic, dtype, size

    def forward(self, size: torch.Tensor | None = None) -> torch.Tensor:
        n = self.size if self.size is not None else _scalar(size)
        denominator = n if self.periodic else n - 1
        k = torch.arange(n, dtype=torch.float64) * (2 * math.pi / denominator)
        a0, a1, a2 = self.coefficients
        return (a0 + a1 * torch.cos(k) + a2 * torch.cos(2 * k)).to(self.dtype)


def _window(node: Any, graph: Any):
    attrs = node.attributes
    size = constant_ints(node, graph, 0)
    module = Window(node.operation_type, bool(attrs.get("periodic", 1)),
                    DTYPES[attrs.get("output_datatype", 1)], size[0] if size else None)
    return result(module, node, inputs=() if size else None)


for _op in Window.COEFFICIENTS:
    converter(_op, 17)(_window)


def _to_complex(x: torch.Tensor) -> torch.Tensor:
    if x.shape[-1] == 1:
        return torch.complex(x[..., 0], torch.zeros_like(x[..., 0]))
    return torch.complex(x[..., 0], x[..., 1])


def _from_complex(y: torch.Tensor) -> torch.Tensor:
    return torch.stack([y.real, y.imag], dim=-1)


class DFT(nn.Module):
    """DFT-17/20 along ``axis`` (of the input counting the trailing complex axis), with
    ``dft_length`` padding or truncating, ``inverse`` (1/n) and ``onesided`` (RFFT / IRFFT)."""

    def __init__(self, axis: int | None, inverse: bool, onesided: bool, length: int | None) -> None:
        super().__init__()
        self.axis, self.inverse, self.onesided, self.length = axis, inverse, onesided, length

    def forward(self, x: torch.Tensor, dft_length: torch.Tensor | None = None,
                axis: torch.Tensor | None = None) -> torch.Tensor:
        rank = x.dim()
        a = self.axis if self.axis is not None else (-2 if axis is None else _scalar(axis))
        a = a + rank if a < 0 else a  # an axis of the signal (the trailing axis excluded)
        n = self.length if self.length is not None else (None if dft_length is None else _scalar(dft_length))
        if self.onesided and self.inverse:
            return torch.fft.irfft(_to_complex(x), n=n, dim=a).unsqueeze(-1)
        if self.onesided:
            return _from_complex(torch.fft.rfft(x[..., 0], n=n, dim=a))
        fn = torch.fft.ifft if self.inverse else torch.fft.fft
        return _from_complex(fn(_to_complex(x), n=n, dim=a))


def _dft(node: Any, graph: Any, version: int):
    attrs = node.attributes
    length = constant_ints(node, graph, 1)
    axis = None
    if version == 17:
        fixed = attrs.get("axis", 1)
    else:
        axis = constant_ints(node, graph, 2)
        absent = len(node.input_values) <= 2 or not node.input_values[2]
        fixed = -2 if absent else (axis[0] if axis else None)
    module = DFT(fixed, bool(attrs.get("inverse", 0)), bool(attrs.get("onesided", 0)), length[0] if length else None)
    skip = [k for k, v in ((1, length), (2, axis)) if v is not None]
    return result(module, node, inputs=dynamic_inputs(node, skip))


converter("DFT", 17)(lambda node, graph: _dft(node, graph, 17))
converter("DFT", 20)(lambda node, graph: _dft(node, graph, 20))


class STFT(nn.Module):
    """STFT-17: frames of ``frame_length`` every ``frame_step`` samples, windowed, each DFT'd."""

    def __init__(self, onesided: bool, step: int | None, length: int | None) -> None:
        super().__init__()
        self.onesided, self.step, self.length = onesided, step, length

    def forward(self, signal: torch.Tensor, frame_step: torch.Tensor | None = None,
                window: torch.Tensor | None = None, frame_length: torch.Tensor | None = None) -> torch.Tensor:
        step = self.step if self.step is not None else _scalar(frame_step)
        if self.length is not None:
            length = self.length
        elif frame_length is not None:
            length = _scalar(frame_length)
        else:
            length = window.shape[0] if window is not None else signal.shape[1]
        complex_in = signal.shape[-1] == 2
        x = _to_complex(signal) if complex_in else signal[..., 0]
        frames = x.unfold(1, length, step)  # (batch, frames, length)
        if window is not None:
            frames = frames * window
        if self.onesided and not complex_in:
            return _from_complex(torch.fft.rfft(frames, dim=-1))
        return _from_complex(torch.fft.fft(frames if complex_in else frames.to(torch.complex64), dim=-1))


@converter("STFT", 17)
def _stft(node: Any, graph: Any):
    step = constant_ints(node, graph, 1)
    length = constant_ints(node, graph, 3)
    skip = [k for k, v in ((1, step), (3, length)) if v is not None]
    module = STFT(bool(node.attributes.get("onesided", 1)), step[0] if step else None, length[0] if length else None)
    return result(module, node, inputs=dynamic_inputs(node, skip))
