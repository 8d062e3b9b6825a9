"""Ready-made networks: the article's, the lecture's, LeNet-5, and a small VGG and ResNet for
CIFAR shapes.

Each takes ``input_shape``, ``classes``, ``augment`` (0, or the most pixels a
:class:`~xcnn.layers.RandomTranslation` input layer shifts training images by) and the
:class:`~xcnn.models.Sequential` keywords (``backend``, ``dtype``, ``seed``). Their convolutions
start from He-normal weights (for ReLU), as they always have, not Keras's Glorot-uniform default.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .layers import (
    Activation,
    Add,
    AveragePooling2D,
    BatchNormalization,
    Conv2D,
    Dense,
    Flatten,
    GlobalAveragePooling2D,
    Input,
    MaxPooling2D,
    RandomTranslation,
)
from .models import Model, Sequential


def _check_augment(augment):
    if isinstance(augment, bool) or not isinstance(augment, int) or augment < 0:
        raise ValueError(f"augment must be a whole number of pixels >= 0, got {augment!r}")


def _network(layers, input_shape, augment, **kw):
    _check_augment(augment)
    head = [Input(tuple(input_shape))]
    if augment:
        head.append(RandomTranslation(augment / input_shape[0], augment / input_shape[1]))
    return Sequential(head + layers, **kw)


def article(input_shape: Sequence[int] = (28, 28, 1), classes: int = 10, augment: int = 0, **kw: Any) -> Sequential:
    """The article's MNIST net: conv 6@7x7 -> ReLU -> max-pool 2 -> 100 -> 50 -> softmax.

    Args:
        input_shape: One image's `(H, W, C)`.
        classes: The number of classes (softmax outputs).
        augment: 0, or the most pixels a `RandomTranslation` input layer shifts training
            images by.
        **kw: `Sequential`'s keywords (`backend`, `dtype`, `seed`, ...).

    Returns:
        The built `Sequential`, input `(N, H, W, C)`, output `(N, classes)` probabilities.

    Raises:
        ValueError: If `augment` is not a whole number >= 0.

    Examples:
        >>> from xcnn import zoo
        >>> model = zoo.article(seed=0)
        >>> model.count_params(), model.output_shape
        (78560, (None, 10))
    """
    return _network(
        [
            Conv2D(6, (7, 7), activation="relu", kernel_initializer="he_normal"),
            MaxPooling2D(2),
            Flatten(),
            Dense(100, activation="relu"),
            Dense(50, activation="relu"),
            Dense(classes, activation="softmax"),
        ],
        input_shape,
        augment,
        **kw,
    )


def lecture(input_shape: Sequence[int] = (28, 28, 1), classes: int = 10, augment: int = 0, **kw: Any) -> Sequential:
    """The Keras lecture's net: conv 9@3x3 same -> ReLU -> max-pool 2 -> Dense 64 -> softmax.

    Args:
        input_shape: As in `article`.
        classes: As in `article`.
        augment: As in `article`.
        **kw: As in `article`.

    Returns:
        The built `Sequential`, input `(N, H, W, C)`, output `(N, classes)` probabilities.

    Raises:
        ValueError: If `augment` is not a whole number >= 0.

    Examples:
        >>> from xcnn import zoo
        >>> zoo.lecture(seed=0).count_params()
        113700
    """
    return _network(
        [
            Conv2D(9, (3, 3), padding="same", activation="relu", kernel_initializer="he_normal"),
            MaxPooling2D(2),
            Flatten(),
            Dense(64, activation="relu"),
            Dense(classes, activation="softmax"),
        ],
        input_shape,
        augment,
        **kw,
    )


def lenet(input_shape: Sequence[int] = (28, 28, 1), classes: int = 10, augment: int = 0, **kw: Any) -> Sequential:
    """LeNet-5 with ReLU: conv 6@5x5 same -> avg-pool -> conv 16@5x5 -> avg-pool -> 120 -> 84.

    Args:
        input_shape: As in `article`.
        classes: As in `article`.
        augment: As in `article`.
        **kw: As in `article`.

    Returns:
        The built `Sequential`, input `(N, H, W, C)`, output `(N, classes)` probabilities.

    Raises:
        ValueError: If `augment` is not a whole number >= 0.

    Examples:
        >>> import numpy as np
        >>> from xcnn import zoo
        >>> model = zoo.lenet(classes=3, seed=0)
        >>> model.predict(np.zeros((2, 28, 28, 1), dtype=np.float32), verbose=0).shape
        (2, 3)
    """
    return _network(
        [
            Conv2D(6, 5, padding="same", activation="relu", kernel_initializer="he_normal"),
            AveragePooling2D(2),
            Conv2D(16, 5, activation="relu", kernel_initializer="he_normal"),
            AveragePooling2D(2),
            Flatten(),
            Dense(120, activation="relu"),
            Dense(84, activation="relu"),
            Dense(classes, activation="softmax"),
        ],
        input_shape,
        augment,
        **kw,
    )


def vgg(input_shape: Sequence[int] = (32, 32, 3), classes: int = 10, augment: int = 0, **kw: Any) -> Sequential:
    """A small VGG-style net of 3x3 convolutions (32-32-pool-64-64-pool-128-pool), for CIFAR-10.

    Args:
        input_shape: As in `article`.
        classes: As in `article`.
        augment: As in `article`.
        **kw: As in `article`.

    Returns:
        The built `Sequential`, input `(N, H, W, C)`, output `(N, classes)` probabilities.

    Raises:
        ValueError: If `augment` is not a whole number >= 0.

    Examples:
        >>> from xcnn import zoo
        >>> zoo.vgg(seed=0).count_params()
        402986
    """
    return _network(
        [
            Conv2D(32, 3, padding="same", activation="relu", kernel_initializer="he_normal"),
            Conv2D(32, 3, padding="same", activation="relu", kernel_initializer="he_normal"),
            MaxPooling2D(2),
            Conv2D(64, 3, padding="same", activation="relu", kernel_initializer="he_normal"),
            Conv2D(64, 3, padding="same", activation="relu", kernel_initializer="he_normal"),
            MaxPooling2D(2),
            Conv2D(128, 3, padding="same", activation="relu", kernel_initializer="he_normal"),
            MaxPooling2D(2),
            Flatten(),
            Dense(128, activation="relu"),
            Dense(classes, activation="softmax"),
        ],
        input_shape,
        augment,
        **kw,
    )


def _conv_bn(x, filters, kernel_size, strides=1):
    """Conv (no bias: the BatchNormalization's beta is one) -> BatchNormalization."""
    x = Conv2D(filters, kernel_size, strides=strides, padding="same", use_bias=False)(x)
    return BatchNormalization()(x)


def _basic_block(x, filters, strides):
    """ResNet's basic block: two 3x3 Conv-BN (ReLU between) added to the input, then ReLU. When
    the block changes the size or width, the skip is a strided 1x1 Conv-BN projection."""
    y = Activation("relu")(_conv_bn(x, filters, 3, strides))
    y = _conv_bn(y, filters, 3)
    skip = x if strides == 1 and x.shape[-1] == filters else _conv_bn(x, filters, 1, strides)
    return Activation("relu")(Add()([y, skip]))


def resnet(
    input_shape: Sequence[int] = (32, 32, 3),
    classes: int = 10,
    augment: int = 0,
    widths: Sequence[int] = (16, 32, 64),
    blocks: int = 2,
    **kw: Any,
) -> Model:
    """A small ResNet for CIFAR shapes (ResNet-14 with the defaults).

    A 3x3 Conv-BN-ReLU stem, then one stage per entry of `widths` of `blocks` basic blocks
    each (every stage after the first halves the image with a stride-2 first block), global
    average pooling, softmax.

    Args:
        input_shape: As in `article`.
        classes: As in `article`.
        augment: As in `article`.
        widths: The filters of each stage.
        blocks: The basic blocks per stage.
        **kw: `Model`'s keywords (`backend`, `dtype`, `seed`, ...).

    Returns:
        The built functional `Model`, input `(N, H, W, C)`, output `(N, classes)` probabilities.

    Raises:
        ValueError: If `augment` is not a whole number >= 0.

    Examples:
        >>> from xcnn import zoo
        >>> zoo.resnet(widths=(8,), blocks=1, seed=0).count_params()
        1554
    """
    _check_augment(augment)
    inputs = Input(tuple(input_shape))
    x = inputs
    if augment:
        x = RandomTranslation(augment / input_shape[0], augment / input_shape[1])(x)
    x = Activation("relu")(_conv_bn(x, widths[0], 3))
    for stage, filters in enumerate(widths):
        for block in range(blocks):
            x = _basic_block(x, filters, 2 if stage > 0 and block == 0 else 1)
    outputs = Dense(classes, activation="softmax")(GlobalAveragePooling2D()(x))
    return Model(inputs, outputs, **kw)


MODELS: dict[str, Callable[..., Model]] = {
    "seed": article,
    "article": article,
    "lecture": lecture,
    "lenet": lenet,
    "vgg": vgg,
    "resnet": resnet,
}


def get(name: str, **kw: Any) -> Model:
    """The network of that name from `MODELS`, built.

    Args:
        name: `"article"` (or `"seed"`, the same), `"lecture"`, `"lenet"`, `"vgg"` or `"resnet"`.
        **kw: The network's keywords (`input_shape`, `classes`, `augment`, `seed`, ...).

    Returns:
        The built model (a `Sequential`, or a `Model` for `"resnet"`).

    Raises:
        ValueError: If `name` is not one of `MODELS`, or a keyword is bad.

    Examples:
        >>> from xcnn import zoo
        >>> zoo.get("lenet", classes=3, seed=0).output_shape
        (None, 3)
        >>> zoo.get("alexnet")
        Traceback (most recent call last):
        ...
        ValueError: unknown model 'alexnet'; expected one of ['article', 'lecture', 'lenet', 'resnet', 'seed', 'vgg']
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; expected one of {sorted(MODELS)}")
    return MODELS[name](**kw)
