"""Trained networks outside PyTorch: export to ONNX (:mod:`.onnx_export`) and inference with
ONNX Runtime behind the PyTorch networks' ``deblur`` interface (:mod:`.onnx_runtime`). Needs the
``deploy`` extra (``onnx``, ``onnxruntime``)."""
