"""The main command: ``tinynn train`` end to end, its outputs and its errors."""
import subprocess
import sys

import numpy as np
import pytest

import tinynn
from tinynn.cli import main


def test_default_train_reaches_97_percent_on_digits(tmp_path, capsys):
    """The README's main command with its defaults (LeNet, digits, 8 epochs)."""
    model_path, plot_path = tmp_path / "lenet.npz", tmp_path / "curves.png"
    assert main(["train", "--quiet", "--save", str(model_path), "--plot", str(plot_path)]) == 0
    out = capsys.readouterr().out
    accuracy = float(out.split("Test accuracy: ")[1].split("%")[0])
    assert accuracy >= 97.0, out
    state = tinynn.load(model_path)
    assert state["conv1.weight"].shape == (6, 1, 5, 5)
    assert plot_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_mlp_on_the_real_mnist_test_digits(capsys):
    main(["train", "--quiet", "--model", "mlp", "--dataset", "mnist", "--epochs", "2",
          "--batch-size", "64"])
    out = capsys.readouterr().out
    assert "mnist test split" in out
    assert float(out.split("Test accuracy: ")[1].split("%")[0]) >= 90.0


@pytest.mark.parametrize("args,message", [
    (["--model", "vgg"], "unknown model 'vgg'; choose from mlp, lenet"),
    (["--optimizer", "lion"], "unknown optimizer 'lion'"),
    (["--dataset", "imagenet"], "unknown dataset 'imagenet'"),
    (["--dataset", "mnist", "--data-dir", "/nonexistent"], "no t10k-images-idx3-ubyte"),
])
def test_unknown_names_are_clear_errors(args, message):
    with pytest.raises((SystemExit, FileNotFoundError), match=message):
        main(["train", "--quiet", "--epochs", "1"] + args)


def test_help_lists_the_commands():
    result = subprocess.run([sys.executable, "-m", "tinynn", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "train" in result.stdout and "bench" in result.stdout


def test_nan_loss_is_reported_with_its_step():
    from tinynn.training import NonFiniteLossError, train_epoch
    from tinynn.data import DataLoader, TensorDataset
    model = tinynn.nn.Linear(4, 2)
    x = np.ones((8, 4), np.float32)
    x[5, 0] = np.nan                      # the second batch of 4 carries a NaN
    loader = DataLoader(TensorDataset(x, np.zeros(8, np.int64)), batch_size=4)
    opt = tinynn.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(NonFiniteLossError, match="training step 2: the loss is nan; the first "
                                                 "non-finite values are in the gradient of 'weight'"):
        train_epoch(model, loader, tinynn.nn.CrossEntropyLoss(), opt, verbose=False)


def test_bench_command_runs_the_conv_benchmark(capfd):
    pytest.importorskip("torch", reason="the benchmarks compare against PyTorch: pip install torch==2.13.0")
    main(["bench", "conv", "--quick", "--only", "lenet"])
    out = capfd.readouterr().out
    assert "conv1 1→6 5×5 32²" in out and "fwd+bwd ratio" in out and "GEMM peak" in out
