"""Interoperability: Keras 3 model files in and out, ONNX export.

- :mod:`.converters`: the one registry of converters, one entry per layer class and one per
  activation: its Keras config both ways, its weight layout both ways, its ONNX nodes. A new
  layer joins every format by adding one entry there.
- :mod:`.keras_format`: ``.keras`` files and ``.weights.h5`` files, read with ``json``,
  ``zipfile`` and ``h5py`` (neither Keras nor TensorFlow is needed).
- :mod:`.keras_compile`: the compile settings in a ``.keras`` file (optimizer, learning-rate
  schedule, loss, metrics) both ways.
- :mod:`.onnx_export`: an ONNX graph (opset 17, NHWC input with a dynamic batch) built with
  ``onnx.helper`` and checked with ``onnx.checker``.

``docs/interop.md`` shows each path with a worked example. h5py and onnx are optional
(``pip install "xcnn[keras-files]"``, ``"xcnn[onnx]"``); they are imported only when used.
"""
