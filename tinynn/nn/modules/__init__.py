"""The layers, one family per file as in PyTorch's ``torch/nn/modules``."""
from .activation import (  # noqa: F401
    ReLU, ReLU6, LeakyReLU, Sigmoid, Tanh, Softmax, LogSoftmax, SiLU, Swish, Mish, GELU,
    Softplus, Hardtanh,
)
from .container import ModuleList, Sequential  # noqa: F401
from .conv import Conv2d  # noqa: F401
from .dropout import Dropout, Dropout2d  # noqa: F401
from .attention import LayerNorm, MultiheadAttention  # noqa: F401
from .transformer import TransformerEncoderLayer  # noqa: F401
from .embedding import Embedding  # noqa: F401
from .flatten import Flatten  # noqa: F401
from .linear import Identity, Linear  # noqa: F401
from .loss import (  # noqa: F401
    MSELoss, L1Loss, SmoothL1Loss, HuberLoss, CrossEntropyLoss, NLLLoss, BCELoss, BCEWithLogitsLoss, KLDivLoss,
)
from .module import Module  # noqa: F401
from .normalization import BatchNorm1d, BatchNorm2d, SyncBatchNorm  # noqa: F401
from .rnn import GRU, GRUCell, LSTM, LSTMCell, RNN, RNNCell  # noqa: F401
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d  # noqa: F401
