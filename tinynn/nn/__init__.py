"""``tinynn.nn``: layers, losses and the Module system (PyTorch's ``torch.nn``)."""
from . import functional, init  # noqa: F401
from .module import Module, Parameter  # noqa: F401
from .layers import Linear, Identity, Flatten, Dropout, Sequential, ModuleList  # noqa: F401
from .activation import (  # noqa: F401
    ReLU, ReLU6, LeakyReLU, Sigmoid, Tanh, Softmax, LogSoftmax, SiLU, Swish, Mish, GELU,
    Softplus, Hardtanh,
)
from .loss import (  # noqa: F401
    MSELoss, L1Loss, CrossEntropyLoss, NLLLoss, BCELoss, BCEWithLogitsLoss, KLDivLoss,
)
from .conv import (  # noqa: F401
    Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, BatchNorm1d, BatchNorm2d,
)
