"""Compile the kernels before training starts, and say so.

Numba compiles a kernel the first time it runs and keeps the machine code in its cache, so
on a fresh install a model's first training step waits for compilation (seconds for
LeNet-5, more for ResNet18) with nothing on the screen.  ``warm_up`` runs that step on a
copy of the model and two examples, so that the model, its gradients and the random
generator are left exactly as they were; ``tinynn train`` calls it when the cache is
empty and prints what it is doing.
"""
import copy
import time

from . import backend, random
from .autograd import enable_grad

__all__ = ["warm_up"]


def warm_up(model, example, target, loss_fn, optimizer=None) -> float:
    """One forward and backward pass of a copy of ``model`` on the first two rows of
    ``example`` and ``target`` and, given an optimiser class (``tinynn.optim.Adam``), one
    step of it on the copy; returns the seconds it took (mostly compilation)."""
    start, state = time.perf_counter(), random.get_rng_state()
    twin = copy.deepcopy(model)
    twin.train()
    try:
        with enable_grad():
            loss_fn(twin(example[:2]), target[:2]).backward()
            if optimizer is not None:
                optimizer(twin.parameters()).step()
    finally:
        random.set_rng_state(state)
    backend.finish_compiling()           # the kernels left to the helper process, Adam's among them
    return time.perf_counter() - start


# The seeds' models as ``tinynn train`` builds them: (channels, image size)
SEED_MODELS = {"mlp": (1, 28), "lenet": (1, 32), "keras_mnist_cnn": (1, 28), "keras_cifar_cnn": (3, 32),
               "resnet18": (3, 32), "mobilenet_v2": (3, 32)}


def warm_up_models(names=tuple(SEED_MODELS), jobs=2):
    """Compile the kernels of the seeds' models once, ``jobs`` models at a time in separate
    processes (compilation is single-threaded), into the cache every later run loads: the
    install step behind ``tinynn warmup``.  Returns {model: seconds}."""
    import multiprocessing

    from tqdm import tqdm
    unknown = sorted(set(names) - set(SEED_MODELS))
    if unknown:
        raise ValueError(f"warmup: unknown models {unknown}; choose from {', '.join(SEED_MODELS)}")
    seconds = {}
    with multiprocessing.get_context("spawn").Pool(max(1, jobs)) as pool, \
            tqdm(total=len(names), desc="compiling kernels", unit="model") as bar:
        for name, taken in pool.imap_unordered(_warm_up_one, names):
            seconds[name] = taken
            bar.update()
    return seconds


def _warm_up_one(name):
    """One training step's kernels (forward, backward and Adam, float32) of one seed model."""
    from . import models, nn, optim
    from .creation import randint, randn
    channels, size = SEED_MODELS[name]
    builders = {"mlp": lambda: models.MLP(channels * size * size, (64, 64), 10),
                "lenet": lambda: models.LeNet5(channels, 10, size),
                "keras_mnist_cnn": lambda: models.KerasMNISTCNN(channels, 10, size),
                "keras_cifar_cnn": lambda: models.KerasCIFARCNN(channels, 10, size),
                "resnet18": lambda: models.resnet18(10, channels),
                "mobilenet_v2": lambda: models.mobilenet_v2(10, in_channels=channels)}
    return name, warm_up(builders[name](), randn(2, channels, size, size), randint(0, 10, (2,)),
                         nn.CrossEntropyLoss(), optim.Adam)
