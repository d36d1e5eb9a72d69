"""``keras.datasets``: ``mnist``, ``fashion_mnist`` and ``cifar10``, each a module with
``load_data()``, read from local files (``local.py`` says where it looks)."""
from . import cifar10, fashion_mnist, mnist  # noqa: F401
