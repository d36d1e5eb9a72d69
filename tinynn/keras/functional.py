"""``keras.Model``: a model from a graph of layer calls, or a subclass that writes ``call``.

    inputs = keras.Input((28, 28, 1))                      # functional
    x = keras.layers.Conv2D(16, 3, activation="relu")(inputs)
    outputs = keras.layers.Dense(10)(keras.layers.Flatten()(x))
    model = keras.Model(inputs, outputs)

    class MLP(keras.Model):                                 # subclassed
        def __init__(self):
            super().__init__()
            self.hidden, self.out = keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10)
        def call(self, x, training=None):
            return self.out(self.hidden(x))

Both get everything a ``Sequential`` has (compile, fit, evaluate, predict, summary, weights):
this class is a ``Sequential`` whose forward pass runs the graph, or ``call``.  A subclassed
model creates its weights on its first call; ``fit`` and ``build`` make that call on one
sample, in inference mode and without a graph.
"""
import inspect

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor
from .base_layer import Layer
from .sequential import Sequential, _mode, _numeric
from .symbolic import KerasTensor

__all__ = ["Model"]


class Model(Sequential):
    def __init__(self, inputs=None, outputs=None, name=None, **unused):
        super().__init__(name=name or ("functional" if inputs is not None else type(self).__name__.lower()))
        self.graph_inputs = self.graph_outputs = self.nodes = None
        self._subclass_output = None
        if inputs is None and outputs is None:
            return                                            # subclassed: call() is the model
        self.graph_inputs, self.graph_outputs = _symbolic("inputs", inputs), _symbolic("outputs", outputs)
        self.nodes = _computation_order(self.graph_outputs, self.graph_inputs)
        for layer in dict.fromkeys(node.layer for node in self.nodes):   # each layer once, in order
            self.stack.append(layer)
        self.input_spec = self.graph_inputs[0].keras_shape

    # ------------------------------------------------------------------ building
    @property
    def subclassed(self):
        return self.graph_outputs is None

    @property
    def built(self):
        return self._subclass_output is not None if self.subclassed else True

    def build(self, input_shape=None):
        """The output shape; a subclassed model first runs on one zero sample of ``input_shape``."""
        if not self.subclassed:
            return self.graph_outputs[0].keras_shape
        if self._subclass_output is None:
            if input_shape is None:
                raise ValueError(f"{self.name}: call build(input_shape) or fit() once before using it")
            with no_grad(), _mode(self, False):
                out = self.call_subclass(Tensor(np.zeros((1,) + tuple(input_shape), np.float32)))
            self.input_spec, self._subclass_output = tuple(input_shape), tuple(out.shape[1:])
        return self._subclass_output

    def _keras_layers(self):
        if not self.subclassed:
            return list(self.stack)
        return [m for m in self.modules() if isinstance(m, Layer)]

    def _check_input(self, shape):
        if self.subclassed:
            self.build(tuple(shape[1:]))
        if len(self.graph_inputs or ()) > 1:
            raise ValueError(f"{self.name}: fit/evaluate/predict take one input array; this model has "
                             f"{len(self.graph_inputs)} inputs (call it on a list of tensors instead)")
        super()._check_input(shape)

    # ------------------------------------------------------------------ calling
    def call_subclass(self, x):
        accepts_training = "training" in inspect.signature(self.call).parameters
        return self.call(x, training=self.training) if accepts_training else self.call(x)

    def call(self, x, training=None):
        raise NotImplementedError(f"{self.name}: a subclassed keras.Model must define call(self, x)")

    def forward(self, x, training=None):
        if training is not None:
            with _mode(self, training):
                return self.forward(x)
        if self.subclassed:
            return self.call_subclass(_as_tensor(x))
        given = x if isinstance(x, (list, tuple)) else [x]
        if len(given) != len(self.graph_inputs):
            raise ValueError(f"{self.name}: expected {len(self.graph_inputs)} inputs, got {len(given)}")
        values = {}
        for symbol, value in zip(self.graph_inputs, given):
            value = _as_tensor(value)
            if tuple(value.shape[1:]) != symbol.keras_shape:
                raise ValueError(f"{self.name}: expected input of shape {symbol.shape} (channels last), "
                                 f"got {tuple(value.shape)}")
            values[id(symbol)] = value.permute(0, 3, 1, 2) if value.ndim == 4 else value
        for node in self.nodes:
            arguments = [values[id(t)] for t in node.inputs]
            values[id(node)] = node.layer.internal(arguments if node.listed else arguments[0])
        outputs = [values[id(t)] for t in self.graph_outputs]
        outputs = [o.permute(0, 2, 3, 1) if o.ndim == 4 else o for o in outputs]
        return outputs[0] if len(outputs) == 1 else outputs


def _as_tensor(x):
    return x if isinstance(x, Tensor) else Tensor(_numeric("Model", "x", x).astype(np.float32))


def _symbolic(role, tensors):
    tensors = list(tensors) if isinstance(tensors, (list, tuple)) else [tensors]
    for t in tensors:
        if not isinstance(t, KerasTensor):
            raise TypeError(f"Model: expected {role} made from keras.Input(...) and layer calls, got "
                            f"{type(t).__name__} (data goes to fit/predict, not to Model)")
    return tensors


def _computation_order(outputs, inputs):
    """The layer calls from ``inputs`` to ``outputs``, each after the calls it needs."""
    order, done, known = [], set(), {id(t) for t in inputs}

    def visit(tensor):
        if id(tensor) in done or id(tensor) in known:
            return
        if tensor.layer is None:
            raise ValueError("Model: an output depends on a keras.Input that is not among the inputs")
        for parent in tensor.inputs:
            visit(parent)
        done.add(id(tensor))
        order.append(tensor)
    for output in outputs:
        visit(output)
    return order
