"""Seed 001: a CIFAR-10 CNN trained with a hand-written loop, two ways side by side.

Left: the seed's TensorFlow pattern (GradientTape, tape.gradient, apply_gradients) on
tinynn.keras.  Right: the idiomatic tinynn/PyTorch loop (loss.backward(); opt.step()).
Both train the seed's conv_net (Conv2D 32 3×3 'same' relu + MaxPooling 2×2) with a
Dense classifier on top (the seed's `logits` is never defined; this is the smallest
completion).  Uses CIFAR-10 from $TINYNN_DATA/cifar10 when present, else a synthetic stand-in.
"""
import tinynn
import tinynn as tf
from _synthetic import QUICK, cifar10_or_synthetic

(x_train, y_train), (x_test, y_test) = cifar10_or_synthetic(tf.keras.datasets.cifar10.load_data)
x_train, x_test = x_train / 255.0, x_test / 255.0
y_train, y_test = y_train.reshape(-1), y_test.reshape(-1)
count = 256 if QUICK else 2000
x_train, y_train, x_test, y_test = x_train[:count], y_train[:count], x_test[:count // 2], y_test[:count // 2]
epochs, batch = (1 if QUICK else 3), 32


def conv_net():
    return tf.keras.Sequential([
        tf.keras.layers.Conv2D(filters=32, kernel_size=(3, 3), strides=1, padding='SAME'.lower(),
                               activation='relu', input_shape=(32, 32, 3)),
        tf.keras.layers.MaxPooling2D(pool_size=(2, 2)),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(10)])


# ---- 1. The seed's loop: GradientTape (mini-batches instead of one image per step) ----
tinynn.manual_seed(0)
model = conv_net()
optimizer = tf.keras.optimizers.Adam(learning_rate=0.001)
for epoch in range(epochs):
    for i in range(0, len(x_train), batch):
        x, y = x_train[i:i + batch], y_train[i:i + batch]
        with tf.keras.GradientTape() as tape:
            logits = model(x)
            loss = tf.keras.losses.sparse_categorical_crossentropy(y_true=y, y_pred=logits, from_logits=True)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
    print('GradientTape loop - Epoch {}: Loss: {:.4f}'.format(epoch + 1, loss.item()))

# ---- 2. The same model, the idiomatic tinynn (PyTorch-style) loop ----
tinynn.manual_seed(0)
model2 = conv_net()
opt = tinynn.optim.Adam(model2.parameters(), lr=0.001)
for epoch in range(epochs):
    for i in range(0, len(x_train), batch):
        x, y = tinynn.tensor(x_train[i:i + batch], dtype=tinynn.float32), tinynn.tensor(y_train[i:i + batch])
        opt.zero_grad()
        loss = tinynn.nn.functional.cross_entropy(model2(x), y)
        loss.backward()
        opt.step()
    print('backward/step loop - Epoch {}: Loss: {:.4f}'.format(epoch + 1, loss.item()))

for name, m in (("GradientTape", model), ("backward/step", model2)):
    accuracy = (m.predict(x_test).argmax(1) == y_test).mean()
    print(f'{name} model: test accuracy {accuracy:.3f}')
