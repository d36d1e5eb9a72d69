"""``keras.models``: where Keras code imports its model classes from
(``from tensorflow.keras.models import Sequential, Model``)."""
from .functional import Model  # noqa: F401
from .sequential import Sequential, load_model  # noqa: F401
