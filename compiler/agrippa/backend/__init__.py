"""The back end: the flat IR → ONNX, parameter values, weight files, the PyTorch bridge."""
