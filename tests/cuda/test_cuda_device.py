"""The 'cuda' device end to end: tensors and modules move there, the engine dispatches to
the CUDA kernels, and a small conv net's forward and backward equal the CPU path."""
import numpy as np
import pytest

import tinynn
import tinynn.nn as nn
import tinynn.nn.functional as F
from tinynn import backend


def test_cuda_is_available_and_tensors_move():
    assert tinynn.cuda.is_available()
    x = tinynn.tensor([1.0, 2.0], device="cuda")
    assert x.device == "cuda" and x.device.type == "cuda"
    y = (x * 2).cpu()
    assert y.device == "cpu" and y.numpy().tolist() == [2.0, 4.0]
    assert "device='cuda'" in repr(x)


def test_cuda_dispatch_picks_the_cuda_backend():
    from tinynn.kernels import cpu_backend, cuda_backend
    assert backend.for_device(tinynn.device("cuda")) is cuda_backend
    assert backend.for_device(tinynn.device("cpu")) is cpu_backend


def test_cuda_mixing_devices_names_both():
    a, b = tinynn.ones(2), tinynn.ones(2, device="cuda")
    with pytest.raises(RuntimeError, match="expected all tensors on one device, got cpu and cuda"):
        a + b


class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.depthwise = nn.Conv2d(4, 4, 3, stride=2, padding=1, groups=4, bias=False)
        self.fc = nn.Linear(4 * 2 * 2, 3)

    def forward(self, x):
        x = F.relu6(self.bn(self.conv(x)))
        x = F.max_pool2d(self.depthwise(x), 2, ceil_mode=True)
        x = F.avg_pool2d(x, 1)
        return self.fc(x.flatten(1))


def test_cuda_tiny_conv_net_forward_and_backward_equal_cpu():
    tinynn.manual_seed(0)
    cpu_net = TinyNet().double()
    gpu_net = TinyNet().double()
    gpu_net.load_state_dict(cpu_net.state_dict())
    gpu_net.to("cuda")
    assert all(p.device == "cuda" for p in gpu_net.parameters())
    x = np.random.default_rng(0).standard_normal((2, 2, 7, 7))
    labels = tinynn.tensor([0, 2])
    results = []
    for net, device in ((cpu_net, "cpu"), (gpu_net, "cuda")):
        inputs = tinynn.tensor(x, requires_grad=True, device=device)
        loss = F.cross_entropy(net(inputs), labels)
        loss.backward()
        results.append((loss.item(), inputs.grad.cpu().numpy(),
                        {n: p.grad.cpu().numpy() for n, p in net.named_parameters()},
                        net.bn.running_var.cpu().numpy()))
    (cpu_loss, cpu_dx, cpu_grads, cpu_rv), (gpu_loss, gpu_dx, gpu_grads, gpu_rv) = results
    assert gpu_loss == pytest.approx(cpu_loss, rel=1e-12)
    np.testing.assert_allclose(gpu_dx, cpu_dx, rtol=1e-10, atol=1e-12)
    for name in cpu_grads:
        np.testing.assert_allclose(gpu_grads[name], cpu_grads[name], rtol=1e-10, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(gpu_rv, cpu_rv, rtol=1e-12)


def test_cuda_training_step_with_an_optimizer_moves_the_weights():
    tinynn.manual_seed(1)
    net = TinyNet().to("cuda")
    opt = tinynn.optim.Adam(net.parameters(), lr=0.01)
    before = net.fc.weight.cpu().detach().numpy().copy()
    x = tinynn.randn(2, 2, 7, 7, device="cuda")
    F.cross_entropy(net(x), tinynn.tensor([1, 0])).backward()
    opt.step()
    assert not np.allclose(net.fc.weight.cpu().detach().numpy(), before)
    assert net.fc.weight.device == "cuda"
