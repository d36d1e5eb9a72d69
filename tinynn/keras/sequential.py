"""``Sequential``: Keras' model API (compile, fit, evaluate, predict, summary, save)
on top of tinynn's modules, optimisers and the shared training loop.  ``keras.Model``
(``functional.py``) inherits all of it."""
import contextlib
import re

import numpy as np

from .. import distributed, nn
from ..nn.parallel import DistributedDataParallel
from ..autograd import no_grad
from ..data import DataLoader, DistributedSampler, TensorDataset
from ..data.pipeline import TensorSlices
from ..serialization import load, save
from ..tensor import Tensor
from ..training import check_finite_loss, count_correct, train_epoch
from . import callbacks as callbacks_module
from . import losses as losses_module
from . import optimizers as optimizers_module
from .base_layer import Layer
from .layers import InputLayer
from .symbolic import KerasTensor


class Sequential(nn.Module):
    """A stack of Keras layers: ``Sequential([Dense(64, activation='relu', input_shape=(784,)), ...])``."""

    def __init__(self, layers=None, name=None):
        super().__init__()
        self.name = name or "sequential"
        self.stack = nn.ModuleList()
        self.input_spec = None
        self.optimizer = self.loss = None
        self.metrics_names = []
        self.stop_training = False
        for layer in layers or ():
            self.add(layer)

    # ------------------------------------------------------------------ building
    def add(self, layer):
        if isinstance(layer, KerasTensor) and layer.layer is None:      # Sequential([keras.Input(...), ...])
            layer = InputLayer(shape=layer.keras_shape)
        if type(layer) is Sequential:          # a nested Sequential: its layers, shared (same weights)
            if not len(self.stack) and layer.input_spec is not None:
                self.input_spec = tuple(layer.input_spec)
            for inner in layer.stack:
                self.add(inner)
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add: expected a tinynn.keras layer, got {type(layer).__name__}")
        if isinstance(layer, InputLayer):
            self.input_spec = layer.declared_input_shape
            return
        if not len(self.stack) and layer.declared_input_shape is not None:
            self.input_spec = layer.declared_input_shape
        self.stack.append(layer)
        if self.input_spec is not None:
            self.build()

    def pop(self):
        """Remove the last layer (Keras' ``Sequential.pop``)."""
        if not len(self.stack):
            raise TypeError("pop: there are no layers in the model")
        layer = self.stack[-1]
        self.stack = nn.ModuleList(list(self.stack)[:-1])
        return layer

    @property
    def weights(self):
        """Every weight tensor, Keras' ``model.weights`` (trainable first within each layer)."""
        return [value for layer in self._keras_layers() for value in layer.weights]

    def build(self, input_shape=None):
        if input_shape is not None:
            self.input_spec = tuple(input_shape)
        shape = self.input_spec
        for layer in self.stack:
            shape = layer.ensure_built(shape)
        return shape

    @property
    def built(self):
        return self.input_spec is not None and all(layer.built for layer in self.stack)

    @property
    def layers(self):
        return self._keras_layers()

    def _keras_layers(self):
        """The layers whose weights, penalties and counts the model reports, in order."""
        return list(self.stack)

    @property
    def trainable_variables(self):
        return [p for p in self.parameters() if p.requires_grad]

    trainable_weights = trainable_variables

    # ------------------------------------------------------------------ calling
    def _check_input(self, shape):
        if self.input_spec is None:
            self.build(tuple(shape[1:]))
        expected = tuple(self.input_spec)
        if tuple(shape[1:]) != expected:
            raise ValueError(f"{self.name}: expected input of shape (None, {', '.join(map(str, expected))}) "
                             f"(channels last), got an array of shape {tuple(shape)}")

    def forward(self, x, training=None):
        if training is not None:                 # model(x, training=True), as in Keras
            with _mode(self, training):
                return self.forward(x)
        if not isinstance(x, Tensor):
            x = Tensor(_numeric("predict", "x", x).astype(np.float32))
        self._check_input(x.shape)
        if x.ndim == 4:               # Keras' (N, H, W, C) -> tinynn's (N, C, H, W), once
            x = x.permute(0, 3, 1, 2)
        for layer in self.stack:
            x = layer.internal(x)
        return x.permute(0, 2, 3, 1) if x.ndim == 4 else x     # and back to channels last

    # ------------------------------------------------------------------ training
    def compile(self, optimizer="rmsprop", loss=None, metrics=None):
        if loss is None:
            raise ValueError("compile: a loss is required, e.g. loss='sparse_categorical_crossentropy'")
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = losses_module.get(loss)
        unknown = [m for m in metrics or () if m not in ("accuracy", "acc")]
        if unknown:
            raise ValueError(f"compile: unsupported metrics {unknown}; tinynn.keras knows 'accuracy'")
        self.metrics_names = ["loss"] + (["accuracy"] if metrics else [])

    def _training_loss(self, outputs, labels):
        loss = self.loss(labels, outputs)
        for layer in self._keras_layers():
            penalty = layer.regularization_loss()
            if not isinstance(penalty, float):
                loss = loss + penalty
        return loss

    def _check_data(self, x, y, op):
        if self.optimizer is None:
            raise RuntimeError(f"{op}: call compile(optimizer=..., loss=...) first")
        x, y = _numeric(op, "x", x).astype(np.float32), _numeric(op, "y", y)
        if len(x) != len(y):
            raise ValueError(f"{op}: x has {len(x)} samples but y has {len(y)}; they must match")
        self._check_input(x.shape)
        units = self.build()[-1]
        sparse = isinstance(self.loss, losses_module.SparseCategoricalCrossentropy)
        if sparse and y.size and (y.min() < 0 or y.max() >= units):
            raise ValueError(f"{op}: labels must be class indices in [0, {units}) for an output of "
                             f"{units} units; got values from {y.min()} to {y.max()}")
        return x, y

    def fit(self, x=None, y=None, batch_size=32, epochs=1, verbose=1, callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True):
        if isinstance(x, TensorSlices):          # fit(tf.data.Dataset...batch(n)): its batches
            (x, y), batch_size, shuffle = _materialise(x), x.batch_size or batch_size, x.shuffled
        if isinstance(validation_data, TensorSlices):
            validation_data = _materialise(validation_data)
        x, y = self._check_data(x, y, "fit")
        if not 0.0 <= validation_split < 1.0:
            raise ValueError(f"fit: expected validation_split in [0, 1), got {validation_split}")
        if validation_data is None and validation_split:
            cut = int(len(x) * (1 - validation_split))     # Keras takes the last part, unshuffled
            x, y, validation_data = x[:cut], y[:cut], (x[cut:], y[cut:])
        optimizers_module.bind(self.optimizer, self.trainable_variables)
        rank, ranks = distributed.join_mpi_job()          # under mpiexec -n N: data-parallel
        net, verbose = (self._data_parallel(), verbose if rank == 0 else 0) if ranks > 1 else (self, verbose)
        history = callbacks_module.History()
        hooks = [history] + list(callbacks or [])
        for hook in hooks:
            hook.set_model(self)
            hook.on_train_begin()
        dataset = TensorDataset(x, y)
        sampler = DistributedSampler(dataset, ranks, rank, shuffle=shuffle) if ranks > 1 else None
        loader = DataLoader(dataset, max(1, batch_size // ranks), shuffle=shuffle and sampler is None,
                            sampler=sampler)
        self.stop_training, step = False, 0
        for epoch in range(epochs):
            for hook in hooks:
                hook.on_epoch_begin(epoch)
            if sampler is not None:
                sampler.set_epoch(epoch)
            loss, accuracy, step = train_epoch(
                net, loader, self._training_loss, self.optimizer, step, f"Epoch {epoch + 1}/{epochs}",
                verbose > 0, after_step=lambda done: [hook.on_train_batch_end(done - 1) for hook in hooks])
            if ranks > 1:                 # every rank logs (and early-stops on) the mean over ranks
                loss, accuracy = _mean_over_ranks(loss, accuracy)
            logs = {"loss": loss}
            if "accuracy" in self.metrics_names:
                logs["accuracy"] = accuracy
            if validation_data is not None:
                values = self.evaluate(*validation_data, batch_size=batch_size, verbose=0,
                                       return_dict=True)
                logs.update({f"val_{k}": v for k, v in values.items()})
            for hook in hooks:
                hook.on_epoch_end(epoch, logs)
            if verbose:
                print(f"Epoch {epoch + 1}/{epochs} - " + " - ".join(f"{k}: {v:.4f}" for k, v in logs.items()))
            if self.stop_training:
                break
        for hook in hooks:
            hook.on_train_end()
        self.eval()                          # a Keras model called after fit() runs in inference mode
        return history

    def _data_parallel(self):
        """This model wrapped once in DistributedDataParallel (kept outside the module tree,
        which would otherwise contain itself)."""
        if getattr(self, "_ddp", None) is None:
            object.__setattr__(self, "_ddp", DistributedDataParallel(self))
        return self._ddp

    def evaluate(self, x=None, y=None, batch_size=32, verbose=1, return_dict=False):
        if isinstance(x, TensorSlices):
            (x, y), batch_size = _materialise(x), x.batch_size or batch_size
        x, y = self._check_data(x, y, "evaluate")
        self.eval()
        total, correct = 0.0, 0
        with no_grad():
            for start in range(0, len(x), batch_size):
                outputs = self(Tensor._wrap(x[start:start + batch_size]))
                labels = y[start:start + batch_size]
                total += self._training_loss(outputs, labels).item() * len(labels)   # penalty too, as Keras
                correct += count_correct(outputs, labels)
        check_finite_loss(total, "evaluate", self)
        values = {"loss": total / len(x)}
        if "accuracy" in self.metrics_names:
            values["accuracy"] = correct / len(x)
        if verbose:
            print(" - ".join(f"{k}: {v:.4f}" for k, v in values.items()))
        if return_dict:
            return values
        return values["loss"] if len(values) == 1 else list(values.values())

    def predict(self, x, batch_size=32, verbose=0):
        x = np.asarray(x, dtype=np.float32)
        self.eval()
        with no_grad():
            outputs = [self(Tensor._wrap(x[i:i + batch_size])).numpy() for i in range(0, len(x), batch_size)]
        return np.concatenate(outputs)

    # ------------------------------------------------------------------ inspection and files
    def count_params(self):
        return sum(p.numel() for p in self.parameters()) + sum(
            layer.non_trainable_count() for layer in self._keras_layers())

    def summary(self, print_fn=print):
        """Keras' table: each layer's output shape (channels last) and parameter count."""
        if not self.built:
            raise ValueError("summary: the model is not built; give the first layer input_shape= "
                             "or call build((height, width, channels))")
        rows = [("Layer (type)", "Output Shape", "Param #")]
        trainable = non_trainable = 0
        seen = {}
        for layer in self._keras_layers():
            weights = sum(p.numel() for p in layer.parameters() if p.requires_grad)
            frozen = layer.non_trainable_count() + sum(
                p.numel() for p in layer.parameters() if not p.requires_grad)
            trainable, non_trainable = trainable + weights, non_trainable + frozen
            name = layer.layer_name or _keras_name(type(layer).__name__, seen)
            shape = "(None, " + ", ".join(map(str, layer.output_shape)) + ")"
            rows.append((f"{name} ({type(layer).__name__})", shape, str(weights + frozen)))
        widths = [max(len(r[i]) for r in rows) + 2 for i in range(3)]
        line = "=" * sum(widths)
        print_fn(f'Model: "{self.name}"')
        print_fn(line)
        for i, row in enumerate(rows):
            print_fn("".join(cell.ljust(width) for cell, width in zip(row, widths)))
            print_fn(line if i == 0 else "-" * sum(widths))
        print_fn(f"Total params: {trainable + non_trainable:,}")
        print_fn(f"Trainable params: {trainable:,}")
        print_fn(f"Non-trainable params: {non_trainable:,}")
        return trainable + non_trainable

    def get_weights(self):
        """Every layer's arrays in Keras' order and layouts (``Layer.get_weights``), so that
        ``set_weights(keras_model.get_weights())`` takes a real Keras model's weights."""
        return [array for layer in self._keras_layers() for array in layer.get_weights()]

    def set_weights(self, weights):
        layers = self._keras_layers()
        counts = [len(layer._keras_state()) for layer in layers]
        if len(weights) != sum(counts):
            raise ValueError(f"set_weights: expected {sum(counts)} arrays, got {len(weights)}")
        start = 0
        for layer, count in zip(layers, counts):
            layer.set_weights(weights[start:start + count])
            start += count

    def save(self, filepath):
        """Weights and the input shape as ``.npz`` (no pickle); rebuild the same layers to load."""
        state = dict(self.state_dict())
        state["__input_shape__"] = np.asarray(self.input_spec)
        save(state, filepath)

    save_weights = save

    def load_weights(self, filepath):
        state = load(filepath)
        shape = state.pop("__input_shape__", None)
        if not self.built and shape is not None:
            self.build(tuple(np.asarray(shape)))
        self.load_state_dict(state)


def _materialise(dataset):
    """(x, y) arrays from a tf.data-style dataset of (x, y) elements, its maps applied."""
    batches = [element for element in dataset._with(shuffled=False)]
    if not batches or not isinstance(batches[0], tuple) or len(batches[0]) != 2:
        raise ValueError("fit: expected a dataset of (x, y) elements, e.g. "
                         "Dataset.from_tensor_slices((x, y)).batch(32)")
    stack = np.concatenate if dataset.batch_size else np.stack
    return tuple(stack([np.asarray(b[i].detach().numpy()) for b in batches]) for i in range(2))


def _mean_over_ranks(*values):
    totals = np.array(values, dtype=np.float64)
    distributed.all_reduce(totals, op=distributed.ReduceOp.AVG)
    return tuple(float(v) for v in totals)


@contextlib.contextmanager
def _mode(model, training):
    """Training or inference mode for one call, the previous mode back afterwards."""
    previous = model.training
    model.train(bool(training))
    try:
        yield
    finally:
        model.train(previous)


def _numeric(op, name, values):
    """``values`` as a NumPy array of numbers, or an error that says what it was instead."""
    if values is None:
        raise ValueError(f"{op}: expected {name}, an array with one row per sample, got None")
    array = np.asarray(values.detach() if isinstance(values, Tensor) else values)
    if array.dtype.kind not in "biuf" or array.ndim == 0:
        raise TypeError(f"{op}: expected {name} to be an array of numbers with one row per sample, "
                        f"got {type(values).__name__} of dtype {array.dtype} and shape {array.shape}"
                        + (" (encode strings as numbers first)" if array.dtype.kind in "US" else ""))
    return array


def _keras_name(class_name, seen):
    """Keras' default layer names: MaxPooling2D -> max_pooling2d, then max_pooling2d_1, ..."""
    snake = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", class_name).lower()
    count = seen.get(snake, 0)
    seen[snake] = count + 1
    return snake if count == 0 else f"{snake}_{count}"


def load_model(filepath, model):
    """Load weights saved by ``model.save`` into ``model`` (built with the same layers)."""
    model.load_weights(filepath)
    return model
