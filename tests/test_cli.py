"""The main command: ``tinynn train`` end to end, its outputs and its errors."""
import re
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


def _run(argv, capsys):
    """(exit status, stderr) of ``tinynn <argv>``, run in this process."""
    try:
        status = main(argv)
    except SystemExit as stop:
        status = stop.code
    return status, capsys.readouterr().err


@pytest.mark.parametrize("args,status,message", [
    (["--model", "vgg"], 2, "argument --model: invalid choice: 'vgg' \\(choose from 'mlp', 'lenet'"),
    (["--optimizer", "lion"], 2, "argument --optimizer: invalid choice: 'lion'"),
    (["--dataset", "imagenet"], 2, "argument --dataset: invalid choice: 'imagenet'"),
    (["--epochs", "0"], 2, "--epochs and --batch-size must be positive, got 0"),
    (["--epochs", "two"], 2, "argument --epochs: invalid int value: 'two'"),
    (["--batch-size", "-3"], 2, "--epochs and --batch-size must be positive, got 1 and -3"),
    (["--lr", "-0.1"], 2, "--lr must be a positive number, got -0.1"),
    (["--lr", "nan"], 2, "--lr must be a positive number, got nan"),
    (["--save", "/nonexistent/folder/model.npz"], 2, "--save: cannot write .* the folder /nonexistent/folder does not exist"),
    (["--plot", "/nonexistent/curves.png"], 2, "--plot: cannot write"),
    (["--data-dir", "/nonexistent"], 2, "--data-dir /nonexistent is not a folder"),
    (["--device", "tpu"], 2, "--device: device: expected 'cpu', 'cuda' or 'cuda:N', got 'tpu'"),
    (["--bogus"], 2, "unrecognized arguments: --bogus"),
    (["--dataset", "cifar10"], 1, "--dataset cifar10 needs --data-dir"),
    (["--dataset", "mnist", "--data-dir", "."], 1, "mnist: no t10k-images-idx3-ubyte"),
])
def test_bad_flags_and_files_are_one_line_before_any_training(args, status, message, capsys):
    code, err = _run(["train", "--quiet", "--epochs", "1"] + args, capsys)
    assert code == status
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert re.search(message, err), err
    assert "epoch 1" not in capsys.readouterr().out


def test_cuda_without_a_gpu_is_one_line(capsys):
    if tinynn.cuda.is_available():
        pytest.skip("this machine has a GPU (or runs the simulator)")
    code, err = _run(["train", "--quiet", "--device", "cuda"], capsys)
    assert code == 1 and err.startswith("tinynn train: --device cuda: no CUDA device") and len(err.splitlines()) == 1


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
    with pytest.raises(NonFiniteLossError, match="training step 2: the loss is nan because the input "
                                                 "batch holds NaN or inf \\(first in sample 1 of"):
        train_epoch(model, loader, tinynn.nn.CrossEntropyLoss(), opt, verbose=False)


def test_nan_from_the_weights_names_the_first_layer():
    from tinynn.training import NonFiniteLossError, train_epoch
    from tinynn.data import DataLoader, TensorDataset
    model = tinynn.nn.Sequential(tinynn.nn.Linear(4, 3), tinynn.nn.Linear(3, 2))
    with tinynn.no_grad():
        model[1].bias.fill_(float("inf"))
    loader = DataLoader(TensorDataset(np.ones((4, 4), np.float32), np.zeros(4, np.int64)), batch_size=4)
    opt = tinynn.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(NonFiniteLossError, match="training step 1: the loss is nan; the first "
                                                 "non-finite values are in the weights of '1.bias'"):
        train_epoch(model, loader, tinynn.nn.CrossEntropyLoss(), opt, verbose=False)


def test_save_into_a_missing_folder_fails_before_training(tmp_path, capsys):
    code, err = _run(["train", "--quiet", "--save", str(tmp_path / "missing" / "m.npz")], capsys)
    assert code == 2 and "does not exist" in err
    assert "Test accuracy" not in capsys.readouterr().out


def test_bench_command_runs_the_conv_benchmark(capfd):
    pytest.importorskip("torch", reason="the benchmarks compare against PyTorch: pip install torch==2.13.0")
    main(["bench", "conv", "--quick", "--only", "lenet"])
    out = capfd.readouterr().out
    assert "conv1 1→6 5×5 32²" in out and "fwd+bwd ratio" in out and "GEMM peak" in out


def test_compress_command_prints_the_table_on_digits_in_seconds(tmp_path, capsys):
    import time
    start = time.perf_counter()
    code = main(["compress", "--epochs", "3", "--prune", "0.8", "--share-bits", "4",
                 "--save", str(tmp_path / "small.npz")])
    out = capsys.readouterr().out
    assert code == 0 and time.perf_counter() - start < 60
    rows = [line for line in out.splitlines() if line.startswith("| lenet") or line.startswith("| +")]
    assert [r.split("|")[1].strip() for r in rows] == ["lenet, float32", "+ pruned 80%", "+ shared 4-bit", "+ int8"]
    sizes = [int(r.split("|")[3].replace(",", "")) for r in rows]
    accuracies = [float(r.split("|")[7].strip().rstrip("%")) for r in rows]
    assert sizes[-1] < sizes[0] / 5 and min(accuracies) > 90
    state = tinynn.load(tmp_path / "small.npz")
    assert state["conv1.weight"].dtype == np.int8


