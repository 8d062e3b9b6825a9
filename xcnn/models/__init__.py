"""Sequential and functional models on one engine: topological forward, reverse backward.

Host<->device copies happen only at the edges: ``fit``/``evaluate``/``predict`` move their
input to the model's backend once (batch by batch when it is too large), metrics are summed
on the device and read once per epoch (and at each progress-bar refresh), and ``save``/``load``
copy weights to and from the host.
"""

from .cloning import clone_model
from .model import FORMAT_VERSION, Model
from .saving import atomic_write, load_model, model_from_config, model_from_json, save_model
from .sequential import Sequential

__all__ = [
    "Model",
    "Sequential",
    "load_model",
    "save_model",
    "clone_model",
    "model_from_json",
    "model_from_config",
    "atomic_write",
    "FORMAT_VERSION",
]
