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
    ("seed004_char_model.py", "held-out perplexity"),
])
def test_example_runs(script, expected):
    env = dict(os.environ, TINYNN_EXAMPLE_QUICK="1")
    result = subprocess.run([sys.executable, script], cwd=EXAMPLES, env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert expected in result.stdout


def test_interpretability_example_draws_its_pictures(tmp_path):
    env = dict(os.environ, TINYNN_EXAMPLE_QUICK="1")
    result = subprocess.run([sys.executable, "seed004_interpretability.py", "--out", str(tmp_path)],
                            cwd=EXAMPLES, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Integrated Gradients: attributions add up to F(x) − F(0) within" in result.stdout
    written = {p.name: p.stat().st_size for p in tmp_path.iterdir()}
    assert set(written) == {"attributions_0.png", "attributions_1.png", "filters.png", "feature_maps.png",
                            "autograd_graph.svg"}
    assert min(written.values()) > 3_000
