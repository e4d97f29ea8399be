"""The back end: the flat IR → ONNX, parameter values, weight files, the PyTorch bridge
(``torch_bridge``, with the converters upstream onnx2torch lacks in ``converters``)."""
