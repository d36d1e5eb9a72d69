"""tinynn.keras held to Keras 3 on the behaviours where it used to differ.  The expected numbers
were taken from real Keras (version and backend in ``KERAS``) by running the same models, with
the same weights and data, once; they are recorded here so that CI needs no Keras."""
import numpy as np
import pytest

import tinynn as tf

keras = tf.keras

# Taken once from Keras 3.15.1 on its torch backend (KERAS_BACKEND=torch) with the models,
# weights and data built the same way below.
KERAS = {"version": "3.15.1", "backend": "torch"}
EVALUATE_WITH_L2 = 0.563636839389801
EARLY_STOP_EPOCH = {0: 2, 1: 2, 2: 3, 3: 7}          # patience -> epoch at which fit stops
VAL_LOSSES = [1.0, 0.9, 0.95, 0.97, 0.8, 0.85, 0.86, 0.87]
BN_INPUT = np.array([[-1.0192363262176514, 0.5816488265991211, 0.6815499663352966],
                     [2.081691265106201, 1.4293181896209717, 1.7107453346252441],
                     [-0.30765724182128906, 0.7407727241516113, 2.567950963973999],
                     [3.9868621826171875, -1.5181310176849365, 4.0278472900390625],
                     [3.6917507648468018, 2.5626227855682373, 1.5289112329483032]], np.float32)
BN_MOVING_MEAN = [0.843341052532196, 0.379623144865036, 1.051700472831726]
BN_MOVING_VARIANCE = [2.5766544342041016, 1.3919492959976196, 1.1425178050994873]
CROSS_ENTROPY_UNNORMALISED = 0.6931471824645996
LAYOUT_SHAPES = [(3, 3, 1, 2), (2,), (2,), (2,), (2,), (2,), (18, 2), (2,)]
LAYOUT_PREDICTIONS = [[0.6510136127471924, -0.8092191219329834], [0.6275469064712524, -2.0607194900512695]]


def test_evaluate_includes_the_regularisation_penalty_as_keras_does():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((6, 3)).astype("float32"), rng.standard_normal((6, 2)).astype("float32")
    model = keras.Sequential([keras.layers.Dense(2, kernel_regularizer=keras.regularizers.l2(0.1),
                                                 input_shape=(3,))])
    model.compile(optimizer="sgd", loss="mse")
    model.set_weights([np.arange(6, dtype="float32").reshape(3, 2) / 10, np.array([0.1, -0.2], "float32")])
    assert model.evaluate(x, y, verbose=0, batch_size=6) == pytest.approx(EVALUATE_WITH_L2, rel=1e-6)


@pytest.mark.parametrize("patience", sorted(EARLY_STOP_EPOCH))
def test_early_stopping_stops_at_kerass_epoch(patience):
    model = keras.Sequential([keras.layers.Dense(1, input_shape=(1,))])
    model.stop_training = False
    callback = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience)
    callback.set_model(model)
    callback.on_train_begin()
    stopped = None
    for epoch, value in enumerate(VAL_LOSSES):
        callback.on_epoch_end(epoch, {"val_loss": value})
        if model.stop_training:
            stopped = epoch
            break
    assert stopped == EARLY_STOP_EPOCH[patience]


def test_batch_normalization_moving_statistics_match_keras():
    layer = keras.layers.BatchNormalization(momentum=0.5)
    layer.ensure_built((3,))
    layer.train()
    layer(tf.tensor(BN_INPUT))
    moving_mean, moving_variance = layer.get_weights()[2:]
    np.testing.assert_allclose(moving_mean, BN_MOVING_MEAN, rtol=1e-6)
    np.testing.assert_allclose(moving_variance, BN_MOVING_VARIANCE, rtol=1e-6)


@pytest.mark.parametrize("loss, labels", [("sparse_categorical_crossentropy", np.array([1, 2])),
                                          ("categorical_crossentropy", np.eye(3)[[1, 2]])])
