"""The seeds' networks: shapes, parameter counts, and the ResNet/MobileNetV2 blocks
equal to the seed 004 PyTorch code with copied weights."""
import numpy as np
import pytest

import tinynn
from tinynn import backend, models
from oracle import requires_torch, torch


def _torch_blocks():
    """Seed 004's PyTorch blocks (tests/torch_seed_models.py)."""
    import torch_seed_models
    return torch_seed_models.BasicBlock, torch_seed_models.InvertedResidual


def _compare_block(ours, theirs, x, path):
    ours.double()
    theirs.double()
    theirs.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in ours.state_dict().items()})
    xs, xt = tinynn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    with backend.use_kernels(path):
        yo = ours(xs)
        (yo * yo).sum().backward()
    yt = theirs(xt)
    (yt * yt).sum().backward()
    np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-8, atol=1e-8)
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), theirs_params[name].grad.numpy(),
                                   rtol=1e-8, atol=1e-8, err_msg=name)
    theirs_state = theirs.state_dict()
    for name, value in ours.state_dict().items():
        np.testing.assert_allclose(np.asarray(value), theirs_state[name].numpy(), rtol=1e-10,
                                   err_msg=name)


@requires_torch
@pytest.mark.parametrize("path", ["reference", "numba"])
@pytest.mark.parametrize("in_planes,planes,stride", [(4, 4, 1), (4, 8, 2), (3, 6, 1)])
def test_basic_block_matches_seed_pytorch(path, in_planes, planes, stride):
    torch_block, _ = _torch_blocks()
    x = np.random.default_rng(0).standard_normal((2, in_planes, 6, 6))
    ours = models.BasicBlock(in_planes, planes, stride)
    assert (len(ours.shortcut) > 0) == (stride != 1 or in_planes != planes)
    _compare_block(ours, torch_block(in_planes, planes, stride), x, path)


@requires_torch
@pytest.mark.parametrize("path", ["reference", "numba"])
@pytest.mark.parametrize("inp,oup,stride,t", [(4, 4, 1, 6), (4, 6, 2, 6), (3, 3, 1, 1), (4, 5, 1, 2)])
def test_inverted_residual_matches_seed_pytorch(path, inp, oup, stride, t):
    _, torch_block = _torch_blocks()
    x = np.random.default_rng(1).standard_normal((2, inp, 5, 5))
    _compare_block(models.InvertedResidual(inp, oup, stride, t), torch_block(inp, oup, stride, t), x, path)


@pytest.mark.parametrize("name,args,shape,params", [
    ("mlp", {}, (3, 1, 28, 28), 784 * 64 + 64 + 64 * 64 + 64 + 64 * 10 + 10),
    ("lenet", {}, (3, 1, 32, 32), 61706),
    ("keras_mnist_cnn", {}, (3, 1, 28, 28), 34826),          # Keras' summary() for seed 000
    ("keras_cifar_cnn", {}, (3, 3, 32, 32), 122570),         # Keras' summary() for seed 003
    ("resnet18", {}, (2, 3, 32, 32), 11173962),
    ("mobilenet_v2", {}, (2, 3, 32, 32), 2236682),
])
def test_model_zoo_shapes_and_parameter_counts(name, args, shape, params):
    model = models.MODELS[name](**args)
    assert sum(p.numel() for p in model.parameters()) == params
    out = model(tinynn.randn(*shape))
    assert out.shape == (shape[0], 10)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_lenet_adapts_to_28_pixel_inputs_and_rejects_tiny_ones():
    assert models.LeNet5(input_size=28)(tinynn.randn(2, 1, 28, 28)).shape == (2, 10)
    with pytest.raises(ValueError, match="LeNet5: input_size 8 is too small"):
        models.LeNet5(input_size=8)


def test_resnet_imagenet_stem():
    model = models.resnet18(num_classes=5, stem="imagenet")
    assert model(tinynn.randn(1, 3, 64, 64)).shape == (1, 5)
