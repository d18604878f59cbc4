"""course_lib.augment: each augmentation does exactly what its docstring says, on tensors and arrays."""

from functools import partial

import numpy as np
import pytest
import torch

from course_lib import augment as A


@pytest.fixture
def x():
    return torch.arange(2 * 5 * 3, dtype=torch.float32).reshape(2, 5, 3)  # (N=2, T=5, D=3)


def test_time_reverse_matches_flip_and_keeps_type(x):
    out = A.time_reverse(x)
    assert torch.equal(out, x.flip(1))
    assert torch.equal(A.time_reverse(out), x)  # an involution
    arr = A.time_reverse(x.numpy())
    assert isinstance(arr, np.ndarray) and np.array_equal(arr, x.flip(1).numpy())


def test_time_reverse_with_lengths_keeps_padding_at_the_end(x):
    out = A.time_reverse(x, lengths=[3, 5])
    assert torch.equal(out[0, :3], x[0, :3].flip(0))  # valid part reversed
    assert torch.equal(out[0, 3:], x[0, 3:])  # padding untouched
    assert torch.equal(out[1], x[1].flip(0))
    with pytest.raises(ValueError, match="lengths"):
        A.time_reverse(x, lengths=[0, 5])
    with pytest.raises(ValueError, match="lengths"):
        A.time_reverse(x, lengths=[3])


def test_random_reverse_probability_and_seed():
    x = torch.randn(400, 4, 1)
    out = A.random_reverse(x, p=0.5, seed=1)
    flipped = torch.tensor([torch.equal(o, r.flip(0)) for o, r in zip(out, x, strict=True)])
    kept = torch.tensor([torch.equal(o, r) for o, r in zip(out, x, strict=True)])
    assert bool((flipped | kept).all())
    assert 150 < int(flipped.sum()) < 250  # about half
    assert torch.equal(out, A.random_reverse(x, p=0.5, seed=1))  # seeded
    assert torch.equal(A.random_reverse(x, p=0.0, seed=1), x)
    assert torch.equal(A.random_reverse(x, p=1.0, seed=1), x.flip(1))
    with pytest.raises(ValueError, match="p must"):
        A.random_reverse(x, p=1.5)


def test_random_shift_roll_and_edge():
    x = torch.arange(10, dtype=torch.float32).reshape(1, 10, 1).repeat(50, 1, 1)  # every row 0..9
    rolled = A.random_shift(x, max_shift=3, mode="roll", seed=0)
    shifts = set()
    for row in rolled[:, :, 0]:
        s = int((-row[0]) % 10)  # out[0] = x[-s mod 10]
        assert torch.equal(row, torch.roll(x[0, :, 0], s if s <= 3 else s - 10))
        shifts.add(s if s <= 3 else s - 10)
    assert shifts == set(range(-3, 4))  # every shift in the range is drawn
    edged = A.random_shift(x, max_shift=3, mode="edge", seed=0)
    for row in edged[:, :, 0]:
        assert bool((row[1:] - row[:-1] >= 0).all())  # still sorted: no wrap-around
        assert row.min() >= 0 and row.max() <= 9
    with pytest.raises(ValueError, match="max_shift"):
        A.random_shift(x, max_shift=10)
    with pytest.raises(ValueError, match="mode"):
        A.random_shift(x, max_shift=1, mode="wrap")


