"""``tinynn`` on the command line: ``tinynn train`` (the main job), ``tinynn compress``,
``tinynn warmup`` (compile the kernels once) and ``tinynn bench``.

    tinynn train                       # LeNet on the bundled 8×8 digits, ~97-99 % test accuracy
    tinynn train --model mlp --dataset mnist --epochs 3 --plot curves.png
    tinynn compress --prune 0.9 --share-bits 4 --quantize int8   # train, compress, print the table
    tinynn warmup                      # after installing: every seed model's kernels, compiled
"""
import argparse
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from .data.datasets import BUNDLED_MNIST_DIR as DEFAULT_MNIST_DIR
from .files import check_writable
from .search import cli as search_cli
from .warmup import SEED_MODELS

DATASETS = ("digits", "mnist", "fashion_mnist", "cifar10")
MODELS = ("mlp", "lenet", "keras_mnist_cnn", "keras_cifar_cnn", "resnet18", "mobilenet_v2")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "adagrad")


def _load_dataset(name, data_dir, model_name):
    """(train_x, train_y, test_x, test_y, description)."""
    from . import data
    if name == "digits":
        images, labels = data.load_digits(8 if model_name == "mlp" else 32)
        description = "scikit-learn digits (1,797 8×8 images" + (")" if model_name == "mlp" else
                                                                 ", upsampled to 32×32)")
        return (*_split(images, labels, 0.2), description)
    if name in ("mnist", "fashion_mnist"):
        root = data_dir or DEFAULT_MNIST_DIR
        loader = data.load_mnist if name == "mnist" else data.load_fashion_mnist
        try:
            train = loader(root, "train")
            test = loader(root, "test")
            return (*train, *test, f"{name} from {root}")
        except data.DatasetNotFoundError:
            images, labels = loader(root, "test")
            return (*_split(images, labels, 0.2), f"{name} test split from {root}, 80/20 train/test")
    if name == "cifar10":
        if data_dir is None:
            raise ValueError("--dataset cifar10 needs --data-dir pointing at the unpacked binary "
                             "version (data_batch_1.bin ... test_batch.bin)")
        return (*data.load_cifar10(data_dir, "train"), *data.load_cifar10(data_dir, "test"),
                f"CIFAR-10 from {data_dir}")
    raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}")


def _split(images, labels, test_fraction):
    order = np.random.default_rng(12345).permutation(len(images))  # fixed: the same test set every run
    cut = int(len(images) * (1 - test_fraction))
    train, test = order[:cut], order[cut:]
    return images[train], labels[train], images[test], labels[test]


def _build_model(name, channels, size, classes):
    from . import models
    builders = {
        "mlp": lambda: models.MLP(channels * size * size, (64, 64), classes),
        "lenet": lambda: models.LeNet5(channels, classes, size),
        "keras_mnist_cnn": lambda: models.KerasMNISTCNN(channels, classes, size),
        "keras_cifar_cnn": lambda: models.KerasCIFARCNN(channels, classes, size),
        "resnet18": lambda: models.resnet18(classes, channels),
        "mobilenet_v2": lambda: models.mobilenet_v2(classes, in_channels=channels),
    }
    return builders[name]()


def _build_optimizer(name, params, lr):
    from . import optim
    classes = {"adam": optim.Adam, "adamw": optim.AdamW, "sgd": optim.SGD,
               "rmsprop": optim.RMSprop, "adagrad": optim.Adagrad}
    kwargs = {"momentum": 0.9} if name == "sgd" else {}
    return classes[name](params, lr=lr, **kwargs)


