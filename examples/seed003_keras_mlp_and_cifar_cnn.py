"""Seed 003: the Keras MLP on MNIST and the Keras CIFAR-10 CNN, as the document writes them.

Changed: ``import tinynn as tf`` / ``from tinynn.keras import datasets, layers, models``,
the MNIST loading lines (the seed leaves train_images undefined), and fewer epochs.
"""
import tinynn as tf
from tinynn.keras import datasets, layers, models
from _synthetic import QUICK, cifar10_or_synthetic

# ---- The MLP (seed 003, first listing) ----
(train_images, train_labels), (test_images, test_labels) = tf.keras.datasets.mnist.load_data()
train_images = train_images.reshape(-1, 784) / 255.0
test_images = test_images.reshape(-1, 784) / 255.0
if QUICK:
    train_images, train_labels = train_images[:512], train_labels[:512]

model = tf.keras.Sequential([
    tf.keras.layers.Dense(64, activation='relu', input_shape=(784,)),
    tf.keras.layers.Dense(64, activation='relu'),
    tf.keras.layers.Dense(10, activation='softmax')
])
loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)   # sic: the seed's choice
optimizer = tf.keras.optimizers.Adam()
model.compile(optimizer=optimizer, loss=loss_fn, metrics=['accuracy'])
model.fit(train_images, train_labels, epochs=1 if QUICK else 5, batch_size=32)
print('MLP test accuracy:', model.evaluate(test_images, test_labels, verbose=0)[1])

# ---- The CIFAR-10 CNN (seed 003, second listing) ----
(train_images, train_labels), (test_images, test_labels) = cifar10_or_synthetic(datasets.cifar10.load_data)
train_images, test_images = train_images / 255.0, test_images / 255.0
train_labels = tf.keras.utils.to_categorical(train_labels)
test_labels = tf.keras.utils.to_categorical(test_labels)
count = 256 if QUICK else 3000
train_images, train_labels = train_images[:count], train_labels[:count]

model = models.Sequential()
model.add(layers.Conv2D(32, (3, 3), activation='relu', input_shape=(32, 32, 3)))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(64, (3, 3), activation='relu'))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(64, (3, 3), activation='relu'))
model.add(layers.Flatten())
model.add(layers.Dense(64, activation='relu'))
model.add(layers.Dense(10, activation='softmax'))
model.summary()

loss_fn = tf.keras.losses.CategoricalCrossentropy()
optimizer = tf.keras.optimizers.Adam()
model.compile(optimizer=optimizer, loss=loss_fn, metrics=['accuracy'])
model.fit(train_images, train_labels, epochs=1 if QUICK else 3, batch_size=32)
print('CNN test accuracy:', model.evaluate(test_images[:1000], test_labels[:1000], verbose=0)[1])
