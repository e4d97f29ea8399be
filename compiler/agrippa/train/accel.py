"""Hardware and speed: the device (cpu, cuda, mps), mixed precision (autocast and the
gradient scaler), torch.compile with a fallback to eager, and the RNG states a
checkpoint keeps."""
from __future__ import annotations

import contextlib
import os
import shutil
import sysconfig
from collections.abc import Callable
from typing import Any

import torch

from agrippa.train import dist
from agrippa.train.compiled import compile_runner
from agrippa.train.model import TrainError

AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "16": torch.float16}


def resolve_device(name: str, world: dist.World) -> torch.device:
    """The device `[train] device` names; auto is cuda, else mps, else cpu."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise TrainError("device = \"cuda\" but no CUDA device is available")
        return torch.device(f"cuda:{world.local_rank}" if world.active and name == "cuda" else name)
    if name == "mps":
        if not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
            raise TrainError("device = \"mps\" but this torch has no usable Apple mps device")
        if world.active:
            raise TrainError("--nproc is not supported on mps (torch.distributed has no mps backend)")
        return torch.device("mps")
    return torch.device("cpu")


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager[Any]:
    """torch.autocast for "bf16" / "16" on this device; nothing for "32"."""
    dtype = AUTOCAST_DTYPES.get(precision)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def make_scaler(device: torch.device, precision: str) -> torch.amp.GradScaler:
    """A gradient scaler, enabled for float16 on CUDA (a no-op otherwise)."""
    return torch.amp.GradScaler(device.type if device.type == "cuda" else "cpu",
                                enabled=precision == "16" and device.type == "cuda")


def precision_note(device: torch.device, precision: str) -> str | None:
    if precision == "16" and device.type != "cuda":
        return (f"precision = \"16\" on {device.type}: float16 autocast without a gradient scaler "
                "(small gradients may underflow; \"bf16\" is safer here)")
    if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        return "precision = \"bf16\": this GPU does not support bfloat16 natively; it will be slow"
    return None


def cxx_compiler() -> str | None:
    """The C++ compiler inductor would use on CPU, or None."""
    for cand in (os.environ.get("CXX"), sysconfig.get_config_var("CXX"), "g++", "c++", "clang++"):
        if cand and shutil.which(cand.split()[0]):
            return cand
    return None


def compile_model(runner: torch.nn.Module, device: torch.device,
                  message: Callable[[str], None]) -> Callable[..., Any] | None:
    """`torch.compile(runner)` with train/compiled.py's backend, or None (with a message saying
    why) when it cannot work."""
    if device.type == "cpu" and cxx_compiler() is None:
        message("compile = true: no C++ compiler found (torch.compile needs one on CPU; set CXX); "
                "training eagerly")
        return None
    try:
        return compile_runner(runner)
    except Exception as e:  # an unsupported platform or python
        message(f"compile = true: torch.compile failed ({type(e).__name__}: {e}); training eagerly")
        return None


def compile_failed_message(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    first = text[0][:300] if text else ""
    return (f"compile = true: compiling the model failed ({type(e).__name__}: {first}); "
            "training eagerly")


def rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {"torch_rng": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda_rng"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    if "torch_rng" in state:
        torch.set_rng_state(state["torch_rng"])
    cuda = state.get("cuda_rng")
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)
