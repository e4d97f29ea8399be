"""The original package's Python API (docs/language.md §8), kept call-for-call."""
from __future__ import annotations

import json
import os
import sys

from agrippa.backend.compile import compile_project


def export(infile, outfile=None, producer="Unknown", graph_name="Unknown", write_weights=True,
           suppress=False, reinit=False, bindings=None, log=False, log_filename="log.json", index=None,
           dynamic=()):
    """Compile project folder `infile` to `outfile` (default `infile + ".onnx"`).

    Writes new parameters back into the project's weights file when `write_weights`;
    `reinit` ignores stored weights; `log` writes a JSON listing of the graph. Raises
    `agrippa.CompileError` (with positioned diagnostics) when the model has errors.
    `dynamic` names dims chosen at run time (as `[model] dynamic`): ONNX dim_param.
    """
    import onnx

    if outfile is None:
        outfile = str(infile).rstrip("/\\") + ".onnx"
    result = compile_project(
        str(infile), str(outfile), bindings=dict(bindings or {}), index=index, reinit=reinit,
        write_weights=write_weights,
        producer=None if producer == "Unknown" else producer,
        graph_name=None if graph_name == "Unknown" else graph_name, dynamic=tuple(dynamic))
    if not suppress:
        for d in result.warnings:
            if d.severity <= 2:
                print(d.to_text(os.path.relpath(d.file)), file=sys.stderr)
    model = onnx.load(outfile, load_external_data=False)
    try:
        onnx.checker.check_model(outfile if os.path.getsize(outfile) > 2**30 else model, full_check=True)
    except onnx.checker.ValidationError as e:
        raise RuntimeError(f"the compiled model fails the ONNX checker: {e}") from e
    if log:
        write_log(model, os.path.join(str(infile), log_filename) if not os.path.isabs(log_filename) else log_filename)
    return result


def write_log(model, path: str) -> None:
    """A JSON listing of nodes, graph inputs, outputs and initializers."""
    from agrippa.backend.weights import atomic_writer

    g = model.graph
    data = {
        "nodes": [{"name": n.name, "inputs": list(n.input), "outputs": list(n.output), "op": n.op_type}
                  for n in g.node],
        "inputs": [i.name for i in g.input],
        "outputs": [o.name for o in g.output],
        "initializers": [i.name for i in g.initializer],
    }
    with atomic_writer(path, "w") as f:
        json.dump(data, f, indent=2)
