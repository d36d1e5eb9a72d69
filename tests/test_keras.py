"""The Keras front end: the seeds' programs, Keras' update rules, callbacks, summaries, errors."""
import math

import numpy as np
import pytest

import tinynn
from tinynn import keras
from tinynn.data import load_mnist
from tinynn.cli import DEFAULT_MNIST_DIR

layers = keras.layers


@pytest.fixture(scope="module")
def mnist():
    """The real MNIST test digits, channels last as Keras wants them: 8,000 to train, 2,000 held out."""
    images, labels = load_mnist(DEFAULT_MNIST_DIR)
    images = images.transpose(0, 2, 3, 1)
    return images[:8000], labels[:8000], images[8000:], labels[8000:]


def seed000_cnn():
    return keras.models.Sequential([
        layers.Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation='relu'),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(10, activation='softmax'),
    ])


def seed003_mlp():
    return keras.Sequential([
        layers.Dense(64, activation='relu', input_shape=(784,)),
        layers.Dense(64, activation='relu'),
        layers.Dense(10, activation='softmax'),
    ])


def seed003_cifar_cnn():
    model = keras.models.Sequential()
    model.add(layers.Conv2D(32, (3, 3), activation='relu', input_shape=(32, 32, 3)))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation='relu'))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation='relu'))
    model.add(layers.Flatten())
    model.add(layers.Dense(64, activation='relu'))
    model.add(layers.Dense(10, activation='softmax'))
    return model


def test_seed000_keras_cnn_reaches_96_percent_in_3_epochs(mnist):
    tinynn.manual_seed(0)
    x_train, y_train, x_test, y_test = mnist
    model = seed000_cnn()
    model.compile(loss='sparse_categorical_crossentropy', optimizer='adam', metrics=['accuracy'])
    history = model.fit(x_train, y_train, epochs=3, batch_size=64, verbose=0)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy >= 0.96, accuracy
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_seed003_mlp_reaches_93_percent(mnist):
    tinynn.manual_seed(0)
    x_train, y_train, x_test, y_test = mnist
    model = seed003_mlp()
    model.compile(optimizer=keras.optimizers.Adam(), loss='sparse_categorical_crossentropy',
                  metrics=['accuracy'])
    model.fit(x_train.reshape(-1, 784), y_train, epochs=5, batch_size=32, verbose=0)
    assert model.evaluate(x_test.reshape(-1, 784), y_test, verbose=0)[1] >= 0.93


@pytest.mark.parametrize("build,expected", [
    (seed000_cnn, 34826), (seed003_mlp, 55050), (seed003_cifar_cnn, 122570),
])
def test_summary_parameter_counts_equal_keras(build, expected, capsys):
    """Keras' formulas: Conv2D k·k·C_in·C_out + C_out, Dense in·out + out."""
    model = build()
    assert model.summary() == expected == model.count_params()
    text = capsys.readouterr().out
    assert f"Total params: {expected:,}" in text
    assert "Output Shape" in text


def test_summary_shows_channels_last_shapes_and_batch_norm_non_trainables(capsys):
    model = keras.Sequential([
        keras.Input(shape=(9, 9, 3)),
        layers.Conv2D(8, 3, strides=2, padding='same'),
        layers.BatchNormalization(),
        layers.AveragePooling2D(2, padding='same'),
        layers.GlobalAveragePooling2D(),
        layers.Dense(2)])
    assert model.summary() == 224 + 32 + 18
    text = capsys.readouterr().out
    assert "(None, 5, 5, 8)" in text and "(None, 3, 3, 8)" in text
    assert "Non-trainable params: 16" in text
    assert "batch_normalization (BatchNormalization)" in text


def test_keras_same_padding_matches_tensorflow_output_sizes():
    model = keras.Sequential([layers.Conv2D(4, 3, strides=2, padding='same', input_shape=(7, 8, 1)),
                              layers.MaxPooling2D(3, strides=2, padding='same')])
    assert model.predict(np.zeros((2, 7, 8, 1))).shape == (2, 2, 2, 4)   # channels last


def _keras_rule_trajectory(optimizer, steps=4):
    w = tinynn.tensor([1.0, -2.0, 0.5], dtype=tinynn.float64, requires_grad=True)
    keras.optimizers.bind(optimizer, [w])
    out = []
    for _ in range(steps):
        optimizer.zero_grad()
        (w ** 3).sum().backward()
        optimizer.step()
        out.append(w.detach().numpy().copy())
    return out


def _reference(rule, steps=4):
    w = np.array([1.0, -2.0, 0.5])
    state = {}
    out = []
    for t in range(1, steps + 1):
        w = rule(w, 3 * w ** 2, state, t)
        out.append(w.copy())
    return out


