"""``tinynn.keras``: the Keras front end the documents use (seeds 000, 001, 003).

    from tinynn import keras
    model = keras.models.Sequential([
        keras.layers.Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)),
        keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation='softmax')])
    model.compile(loss='sparse_categorical_crossentropy', optimizer='adam', metrics=['accuracy'])
    model.fit(x_train, y_train, epochs=3)
"""
from . import (  # noqa: F401
    activations, callbacks, datasets, layers, losses, metrics, models, optimizers, pruning, regularizers, utils,
)
from .functional import Model  # noqa: F401
from .models import Sequential, load_model  # noqa: F401
from .symbolic import Input, KerasTensor  # noqa: F401
from .tape import GradientTape  # noqa: F401
