"""Training data: a Python callable in the project, or an `.npz` file of named arrays.

A callable (`data = "data.py:batches"`) returns an iterable of batches, each a dict from
the model's root-import names (and the target key) to arrays. An input with a leading
batch axis (one more axis than the import declares) is per example; one with exactly the
declared shape is shared by the whole batch (a mask, say). The callable is called once
per epoch with whichever of these keyword arguments it accepts: `batch_size`, `seed`,
`epoch`, `split` ("train" or "eval") and `bindings`. An endless generator is fine with
`steps`; `epochs` needs one that ends.

An `.npz` file holds one array per import plus the target, the first axis indexing the
examples (shared inputs without it). Each epoch visits the examples in a fresh order
(seeded), in batches of `batch_size`, dropping a last partial batch.

Both are read only through the project's file-access policy (`project.files`): a file
outside the project folder (after symlinks) and its `[project] roots`, a FIFO or device,
or one over the size cap is refused with a `DataError`, before it is opened.
"""
from __future__ import annotations

import hashlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from agrippa.project.files import FileAccess

Batch = dict[str, Any]


class DataError(Exception):
    """A data source that cannot be loaded or yields unusable batches."""


def project_access(project_dir: str) -> FileAccess:
    """The file-access policy of the project (its `[project]` table applies)."""
    from agrippa.project.config import file_access, load_config

    return file_access(project_dir, load_config(project_dir))


def _allowed(spec: str, project_dir: str, access: FileAccess | None) -> str:
    """The path a data/loss spec names, once the policy allows it; else a DataError."""
    from agrippa.project.train_config import source_path, source_refusal

    access = access or project_access(project_dir)
    path = source_path(spec, access.root)
    why = source_refusal(spec, access)
    if why is not None:
        fname = spec.rpartition(":")[0] if path.endswith(".py") else spec
        raise DataError(f"{fname} not found in {project_dir}" if not os.path.lexists(path)
                        else f"{fname} is not read: {why}")
    return path


def load_callable(spec: str, project_dir: str, access: FileAccess | None = None) -> Callable[..., Any]:
    """Import `function` from `file.py` (relative to the project) for `"file.py:function"`."""
    fname, _, func = spec.rpartition(":")
    path = _allowed(spec, project_dir, access)
    name = "agrippa_user_" + hashlib.sha1(path.encode()).hexdigest()[:12] + "_" + \
        os.path.splitext(os.path.basename(path))[0]
    module = sys.modules.get(name)
    if module is None:
        mspec = importlib.util.spec_from_file_location(name, path)
        if mspec is None or mspec.loader is None:
            raise DataError(f"cannot import {fname}")
        module = importlib.util.module_from_spec(mspec)
        sys.path.insert(0, os.path.dirname(path))
        try:
            mspec.loader.exec_module(module)
        except Exception as e:
            raise DataError(f"importing {fname} failed: {type(e).__name__}: {e}") from e
        finally:
            sys.path.remove(os.path.dirname(path))
        sys.modules[name] = module
    fn = getattr(module, func, None)
    if not callable(fn):
        raise DataError(f"{fname} has no function {func!r}")
    return fn