def _plot(history, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SystemExit("tinynn train: --plot needs matplotlib: pip install -e \".[plot]\"") from None
    epochs = range(1, len(history["loss"]) + 1)
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    left.plot(epochs, history["loss"], label="train")
    left.plot(epochs, history["val_loss"], label="test")
    left.set(xlabel="epoch", ylabel="cross-entropy loss", title="Loss")
    right.plot(epochs, history["accuracy"], label="train")
    right.plot(epochs, history["val_accuracy"], label="test")
    right.set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
    for axes in (left, right):
        axes.legend()
        axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def train(args):
    import tinynn
    from .data import DataLoader, TensorDataset
    from .training import History, evaluate, train_epoch

    tinynn.manual_seed(args.seed)
    train_x, train_y, test_x, test_y, description = _load_dataset(args.dataset, args.data_dir, args.model)
    classes = int(max(train_y.max(), test_y.max())) + 1
    model = _build_model(args.model, train_x.shape[1], train_x.shape[2], classes).to(args.device)
    rank, ranks = tinynn.distributed.join_mpi_job()
    say = print if rank == 0 else (lambda *args, **kwargs: None)   # one rank speaks and saves
    net = tinynn.nn.parallel.DistributedDataParallel(model) if ranks > 1 else model
    optimizer = _build_optimizer(args.optimizer, net.parameters(), args.lr)
    # Cosine decay to zero over the run: the last epochs settle instead of oscillating.
    schedule = tinynn.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    loss_fn = tinynn.nn.CrossEntropyLoss()
    to_device = (lambda x: x.to(args.device)) if args.device != "cpu" else None
    train_set = TensorDataset(train_x, train_y)
    sampler = tinynn.data.DistributedSampler(train_set, ranks, rank, seed=args.seed) if ranks > 1 else None
    train_loader = DataLoader(train_set, max(1, args.batch_size // ranks), shuffle=sampler is None,
                              sampler=sampler, transform=to_device)
    test_loader = DataLoader(TensorDataset(test_x, test_y), 256, transform=to_device)
    params = sum(p.numel() for p in model.parameters())
    say(f"tinynn train: {args.model} ({params:,} parameters) on {description}; "
          f"{len(train_x)} training / {len(test_x)} test images, {args.optimizer} lr={args.lr} "
          f"(cosine decay), "
          f"batch {args.batch_size}, {args.epochs} epochs, device {args.device}"
          + (f", data-parallel over {ranks} MPI ranks" if ranks > 1 else ""))
    _compile_kernels_visibly(model, train_x, train_y, loss_fn, type(optimizer), args.device, say)
    history, step, start = History(), 0, time.perf_counter()
    done = _resume(args.checkpoint, model, optimizer, schedule, history, say)
    for epoch in range(done + 1, args.epochs + 1):
        if sampler is not None:
            sampler.set_epoch(epoch)
        loss, accuracy, step = train_epoch(net, train_loader, loss_fn, optimizer, step,
                                           f"epoch {epoch}/{args.epochs}", not args.quiet and rank == 0)
        val_loss, val_accuracy = evaluate(model, test_loader, loss_fn)
        schedule.step()
        history.append(loss=loss, accuracy=accuracy, val_loss=val_loss, val_accuracy=val_accuracy)
        say(f"epoch {epoch}: train loss {loss:.4f}, train accuracy {accuracy:.2%}, "
            f"test loss {val_loss:.4f}, test accuracy {val_accuracy:.2%}")
        if args.checkpoint and rank == 0:      # atomic: a crash keeps the previous epoch's file
            tinynn.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch,
                         "schedule": schedule.state_dict(),
                         "history": {k: np.asarray(v) for k, v in history.history.items()}}, args.checkpoint)
    elapsed = time.perf_counter() - start
    say(f"Test accuracy: {history.history['val_accuracy'][-1]:.2%} "
        f"({len(test_x)} held-out images, {elapsed:.1f} s of training)")
    if args.save and rank == 0:
        tinynn.save(model.state_dict(), args.save)
        print(f"Saved the model's state dict to {args.save} (load with tinynn.load)")
    if args.plot and rank == 0:
        _plot(history.history, args.plot)
        print(f"Saved loss and accuracy curves to {args.plot}")
    return history


