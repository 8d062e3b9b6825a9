"""Keras 3's `keras.saving` names a script reaches for: `load_model` and `save_model`.

They are `xcnn.models.load_model` and `xcnn.models.save_model`; the file name's ending chooses
the format (`.keras`, or xcnn's own `.safetensors`).
"""

from .models import load_model, save_model

__all__ = ["load_model", "save_model"]
