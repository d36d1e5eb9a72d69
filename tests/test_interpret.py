"""tinynn.interpret against Captum 0.9 on the same model and weights (float64), the module
backward hooks and autograd.grad against PyTorch, and Integrated Gradients' completeness as
a property over random shapes."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinynn
from tinynn import interpret

torch = pytest.importorskip("torch")
captum = pytest.importorskip("captum.attr")


def _cnn(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.Conv2d(3, 4, 3), nn.Tanh(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 3 * 3, 5)).double()


@pytest.fixture(scope="module")
def models():
    tinynn.manual_seed(0)
    mine, theirs = _cnn(tinynn).eval(), _cnn(torch).eval()
    theirs.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in mine.state_dict().items()})
    return mine, theirs


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(1).standard_normal((4, 2, 8, 8))


def _close(mine, theirs, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=rtol, atol=atol)


TARGETS = [3, [0, 4, 2, 1], "tensor"]


def _targets(target):
    if target == "tensor":
        return tinynn.tensor(np.array([1, 1, 0, 3])), torch.tensor([1, 1, 0, 3])
    return target, target


@pytest.mark.parametrize("target", TARGETS, ids=str)
@pytest.mark.parametrize("absolute", [True, False])
def test_saliency_equals_captum(models, images, target, absolute):
    mine, theirs = _targets(target)
    got = interpret.Saliency(models[0]).attribute(tinynn.tensor(images), target=mine, abs=absolute)
    expected = captum.Saliency(models[1]).attribute(torch.tensor(images), target=theirs, abs=absolute)
    _close(got, expected)
    assert all(p.grad is None for p in models[0].parameters())   # autograd.grad, not backward


@pytest.mark.parametrize("method", ["gausslegendre", "riemann_left", "riemann_right",
                                    "riemann_middle", "riemann_trapezoid"])
@pytest.mark.parametrize("baseline", ["none", "scalar", "tensor"])
def test_integrated_gradients_equal_captum(models, images, method, baseline):
    rng = np.random.default_rng(2)
    mine_b, their_b = {"none": (None, None), "scalar": (0.25, 0.25),
                       "tensor": (lambda b: (tinynn.tensor(b), torch.tensor(b)))(
                           rng.standard_normal(images.shape))}[baseline]
    got, delta = interpret.IntegratedGradients(models[0]).attribute(
        tinynn.tensor(images), baselines=mine_b, target=[0, 4, 2, 1], n_steps=12, method=method,
        return_convergence_delta=True)
    expected, their_delta = captum.IntegratedGradients(models[1]).attribute(
        torch.tensor(images), baselines=their_b, target=[0, 4, 2, 1], n_steps=12, method=method,
        return_convergence_delta=True)
    # Captum rounds its quadrature weights (and its Riemann nodes) to float32; ours stay
    # float64, so the sums differ by float32 rounding (~1e-7 relative) — see the next test.
    _close(got, expected, 1e-6, 1e-10)
    np.testing.assert_allclose(delta.numpy(), their_delta.numpy(), atol=1e-7)   # a difference of sums


@pytest.mark.parametrize("method", ["gausslegendre", "riemann_left", "riemann_right",
                                    "riemann_middle", "riemann_trapezoid"])
@pytest.mark.parametrize("n_steps", [2, 7, 50])
def test_quadrature_is_captums(method, n_steps):
    from captum.attr._utils.approximation_methods import approximation_parameters
    weights, nodes = interpret.integrated_gradients.quadrature(method, n_steps)
    their_weights, their_nodes = approximation_parameters(method)
    np.testing.assert_allclose(weights, their_weights(n_steps), rtol=1e-15)
    np.testing.assert_allclose(nodes, their_nodes(n_steps), rtol=1e-7, atol=1e-7)   # float32 linspace
    total = 1 - 1 / n_steps if method == "riemann_trapezoid" else 1   # Captum's trapezoid, see quadrature
    assert abs(weights.sum() - total) < 1e-12 and nodes.min() >= 0 and nodes.max() <= 1


def test_integrated_gradients_options_equal_captum(models, images):
    kwargs = dict(target=2, n_steps=9, internal_batch_size=8)
    got = interpret.IntegratedGradients(models[0], multiply_by_inputs=False).attribute(
        tinynn.tensor(images), **kwargs)
    expected = captum.IntegratedGradients(models[1], multiply_by_inputs=False).attribute(
        torch.tensor(images), **kwargs)
    _close(got, expected, 1e-6, 1e-10)   # Captum's float32 weights, as above


def test_tuple_inputs_and_additional_forward_args_equal_captum():
    def forward(lib):
        return lambda a, b, scale: ((a * b).sum(1, keepdim=True) * scale + a.tanh()) @ weight(lib)

    def weight(lib):
        return lib.tensor(np.arange(12.0).reshape(3, 4) / 10)

    rng = np.random.default_rng(3)
    a, b, scale = rng.standard_normal((5, 3)), rng.standard_normal((5, 3)), rng.standard_normal((5, 1))
    for method in ("IntegratedGradients", "Saliency"):
        got = getattr(interpret, method)(forward(tinynn)).attribute(
            (tinynn.tensor(a), tinynn.tensor(b)), target=1, additional_forward_args=(tinynn.tensor(scale),))
        expected = getattr(captum, method)(forward(torch)).attribute(
            (torch.tensor(a), torch.tensor(b)), target=1, additional_forward_args=(torch.tensor(scale),))
        assert isinstance(got, tuple) and len(got) == 2
        for g, e in zip(got, expected):
            _close(g, e, 1e-6, 1e-10)


@pytest.mark.parametrize("nt_type", ["smoothgrad", "smoothgrad_sq", "vargrad"])
@pytest.mark.parametrize("method", ["Saliency", "IntegratedGradients"])
def test_noise_tunnel_equals_captum_with_the_same_noise(models, images, nt_type, method, monkeypatch):
    samples, stdev = 3, 0.3
    tinynn.manual_seed(11)
    noise = tinynn.random.generator().normal(0.0, stdev, size=(len(images) * samples,) + images.shape[1:])
    monkeypatch.setattr(torch, "normal", lambda mean, std: torch.tensor(noise))   # Captum draws here
    extra = {"n_steps": 6} if method == "IntegratedGradients" else {}
    tinynn.manual_seed(11)
    got = interpret.NoiseTunnel(getattr(interpret, method)(models[0])).attribute(
        tinynn.tensor(images), nt_type=nt_type, nt_samples=samples, stdevs=stdev, target=[0, 4, 2, 1], **extra)
    expected = captum.NoiseTunnel(getattr(captum, method)(models[1])).attribute(
        torch.tensor(images), nt_type=nt_type, nt_samples=samples, stdevs=stdev, target=[0, 4, 2, 1], **extra)
    _close(got, expected, *((1e-10, 1e-12) if method == "Saliency" else (1e-5, 1e-10)))


def test_noise_tunnel_batches_and_seed(models, images):
    tunnel = interpret.NoiseTunnel(interpret.Saliency(models[0]))
    x = tinynn.tensor(images)
    tinynn.manual_seed(5)
    whole = tunnel.attribute(x, nt_samples=4, stdevs=0.2, target=1)
    tinynn.manual_seed(5)
    again = tunnel.attribute(x, nt_samples=4, stdevs=0.2, target=1)
    np.testing.assert_array_equal(whole.numpy(), again.numpy())
    noiseless = tunnel.attribute(x, nt_samples=3, nt_samples_batch_size=2, stdevs=0.0, target=1)
    _close(noiseless, interpret.Saliency(models[0]).attribute(x, target=1))


@pytest.mark.parametrize("layer_index", [0, 2, 6])
@pytest.mark.parametrize("options", [{}, {"relu_attributions": True}, {"attribute_to_layer_input": True},
                                     {"attr_dim_summation": False}], ids=str)
def test_layer_grad_cam_equals_captum(models, images, layer_index, options):
    got = interpret.LayerGradCam(models[0], models[0][layer_index]).attribute(
        tinynn.tensor(images), target=[0, 4, 2, 1], **options)
    expected = captum.LayerGradCam(models[1], models[1][layer_index]).attribute(
        torch.tensor(images), target=[0, 4, 2, 1], **options)
    assert got.shape == tuple(expected.shape)
    _close(got, expected)


@pytest.mark.parametrize("to_input", [False, True])
def test_layer_activation_equals_captum(models, images, to_input):
    got = interpret.LayerActivation(models[0], models[0][3]).attribute(
        tinynn.tensor(images), attribute_to_layer_input=to_input)
    expected = captum.LayerActivation(models[1], models[1][3]).attribute(
        torch.tensor(images), attribute_to_layer_input=to_input)
    _close(got, expected)


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
@pytest.mark.parametrize("size", [(8, 8), (7, 12), (3, 2)])
def test_interpolate_equals_captum(mode, size):
    cam = np.random.default_rng(4).standard_normal((2, 1, 5, 4))
    got = interpret.LayerAttribution.interpolate(tinynn.tensor(cam), size, mode)
    expected = captum.LayerAttribution.interpolate(torch.tensor(cam), size, mode)
    _close(got, expected)


@settings(max_examples=15, deadline=None)
@given(batch=st.integers(1, 3), features=st.integers(1, 6), hidden=st.integers(1, 5),
       seed=st.integers(0, 2**16))
def test_integrated_gradients_add_up_to_the_output_difference(batch, features, hidden, seed):
    """Completeness: Σ_i IG_i = F(x) − F(x'); Gauss-Legendre with 100 nodes is exact to 1e-9
    on a small smooth network (40 nodes left 7e-9 on one example hypothesis found)."""
    rng = np.random.default_rng(seed)
    w1, w2 = tinynn.tensor(rng.standard_normal((features, hidden))), tinynn.tensor(rng.standard_normal((hidden, 2)))
    model = lambda x: ((x @ w1).tanh() @ w2)   # noqa: E731
    x, base = tinynn.tensor(rng.standard_normal((batch, features))), tinynn.tensor(rng.standard_normal((batch, features)))
    ig = interpret.IntegratedGradients(model)
    attributions, delta = ig.attribute(x, baselines=base, target=1, n_steps=100, return_convergence_delta=True)
    expected = (model(x) - model(base)).numpy()[:, 1]
    np.testing.assert_allclose(attributions.numpy().sum(1), expected, rtol=0, atol=1e-9)
    np.testing.assert_allclose(delta.numpy(), 0, atol=1e-9)


def test_bad_targets_get_clear_errors(models, images):
    saliency = interpret.Saliency(models[0])
    with pytest.raises(ValueError, match="Saliency.attribute: the model's output has shape .* pass target="):
        saliency.attribute(tinynn.tensor(images))
    with pytest.raises(ValueError, match="one target per example \\(4\\), got 3"):
        saliency.attribute(tinynn.tensor(images), target=[0, 1, 2])
    with pytest.raises(TypeError, match="expected inputs as a Tensor"):
        saliency.attribute(images, target=0)
    with pytest.raises(ValueError, match="method must be one of"):
        interpret.IntegratedGradients(models[0]).attribute(tinynn.tensor(images), target=0, method="simpson")
    with pytest.raises(RuntimeError, match="the layer ran 0 times"):
        interpret.LayerGradCam(models[0], tinynn.nn.Linear(2, 2)).attribute(tinynn.tensor(images), target=0)
