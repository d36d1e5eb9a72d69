"""``tinynn.utils``: where PyTorch scripts look for ``torch.utils.data``."""
from . import data  # noqa: F401
