"""Data-parallel training over MPI: 2 ranks under ``mpiexec`` end with exactly the weights of
one process trained on the whole batch (float64, to 1e-12), whatever the bucketing, and with
``no_sync`` gradient accumulation; a rank that dies stops the other."""
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinynn

sys.path.insert(0, str(Path(__file__).parent))
import distributed_worker as worker  # noqa: E402

pytest.importorskip("mpi4py", reason="the distributed tests need pip install -e \".[distributed]\"")
MPIEXEC = shutil.which("mpiexec") or str(Path(sys.executable).parent / "mpiexec")
WORKER = Path(__file__).parent / "distributed_worker.py"


def _launch(scenario, out, ranks=2, timeout=120):
    return subprocess.run([MPIEXEC, "-n", str(ranks), sys.executable, str(WORKER), scenario, str(out)],
                          capture_output=True, text=True, timeout=timeout)


def _one_process(accumulate, batch_norm=False):
    """The same training, one process, the whole batch (rank 0's initial weights)."""
    model = worker.model(seed=0, batch_norm=batch_norm)
    optimizer = tinynn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for step in range(worker.STEPS):
        optimizer.zero_grad()
        for micro in range(worker.MICRO_BATCHES if accumulate else 1):
            x, y = worker.data(step * 10 + micro)
            tinynn.nn.functional.mse_loss(model(tinynn.tensor(x)), tinynn.tensor(y)).backward()
        optimizer.step()
    return {k: v.numpy() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("scenario", ["one-bucket", "small-buckets", "no-sync", "sync-bn"])
def test_two_ranks_end_with_the_weights_of_one_process_on_the_whole_batch(scenario, tmp_path):
    result = _launch(scenario, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    expected = _one_process(accumulate=scenario == "no-sync", batch_norm=scenario == "sync-bn")
    for rank in range(2):
        state = dict(np.load(tmp_path / f"{scenario}-rank{rank}.npz"))
        for name, value in expected.items():
            np.testing.assert_allclose(state[name], value, rtol=1e-12, atol=1e-12, err_msg=f"{name} rank {rank}")
        sizes, during = state["bucket_sizes"], state["launched_during_backward"]
        assert during.all()                  # every allreduce started while backward still ran
        if scenario == "small-buckets":
            assert (sizes == 1).all()                 # one parameter per bucket, launched as its
            order = state["first_parameter_of_bucket"].reshape(worker.STEPS, -1)   # gradient is done:
            assert (order == np.arange(order.shape[1])[::-1]).all()                # last layer first
        else:
            assert len(sizes) == worker.STEPS         # one bucket, one allreduce per synced backward


@pytest.mark.parametrize("scenario, message", [("dies", "BAD TERMINATION"),
                                               ("raises", "rank 1 read a corrupt shard")])
def test_a_rank_that_dies_or_raises_stops_the_other_instead_of_hanging(scenario, message, tmp_path):
    result = _launch(scenario, tmp_path, timeout=60)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr


def test_distributed_sampler_shards_are_disjoint_and_cover_the_data():
    dataset = list(range(11))
    for shuffle in (False, True):
        shards = [list(tinynn.data.DistributedSampler(dataset, num_replicas=3, rank=r, shuffle=shuffle, seed=5))
                  for r in range(3)]
        assert all(len(s) == 4 for s in shards)                    # ceil(11 / 3), padded as PyTorch
        assert sorted(set(sum(shards, []))) == dataset
        assert len(sum(shards, [])) - len(dataset) == 1            # one index repeated to pad
        dropped = [list(tinynn.data.DistributedSampler(dataset, 3, r, shuffle, 5, drop_last=True)) for r in range(3)]
        flat = sum(dropped, [])
        assert len(flat) == len(set(flat)) == 9
    sampler = tinynn.data.DistributedSampler(dataset, num_replicas=2, rank=0, shuffle=True)
    first = list(sampler)
    sampler.set_epoch(1)
    assert list(sampler) != first


def test_collectives_before_init_say_what_to_do():
    with pytest.raises(RuntimeError, match="init_process_group"):
        tinynn.distributed.get_rank()
    with pytest.raises(RuntimeError, match="init_process_group"):
        tinynn.nn.parallel.DistributedDataParallel(tinynn.nn.Linear(2, 2))


def test_tinynn_train_under_mpiexec_trains_data_parallel_and_one_rank_speaks(tmp_path):
    saved = tmp_path / "mlp.npz"
    result = subprocess.run([MPIEXEC, "-n", "2", sys.executable, "-m", "tinynn", "train", "--model", "mlp",
                             "--epochs", "2", "--quiet", "--save", str(saved)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "data-parallel over 2 MPI ranks" in result.stdout
    assert result.stdout.count("Test accuracy:") == 1                 # rank 0 only
    assert float(result.stdout.split("Test accuracy: ")[1].split("%")[0]) >= 85.0
    assert set(tinynn.load(saved)) == set(tinynn.models.MLP(64, (64, 64), 10).state_dict())


KERAS_FIT = """
import json, sys
import numpy as np, tinynn as tf
keras = tf.keras
rng = np.random.default_rng(0)
x = rng.standard_normal((256, 6)).astype("float32"); y = (x[:, 0] + x[:, 1] > 0).astype("int64")
tf.manual_seed(int(__import__("os").environ.get("PMI_RANK", "0")))       # the ranks start different
model = keras.Sequential([keras.layers.Dense(16, activation="relu", input_shape=(6,)), keras.layers.Dense(2)])
model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
history = model.fit(x, y, epochs=3, batch_size=32, verbose=1, validation_split=0.25,
                    callbacks=[keras.callbacks.EarlyStopping(monitor="loss", patience=1),
                               keras.callbacks.ModelCheckpoint(sys.argv[1])])
print("RESULT", json.dumps({"loss": history.history["loss"], "weights": float(model.get_weights()[0].sum())}))
"""


def test_keras_fit_under_mpiexec_trains_data_parallel(tmp_path):
    script = tmp_path / "fit.py"
    script.write_text(KERAS_FIT)
    checkpoint = tmp_path / "best.npz"
    result = subprocess.run([MPIEXEC, "-n", "2", sys.executable, str(script), str(checkpoint)], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert checkpoint.exists()                                       # written by rank 0
    results = [line.split("RESULT ", 1)[1] for line in result.stdout.splitlines() if line.startswith("RESULT")]
    assert len(results) == 2 and results[0] == results[1]          # same logs, same weights on both ranks
    assert result.stdout.count("Epoch 1/3") == 1                    # only rank 0 reports
