"""Every seed program in examples/ runs (shrunk by TINYNN_EXAMPLE_QUICK=1) and says what it did."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize("script,expected", [
    ("seed000_keras_mnist_cnn.py", "Test accuracy:"),
    ("seed001_cifar_gradient_tape.py", "backward/step model: test accuracy"),
    ("seed002_lenet_pytorch.py", "test accuracy"),
    ("seed003_keras_mlp_and_cifar_cnn.py", "CNN test accuracy:"),
    ("seed004_resnet18_mobilenetv2.py", "MobileNetV2: 2,236,682 parameters"),
    ("seed004_sequential_mnist.py", "LSTM: test accuracy"),
])
def test_example_runs(script, expected):
    env = dict(os.environ, TINYNN_EXAMPLE_QUICK="1")
    result = subprocess.run([sys.executable, script], cwd=EXAMPLES, env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert expected in result.stdout
