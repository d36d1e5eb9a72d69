"""RNN, LSTM and GRU against PyTorch with copied weights (float64): outputs, final states and
every gradient — input, initial states, all weights — for every option; and a float64
finite-difference gradcheck of the whole-sequence op."""
import itertools

import numpy as np
import pytest

import tinynn
from tinynn.autograd import gradcheck

torch = pytest.importorskip("torch")

OPTIONS = [dict(num_layers=layers, bidirectional=bidirectional, batch_first=batch_first, bias=bias)
           for layers, bidirectional, batch_first, bias in itertools.product((1, 2), (False, True), (False, True),
                                                                              (True, False))]


def _pair(cls, options, extra=None):
    theirs = getattr(torch.nn, cls)(3, 4, **options, **(extra or {})).double()
    mine = getattr(tinynn.nn, cls)(3, 4, **options, **(extra or {})).double()
    assert list(mine.state_dict()) == list(theirs.state_dict())
    mine.load_state_dict({k: tinynn.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    return mine, theirs


def _run(lib, model, x, states, cls):
    x = lib.tensor(x, requires_grad=True)
    states = [lib.tensor(s, requires_grad=True) for s in states]
    hx = None if not states else (tuple(states) if cls == "LSTM" else states[0])
    output, final = model(x, hx)
    finals = list(final) if cls == "LSTM" else [final]
    loss = (output * output).sum() + sum((f * (k + 2)).sum() for k, f in enumerate(finals))
    loss.backward()
    grads = {name: p.grad.numpy() for name, p in model.named_parameters()}
    return ([output.detach().numpy()] + [f.detach().numpy() for f in finals],
            [x.grad.numpy()] + [s.grad.numpy() for s in states], grads)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
@pytest.mark.parametrize("with_states", [False, True])
def test_recurrent_layers_equal_torch(cls, options, with_states):
    mine, theirs = _pair(cls, options)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 3) if options["batch_first"] else (5, 2, 3))
    layers = options["num_layers"] * (2 if options["bidirectional"] else 1)
    states = [rng.standard_normal((layers, 2, 4)) for _ in range(2 if cls == "LSTM" else 1)] if with_states else []
    got, expected = _run(tinynn, mine, x, states, cls), _run(torch, theirs, x, states, cls)
    for mine_values, their_values in zip(got[:2], expected[:2]):
        for a, b in zip(mine_values, their_values):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    for name, grad in got[2].items():
        np.testing.assert_allclose(grad, expected[2][name], rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("cls, extra", [("RNN", {"nonlinearity": "relu"}), ("GRU", None), ("LSTM", None)])
def test_unbatched_inputs_and_relu_equal_torch(cls, extra):
    mine, theirs = _pair(cls, dict(num_layers=2), extra)
    x = np.random.default_rng(1).standard_normal((6, 3))
    got, expected = _run(tinynn, mine, x, [], cls), _run(torch, theirs, x, [], cls)
    np.testing.assert_allclose(got[0][0], expected[0][0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got[1][0], expected[1][0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_the_whole_sequence_op_passes_gradcheck(cls):
    tinynn.manual_seed(0)
    model = getattr(tinynn.nn, cls)(2, 3, bidirectional=True).double()
    x = tinynn.randn(4, 2, 2, dtype=tinynn.float64, requires_grad=True)
    h0 = tinynn.randn(2, 2, 3, dtype=tinynn.float64, requires_grad=True)
    hx = (h0, h0 * 0.5) if cls == "LSTM" else h0

    def outputs(x, h0):
        out, final = model(x, (h0, h0 * 0.5) if cls == "LSTM" else h0)
        return out.sum(dim=2) + (final[1] if cls == "LSTM" else final).sum()
    assert gradcheck(outputs, (x, h0))
    assert hx is not None


def test_dropout_between_layers_trains_and_is_off_in_eval_and_shapes_are_checked():
    model = tinynn.nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = tinynn.randn(5, 2, 3)
    tinynn.manual_seed(1)
    first = model(x)[0].detach().numpy()
    second = model(x)[0].detach().numpy()
    assert not np.array_equal(first, second)                      # different masks between layers
    model.eval()
    np.testing.assert_array_equal(model(x)[0].detach().numpy(), model(x)[0].detach().numpy())
    with pytest.raises(ValueError, match=r"expected input \(T, N, 3\)"):
        model(tinynn.randn(5, 2, 4))
    with pytest.raises(ValueError, match="initial states of shape"):
        model(x, (tinynn.zeros(1, 2, 4), tinynn.zeros(1, 2, 4)))


@pytest.mark.parametrize("cls", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("batched", [True, False])
def test_cells_equal_torch(cls, batched):
    theirs = getattr(torch.nn, cls)(3, 4).double()
    mine = getattr(tinynn.nn, cls)(3, 4).double()
    assert list(mine.state_dict()) == list(theirs.state_dict())
    mine.load_state_dict({k: tinynn.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(2)
    shape = (2,) if batched else ()
    x, h, c = rng.standard_normal(shape + (3,)), rng.standard_normal(shape + (4,)), rng.standard_normal(shape + (4,))
    results = []
    for lib, model in ((tinynn, mine), (torch, theirs)):
        tensors = [lib.tensor(a, requires_grad=True) for a in (x, h, c)]
        out = model(tensors[0], (tensors[1], tensors[2]) if cls == "LSTMCell" else tensors[1])
        outs = list(out) if cls == "LSTMCell" else [out]
        sum((o * o * (k + 1)).sum() for k, o in enumerate(outs)).backward()
        results.append([o.detach().numpy() for o in outs] + [t.grad.numpy() for t in tensors[:2 if cls != "LSTMCell" else 3]]
                       + [p.grad.numpy() for _, p in model.named_parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("padding_idx", [None, 1, -1])
def test_embedding_equals_torch_with_repeated_indices_and_padding(padding_idx):
    theirs = torch.nn.Embedding(5, 3, padding_idx=padding_idx).double()
    mine = tinynn.nn.Embedding(5, 3, padding_idx=padding_idx).double()
    mine.load_state_dict({"weight": tinynn.tensor(theirs.weight.detach().numpy())})
    indices = np.array([[0, 2, 1], [2, 4, 2]])
    results = []
    for lib, model in ((tinynn, mine), (torch, theirs)):
        out = model(lib.tensor(indices))
        (out * out).sum().backward()
        results.append((out.detach().numpy(), model.weight.grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)
    if padding_idx is not None:
        assert not tinynn.nn.Embedding(5, 3, padding_idx=padding_idx).weight.detach().numpy()[padding_idx].any()
    with pytest.raises(IndexError, match=r"indices must be in \[0, 5\)"):
        mine(tinynn.tensor([5]))


def test_a_nonzero_padding_row_is_returned_but_never_learns():
    layer = tinynn.nn.Embedding(4, 2, padding_idx=0)
    with tinynn.no_grad():
        layer.weight[0] = tinynn.tensor([5.0, 6.0])
    out = layer(tinynn.tensor([0, 1, 0]))
    out.sum().backward()
    assert out.detach().numpy()[0].tolist() == [5.0, 6.0]
    assert layer.weight.grad.numpy()[0].tolist() == [0.0, 0.0] and layer.weight.grad.numpy()[1].tolist() == [1.0, 1.0]