def _resume(path, model, optimizer, schedule, history, say):
    """The number of epochs a checkpoint at ``path`` already holds (0 without one), with the
    model, optimiser, schedule and history put back as they were after that epoch."""
    import os
    import tinynn
    if not path or not os.path.exists(path):
        return 0
    state = tinynn.load(path)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    schedule.load_state_dict(state["schedule"])
    history.history = {k: [float(v) for v in np.asarray(values)] for k, values in state["history"].items()}
    say(f"tinynn train: resuming from {path} after epoch {int(state['epoch'])}")
    return int(state["epoch"])


def _warmup_main(parser, args):
    from .warmup import warm_up_models
    try:
        seconds = warm_up_models([name for name in args.models.split(",") if name], args.jobs)
    except ValueError as error:
        parser.error(str(error))
    print("tinynn warmup: kernels compiled and cached for " + ", ".join(
        f"{name} ({taken:.1f} s)" for name, taken in seconds.items()))
    return 0


def _compile_kernels_visibly(model, images, labels, loss_fn, optimizer_class, device, say=print):
    """On a fresh install the first step compiles the kernels: do it before the progress bar,
    with a message, instead of a bar that does not move."""
    import tinynn
    if tinynn.backend.kernels_compiled():
        return
    say("tinynn train: compiling kernels, first run only ...", flush=True)
    seconds = tinynn.warm_up(model, tinynn.tensor(images[:2]).to(device),
                             tinynn.tensor(labels[:2]).to(device), loss_fn, optimizer_class)
    say(f"tinynn train: kernels compiled in {seconds:.1f} s and cached for the next runs", flush=True)


def compress(args):
    """Train (or load) a model, apply the recipe step by step and print what each step buys."""
    import tinynn
    from .compress import distill_epoch, pipeline
    from .data import DataLoader, TensorDataset
    from .training import train_epoch

    tinynn.manual_seed(args.seed)
    train_x, train_y, test_x, test_y, description = _load_dataset(args.dataset, args.data_dir, args.model)
    classes = int(max(train_y.max(), test_y.max())) + 1
    build = lambda name: _build_model(name, train_x.shape[1], train_x.shape[2], classes)   # noqa: E731
    loss_fn = tinynn.nn.CrossEntropyLoss()
    optimizer = lambda params: tinynn.optim.Adam(params, lr=args.lr)                     # noqa: E731
    loader = DataLoader(TensorDataset(train_x, train_y), args.batch_size, shuffle=True)
    print(f"tinynn compress: {args.model} on {description}")
    model, rows = build(args.model), []
    if args.distill_from:
        teacher = build(args.teacher_model)
        teacher.load_state_dict(tinynn.load(args.distill_from))
        rows.append(pipeline.measure(f"teacher ({args.teacher_model})", teacher, test_x, test_y, compact=False))
    if args.load:
        model.load_state_dict(tinynn.load(args.load))
    else:
        opt = optimizer(model.parameters())
        for epoch in range(args.epochs):
            if args.distill_from:
                distill_epoch(model, teacher, loader, opt, args.temperature, args.alpha)
            else:
                train_epoch(model, loader, loss_fn, opt, description=f"train {epoch + 1}/{args.epochs}")
    label = f"{args.model}" + (" distilled" if args.distill_from else "") + ", float32"
    rows.append(pipeline.measure(label, model, test_x, test_y, compact=False))
    steps = [(args.prune, lambda m: pipeline.prune_model(m, args.prune, loader, loss_fn, optimizer,
                                                         args.finetune_epochs), f"+ pruned {args.prune:.0%}"),
             (args.share_bits, lambda m: pipeline.share_model(m, args.share_bits, loader, loss_fn, optimizer,
                                                              args.finetune_epochs), f"+ shared {args.share_bits}-bit"),
             (args.quantize == "int8", lambda m: pipeline.quantize_model(m, train_x), "+ int8")]
    for wanted, step, name in steps:
        if wanted:
            model = step(model)
            rows.append(pipeline.measure(name, model, test_x, test_y))
    print(pipeline.format_table(rows))
    if args.save:
        tinynn.save(model.state_dict(), args.save, sparse=True, compress=True)
        print(f"Saved the compressed state dict to {args.save}")
    return rows