def _adam(w, g, s, t, lr=0.01, b1=0.9, b2=0.999, eps=1e-7):
    s["m"] = s.get("m", 0) + (1 - b1) * (g - s.get("m", 0))
    s["v"] = s.get("v", 0) + (1 - b2) * (g * g - s.get("v", 0))
    return w - lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t) * s["m"] / (np.sqrt(s["v"]) + eps)


def _rmsprop(w, g, s, t, lr=0.01, rho=0.9, eps=1e-7):
    s["v"] = rho * s.get("v", 0) + (1 - rho) * g * g
    return w - lr * g / np.sqrt(s["v"] + eps)


def _sgd_momentum(w, g, s, t, lr=0.01, momentum=0.9):
    s["v"] = momentum * s.get("v", 0) - lr * g
    return w + s["v"]


def _adagrad(w, g, s, t, lr=0.01, eps=1e-7):
    s["acc"] = s.get("acc", 0.1) + g * g
    return w - lr * g / np.sqrt(s["acc"] + eps)


@pytest.mark.parametrize("optimizer,rule", [
    (lambda: keras.optimizers.Adam(learning_rate=0.01), _adam),
    (lambda: keras.optimizers.RMSprop(learning_rate=0.01), _rmsprop),
    (lambda: keras.optimizers.SGD(learning_rate=0.01, momentum=0.9), _sgd_momentum),
    (lambda: keras.optimizers.Adagrad(learning_rate=0.01), _adagrad),
])
def test_keras_optimizers_follow_keras_update_rules(optimizer, rule):
    for mine, expected in zip(_keras_rule_trajectory(optimizer()), _reference(rule)):
        np.testing.assert_allclose(mine, expected, rtol=1e-12)


def test_keras_adam_differs_from_torch_adam_in_epsilon_placement():
    keras_w = _keras_rule_trajectory(keras.optimizers.Adam(learning_rate=0.01, epsilon=1e-1))[-1]
    w = tinynn.tensor([1.0, -2.0, 0.5], dtype=tinynn.float64, requires_grad=True)
    torch_style = tinynn.optim.Adam([w], lr=0.01, eps=1e-1)
    for _ in range(4):
        torch_style.zero_grad()
        (w ** 3).sum().backward()
        torch_style.step()
    assert not np.allclose(keras_w, w.detach().numpy())


def _small_problem():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    model = keras.Sequential([layers.Dense(16, activation='relu', input_shape=(4,)),
                              layers.Dense(2, activation='softmax')])
    model.compile(optimizer='sgd', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
    return model, x, y


def test_history_validation_split_and_predict():
    model, x, y = _small_problem()
    history = model.fit(x, y, epochs=3, batch_size=20, validation_split=0.25, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(history.history["loss"]) == 3 and history.epoch == [0, 1, 2]
    probabilities = model.predict(x[:5])
    assert probabilities.shape == (5, 2)
    np.testing.assert_allclose(probabilities.sum(1), 1, rtol=1e-5)


def test_early_stopping_stops_and_restores_best_weights():
    model, x, y = _small_problem()
    stopper = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0,
                                            restore_best_weights=True)
    history = model.fit(x, y, epochs=10, verbose=0, callbacks=[stopper])
    assert len(history.history["loss"]) == 2     # epoch 2 is "not better by 10": stop
    assert stopper.stopped_epoch == 1


def test_reduce_lr_on_plateau_and_learning_rate_scheduler():
    model, x, y = _small_problem()
    reduce = keras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=10.0)
    model.fit(x, y, epochs=3, verbose=0, callbacks=[reduce])
    assert model.optimizer.learning_rate == pytest.approx(0.01 * 0.25)
    schedule = keras.callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    model.fit(x, y, epochs=2, verbose=0, callbacks=[schedule])
    assert model.optimizer.learning_rate == pytest.approx(0.05)


def test_model_checkpoint_and_weight_round_trip(tmp_path):
    model, x, y = _small_problem()
    checkpoint = keras.callbacks.ModelCheckpoint(tmp_path / "best.npz", monitor="val_loss",
                                                 save_best_only=True)
    model.fit(x, y, epochs=2, verbose=0, validation_data=(x[:50], y[:50]), callbacks=[checkpoint])
    assert (tmp_path / "best.npz").exists()
    model.save(tmp_path / "last.npz")
    fresh, _, _ = _small_problem()
    keras.models.load_model(tmp_path / "last.npz", fresh)
    np.testing.assert_allclose(fresh.predict(x[:4]), model.predict(x[:4]), rtol=1e-6)


def test_l2_regularizer_adds_the_keras_penalty():
    x = np.ones((4, 3), np.float32)
    y = np.zeros(4, np.int64)
    plain = keras.Sequential([layers.Dense(2, input_shape=(3,), activation='softmax')])
    penalised = keras.Sequential([layers.Dense(2, input_shape=(3,), activation='softmax',
                                               kernel_regularizer=keras.regularizers.l2(0.5))])
    penalised.set_weights(plain.get_weights())
    for model in (plain, penalised):
        model.compile(optimizer='sgd', loss='sparse_categorical_crossentropy')
    outputs = penalised(x)
    expected = 0.5 * float((penalised.layers[0].inner.weight.detach().numpy() ** 2).sum())
    difference = penalised._training_loss(outputs, y).item() - plain._training_loss(plain(x), y).item()
    assert difference == pytest.approx(expected, rel=1e-5)


