"""Activations by name against Keras 3's own (torch backend): values and gradients."""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")

from xcnn import activations  # noqa: E402

NAMES = [
    "relu",
    "relu6",
    "selu",
    "gelu",
    "silu",
    "swish",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "exponential",
    "log_softmax",
    "mish",
    "elu",
    "softplus",
    "softsign",
    "sigmoid",
    "tanh",
    "softmax",
    "leaky_relu",
    "linear",
]


@pytest.mark.parametrize("name", NAMES)
def test_activation_matches_keras(name):
    x = np.random.default_rng(0).uniform(-5.0, 5.0, (6, 7))
    x[np.abs(np.abs(x) - 3.0) < 0.05] += 0.1  # hard_sigmoid's kinks
    dy = np.random.default_rng(1).standard_normal(x.shape)
    xt = torch.tensor(x, requires_grad=True)
    yt = keras.activations.get(name)(xt)
    (yt * torch.tensor(dy)).sum().backward()
    ours = activations.get(name)
    y = ours.forward(None, x, training=False)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    # torch's hardsigmoid backward uses 1/6 rounded to float32 even in float64 (3e-8 relative)
    rtol = 1e-7 if name == "hard_sigmoid" else 1e-10
    np.testing.assert_allclose(ours.backward(None, dy), xt.grad.numpy(), rtol=rtol, atol=1e-12)
