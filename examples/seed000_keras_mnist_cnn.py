"""Seed 000: the Keras MNIST CNN, as the document writes it.

Changed from the seed: ``import tinynn as tf`` instead of ``import tensorflow as tf``, and
the data loading lines (the seed leaves x_train/y_train undefined).
"""
import tinynn as tf
from _synthetic import QUICK

(x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()
x_train, x_test = x_train[..., None] / 255.0, x_test[..., None] / 255.0
if QUICK:
    x_train, y_train, x_test, y_test = x_train[:512], y_train[:512], x_test[:256], y_test[:256]

# 定义模型架构 (define the model)
model = tf.keras.models.Sequential([
    tf.keras.layers.Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)),
    tf.keras.layers.MaxPooling2D((2, 2)),
    tf.keras.layers.Conv2D(64, (3, 3), activation='relu'),
    tf.keras.layers.MaxPooling2D((2, 2)),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(10, activation='softmax')
])

# 定义损失函数和优化器 (loss and optimiser)
model.compile(loss='sparse_categorical_crossentropy',
              optimizer='adam',
              metrics=['accuracy'])
model.summary()

# 训练模型 (train: the seed runs 10 epochs; 3 already reach ~97 % here)
model.fit(x_train, y_train, epochs=1 if QUICK else 3)

# 评估模型 (evaluate)
loss, accuracy = model.evaluate(x_test, y_test)
print('Test loss:', loss)
print('Test accuracy:', accuracy)