@pytest.mark.parametrize("args,pattern", [
    (["--prune", "1.5"], r"--prune must be in \[0, 1\)"),
    (["--load", "/nonexistent.npz"], "--load /nonexistent.npz is not a file"),
    (["--quantize", "int4"], "argument --quantize: invalid choice"),
])
def test_compress_command_refuses_bad_flags_in_one_line(args, pattern, capsys):
    code, err = _run(["compress"] + args, capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and re.search(pattern, err), err


def test_an_empty_kernel_cache_is_announced_and_changes_no_result(monkeypatch, capsys):
    """The warm-up that compiles the kernels runs on a copy, with the random state put back:
    the run with it trains exactly the model the run without it does."""
    argv = ["train", "--quiet", "--model", "mlp", "--epochs", "1", "--seed", "3"]
    main(argv)
    plain = capsys.readouterr().out
    monkeypatch.setattr(tinynn.backend, "kernels_compiled", lambda: False)
    main(argv)
    announced = capsys.readouterr().out
    assert "compiling kernels, first run only" in announced and "kernels compiled in" in announced
    result = re.compile(r"epoch 1: .*")
    assert result.search(announced).group() == result.search(plain).group()


def test_warm_up_leaves_model_gradients_statistics_and_random_state_alone():
    tinynn.manual_seed(0)
    model = tinynn.nn.Sequential(tinynn.nn.Conv2d(1, 2, 3), tinynn.nn.BatchNorm2d(2), tinynn.nn.Dropout(0.5),
                                 tinynn.nn.Flatten(), tinynn.nn.Linear(2 * 6 * 6, 3))
    before = {name: value.numpy().copy() for name, value in model.state_dict().items()}
    images = tinynn.randn(4, 1, 8, 8)
    state = tinynn.get_rng_state()
    seconds = tinynn.warm_up(model, images, tinynn.tensor([0, 1, 2, 0]), tinynn.nn.CrossEntropyLoss(),
                             tinynn.optim.Adam)                            # its step runs on the copy
    assert seconds > 0 and tinynn.get_rng_state() == state
    assert all(p.grad is None for p in model.parameters())
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), before[name], err_msg=name)


def test_a_checkpointed_run_resumes_where_it_stopped(tmp_path, capsys, monkeypatch):
    """A run killed during epoch 3, started again with the same command, resumes after epoch 2
    (the last checkpoint, written atomically) and finishes the remaining epochs."""
    import tinynn.training
    checkpoint = tmp_path / "run.npz"
    argv = ["train", "--quiet", "--model", "mlp", "--seed", "1", "--epochs", "4", "--checkpoint", str(checkpoint)]
    real_epoch, calls = tinynn.training.train_epoch, []

    def crash_in_epoch_3(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt("killed")
        return real_epoch(*args, **kwargs)
    monkeypatch.setattr(tinynn.training, "train_epoch", crash_in_epoch_3)
    with pytest.raises(KeyboardInterrupt):
        main(argv)
    state = tinynn.load(checkpoint)
    assert int(state["epoch"]) == 2 and len(state["history"]["val_accuracy"]) == 2
    monkeypatch.setattr(tinynn.training, "train_epoch", real_epoch)
    capsys.readouterr()
    main(argv)
    resumed = capsys.readouterr().out
    assert "resuming from" in resumed and "after epoch 2" in resumed
    assert "epoch 2:" not in resumed and "epoch 3:" in resumed and "epoch 4:" in resumed
    assert int(tinynn.load(checkpoint)["epoch"]) == 4
    assert float(resumed.split("Test accuracy: ")[1].split("%")[0]) >= 90.0


def test_warmup_fills_the_kernel_cache_that_later_runs_load(tmp_path, capsys):
    env = dict(__import__("os").environ, NUMBA_CACHE_DIR=str(tmp_path))
    result = subprocess.run([sys.executable, "-m", "tinynn", "warmup", "--models", "mlp,lenet", "--jobs", "2"],
                            capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "kernels compiled and cached for" in result.stdout and "lenet" in result.stdout
    assert any(tmp_path.rglob("*.nbi"))
    probe = ("import tinynn, numba.core.dispatcher as d; used = set();"
             "f = d.Dispatcher._compile_for_args; d.Dispatcher._compile_for_args = "
             "lambda self, *a, **k: used.add(self) or f(self, *a, **k);"
             "m = tinynn.models.LeNet5(1, 10, 32); tinynn.nn.functional.cross_entropy(m(tinynn.randn(4, 1, 32, 32)),"
             " tinynn.randint(0, 10, (4,))).backward(); tinynn.optim.Adam(m.parameters()).step();"
             "from tinynn.kernels import optim as o;"
             "print(sum(sum(k._cache_hits.values()) for k in used), sum(sum(k._cache_misses.values()) for k in used),"
             " sum(o._adam_span.dispatcher.stats.cache_hits.values()))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=300)
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    hits, misses, adam_hits = map(int, loaded.stdout.split()[-3:])
    assert hits > 0 and misses == 0                   # a LeNet step loads every kernel, compiles none
    assert adam_hits == 1                             # Adam's, which the helper compiled, included
    status, message = _run(["warmup", "--models", "vgg"], capsys)
    assert status == 2 and "unknown models ['vgg']" in message
