"""``tinynn.utils.data`` against ``torch.utils.data``: the same batches, shapes, dtypes and
lengths for every sampler and collate case a script meets."""
import collections

import numpy as np
import pytest

import tinynn
from tinynn.utils import data

torch = pytest.importorskip("torch")
from torch.utils import data as torch_data  # noqa: E402


def _as_numpy(batch):
    if isinstance(batch, (tinynn.Tensor, torch.Tensor)):
        return batch.detach().numpy()
    if isinstance(batch, dict):
        return {k: _as_numpy(v) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return [_as_numpy(v) for v in batch]
    return batch


def _assert_same_batches(ours, theirs):
    ours, theirs = list(ours), list(theirs)
    assert len(ours) == len(theirs)
    for mine, expected in zip(ours, theirs):
        mine, expected = _as_numpy(mine), _as_numpy(expected)
        if isinstance(expected, list):
            for a, b in zip(mine, expected):
                assert np.asarray(a).dtype == np.asarray(b).dtype
                np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_array_equal(mine, expected)


@pytest.mark.parametrize("batch_size, drop_last", [(1, False), (3, False), (3, True), (10, False), (None, False)])
def test_sequential_batches_match_torch(batch_size, drop_last):
    x, y = np.arange(20, dtype=np.float32).reshape(10, 2), np.arange(10)
    ours = data.DataLoader(data.TensorDataset(tinynn.tensor(x), tinynn.tensor(y)), batch_size=batch_size,
                           drop_last=drop_last, num_workers=2, pin_memory=True)
    theirs = torch_data.DataLoader(torch_data.TensorDataset(torch.tensor(x), torch.tensor(y)),
                                   batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    _assert_same_batches(ours, theirs)


def test_tensor_dataset_items_are_tensors_as_in_torch():
    dataset = data.TensorDataset(tinynn.tensor(np.ones((4, 3), np.float32)), tinynn.tensor(np.arange(4)))
    image, label = dataset[2]
    assert isinstance(image, tinynn.Tensor) and isinstance(label, tinynn.Tensor)
    assert image.shape == (3,) and label.shape == () and label.item() == 2


class _Records(collections.abc.Sequence):
    """A map-style dataset of mixed Python samples, the kind default_collate must handle."""
    Pair = collections.namedtuple("Pair", "left right")

    def __init__(self, lib):
        self.lib = lib

    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {"image": self.lib.ones(2, 2) * i, "label": i, "weight": 0.5 * i, "name": f"s{i}",
                "pair": self.Pair(i, np.float32(i))}


def test_default_collate_matches_torch_on_dicts_numbers_strings_and_namedtuples():
    ours = data.DataLoader(_Records(tinynn), batch_size=2)
    theirs = torch_data.DataLoader(_Records(torch), batch_size=2)
    for mine, expected in zip(ours, theirs):
        assert mine["name"] == expected["name"]
        for key in ("image", "label", "weight"):
            assert str(mine[key].dtype) == str(expected[key].dtype).replace("torch.", ""), key
            np.testing.assert_array_equal(mine[key].numpy(), expected[key].numpy())
        assert type(mine["pair"]).__name__ == "Pair"
        np.testing.assert_array_equal(mine["pair"].left.numpy(), expected["pair"].left.numpy())


def test_batch_sampler_and_subset_random_sampler_give_what_they_promise():
    tinynn.manual_seed(0)
    sampler = data.SubsetRandomSampler([1, 3, 5, 7])
    loader = data.DataLoader(data.TensorDataset(np.arange(10)), batch_sampler=data.BatchSampler(sampler, 3, False))
    batches = [b[0].numpy().tolist() for b in loader]
    assert [len(b) for b in batches] == [3, 1] and sorted(sum(batches, [])) == [1, 3, 5, 7]
    assert len(loader) == len(torch_data.BatchSampler(torch_data.SubsetRandomSampler([1, 3, 5, 7]), 3, False))


def test_random_samplers_are_seeded_and_cover_the_data():
    dataset = data.TensorDataset(np.arange(7))
    tinynn.manual_seed(1)
    first = list(data.RandomSampler(dataset))
    tinynn.manual_seed(1)
    assert list(data.RandomSampler(dataset)) == first and sorted(first) == list(range(7))
    assert len(list(data.RandomSampler(dataset, num_samples=10))) == 10
    drawn = list(data.RandomSampler(dataset, replacement=True, num_samples=50))
    assert len(drawn) == 50 and set(drawn) <= set(range(7))
    weighted = list(data.WeightedRandomSampler([0, 0, 1, 0], 20))
    assert weighted == [2] * 20


def test_concat_dataset_and_shuffled_loader_cover_everything_once():
    both = data.ConcatDataset([data.TensorDataset(np.arange(3)), data.TensorDataset(np.arange(3, 8))])
    assert len(both) == 8 and both[5][0].item() == 5 and both[-1][0].item() == 7
    seen = np.concatenate([b[0].numpy() for b in data.DataLoader(both, batch_size=3, shuffle=True)])
    assert sorted(seen.tolist()) == list(range(8))


@pytest.mark.parametrize("kwargs, message", [
    (dict(batch_size=0), "positive int batch_size"),
    (dict(num_workers=-1), "num_workers"),
    (dict(shuffle=True, sampler=[0, 1]), "mutually exclusive with shuffle"),
    (dict(batch_size=2, batch_sampler=[[0, 1]]), "mutually exclusive"),
])
def test_contradictory_arguments_are_refused_as_torch_does(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.DataLoader(data.TensorDataset(np.arange(4)), **kwargs)
    with pytest.raises(ValueError):
        torch_data.DataLoader(torch_data.TensorDataset(torch.arange(4)), **kwargs)
