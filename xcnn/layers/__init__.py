"""Keras-style layers over NHWC data. Layers keep state (weights, caches); ops keep none.

Every layer has a *core* (`call`/`grad`) and an optional activation applied after it, so
`Conv2D(..., activation="relu")` and `Conv2D(...)` + `Activation("relu")` compute the
same thing. Calling a layer on a symbolic tensor (from `Input` or another layer) wires
the functional graph; `xcnn.models.Model` runs it.
"""

from .activation import ELU, LeakyReLU, PReLU, ReLU, Softmax
from .convolutional import Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D
from .core import Activation, Dense
from .input_layer import Input, InputLayer
from .layer import Layer, SymbolicTensor
from .merging import (
    Add,
    Average,
    Concatenate,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    maximum,
    minimum,
    multiply,
    subtract,
)
from .normalization import BatchNormalization, LayerNormalization
from .pooling import AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling2D
from .preprocessing import (
    CenterCrop,
    Normalization,
    RandomBrightness,
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
    Rescaling,
    Resizing,
)
from .regularization import Dropout, GaussianNoise, SpatialDropout2D
from .reshaping import Cropping2D, Flatten, Identity, Permute, Reshape, UpSampling2D, ZeroPadding2D
from .sync_batch_normalization import SyncBatchNormalization

# Layer classes by name: the only constructors a saved model may name (nothing is executed).
LAYER_CLASSES = {
    cls.__name__: cls
    for cls in (
        InputLayer,
        Conv2D,
        MaxPooling2D,
        AveragePooling2D,
        Flatten,
        Dense,
        Activation,
        Dropout,
        RandomTranslation,
        BatchNormalization,
        Add,
        Concatenate,
        ReLU,
        LeakyReLU,
        ELU,
        PReLU,
        Softmax,
        Reshape,
        ZeroPadding2D,
        UpSampling2D,
        Rescaling,
        RandomFlip,
        DepthwiseConv2D,
        SeparableConv2D,
        Conv2DTranspose,
        RandomRotation,
        RandomZoom,
        RandomContrast,
        Resizing,
        GlobalAveragePooling2D,
        GlobalMaxPooling2D,
        SyncBatchNormalization,
        Multiply,
        Subtract,
        Average,
        Maximum,
        Minimum,
        Identity,
        Cropping2D,
        Permute,
        SpatialDropout2D,
        GaussianNoise,
        LayerNormalization,
        CenterCrop,
        RandomCrop,
        RandomBrightness,
        Normalization,
    )
}

# Keras's other names for the same classes (`keras.layers.MaxPool2D is keras.layers.MaxPooling2D`)
Convolution2D = Conv2D
Convolution2DTranspose = Conv2DTranspose
SeparableConvolution2D = SeparableConv2D
MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D

# with Keras's function forms of the merging layers (build the layer, call it on the inputs)
__all__ = [
    "Convolution2D",
    "Convolution2DTranspose",
    "SeparableConvolution2D",
    "MaxPool2D",
    "AvgPool2D",
    "GlobalAvgPool2D",
    "GlobalMaxPool2D",
    "Layer",
    "SymbolicTensor",
    "Input",
    *LAYER_CLASSES,
    "add",
    "multiply",
    "subtract",
    "average",
    "maximum",
    "minimum",
    "concatenate",
]