BENCHMARKS = ("conv", "models", "cuda")
BENCHMARK_DIR = Path(__file__).resolve().parents[1] / "benchmarks"


def bench(suite, rest):
    """Run benchmarks/bench_<suite>.py (they live beside the package in the source checkout)."""
    script = BENCHMARK_DIR / f"bench_{suite}.py"
    if not script.exists():
        raise SystemExit(f"tinynn bench: {script} not found; the benchmarks ship with the source "
                         "checkout (pip install -e . from a clone)")
    result = subprocess.run([sys.executable, str(script)] + list(rest))
    if result.returncode:
        raise SystemExit(result.returncode)


class _Parser(argparse.ArgumentParser):
    """argparse, with each usage error on one line (and exit status 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser():
    parser = _Parser(prog="tinynn", description="tinynn: a deep-learning engine "
                     "on NumPy and Numba. Commands: train, bench.")
    commands = parser.add_subparsers(dest="command", metavar="command")
    run = commands.add_parser("train", help="train a model and print its test accuracy")
    run.add_argument("--model", default="lenet", choices=MODELS, metavar="MODEL",
                     help=f"{', '.join(MODELS)} (default lenet)")
    run.add_argument("--dataset", default="digits", choices=DATASETS, metavar="DATASET",
                     help=f"{', '.join(DATASETS)} (default digits)")
    run.add_argument("--data-dir", default=None, help="directory of the dataset's files")
    run.add_argument("--epochs", type=int, default=8)
    run.add_argument("--batch-size", type=int, default=32)
    run.add_argument("--optimizer", default="adam", choices=OPTIMIZERS, metavar="OPTIMIZER",
                     help=", ".join(OPTIMIZERS))
    run.add_argument("--lr", type=float, default=2e-3)
    run.add_argument("--device", default="cpu", help="cpu or cuda")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--save", default=None, help="write the trained state dict to this .npz")
    run.add_argument("--plot", default=None, help="write loss/accuracy curves to this PNG")
    run.add_argument("--checkpoint", default=None,
                     help="after every epoch, save model, optimiser and schedule here (atomically); "
                          "if the file exists, resume from it")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    bench = commands.add_parser("bench", help="time tinynn against PyTorch (benchmarks/ in the "
                                "source checkout; needs torch)")
    bench.add_argument("suite", choices=BENCHMARKS, help="conv: layers; models: training steps; "
                       "cuda: GPU kernels vs cuDNN")
    bench.add_argument("rest", nargs=argparse.REMAINDER, help="options of that script, e.g. --quick")
    parser.search_parser = search_cli.add_parser(commands)
    warm = commands.add_parser("warmup", help="compile the kernels of the seeds' models once (an install step)")
    warm.add_argument("--models", default=",".join(SEED_MODELS), help="comma-separated seed models")
    warm.add_argument("--jobs", type=int, default=2, help="models compiled at once, one process each")
    squeeze = commands.add_parser("compress", help="train or load a model, compress it, print the table")
    squeeze.add_argument("--model", default="lenet", choices=MODELS, metavar="MODEL")
    squeeze.add_argument("--dataset", default="digits", choices=DATASETS, metavar="DATASET")
    squeeze.add_argument("--data-dir", default=None)
    squeeze.add_argument("--load", default=None, help="a trained state dict (.npz); else train first")
    squeeze.add_argument("--epochs", type=int, default=8, help="training epochs when not --load")
    squeeze.add_argument("--finetune-epochs", type=int, default=1, help="after pruning and sharing")
    squeeze.add_argument("--batch-size", type=int, default=32)
    squeeze.add_argument("--lr", type=float, default=2e-3)
    squeeze.add_argument("--prune", type=float, default=0.8, help="fraction of weights to prune (0: none)")
    squeeze.add_argument("--share-bits", type=int, default=4, help="k-means weight sharing (0: none)")
    squeeze.add_argument("--quantize", default="int8", choices=("int8", "none"))
    squeeze.add_argument("--distill-from", default=None, help="a trained teacher's state dict")
    squeeze.add_argument("--teacher-model", default="lenet", choices=MODELS, metavar="MODEL")
    squeeze.add_argument("--temperature", type=float, default=4.0)
    squeeze.add_argument("--alpha", type=float, default=0.9)
    squeeze.add_argument("--seed", type=int, default=0)
    squeeze.add_argument("--save", default=None, help="write the compressed state dict here")
    parser.train_parser, parser.compress_parser = run, squeeze
    return parser


def _check_train_arguments(parser, args):
    """Every flag checked before any work starts: a typo costs a second, not an epoch."""
    import tinynn
    if args.epochs < 1 or args.batch_size < 1:
        parser.error(f"--epochs and --batch-size must be positive, got {args.epochs} and "
                     f"{args.batch_size}")
    if not (math.isfinite(args.lr) and args.lr > 0):
        parser.error(f"--lr must be a positive number, got {args.lr}")
    if args.data_dir is not None and not Path(args.data_dir).expanduser().is_dir():
        parser.error(f"--data-dir {args.data_dir} is not a folder")
    for flag, path in (("--save", args.save), ("--plot", args.plot), ("--checkpoint", args.checkpoint)):
        try:
            if path is not None:
                check_writable(path, flag)
        except OSError as error:
            parser.error(str(error))
    try:
        device = tinynn.device(args.device)
    except (TypeError, ValueError) as error:
        parser.error(f"--device: {error}")
    if device.type == "cuda" and not tinynn.cuda.is_available():
        raise RuntimeError("--device cuda: no CUDA device is available here "
                           "(tinynn.cuda.is_available() is False)")


def _compress_main(parser, args, NonFiniteLossError):
    if args.epochs < 1 or args.finetune_epochs < 0 or args.batch_size < 1:
        parser.error("--epochs and --batch-size must be positive and --finetune-epochs >= 0")
    if not 0.0 <= args.prune < 1.0 or not 0 <= args.share_bits <= 8:
        parser.error(f"--prune must be in [0, 1) and --share-bits in [0, 8], got {args.prune} and "
                     f"{args.share_bits}")
    for flag, path in (("--load", args.load), ("--distill-from", args.distill_from)):
        if path is not None and not Path(path).is_file():
            parser.error(f"{flag} {path} is not a file")
    try:
        if args.save is not None:
            check_writable(args.save, "--save")
        compress(args)
    except (OSError, ValueError, RuntimeError, KeyError, NonFiniteLossError) as error:
        print(f"tinynn compress: {error}", file=sys.stderr)
        return 1
    return 0


def main(argv=None):
    from .training import NonFiniteLossError
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command in ("train", "compress"):
        from .performance import tune_process
        tune_process()          # this process is ours: keep freed memory mapped (performance.py)
    if args.command == "train":
        try:
            _check_train_arguments(parser.train_parser, args)
            train(args)
        except (OSError, ValueError, RuntimeError, NonFiniteLossError) as error:
            print(f"tinynn train: {error}", file=sys.stderr)   # bad data or files: one line
            return 1
    elif args.command == "compress":
        return _compress_main(parser.compress_parser, args, NonFiniteLossError)
    elif args.command == "warmup":
        return _warmup_main(parser, args)
    elif args.command == "search":
        return search_cli.main(args)
    elif args.command == "bench":
        bench(args.suite, args.rest)
    else:
        parser.print_help()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