def test_cross_entropy_normalises_predictions_that_do_not_sum_to_one(loss, labels):
    predictions = tf.tensor(np.array([[0.2, 0.6, 0.4], [1.0, 1.0, 2.0]], np.float32))
    value = keras.losses.get(loss)(labels, predictions).item()
    assert value == pytest.approx(CROSS_ENTROPY_UNNORMALISED, rel=1e-6)


def test_a_real_keras_models_weights_load_in_kerass_layout():
    model = keras.Sequential([keras.layers.Conv2D(2, 3, activation="relu", input_shape=(5, 5, 1)),
                              keras.layers.BatchNormalization(), keras.layers.Flatten(), keras.layers.Dense(2)])
    assert [w.shape for w in model.get_weights()] == LAYOUT_SHAPES
    rng = np.random.default_rng(1)                  # the same draws the Keras model was given
    weights = [rng.standard_normal(shape).astype("float32") for shape in LAYOUT_SHAPES]
    weights[5] = np.abs(weights[5]) + 0.5
    model.set_weights(weights)
    images = np.random.default_rng(2).standard_normal((2, 5, 5, 1)).astype("float32")
    np.testing.assert_allclose(model.predict(images), LAYOUT_PREDICTIONS, rtol=1e-5, atol=1e-6)
    for mine, given in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(mine, given)
    with pytest.raises(ValueError, match="Keras' layout"):
        model.set_weights([w.T for w in weights])


