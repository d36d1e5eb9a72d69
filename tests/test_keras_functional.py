"""Keras' three ways to build a model — functional graphs, subclasses, layers called on data —
against numbers from real Keras 3.15.1 (torch backend) for the same weights and inputs."""
import numpy as np
import pytest

import tinynn as tf

keras = tf.keras
FUNCTIONAL_PREDICTIONS = [[1.0648467540740967, 1.6967942714691162], [-77.15686798095703, 52.73621368408203]]


def _functional_model():
    inputs = keras.Input((6, 6, 2))
    conv_a = keras.layers.Conv2D(3, 3, padding="same", activation="relu")
    conv_b = keras.layers.Conv2D(3, 1)
    dense = keras.layers.Dense(2)
    a, b = conv_a(inputs), conv_b(inputs)
    merged = keras.layers.Concatenate()([keras.layers.Add()([a, b]), inputs])
    outputs = dense(keras.layers.Flatten()(merged))
    return keras.Model(inputs, outputs), (conv_a, conv_b, dense)


def test_a_functional_graph_with_add_and_concatenate_matches_keras():
    model, layers = _functional_model()
    rng = np.random.default_rng(5)            # the draws the Keras model's layers were given
    for layer in layers:
        layer.set_weights([rng.standard_normal(w.shape).astype("float32") for w in layer.get_weights()])
    x = np.random.default_rng(6).standard_normal((2, 6, 6, 2)).astype("float32")
    np.testing.assert_allclose(model.predict(x), FUNCTIONAL_PREDICTIONS, rtol=1e-5, atol=1e-5)
    assert [type(layer).__name__ for layer in model.layers] == ["Conv2D", "Conv2D", "Add", "Concatenate",
                                                                 "Flatten", "Dense"]


def test_a_functional_model_trains_with_fit_and_reports_its_summary(capsys):
    model, _ = _functional_model()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 6, 6, 2)).astype("float32")
    y = (x.mean(axis=(1, 2, 3)) > 0).astype("int64")
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=5, verbose=0, batch_size=8)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.summary() == model.count_params() == 3 * 3 * 2 * 3 + 3 + 2 * 3 + 3 + 6 * 6 * 5 * 2 + 2
    assert "concatenate (Concatenate)" in capsys.readouterr().out


class _TwoLayers(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = keras.layers.Dense(8, activation="relu")
        self.dropout = keras.layers.Dropout(0.5)
        self.out = keras.layers.Dense(3)

    def call(self, x, training=None):
        return self.out(self.dropout(self.hidden(x), training=training))


def test_a_subclassed_model_builds_on_first_call_and_fits():
    model = _TwoLayers()
    assert not model.built
    x = np.random.default_rng(1).standard_normal((24, 5)).astype("float32")
    y = np.arange(24) % 3
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.03),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    tf.manual_seed(0)
    history = model.fit(x, y, epochs=20, verbose=0, batch_size=8)
    assert model.built and [w.shape for w in model.get_weights()] == [(5, 8), (8,), (8, 3), (3,)]
    assert history.history["loss"][-1] < history.history["loss"][0]
    inference = model(x).detach().numpy()
    np.testing.assert_array_equal(inference, model(x).detach().numpy())       # dropout off
    assert not np.array_equal(model(x, training=True).detach().numpy(), inference)
    assert not model.training                        # training=True lasted one call


def test_layers_called_on_data_are_built_on_first_call_channels_last():
    images = np.random.default_rng(2).standard_normal((2, 7, 7, 3)).astype("float32")
    conv = keras.layers.Conv2D(4, 3, padding="same")
    out = conv(images)
    assert out.shape == (2, 7, 7, 4) and conv.get_weights()[0].shape == (3, 3, 3, 4)
    kernel, bias = conv.get_weights()
    manual = sum(np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)))[:, i:i + 7, j:j + 7, :] @ kernel[i, j]
                 for i in range(3) for j in range(3)) + bias
    np.testing.assert_allclose(out.detach().numpy(), manual, rtol=1e-4, atol=1e-5)


def test_sequential_accepts_keras_input_and_bad_graphs_are_refused():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    assert model.built and model.count_params() == 10
    with pytest.raises(TypeError, match="made from keras.Input"):
        keras.Model(np.zeros((2, 4)), keras.layers.Dense(2)(keras.Input((4,))))
    with pytest.raises(ValueError, match="not among the inputs"):
        keras.Model(keras.Input((3,)), keras.layers.Dense(2)(keras.Input((4,))))
    with pytest.raises(ValueError, match="Add: expected inputs of one shape"):
        keras.layers.Add()([keras.Input((3,)), keras.Input((4,))])
    with pytest.raises(TypeError, match="mix of keras.Input tensors and data"):
        keras.layers.Add()([keras.Input((3,)), np.zeros((1, 3))])