def test_gradient_tape_loop_of_seed_001():
    """Seed 001's hand-written TensorFlow loop, with tinynn.keras in place of tf.keras."""
    model, x, y = _small_problem()
    optimizer = keras.optimizers.Adam(learning_rate=0.01)
    keras.optimizers.bind(optimizer, model.trainable_variables)
    losses = []
    for epoch in range(20):
        with keras.GradientTape() as tape:
            logits = model(x)
            loss = keras.losses.sparse_categorical_crossentropy(y_true=y, y_pred=logits)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]


def test_categorical_crossentropy_with_to_categorical():
    model, x, y = _small_problem()
    model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])
    history = model.fit(x, keras.utils.to_categorical(y, 2), epochs=20, verbose=0)
    assert history.history["accuracy"][-1] > 0.8
    np.testing.assert_array_equal(keras.utils.to_categorical([0, 2, 1]),
                                  [[1, 0, 0], [0, 0, 1], [0, 1, 0]])


def test_binary_crossentropy_with_a_sigmoid_output():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((100, 2)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)
    model = keras.Sequential([layers.Dense(1, activation='sigmoid', input_shape=(2,))])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss='binary_crossentropy', metrics=['accuracy'])
    history = model.fit(x, y, epochs=15, verbose=0)
    assert history.history["accuracy"][-1] > 0.9


@pytest.mark.parametrize("call,pattern", [
    (lambda m, x, y: m.fit(x[:, :3], y, verbose=0), r"expected input of shape \(None, 4\).*got an array of shape \(200, 3\)"),
    (lambda m, x, y: m.fit(x, y + 5, verbose=0), r"labels must be class indices in \[0, 2\).*from 5 to 6"),
    (lambda m, x, y: m.fit(x, y[:150], verbose=0), r"x has 200 samples but y has 150"),
    (lambda m, x, y: m.compile(optimizer='adam', loss='hinge_loss'), r"unknown loss 'hinge_loss'"),
    (lambda m, x, y: m.compile(optimizer='lamb', loss='mse'), r"unknown optimizer 'lamb'"),
    (lambda m, x, y: layers.Dense(3, activation='relux'), r"unknown name 'relux'"),
])
def test_bad_keras_input_is_explained(call, pattern):
    model, x, y = _small_problem()
    with pytest.raises((ValueError, TypeError), match=pattern):
        call(model, x, y)


def test_polynomial_decay_follows_the_tfmot_formula():
    from tinynn.keras import pruning
    schedule = pruning.PolynomialDecay(0.1, 0.9, begin_step=10, end_step=110, power=3, frequency=25)
    for step in (10, 35, 60, 110):
        due, sparsity = schedule(step)
        expected = 0.9 + (0.1 - 0.9) * (1 - (step - 10) / 100) ** 3
        assert due and sparsity == pytest.approx(expected)
    assert not schedule(36)[0] and not schedule(5)[0] and schedule(500)[1] == pytest.approx(0.9)
    with pytest.raises(ValueError, match="initial_sparsity <= final_sparsity < 1"):
        pruning.PolynomialDecay(0.5, 0.2, 0, 10)


def test_pruning_callback_reaches_the_final_sparsity_and_strip_keeps_the_zeros():
    from tinynn.keras import pruning
    tinynn.manual_seed(0)
    x = np.random.default_rng(0).standard_normal((256, 20)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = keras.models.Sequential([keras.layers.Dense(16, activation="relu", input_shape=(20,)),
                                     keras.layers.Dense(2, activation="softmax")])
    model = pruning.prune_low_magnitude(model, pruning.PolynomialDecay(0.0, 0.75, 0, 24, frequency=8))
    model.compile(loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.Adam(0.01),
                  metrics=["accuracy"])
    model.fit(x, y, epochs=20, batch_size=32, verbose=0, callbacks=[pruning.UpdatePruningStep()])
    model = pruning.strip_pruning(model)
    for layer in model.layers:
        assert (layer.inner.weight.detach().numpy() == 0).mean() == pytest.approx(0.75, abs=0.01)
    assert model.evaluate(x, y, verbose=0)[1] > 0.9          # y = [x0 > 0] survives 75 % sparsity
    unpruned = keras.models.Sequential([keras.layers.Dense(2, input_shape=(3,))])
    unpruned.compile(loss="mse", optimizer="sgd")
    with pytest.raises(ValueError, match="call pruning.prune_low_magnitude"):
        unpruned.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0, callbacks=[pruning.UpdatePruningStep()])