def test_after_fit_the_model_runs_in_inference_mode():
    x, y = np.random.default_rng(3).standard_normal((16, 4)).astype("float32"), np.arange(16) % 3
    model = keras.Sequential([keras.layers.Dense(8, activation="relu", input_shape=(4,)),
                              keras.layers.Dropout(0.5), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    first, second = model(tf.tensor(x)).detach().numpy(), model(tf.tensor(x)).detach().numpy()
    np.testing.assert_array_equal(first, second)           # Dropout is off
    np.testing.assert_allclose(first, model.predict(x), rtol=1e-6)


def test_a_model_with_nothing_to_train_still_fits():
    x, y = np.random.default_rng(4).random((8, 4)).astype("float32"), np.arange(8) % 4
    model = keras.Sequential([keras.layers.Flatten(input_shape=(4,)), keras.layers.Activation("softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=2, verbose=0, batch_size=8)
    assert history.history["loss"][0] == pytest.approx(history.history["loss"][1])
    assert history.history["loss"][0] == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-6)


ADAM_WEIGHT_DECAY_TWO_STEPS = [0.7082502841949463, -1.610413908958435]
GLOBAL_MAX_POOL = [[0.695303201675415, 1.3402152061462402, 1.3588234186172485],
                   [1.052126407623291, 2.0004165172576904, 1.2570149898529053]]
SOFTMAX_AXIS_1 = [0.2355777770280838, 0.2614453434944153, 0.27521762251853943, 0.22775928676128387]


def test_adam_weight_decay_is_kerass_decoupled_one():
    w = tf.tensor(np.array([1.0, -2.0], np.float32), requires_grad=True)
    optimizer = keras.optimizers.Adam(learning_rate=0.1, weight_decay=0.5)
    for _ in range(2):
        optimizer.apply_gradients([(tf.tensor(2 * w.detach().numpy()), w)])
    np.testing.assert_allclose(w.detach().numpy(), ADAM_WEIGHT_DECAY_TWO_STEPS, rtol=1e-5)   # float32 order


def test_global_max_pooling_and_softmax_layers_match_keras():
    x = np.random.default_rng(7).standard_normal((2, 4, 4, 3)).astype("float32")
    np.testing.assert_allclose(keras.layers.GlobalMaxPooling2D()(x).detach().numpy(), GLOBAL_MAX_POOL,
                               rtol=1e-6)
    np.testing.assert_allclose(keras.layers.Softmax(axis=1)(x).detach().numpy()[0, :, 0, 0], SOFTMAX_AXIS_1,
                               rtol=1e-6)


def test_tensorflow_spellings_under_import_tinynn_as_tf():
    model = keras.Sequential([keras.layers.Conv2D(2, 3, padding="SAME", input_shape=(5, 5, 1)),
                              keras.layers.Flatten(), keras.layers.Dense(3)])
    assert model.layers[0].padding == "same" and len(model.weights) == 4
    assert type(model.pop()).__name__ == "Dense" and len(model.layers) == 2
    probabilities = tf.nn.softmax(tf.tensor([[1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(probabilities.numpy().sum(), 1.0, rtol=1e-6)
    assert tf.tensor([1.0, 2.0])[:, tf.newaxis].shape == (2, 1)
    with tf.GradientTape() as tape:
        w = tf.tensor([3.0], requires_grad=True)
        loss = (w * w).sum()
    assert tape.gradient(loss, [w])[0].numpy().tolist() == [6.0]


SCHEDULES = {   # name: (schedule, steps, Keras 3.15.1's learning rates)
    "exp": (lambda s: s.ExponentialDecay(0.1, 10, 0.5), [0, 5, 10, 25],
            [0.10000000149011612, 0.0707106813788414, 0.05000000074505806, 0.01767767034471035]),
    "exp_stair": (lambda s: s.ExponentialDecay(0.1, 10, 0.5, staircase=True), [0, 5, 10, 25],
                  [0.10000000149011612, 0.10000000149011612, 0.05000000074505806, 0.02500000037252903]),
    "inv": (lambda s: s.InverseTimeDecay(0.1, 10, 0.5), [0, 5, 25],
            [0.10000000149011612, 0.07999999821186066, 0.04444444552063942]),
    "piece": (lambda s: s.PiecewiseConstantDecay([3, 6], [1.0, 0.5, 0.1]), [0, 3, 4, 6, 7],
              [1.0, 1.0, 0.5, 0.5, 0.10000000149011612]),
    "cos": (lambda s: s.CosineDecay(0.1, 10, alpha=0.1), [0, 5, 10, 20],
            [0.10000000149011612, 0.05499999597668648, 0.010000000707805157, 0.010000000707805157]),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_learning_rate_schedules_match_keras(name):
    make, steps, expected = SCHEDULES[name]
    schedule = make(keras.optimizers.schedules)
    np.testing.assert_allclose([schedule(step) for step in steps], expected, rtol=1e-6)


def test_an_optimizer_follows_its_schedule_step_by_step():
    w = tf.tensor([1.0], requires_grad=True)
    optimizer = keras.optimizers.SGD(learning_rate=keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5))
    for _ in range(3):
        optimizer.apply_gradients([(tf.tensor([1.0]), w)])
    assert optimizer.iterations == 3
    np.testing.assert_allclose(w.detach().numpy(), [1 - 0.1 * (1 + 0.5 ** 0.1 + 0.5 ** 0.2)], rtol=1e-6)


def test_streaming_metrics_match_keras():
    accuracy = keras.metrics.SparseCategoricalAccuracy()
    accuracy.update_state([1, 0, 2], [[0.1, 0.9, 0], [0.2, 0.8, 0], [0, 0.1, 0.9]])
    accuracy.update_state([0], [[0.7, 0.2, 0.1]], sample_weight=[2.0])
    mean = keras.metrics.Mean()
    mean.update_state([1.0, 2.0, 3.0])
    mean.update_state([10.0], sample_weight=[2.0])
    assert accuracy.result().item() == pytest.approx(0.800000011920929, rel=1e-6)
    assert mean.result().item() == pytest.approx(5.199999809265137, rel=1e-6)
    mean.reset_state()
    assert mean.result().item() == 0.0


def test_tf_data_pipelines_and_nested_sequentials_run_under_import_tinynn_as_tf():
    x = np.random.default_rng(8).standard_normal((40, 5)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(40).batch(16)
    assert len(dataset) == 3 and sorted(np.concatenate([b[1].numpy() for b in dataset])) == sorted(y)
    model = keras.Sequential([keras.layers.Dense(8, activation="relu", input_shape=(5,)), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(dataset, epochs=2, verbose=0, validation_data=dataset)
    assert set(history.history) == {"loss", "val_loss"}
    assert model.evaluate(dataset, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-6)
    probabilities = keras.Sequential([model, keras.layers.Softmax()])          # shares model's layers
    np.testing.assert_allclose(probabilities.predict(x), tf.nn.softmax(tf.tensor(model.predict(x))).numpy(),
                               rtol=1e-6)
    doubled = [b.numpy().tolist() for b in tf.data.Dataset.from_tensor_slices(np.arange(5)).map(lambda v: v * 2).batch(2)]
    assert doubled == [[0, 2], [4, 6], [8]]


DEPTHWISE_SHAPES = [(3, 3, 3, 2), (6,), (3, 3, 6, 1), (1, 1, 6, 4), (4,), (36, 2), (2,)]
DEPTHWISE_PREDICTIONS = [[-50.582462310791016, 61.560508728027344], [30.656038284301758, 56.83123779296875]]


def test_depthwise_and_separable_convolutions_match_keras():
    model = keras.Sequential([keras.Input((5, 5, 3)), keras.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same"),
                              keras.layers.SeparableConv2D(4, 3, activation="relu"), keras.layers.Flatten(),
                              keras.layers.Dense(2)])
    assert [w.shape for w in model.get_weights()] == DEPTHWISE_SHAPES
    rng = np.random.default_rng(9)
    model.set_weights([rng.standard_normal(shape).astype("float32") for shape in DEPTHWISE_SHAPES])
    images = np.random.default_rng(10).standard_normal((2, 5, 5, 3)).astype("float32")
    np.testing.assert_allclose(model.predict(images), DEPTHWISE_PREDICTIONS, rtol=1e-5, atol=1e-4)


RECURRENT = {   # layer: (Keras weight shapes, Keras 3.15.1's predictions for the rng(12) · 0.5 weights)
    "SimpleRNN": ([(3, 4), (4, 4), (4,), (4, 2), (2,)],
                  [[0.5320503115653992, 0.7330777049064636], [0.4316377639770508, -0.4207035303115845]]),
    "LSTM": ([(3, 16), (4, 16), (16,), (20, 2), (2,)],
             [[0.10971967875957489, 0.2819535732269287], [0.1246773824095726, -0.03303685784339905]]),
    "GRU": ([(3, 12), (4, 12), (2, 12), (4, 2), (2,)],
            [[0.8129688501358032, 0.3980833888053894], [0.7613964676856995, -0.2971622347831726]]),
}


@pytest.mark.parametrize("name", sorted(RECURRENT))
def test_recurrent_layers_load_keras_weights_and_predict_as_keras(name):
    shapes, expected = RECURRENT[name]
    layer = keras.layers.LSTM(4, return_sequences=True) if name == "LSTM" else getattr(keras.layers, name)(4)
    model = keras.Sequential([keras.Input((5, 3)), layer, keras.layers.Flatten(), keras.layers.Dense(2)])
    assert [w.shape for w in model.get_weights()] == shapes
    rng = np.random.default_rng(12)
    weights = [rng.standard_normal(shape).astype("float32") * 0.5 for shape in shapes]
    model.set_weights(weights)
    x = np.random.default_rng(11).standard_normal((2, 5, 3)).astype("float32")
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-5, atol=1e-6)
    for mine, given in zip(model.get_weights(), weights):
        np.testing.assert_allclose(mine, given, rtol=1e-6)


def test_embedding_and_lstm_learn_a_sequence_task():
    rng = np.random.default_rng(13)
    tokens = rng.integers(0, 6, (96, 5))
    labels = (tokens == 3).any(axis=1).astype("int64")            # does token 3 occur?
    model = keras.Sequential([keras.layers.Embedding(6, 8, input_shape=(5,)), keras.layers.LSTM(16),
                              keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.02),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    tf.manual_seed(0)
    history = model.fit(tokens, labels, epochs=15, batch_size=16, verbose=0)
    assert history.history["accuracy"][-1] >= 0.95
    assert [w.shape for w in model.layers[0].get_weights()] == [(6, 8)]
