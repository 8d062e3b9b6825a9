"""Every Keras-oracle test starts from seeds of its own, so a failure reproduces.

Models built without `seed=` draw fresh weights; a draw whose ReLUs are all dead leaves
logits equal to the biases, and two classes with as many labels then tie exactly, so
argmax metrics differ between Keras and xcnn by float rounding alone (it failed CI once
in about 1 % of draws). A seed per test, from its name, keeps each test's draw fixed.
"""

import sys
import zlib

import pytest

import xcnn.utils


@pytest.fixture(autouse=True)
def _seeded(request):
    seed = zlib.crc32(request.node.nodeid.encode())
    keras = sys.modules.get("keras")  # imported by the test module when Keras is installed
    if keras is not None:
        keras.utils.set_random_seed(seed)
    xcnn.utils.set_random_seed(seed)
    yield
    xcnn.utils._model_seeds = None  # later tests outside this folder draw fresh seeds again