def call_with_accepted(fn: Callable[..., Any], offered: Mapping[str, Any], *args: Any) -> Any:
    """Call `fn` with the keyword arguments it accepts among `offered`."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return fn(*args)
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return fn(*args, **offered)
    return fn(*args, **{k: v for k, v in offered.items() if k in params})


class Source:
    """Batches by epoch; `steps_per_epoch` is None when not known in advance."""

    steps_per_epoch: int | None = None
    seekable = False  # whether epoch(k, start) can start mid-epoch without producing the rest

    def epoch(self, k: int, start: int = 0) -> Iterator[Batch]:
        raise NotImplementedError


class CallableSource(Source):
    def __init__(self, fn: Callable[..., Any], *, batch_size: int, seed: int, split: str,
                 bindings: Mapping[str, Any], spec: str) -> None:
        self.fn, self.spec = fn, spec
        self.offered = {"batch_size": batch_size, "seed": seed, "split": split,
                        "bindings": dict(bindings)}
        try:
            accepts_epoch = "epoch" in inspect.signature(fn).parameters or any(
                p.kind is p.VAR_KEYWORD for p in inspect.signature(fn).parameters.values())
        except (TypeError, ValueError):
            accepts_epoch = False
        self.accepts_epoch = accepts_epoch

    def epoch(self, k: int, start: int = 0) -> Iterator[Batch]:
        offered = dict(self.offered, epoch=k)
        if not self.accepts_epoch:  # vary the data across epochs through the seed
            offered["seed"] = self.offered["seed"] + k
        try:
            result = call_with_accepted(self.fn, offered)
        except Exception as e:
            raise DataError(f"{self.spec} failed: {type(e).__name__}: {e}") from e
        if isinstance(result, Mapping):
            result = [result]
        if not isinstance(result, Iterable):
            raise DataError(f"{self.spec} returned {type(result).__name__}, not an iterable of batches")
        if k == 0 and hasattr(result, "__len__"):
            self.steps_per_epoch = len(result)  # type: ignore[arg-type]
        yield from result


class NpzSource(Source):
    seekable = True

    def __init__(self, path: str, *, batch_size: int, seed: int, ranks: Mapping[str, int | None],
                 target: str, access: FileAccess | None = None) -> None:
        from agrippa.project.files import MAX_DATA_BYTES

        access = access or project_access(os.path.dirname(os.path.abspath(path)))
        f, why = access.open_binary(os.path.abspath(path), MAX_DATA_BYTES)
        if f is None:
            raise DataError(f"{os.path.basename(path)} is not read: {why}")
        try:
            with f, np.load(f, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError) as e:
            raise DataError(f"cannot read {os.path.basename(path)}: {e}") from e
        if target not in arrays:
            raise DataError(f"{os.path.basename(path)} has no target array {target!r} "
                            f"(it has {', '.join(sorted(arrays)) or 'nothing'})")
        self.shared = {k: v for k, v in arrays.items()
                       if k != target and k in ranks and ranks[k] is not None and v.ndim == ranks[k]}
        self.per_example = {k: v for k, v in arrays.items() if k not in self.shared}
        sizes = {k: len(v) for k, v in self.per_example.items() if v.ndim > 0}
        if len(set(sizes.values())) != 1:
            raise DataError(f"{os.path.basename(path)}: arrays disagree on the number of examples: "
                            + ", ".join(f"{k}: {n}" for k, n in sorted(sizes.items())))
        self.n = next(iter(sizes.values()))
        self.batch_size = min(batch_size, self.n)
        self.seed = seed
        self.steps_per_epoch = self.n // self.batch_size

    def epoch(self, k: int, start: int = 0) -> Iterator[Batch]:
        order = np.random.default_rng([self.seed, k]).permutation(self.n)
        b = self.batch_size
        for i in range(start, self.steps_per_epoch):
            idx = np.sort(order[i * b:(i + 1) * b])
            batch: Batch = {k: v[idx] for k, v in self.per_example.items()}
            batch.update(self.shared)
            yield batch


def open_source(spec: str, *, project_dir: str, batch_size: int, seed: int, split: str,
                bindings: Mapping[str, Any], ranks: Mapping[str, int | None], target: str,
                access: FileAccess | None = None) -> Source:
    """The data source `spec` names, read through the project's file-access policy."""
    access = access or project_access(project_dir)
    if ":" in spec and not spec.endswith(".npz"):
        fn = load_callable(spec, project_dir, access)
        return CallableSource(fn, batch_size=batch_size, seed=seed, split=split,
                              bindings=bindings, spec=spec)
    path = _allowed(spec, project_dir, access)
    return NpzSource(path, batch_size=batch_size, seed=seed, ranks=ranks, target=target, access=access)


def stream(source: Source, start_step: int = 0, epochs: int | None = None) -> Iterator[tuple[int, Batch]]:
    """(epoch, batch) pairs from `start_step` on, epoch after epoch (at most `epochs`)."""
    k, skip = 0, start_step
    if source.seekable and source.steps_per_epoch and skip:
        k, skip = divmod(skip, source.steps_per_epoch)
    while epochs is None or k < epochs:
        n = skip if source.seekable else 0
        for batch in source.epoch(k, n):
            n += 1
            if n > skip:
                yield k, batch
        if n == 0:
            raise DataError("the data source yielded no batches")
        if source.steps_per_epoch is None:
            source.steps_per_epoch = n
        skip = max(0, skip - n)
        k += 1
