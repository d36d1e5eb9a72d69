"""``tinynn.optim``: optimisers and learning-rate schedules (PyTorch's ``torch.optim``)."""
from . import lr_scheduler  # noqa: F401
from .algorithms import SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta  # noqa: F401
from .optimizer import Optimizer  # noqa: F401