def test_random_crop_windows_are_contiguous(x):
    out = A.random_crop(x, length=3, seed=0)
    assert out.shape == (2, 3, 3)
    for i in range(2):
        start = int((out[i, 0, 0] - x[i, 0, 0]) // 3)
        assert torch.equal(out[i], x[i, start:start + 3])
    assert torch.equal(A.random_crop(x, length=5, seed=0), x)  # full length: nothing to choose
    with pytest.raises(ValueError, match="length"):
        A.random_crop(x, length=6)


def test_tile_repeats_along_time(x):
    out = A.tile(x, 3)
    assert out.shape == (2, 15, 3)
    assert torch.equal(out[:, 5:10], x) and torch.equal(out[:, 10:], x)
    with pytest.raises(ValueError, match="reps"):
        A.tile(x, 0)


def test_jitter_statistics_and_dtype():
    x = torch.zeros(200, 50, 2, dtype=torch.float64)
    out = A.jitter(x, sigma=0.3, seed=0)
    assert out.dtype == torch.float64
    assert abs(float(out.std()) - 0.3) < 0.01 and abs(float(out.mean())) < 0.01
    assert torch.equal(A.jitter(x, 0.0, seed=0), x)
    assert torch.equal(out, A.jitter(x, sigma=0.3, seed=0))
    assert not torch.equal(out, A.jitter(x, sigma=0.3, seed=1))
    with pytest.raises(TypeError, match="floating"):
        A.jitter(torch.zeros(1, 2, 1, dtype=torch.long))
    with pytest.raises(ValueError, match="sigma"):
        A.jitter(x, sigma=-1.0)


def test_scale_is_one_factor_per_sequence_and_feature():
    x = torch.ones(300, 7, 2)
    out = A.scale(x, sigma=0.2, seed=0)
    assert torch.equal(out, out[:, :1].expand_as(out))  # constant over time
    factors = out[:, 0]  # (N, D)
    assert abs(float(factors.mean()) - 1.0) < 0.03 and abs(float(factors.std()) - 0.2) < 0.03


def test_numpy_and_tensor_give_the_same_numbers(x):
    for f in (partial(A.jitter, sigma=0.1), partial(A.scale, sigma=0.1), partial(A.random_shift, max_shift=2),
              partial(A.random_reverse, p=0.5), partial(A.random_crop, length=2)):
        t = f(x, seed=3)
        a = f(x.numpy(), seed=3)
        assert isinstance(a, np.ndarray) and np.allclose(t.numpy(), a)


def test_generator_advances_between_calls(x):
    g = torch.Generator().manual_seed(0)
    a, b = A.jitter(x, 0.1, generator=g), A.jitter(x, 0.1, generator=g)
    assert not torch.equal(a, b)  # a kept generator gives new noise every epoch
    with pytest.raises(ValueError, match="either seed or generator"):
        A.jitter(x, 0.1, seed=0, generator=g)


@pytest.mark.parametrize("bad, error", [
    (torch.zeros(3, 4), ValueError),        # 2-D
    (torch.zeros(0, 4, 1), ValueError),     # empty batch
    ([[[1.0]]], TypeError),                 # a list, not an array
    (np.array([[["a"]]]), TypeError),       # strings
])
def test_bad_inputs_are_named(bad, error):
    with pytest.raises(error, match="x must"):
        A.jitter(bad, 0.1)


def test_compose_augment_dataset_and_loader(x):
    f = A.compose(partial(A.scale, sigma=0.1), A.time_reverse, partial(A.jitter, sigma=0.01))
    out = f(x, seed=0)
    assert out.shape == x.shape and torch.equal(out, f(x, seed=0))
    y = torch.tensor([0, 1])
    X2, y2 = A.augment_dataset(x, y, f, copies=2, seed=0)
    assert X2.shape == (6, 5, 3) and torch.equal(X2[:2], x) and torch.equal(y2, torch.tensor([0, 1] * 3))
    with pytest.raises(ValueError, match="one target per sequence"):
        A.augment_dataset(x, torch.tensor([0]), f)
    with pytest.raises(ValueError, match="keep the shape"):
        A.augment_dataset(x, y, partial(A.random_crop, length=2))

    loader = [(x, y), (x, y)]
    aug = A.AugmentedLoader(loader, partial(A.jitter, sigma=0.1), seed=0)
    epoch1, epoch2 = [b[0] for b in aug], [b[0] for b in aug]
    assert len(aug) == 2 and all(torch.equal(b[1], y) for b in aug)
    assert not torch.equal(epoch1[0], epoch2[0])  # fresh noise each epoch
    again = A.AugmentedLoader(loader, partial(A.jitter, sigma=0.1), seed=0)
    assert torch.equal(next(iter(again))[0], epoch1[0])  # but reproducible
    dict_batch = next(iter(A.AugmentedLoader([{"x": x, "y": y}], A.time_reverse)))
    assert torch.equal(dict_batch["x"], x.flip(1))
