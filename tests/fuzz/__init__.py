"""The differential fuzzer (issue 11, item 9): random Agrippa projects judged against
onnx.checker, onnxruntime and the PyTorch bridge.

* ``project``: a generated project (files, agrippa.toml, input values) and writing it out;
* ``gen``: the grammar-driven generator of whole models (blocks, rep, stretch, sourced
  files, shared/frozen params, broadcasting, reshapes, dtypes, var()/expr());
* ``spine``: the shape-tracked ops the generator strings together;
* ``catalog``: one-op models for every op of the catalog, attributes from the schemas;
* ``mutate``: mutants of the projects under examples/;
* ``oracle``: the judge (categories in ``oracle.DISAGREEMENTS``);
* ``run``: batches, counts by category, reducing and writing reproducers.

The pytest batch (tests/test_fuzz.py) and the long run (scripts/fuzz.py) share all of it.
"""
