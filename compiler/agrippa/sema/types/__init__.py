"""Element types: every tensor's dtype from the ONNX schemas' type constraints, and a
`type-mismatch` error at the input that breaks one (`infer`); op signatures read once
per (op, opset) (`signatures`); where a tensor got its type, for messages (`explain`).

The shape walk (`sema.shapes.engine`) drives it node by node, so types and shapes are
inferred in one pass over the graph.
"""
