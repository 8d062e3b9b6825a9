"""Training callbacks with Keras's names and hooks.

Hooks get ``logs``: at epoch end a dict of host floats (``loss``, ``accuracy``, ``val_loss``,
``val_accuracy``). ``on_batch_end`` gets ``{"batch": i, "size": n, "loss": <0-d device
array>}``: the loss stays on the device so that a step never waits for the host; call
``float(xcnn.backend.to_numpy(logs["loss"]))`` if you need the number (it costs a sync).
"""

from .callback import Callback
from .early_stopping import EarlyStopping
from .history import History
from .model_checkpoint import ModelCheckpoint
from .tensorboard import TensorBoard
from .terminate_on_nan import TerminateOnNaN

__all__ = ["Callback", "EarlyStopping", "History", "ModelCheckpoint", "TensorBoard", "TerminateOnNaN"]
