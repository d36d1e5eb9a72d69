"""``tinynn.nn``: layers, losses and the Module system (PyTorch's ``torch.nn``).

    modules/       the layers, one family per file (linear, conv, pooling, normalization,
                   dropout, flatten, activation, loss, container) and ``Module`` itself
    functional/    the same families as functions: the op and its gradient, side by side
    utils/         tools on parameters: prune.py (pruning masks)
    parameter.py   ``Parameter``          init.py   weight initialisation
"""
from . import functional, init, parallel, utils  # noqa: F401
from .modules import (  # noqa: F401
    Module, Sequential, ModuleList, Linear, Identity, Flatten, Dropout, Dropout2d,
    Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, BatchNorm1d, BatchNorm2d, SyncBatchNorm, RNN, LSTM, GRU,
    RNNCell, LSTMCell, GRUCell, Embedding, LayerNorm, MultiheadAttention,
    TransformerEncoderLayer,
    ReLU, ReLU6, LeakyReLU, Sigmoid, Tanh, Softmax, LogSoftmax, SiLU, Swish, Mish, GELU,
    Softplus, Hardtanh,
    MSELoss, L1Loss, SmoothL1Loss, HuberLoss, CrossEntropyLoss, NLLLoss, BCELoss, BCEWithLogitsLoss, KLDivLoss,
)
from .parameter import Parameter  # noqa: F401


# TensorFlow's tf.nn functions, for the documents' programs under ``import tinynn as tf``
# (torch.nn has no functions of these names, so nothing a PyTorch script uses is shadowed).
def relu(features):
    return functional.relu(features)


def softmax(logits, axis=-1):
    return functional.softmax(logits, axis)


def sigmoid(x):
    return functional.sigmoid(x)
